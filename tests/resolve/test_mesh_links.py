"""Legacy XML MeSH headings given by name are linked to the descriptor other records give with that name.

Expected links are worked out from the raw files with json and ElementTree: every XML
trial's ``condition_browse``/``intervention_browse`` names, and the name -> descriptor id
pairs every JSON record states (``derivedSection`` meshes and ancestors). A name with one
id is linked, a name with none or two is not; the store's MeSH links graph must hold
exactly those links, and a record graph none of them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

from kg import build, open_store
from kg.sync import sync
from tests.conftest import DATA
from tests.fidelity.sources import mesh_id

TKG = "https://w3id.org/trialkg/ontology#"
LINKS = "https://w3id.org/trialkg/graph/mesh-links"
JSON_FILES = [DATA / "more" / "ctgov-json" / "leukemia.ctg-studies.json",
              DATA / "more" / "ctgov-json" / "industry.ctg-studies.json",
              DATA / "ctgov-json" / "herniated-disc.ctg-studies.json"]
XML_FOLDER = DATA / "ctgov-xml" / "aact-fixtures"


def _descriptors() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for path in JSON_FILES:
        for study in json.loads(path.read_text(encoding="utf-8")):
            derived = study.get("derivedSection", {})
            for module in ("conditionBrowseModule", "interventionBrowseModule"):
                for key in ("meshes", "ancestors"):
                    for mesh in derived.get(module, {}).get(key, []):
                        found[mesh["term"]].add(mesh_id(mesh["id"]))  # D000009190 is D009190
    return found


def _expected(folder: Path) -> set[tuple[str, str, str]]:
    descriptors = _descriptors()
    expected = set()
    for path in sorted(folder.glob("*.xml")):
        root = ET.parse(path).getroot()
        nct = root.findtext("id_info/nct_id")
        for kind in ("condition", "intervention"):
            for term in root.findall(f"{kind}_browse/mesh_term"):
                ids = descriptors.get(" ".join((term.text or "").split()), set())
                if len(ids) == 1:
                    expected.add((nct, kind, next(iter(ids))))
    return expected


def _links(store) -> set[tuple[str, str, str]]:
    rows = store.iter_select(f"""SELECT ?t ?p ?d WHERE {{ GRAPH <{LINKS}> {{ ?t ?p ?d }} }}""")
    return {(t.rsplit("/", 1)[1], p.removeprefix(TKG).removesuffix("Mesh"), mesh_id(d.rsplit("/", 1)[1]))
            for t, p, d in rows}


def test_xml_headings_link_to_the_descriptors_json_records_name() -> None:
    expected = _expected(XML_FOLDER)
    assert len(expected) >= 20  # the data overlap this test needs (names shared by XML and JSON records)
    store = open_store(None)
    build([*JSON_FILES, XML_FOLDER], store)
    assert _links(store) == expected
    in_records = list(store.iter_select(f"""SELECT ?t WHERE {{ GRAPH ?g {{ ?t <{TKG}conditionMesh> ?d ;
                                               <{TKG}conditionMeshTerm> ?n }} FILTER(?g != <{LINKS}>) }}"""))
    assert not in_records, "a record graph states a link its record does not give"


def test_without_the_json_records_nothing_is_linked(tmp_path: Path) -> None:
    """A name no record gives with its id stays text; sync rewrites the links when the JSON leaves."""
    store = open_store(tmp_path / "store")
    sync([*JSON_FILES, XML_FOLDER], store)
    assert _links(store)
    sync([XML_FOLDER], store, full=True)
    assert _links(store) == set()
