"""Precision and recall of resolution against hand-labelled pairs (tests/data/resolution/).

Each labelled pair names two mentions in the real records and says whether they are the
same person, site or criterion (``S``), not the same (``D``), or undecided (``U``, not
scored). Evaluation builds the records the labels come from, runs :func:`resolve`, and
counts a pair as predicted-same when both mentions resolved to one entity:
precision = true same / predicted same, recall = true same / labelled same.

Example (the shipped labels; about half a minute)::

    >>> labels = Path("tests/data/resolution")  # doctest: +SKIP
    >>> scores = evaluate(build_labelled_store(labels), labels)  # doctest: +SKIP
    >>> scores["persons"].precision >= 0.95  # doctest: +SKIP
    True
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kg.rdf import iris
from kg.rdf.namespaces import ONTOLOGY
from kg.rules.criteria import criterion_key
from kg.store.base import Store
from kg.store.select_stream import iter_select

KINDS = ("persons", "sites", "criteria")
PREFIX = f"PREFIX tkg: <{ONTOLOGY}>\n"
_ROLES = PREFIX + """SELECT ?nct ?name ?code ?fac ?city ?p WHERE {
  ?t tkg:nctId ?nct ; tkg:hasRole ?r . ?r tkg:mentionedName ?name .
  OPTIONAL { ?r tkg:roleCode ?code }
  OPTIONAL { ?r tkg:atSite ?s . ?s tkg:facilityName ?fac . OPTIONAL { ?s tkg:city ?city } }
  OPTIONAL { ?r tkg:resolvedAgent ?p }
}"""
_SITES = PREFIX + """SELECT DISTINCT ?nct ?fac ?city ?c ?s WHERE {
  ?t tkg:nctId ?nct ; tkg:hasSite ?s ; tkg:resolvedSite ?c .
  ?c tkg:hasMention ?s .
  ?s tkg:facilityName ?fac .
  OPTIONAL { ?s tkg:city ?city }
}"""
_CONCEPTS = PREFIX + "SELECT ?k ?c WHERE { ?k tkg:resolvedAs ?c . ?k a tkg:CriterionConcept }"


@dataclass
class Scores:
    """Pair counts and the resulting precision and recall for one kind of entity."""

    kind: str
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    true_negative: int = 0
    undecided: int = 0
    indistinguishable: list[str] = field(default_factory=list)  # both mentions are one node of one record
    missing: list[str] = field(default_factory=list)  # pair ids whose mentions were not found
    errors: list[tuple[str, str, bool]] = field(default_factory=list)  # (id, label, predicted same)

    @property
    def scored(self) -> int:
        return self.true_positive + self.false_positive + self.false_negative + self.true_negative

    @property
    def precision(self) -> float:
        predicted = self.true_positive + self.false_positive
        return self.true_positive / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 1.0

    def add(self, pair_id: str, label: str, predicted: bool | None) -> None:
        if label == "U":
            self.undecided += 1
            return
        if predicted is None:
            self.missing.append(pair_id)
            predicted = False
        same = label == "S"
        if same and predicted:
            self.true_positive += 1
        elif predicted:
            self.false_positive += 1
        elif same:
            self.false_negative += 1
        else:
            self.true_negative += 1
        if same != predicted:
            self.errors.append((pair_id, label, predicted))


def read_pairs(path: Path) -> list[dict[str, str]]:
    """The labelled pairs of one TSV file."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def sources(labels: Path) -> list[Path]:
    """The record files the labels refer to (``sources.txt``, paths relative to it)."""
    lines = (labels / "sources.txt").read_text(encoding="utf-8").splitlines()
    return [(labels / line.strip()).resolve() for line in lines if line.strip() and not line.startswith("#")]


def _person_index(store: Store) -> dict[tuple[str, ...], set[str | None]]:
    index: dict[tuple[str, ...], set[str | None]] = defaultdict(set)
    for nct, name, code, facility, city, person in iter_select(store, _ROLES):
        role = f"SITE_{code}" if facility else (code or "")
        index[(nct or "", name or "", role, facility or "", city or "")].add(person)
    return index


def _site_index(store: Store) -> tuple[dict[tuple[str, ...], set[str | None]], dict[tuple[str, ...], set[str]]]:
    index: dict[tuple[str, ...], set[str | None]] = defaultdict(set)
    surfaces: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for nct, facility, city, canonical, surface in iter_select(store, _SITES):
        key = (nct or "", facility or "", city or "")
        index[key].add(canonical)
        surfaces[key].add(surface or "")
    return index, surfaces


def _same(left: set[str | None] | None, right: set[str | None] | None) -> bool | None:
    if not left or not right:
        return None
    left, right = left - {None}, right - {None}
    return bool(left & right)


def evaluate(store: Store, labels: Path, kinds: Iterable[str] = KINDS) -> dict[str, Scores]:
    """Score the resolution in ``store`` (built from the labels' sources and resolved)."""
    out: dict[str, Scores] = {}
    for kind in kinds:
        scores = Scores(kind)
        pairs = read_pairs(labels / f"{kind}.tsv")
        if kind == "persons":
            people = _person_index(store)
            for p in pairs:
                a = people.get((p["nct_a"], p["name_a"], p["role_a"], p["site_a"], p["city_a"]))
                b = people.get((p["nct_b"], p["name_b"], p["role_b"], p["site_b"], p["city_b"]))
                # A placeholder resolves to no person: found, and never the same as anything.
                scores.add(p["id"], p["label"], None if a is None or b is None else bool(_same(a, b)))
        elif kind == "sites":
            sites, surfaces = _site_index(store)
            for p in pairs:
                key_a, key_b = (p["nct_a"], p["facility_a"], p["city_a"]), (p["nct_b"], p["facility_b"], p["city_b"])
                if key_a[0] == key_b[0] and surfaces.get(key_a) and surfaces.get(key_a) == surfaces.get(key_b):
                    # One trial listing one anonymised name twice in a city: the build made them one node,
                    # so no resolution can tell them apart. Counted, not scored.
                    scores.indistinguishable.append(p["id"])
                    continue
                scores.add(p["id"], p["label"], _same(sites.get(key_a), sites.get(key_b)))
        else:
            canonical: dict[str, str] = {k: c for k, c in iter_select(store, _CONCEPTS) if k and c}
            for p in pairs:
                ka = canonical.get(iris.resource("criterion-concept", criterion_key(p["text_a"])))
                kb = canonical.get(iris.resource("criterion-concept", criterion_key(p["text_b"])))
                scores.add(p["id"], p["label"], None if ka is None or kb is None else ka == kb)
        out[kind] = scores
    return out

