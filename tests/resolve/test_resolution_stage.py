"""The resolution stage over real and constructed stores: seeds, stability, guards, queries on two engines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from kg import build, open_store
from kg.model import Organization, PersonMention, ResponsibleParty, Site, Trial
from kg.queries import get_query
from kg.rdf import iris
from kg.rdf.emit import emit_trial
from kg.rdf.namespaces import RESOLUTION_GRAPH
from kg.resolve.stage import resolve
from kg.rules.finish import finish_trial
from kg.store.base import Store
from kg.store.rdflib_store import RdflibStore
from tests.conftest import EXAMPLES, run_kg

OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
RESOLUTION_QUERIES = ("shared-principal-investigator", "shared-site", "shared-sponsor", "shared-exclusion-criteria",
                      "trials-excluding-above", "data-quality")


@pytest.fixture(scope="module")
def resolved_seeds() -> Store:
    store = open_store(None)
    assert build([EXAMPLES], store, resolve=False).records_failed == 0  # this module runs the stage itself
    resolve(store)
    return store


def rows(store: Store, name: str, **params: str) -> list[dict[str, str | None]]:
    return store.select(get_query(name).bind(params or None)).records()


def load(store: Store, *trials: Trial) -> None:
    for trial in trials:
        store.load_nquads("".join(emit_trial(finish_trial(trial))).encode("utf-8"))


def resolution_nquads(store: Store) -> list[str]:
    table = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?s ?p ?o }} }}")
    return sorted(" ".join(term.n3() if term else "" for term in row) for row in table.rows)


def test_the_seed_trials_share_at_least_29_exclusion_criteria(resolved_seeds: Store) -> None:
    (pair,) = rows(resolved_seeds, "shared-exclusion-criteria")
    assert (pair["trial1"], pair["trial2"]) == ("NCT01374854", "NCT01719640")
    assert int(pair["shared"] or 0) >= 29


def test_the_seed_trials_share_their_principal_investigator_and_site(resolved_seeds: Store) -> None:
    assert [(r["trial1"], r["trial2"], r["name"]) for r in rows(resolved_seeds, "shared-principal-investigator")] == [
        ("NCT01374854", "NCT01719640", "Jianming Tan")]
    assert [(r["trial1"], r["trial2"], r["city"]) for r in rows(resolved_seeds, "shared-site")] == [
        ("NCT01374854", "NCT01719640", "Fuzhou")]


def test_the_age_contradiction_of_nct01374854_is_reported(resolved_seeds: Store) -> None:
    found = rows(resolved_seeds, "data-quality", nct="NCT01374854")
    assert [(r["finding"], r["stated"], r["structured"]) for r in found] == [
        ("age-maximum-contradiction", "65 years", "40 Years")]


def test_trials_excluding_bmi_above_a_value(resolved_seeds: Store) -> None:
    above_40 = rows(resolved_seeds, "trials-excluding-above", variable="bmi", value="40")
    assert sorted(r["trial"] for r in above_40) == ["NCT01374854", "NCT01719640"]
    assert {r["threshold"] for r in above_40} == {"35"}
    assert rows(resolved_seeds, "trials-excluding-above", variable="bmi", value="30") == []


def test_facility_sponsor_and_affiliation_resolve_to_one_organization(resolved_seeds: Store) -> None:
    query = """PREFIX tkg: <https://w3id.org/trialkg/ontology#>
        SELECT DISTINCT ?org WHERE {
          { ?t tkg:leadSponsor/tkg:resolvedAs ?org } UNION { ?r tkg:affiliation/tkg:resolvedAs ?org }
          UNION { ?t tkg:resolvedSite/tkg:siteOrganization ?org } }"""
    assert resolved_seeds.select(query).values() == [
        (iris.resource("organization", "fuzhou general hospital"),)]


@pytest.mark.parametrize("name", RESOLUTION_QUERIES)
def test_resolution_queries_give_the_same_rows_on_rdflib(resolved_seeds: Store, name: str) -> None:
    buffer = io.BytesIO()
    resolved_seeds.dump(buffer, "nquads")
    reference = RdflibStore()
    reference.load_nquads(buffer.getvalue())
    query = get_query(name).bind()
    assert sorted(resolved_seeds.select(query).values(), key=repr) == sorted(reference.select(query).values(),
                                                                              key=repr)


def test_rebuilds_give_the_same_iris_and_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    graphs = []
    for _ in range(2):
        store = open_store(None)
        build([EXAMPLES], store, resolve=False)
        resolve(store)
        resolve(store)  # re-running replaces the graph with the same one
        graphs.append(resolution_nquads(store))
    assert graphs[0] == graphs[1]
    assert any("/person/jianming-tan>" in line for line in graphs[0])


def _trial(nct: str, *officials: PersonMention, party: ResponsibleParty | None = None,
           sites: tuple[Site, ...] = (), sponsor: str | None = None) -> Trial:
    return Trial(nct_id=nct, brief_title=nct, officials=officials, responsible_party=party, sites=sites,
                 lead_sponsor=Organization(sponsor) if sponsor else None)


def test_new_input_that_merges_two_people_keeps_their_old_iris_resolving() -> None:
    store = open_store(None)
    load(store, _trial("NCT90000001", PersonMention("J Tan", "PRINCIPAL_INVESTIGATOR", affiliation="Fuzhou General "
                                                                                                   "Hospital")),
         _trial("NCT90000002", PersonMention("Jianming Tan", "PRINCIPAL_INVESTIGATOR",
                                             affiliation="Xiamen University")))
    resolve(store)
    first = {r["trial1"] for r in rows(store, "shared-principal-investigator")}
    assert first == set()  # an initial and a full name, no shared context: two people
    # A third record names both spellings, each with one of the earlier affiliations.
    load(store, _trial("NCT90000003", PersonMention("Jianming Tan", "PRINCIPAL_INVESTIGATOR",
                                                    affiliation="Xiamen University"),
                       party=ResponsibleParty("PRINCIPAL_INVESTIGATOR", "J Tan", None, "Fuzhou General Hospital")))
    resolve(store)
    shared = rows(store, "shared-principal-investigator")
    assert {(r["trial1"], r["trial2"]) for r in shared} == {("NCT90000001", "NCT90000002"),
                                                           ("NCT90000001", "NCT90000003"),
                                                           ("NCT90000002", "NCT90000003")}
    canonical = iris.resource("person", "jianming tan")
    assert {r["investigator"] for r in shared} == {canonical}
    old = iris.resource("person", "j tan")
    same = store.select(f"SELECT ?o WHERE {{ <{old}> <{OWL_SAME_AS}> ?o }}").values()
    assert same == [(canonical,)]


def test_namesakes_without_shared_context_stay_two_people() -> None:
    store = open_store(None)
    load(store, _trial("NCT90000011", PersonMention("John Smith", "PRINCIPAL_INVESTIGATOR", affiliation="Mayo Clinic")),
         _trial("NCT90000012", PersonMention("John Smith", "PRINCIPAL_INVESTIGATOR", affiliation="Peking University")),
         _trial("NCT90000013", PersonMention("John Smith, MD", "PRINCIPAL_INVESTIGATOR", affiliation="Mayo Clinic")))
    resolve(store)
    shared = rows(store, "shared-principal-investigator")
    assert [(r["trial1"], r["trial2"]) for r in shared] == [("NCT90000011", "NCT90000013")]
    people = store.select(f"""SELECT DISTINCT ?p WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{
        ?r <https://w3id.org/trialkg/ontology#resolvedAgent> ?p }} }} ORDER BY ?p""").values()
    base = iris.resource("person", "john smith")
    assert len(people) == 2 and (base,) in people and all(p[0].startswith(base) for p in people)


def test_placeholders_and_anonymised_sites_are_never_shared() -> None:
    store = open_store(None)
    desk = PersonMention("Medical Director", "STUDY_DIRECTOR")
    anonymous = Site(facility="Local Institution", city="Boston", country="United States")
    load(store, _trial("NCT90000021", desk, sites=(anonymous, Site("Mercy Hospital", "Cedar Rapids",
                                                                    country="United States"))),
         _trial("NCT90000022", desk, sites=(anonymous, Site("Mercy Hospital", "Coon Rapids",
                                                             country="United States"))),
         _trial("NCT90000023", sites=(Site("Mercy Hospital", "Cedar Rapids", country="United States"),)))
    resolve(store)
    assert rows(store, "shared-principal-investigator") == []
    assert [(r["trial1"], r["trial2"], r["city"]) for r in rows(store, "shared-site")] == [
        ("NCT90000021", "NCT90000023", "Cedar Rapids")]


def test_an_iri_minted_for_a_namesake_keeps_resolving_after_a_merge() -> None:
    store = open_store(None)
    load(store, _trial("NCT90000031", PersonMention("John Smith", "PRINCIPAL_INVESTIGATOR", affiliation="Mayo Clinic")),
         _trial("NCT90000032", PersonMention("John Smith", "PRINCIPAL_INVESTIGATOR", affiliation="Peking University")))
    resolve(store)
    query = f"""SELECT DISTINCT ?p WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{
        ?r <https://w3id.org/trialkg/ontology#resolvedAgent> ?p }} }} ORDER BY ?p"""
    before = [p for (p,) in store.select(query).values()]
    base = iris.resource("person", "john smith")
    assert len(before) == 2 and base in before
    (minted,) = [p for p in before if p != base]
    # One record names John Smith with both affiliations: the namesakes were one person.
    load(store, _trial("NCT90000033", PersonMention("John Smith", "PRINCIPAL_INVESTIGATOR", affiliation="Mayo Clinic"),
                       party=ResponsibleParty("PRINCIPAL_INVESTIGATOR", "John Smith", None, "Peking University")))
    report = resolve(store)
    assert [p for (p,) in store.select(query).values()] == [base]
    assert report.retired_iris == 1
    assert store.select(f"SELECT ?o WHERE {{ <{minted}> <{OWL_SAME_AS}> ?o }}").values() == [(base,)]


def test_the_build_report_times_each_post_load_stage_and_each_kind_of_entity(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    result = run_kg("build", str(EXAMPLES), "--store", str(tmp_path / "store"), "--report", str(report_path))
    assert result.returncode == 0, result.stderr
    document = json.loads(report_path.read_text(encoding="utf-8"))
    stages = document["stage_seconds"]
    kinds = [f"resolution.{kind}" for kind in ("organizations", "sites", "persons", "criteria")]
    assert sorted(stages) == sorted(["resolution", "authorship", "mesh", "void", *kinds])
    assert all(seconds >= 0 for seconds in stages.values())
    assert stages["resolution"] >= sum(stages[kind] for kind in kinds)
    # Peak memory so far at each stage's end: never falls, and a Python process holds tens of MiB at least.
    peaks = document["stage_peak_rss"]
    order = ["pipeline", *kinds, "resolution", "authorship", "mesh"]
    assert sorted(peaks) == sorted([*order, "pipeline.workers"])
    assert [peaks[stage] for stage in order] == sorted(peaks[stage] for stage in order)
    assert peaks["pipeline"] > 20 * 1024**2


def test_resolving_an_unchanged_store_again_redirects_nothing() -> None:
    store = open_store(None)
    load(store, _trial("NCT90000041", PersonMention("J. Smith", "PRINCIPAL_INVESTIGATOR", affiliation="Mayo Clinic")),
         _trial("NCT90000042", PersonMention("John Smith", "PRINCIPAL_INVESTIGATOR", affiliation="Mayo Clinic")))
    resolve(store)
    dump = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{RESOLUTION_GRAPH}> {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o"

    def untimed(rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """The rows, less the resolution activity's: its IRI and times carry the clock's second."""
        activity = "https://w3id.org/trialkg/resource/resolution/"
        return [row for row in rows if not any(value and value.startswith(activity) for value in row)
                and not row[1].endswith(("startedAtTime", "endedAtTime", "generatedAtTime"))]

    first = untimed(store.select(dump).values())
    surface = iris.resource("person", "j smith")
    assert (surface, OWL_SAME_AS, iris.resource("person", "john smith")) in first  # a surface IRI linked
    report = resolve(store)
    assert report.retired_iris == 0
    assert untimed(store.select(dump).values()) == first
