"""Sites are resolved one group of cities at a time, and that changes nothing.

:func:`kg.resolve.sites._components` splits the named sites into groups no blocking key
crosses (a city; cities that one name at one spot joins), so that resolution holds one
group's keys and blocks at a time. The claim is checked here against resolving every site
as one group, on the real records and on a real site listed under a second city spelling
at the same coordinates (the one key that crosses cities).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kg import build
from kg.resolve import sites as sites_module
from kg.resolve.mention_source import TableMentions
from kg.resolve.mentions import SurfaceSite
from kg.resolve.sites import SiteResolution, resolve_surface_sites
from kg.rules.places import is_anonymous_facility
from kg.store import open_store

ROOT = Path(__file__).resolve().parents[2]
DATA = [ROOT / "examples", ROOT / "tests/data/ctgov-json", ROOT / "tests/data/ctgov-xml", ROOT / "tests/data/more"]


@pytest.fixture(scope="module")
def real_sites() -> tuple[dict[str, SurfaceSite], list[tuple[str, str, str]]]:
    store = open_store(None)
    build(DATA, store, resolve=False)
    source = TableMentions.of(store)
    ncts = source.ncts()
    places = source.site_places()
    return places, list(source.site_pairs(ncts, places))


def _answer(result: SiteResolution) -> dict[str, object]:
    return {"canonical": result.canonical, "anonymous": result.anonymous, "confidence": result.confidence,
            "evidence": sorted(result.evidence), "comparisons": result.comparisons}


def _as_one_group(monkeypatch: pytest.MonkeyPatch, places: dict[str, SurfaceSite],
                  pairs: list[tuple[str, str, str]]) -> SiteResolution:
    with monkeypatch.context() as patched:
        patched.setattr(sites_module, "_components", lambda named, keys: [list(range(len(named)))])
        return resolve_surface_sites(places, pairs)


def test_groups_give_the_answer_one_group_gives_on_the_real_records(
        real_sites: tuple[dict[str, SurfaceSite], list[tuple[str, str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    places, pairs = real_sites
    groups: list[list[list[int]]] = []
    real_components = sites_module._components
    with monkeypatch.context() as spied:
        spied.setattr(sites_module, "_components", lambda named, keys: groups.append(real_components(named, keys))
                      or groups[-1])
        grouped = resolve_surface_sites(places, pairs)
    assert grouped.merged > 0 and grouped.evidence, "the real records have sites to merge"
    assert len(groups[0]) > 100, "the real records' sites fall into many groups"
    assert _answer(grouped) == _answer(_as_one_group(monkeypatch, places, pairs))


def test_one_name_at_one_spot_joins_two_city_spellings(
        real_sites: tuple[dict[str, SurfaceSite], list[tuple[str, str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """A real site listed again by another trial under a different city name, at the same coordinates."""
    places, pairs = real_sites
    site = next(s for s in places.values()
                if s.lat is not None and s.city and not is_anonymous_facility(s.facility))
    elsewhere = dataclasses.replace(site, site=site.site + "-listed-again", city="Zz" + site.city[::-1])
    listing_trials = {trial for trial, _, surface in pairs if surface == site.site}
    other_trial, other_nct = next((trial, nct) for trial, nct, _ in pairs if trial not in listing_trials)
    places = {**places, elsewhere.site: elsewhere}
    pairs = [*pairs, (other_trial, other_nct, elsewhere.site)]
    grouped = resolve_surface_sites(dict(sorted(places.items())), pairs)
    assert grouped.site_of(other_nct, elsewhere.site) == grouped.site_of("", site.site)
    assert _answer(grouped) == _answer(_as_one_group(monkeypatch, dict(sorted(places.items())), pairs))
