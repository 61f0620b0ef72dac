"""The real records the generator imitates, and the tokens and frequencies mined from them.

Why: synthetic trials are only worth benchmarking on if they look like real ones: the same
modules, keys, list lengths, text lengths and value vocabularies. Everything here comes from
the API v2 records in ``tests/data/ctgov-json`` (a 100-study search download and 12 single-study
documents): whole studies serve as templates, and their names, organisations, sites, criteria
and citations are split into tokens that the pools recombine. Lists are ordered by how often a
value occurs in the real records (ties by text), so the most common real value leads its pool.

Example:
    >>> corpus = load_corpus()
    >>> len(corpus.templates) >= 100 and corpus.exclusion[0][1] >= corpus.exclusion[-1][1]
    True
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

DATA_DIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "ctgov-json"

Study = dict[str, Any]
Counted = list[tuple[str, int]]

# Tokens that are degrees, honorifics or desks rather than names (compared lowercase, dots removed).
_NOT_NAME_TOKENS = frozenset(
    "md phd mph msc ms ma mba bsc bs ba rn do dr prof professor doctor mr mrs med kmd dc pt mhs fcps "
    "clinical trial trials management cares center centre director study team contact".split()
)
# Institution kinds looked for in the real organisation and facility names; only those found are used.
_KIND_CANDIDATES = (
    ("University Hospital", "OTHER"), ("Medical Center", "OTHER"), ("Hospital", "OTHER"), ("University", "OTHER"),
    ("Research Institute", "OTHER"), ("Institute", "OTHER"), ("Clinic", "OTHER"), ("Medical University", "OTHER"),
    ("Spine Center", "OTHER"), ("Teaching Hospital", "OTHER"), ("Training and Research Hospital", "OTHER"),
    ("Medical Foundation", "OTHER"), ("Health System", "OTHER"), ("Medical College", "OTHER"),
    ("State Hospital", "OTHER"), ("General Hospital", "OTHER"), ("Clinical Research", "OTHER"),
    ("Rehabilitation Institute", "OTHER"), ("Pain Specialists", "OTHER"), ("Oriental Hospital", "OTHER"),
    ("Inc.", "INDUSTRY"), ("Corporation", "INDUSTRY"), ("LLC", "INDUSTRY"), ("GmbH", "INDUSTRY"),
    ("Pharmaceuticals", "INDUSTRY"), ("Therapeutics", "INDUSTRY"), ("S.r.l.", "INDUSTRY"), ("A/S", "INDUSTRY"),
)
_DEPARTMENT_CANDIDATES = (
    "Neurosurgery", "Orthopaedics", "Orthopedics", "Anesthesiology", "Anesthesia", "Neurology", "Psychiatry",
    "Rehabilitation", "Physical Medicine and Rehabilitation", "Pain Medicine", "Radiology", "Internal Medicine",
    "Pediatrics", "Dermatology", "Endocrinology", "Cardiology", "Physiotherapy", "Physical Therapy", "Surgery",
    "Oncology", "Behavioral Sciences", "Korean Medicine", "Sports Medicine", "Spine Surgery",
)
_HEADER = re.compile(r"^(?:key\s+)?(inclusion|exclusion)\s+criteria\b", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[*•\-]|\d{1,2}[.)])\s+")
_NORMAL = re.compile(r"[^0-9a-z]+")
_MAX_TITLE = 40  # longer investigator titles carry names and addresses


@dataclass(frozen=True)
class Place:
    """A real city as the registry geocodes it (``state``/``zip`` as the first real record gave them)."""

    city: str
    state: str | None
    zip: str | None
    country: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Corpus:
    """Templates and counted token lists mined from the real records."""

    templates: list[Study]
    first_names: Counted
    last_names: Counted
    degrees: Counted  # "" stands for a name written without a degree
    titles: Counted
    organizations: list[tuple[str, str, int]]  # name, agency class, count
    kinds: list[tuple[str, str]]
    departments: list[str]
    places: list[tuple[Place, int]]
    sites: list[tuple[dict[str, Any], int]]
    inclusion: Counted
    exclusion: Counted
    references: list[tuple[str, str | None, int]]  # citation, pmid, count


def read_real_studies(data_dir: Path = DATA_DIR) -> list[Study]:
    """The real studies: the array download, then the single-study documents, in file order."""
    studies: list[Study] = list(orjson.loads((data_dir / "herniated-disc.ctg-studies.json").read_bytes()))
    studies += [orjson.loads(path.read_bytes()) for path in sorted((data_dir / "single").glob("*.json"))]
    return studies


@lru_cache(maxsize=2)
def load_corpus(data_dir: Path = DATA_DIR) -> Corpus:
    """Mine the real records once per process (the result is shared and must not be mutated)."""
    studies = read_real_studies(data_dir)
    # Stubs without a status module (an annotation-only and a references-only document) cannot
    # carry dates, so they are not templates.
    templates = [s for s in studies if "statusModule" in s.get("protocolSection", {})]
    firsts, lasts, degrees = _name_tokens(_person_mentions(studies))
    org_names = [name for name, _cls, _n in _organizations(studies)]
    facility_names = [loc["facility"] for loc in _locations(studies) if loc.get("facility")]
    institution_text = "\n".join(org_names + facility_names)
    all_text = orjson.dumps(studies).decode()
    inclusion, exclusion = _criteria(studies)
    return Corpus(
        templates=templates,
        first_names=_ranked(firsts),
        last_names=_ranked(lasts),
        degrees=_ranked(degrees),
        titles=_ranked(_titles(studies)),
        organizations=_organizations(studies),
        kinds=[(kind, cls) for kind, cls in _KIND_CANDIDATES if re.search(rf"\b{re.escape(kind)}", institution_text)],
        departments=[d for d in _DEPARTMENT_CANDIDATES if d in all_text],
        places=_places(studies),
        sites=_sites(studies),
        inclusion=inclusion,
        exclusion=exclusion,
        references=_references(studies),
    )


def _ranked(counts: Counter[str]) -> Counted:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _protocol(study: Study, module: str) -> dict[str, Any]:
    return study.get("protocolSection", {}).get(module, {})


def _locations(studies: Iterable[Study]) -> Iterator[dict[str, Any]]:
    for study in studies:
        yield from _protocol(study, "contactsLocationsModule").get("locations", [])


def _person_mentions(studies: Iterable[Study]) -> Iterator[str]:
    for study in studies:
        contacts = _protocol(study, "contactsLocationsModule")
        people = contacts.get("overallOfficials", []) + contacts.get("centralContacts", [])
        people += [c for loc in contacts.get("locations", []) for c in loc.get("contacts", [])]
        party = _protocol(study, "sponsorCollaboratorsModule").get("responsibleParty", {})
        names = [p.get("name") for p in people] + [party.get("investigatorFullName")]
        yield from (name for name in names if name)


def _name_tokens(mentions: Iterable[str]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """First names, last names and degree strings ("MD, PhD") from "First M. Last, MD, PhD" mentions."""
    firsts: Counter[str] = Counter()
    lasts: Counter[str] = Counter()
    degrees: Counter[str] = Counter()
    for mention in mentions:
        name, _, degree = mention.partition(",")
        words = [w for w in name.split() if w.lower().replace(".", "") not in _NOT_NAME_TOKENS]
        if len(words) < 2 or any(ch.isdigit() or ch in "@*()" for ch in name):
            continue
        if len(words[0].rstrip(".")) > 1:
            firsts[words[0]] += 1
        if len(words[-1]) > 1:
            lasts[words[-1]] += 1
        degrees[degree.strip().rstrip("*")] += 1
    return firsts, lasts, degrees


def _titles(studies: Iterable[Study]) -> Counter[str]:
    titles: Counter[str] = Counter()
    for study in studies:
        title = _protocol(study, "sponsorCollaboratorsModule").get("responsibleParty", {}).get("investigatorTitle")
        if title and len(title) <= _MAX_TITLE:
            titles[title] += 1
    return titles


def _organizations(studies: Iterable[Study]) -> list[tuple[str, str, int]]:
    """Sponsors and collaborators with their agency class, most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    for study in studies:
        sponsors = _protocol(study, "sponsorCollaboratorsModule")
        for org in [sponsors.get("leadSponsor", {}), *sponsors.get("collaborators", [])]:
            if org.get("name"):
                counts[(org["name"], org.get("class", "OTHER"))] += 1
    return [(name, cls, n) for (name, cls), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _places(studies: Iterable[Study]) -> list[tuple[Place, int]]:
    counts: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], Place] = {}
    for loc in _locations(studies):
        geo = loc.get("geoPoint")
        if not (loc.get("city") and loc.get("country") and geo):
            continue
        key = (loc["city"], loc["country"])
        counts[key] += 1
        place = Place(loc["city"], loc.get("state"), loc.get("zip"), loc["country"], geo["lat"], geo["lon"])
        first.setdefault(key, place)
    return [(first[key], n) for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _sites(studies: Iterable[Study]) -> list[tuple[dict[str, Any], int]]:
    """Real sites (facility, city, state, zip, country, geoPoint), without per-trial status or contacts."""
    counts: Counter[bytes] = Counter()
    for loc in _locations(studies):
        if loc.get("facility") and loc.get("city") and loc.get("geoPoint"):
            site = {k: v for k, v in loc.items() if k not in ("status", "contacts")}
            counts[orjson.dumps(site)] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(orjson.loads(key), n) for key, n in ranked]


def split_criteria(text: str) -> tuple[list[str], list[str]]:
    """Top-level inclusion and exclusion items of an eligibility text (nested items and free text before
    the first heading are left out: they refine a parent item rather than stand alone)."""
    sections: dict[str, list[str]] = {"inclusion": [], "exclusion": []}
    current: list[str] | None = None
    for line in text.splitlines():
        if not line.strip() or line[:1].isspace():
            continue
        item = _BULLET.sub("", line.strip(), count=1).strip()
        header = _HEADER.match(item)
        if header:
            current = sections[header.group(1).lower()]
        elif current is not None and len(item) > 2 and not item.endswith(":"):
            current.append(item)
    return sections["inclusion"], sections["exclusion"]


def normal_form(text: str) -> str:
    """Lowercase alphanumerics: how the generator decides two criteria are the same."""
    return _NORMAL.sub(" ", text.lower().replace("\\", "")).strip()


def _criteria(studies: Iterable[Study]) -> tuple[Counted, Counted]:
    """Distinct inclusion and exclusion items (by normal form, first spelling kept), most frequent first."""
    result = []
    kinds: tuple[list[list[str]], list[list[str]]] = ([], [])
    for study in studies:
        text = _protocol(study, "eligibilityModule").get("eligibilityCriteria")
        if text:
            inclusion, exclusion = split_criteria(text)
            kinds[0].append(inclusion)
            kinds[1].append(exclusion)
    for lists in kinds:
        counts: Counter[str] = Counter()
        spelling: dict[str, str] = {}
        for items in lists:
            for item in items:
                key = normal_form(item)
                if key:
                    counts[key] += 1
                    spelling.setdefault(key, item)
        result.append([(spelling[key], n) for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))])
    return result[0], result[1]


def _references(studies: Iterable[Study]) -> list[tuple[str, str | None, int]]:
    counts: Counter[tuple[str, str]] = Counter()
    for study in studies:
        for ref in _protocol(study, "referencesModule").get("references", []):
            if ref.get("citation"):
                counts[(ref["citation"], ref.get("pmid") or "")] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(citation, pmid or None, n) for (citation, pmid), n in ranked]
