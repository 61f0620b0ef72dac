"""SHACL shapes: true of every graph the seeds and the shared data build, and they catch broken ones.

Why: the shapes are the contract between the parsers, the emitter and everyone who
queries the graph. They are worth something only if (1) every real record we have
builds into a conforming graph, so a violation is news, and (2) a broken graph is
caught at the right node, so the news says where to look.

Example:
    .venv/bin/pytest tests/test_shacl.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib import RDF, RDFS
from rdflib.namespace import SH

from kg.build import build
from kg.rdf.namespaces import ONTOLOGY, PROPERTIES
from kg.resources import ontology_path
from kg.store import open_store
from kg.store.base import Store
from kg.store.oxigraph import OxigraphStore
from kg.validate import ValidationReport, shapes_path, validate
from tests.conftest import DATA, EXAMPLES, run_kg

TKG = rdflib.Namespace(ONTOLOGY)
# The classes of the core ontology (publications, analytics and resolution get theirs later).
CORE_CLASSES = (
    "Trial", "Arm", "Intervention", "Condition", "Outcome", "EligibilityCriterion", "InclusionCriterion",
    "ExclusionCriterion", "CriterionConcept", "Person", "Organization", "Site", "TrialSite", "Publication", "Role",
    "Identifier", "Document", "SourceRecord", "SourceFile", "Extraction",
)
SHARED_DATA = [EXAMPLES, DATA / "ctgov-json", DATA / "ctgov-xml", DATA / "ctgov-csv"]
TRIAL_1 = "https://clinicaltrials.gov/study/NCT01374854"  # the modern seed
TRIAL_2 = "https://clinicaltrials.gov/study/NCT01719640"  # the classic seed
GRAPH_2 = "https://w3id.org/trialkg/graph/ctgov/NCT01719640"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(shapes_path(), format="turtle")


def _ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ontology_path(), format="turtle")


def _violations(report: ValidationReport) -> set[tuple[str, str]]:
    return {(result.focus, result.shape) for result in report.violations}


# ---------------------------------------------------------------- the shapes file itself


def test_every_core_class_has_a_shape() -> None:
    targets = {str(o) for o in _shapes().objects(None, SH.targetClass)}
    missing = [name for name in CORE_CLASSES if ONTOLOGY + name not in targets]
    assert not missing, missing


def test_no_shape_is_closed_so_new_properties_never_violate() -> None:
    assert not list(_shapes().subjects(SH.closed, None))


def test_the_shapes_are_valid_shacl() -> None:
    # meta_shacl checks the shapes graph against the SHACL-for-SHACL shapes first.
    conforms, _, text = pyshacl.validate(rdflib.Graph(), shacl_graph=_shapes(), meta_shacl=True)
    assert conforms, text


def test_the_shapes_name_only_ontology_terms() -> None:
    shapes, ontology = _shapes(), _ontology()
    declared = {str(s) for s in ontology.subjects(RDF.type, None)}
    used = {str(o) for p in (SH.path, SH.inversePath, SH["class"], SH.targetClass, SH.targetSubjectsOf)
            for o in shapes.objects(None, p)}
    used |= {str(o) for o in shapes.objects(None, SH["in"]) for o in rdflib.collection.Collection(shapes, o)}
    unknown = sorted(term for term in used if term.startswith(ONTOLOGY) and term not in declared)
    assert not unknown, unknown


def test_every_core_property_with_a_domain_has_a_domain_shape() -> None:
    """A node described but not typed (the arm an intervention names) shows as a domain violation."""
    shapes, ontology = _shapes(), _ontology()
    covered = {(str(p), str(shapes.value(shape, SH["class"])))
               for shape, p in shapes.subject_objects(SH.targetSubjectsOf)}
    missing = [f"{name} ({domain})" for name in PROPERTIES
               for domain in ontology.objects(TKG[name], RDFS.domain) if (ONTOLOGY + name, str(domain)) not in covered]
    assert not missing, missing


# ---------------------------------------------------------------- real data conforms


def test_the_seed_graphs_conform(seed_store: Store) -> None:
    report = validate(seed_store)
    assert report.conforms, "\n".join(map(str, report.results))
    assert not report.results, "\n".join(map(str, report.results))  # not even warnings
    # the two record graphs, and the resolution, author-link, sharing and VoID graphs the build adds
    assert report.graphs_checked == report.graphs_total == 6


ALL_SHARED_DATA = [*SHARED_DATA, DATA / "more", DATA / "pubmed"]  # every real record the repository carries


@pytest.mark.slow
def test_kg_validate_passes_on_the_default_build_of_all_the_shared_data(tmp_path: Path) -> None:
    """Every real record we carry (API v2 JSON, legacy XML, the CSV downloads, PubMed, the pages),
    built as a user builds it (resolved, authors linked), validates with `kg validate`: exit 0."""
    store = tmp_path / "store"
    built = run_kg("build", *map(str, ALL_SHARED_DATA), "--store", str(store), "--jobs", "2", "--no-progress",
                   timeout=1200)
    assert built.returncode == 0, built.stderr
    loaded = int(re.search(r"(\d+) loaded, 0 failed", built.stderr).group(1))  # type: ignore[union-attr]
    assert loaded > 3000
    checked = run_kg("validate", "--store", str(store), "--sample", "0", "--jobs", "2", "--no-progress",
                     timeout=1800)  # about 3,250 graphs: minutes on two busy cores
    assert checked.returncode == 0, checked.stdout[-4000:]
    # every record graph, plus resolution, links, MeSH links, sharing and VoID; not even a warning
    assert f"all {loaded + 5} record graphs and the metadata graph" in checked.stderr, checked.stderr
    assert checked.stderr.rstrip().endswith(": conforms"), checked.stderr
    assert not checked.stdout.strip(), checked.stdout[:4000]


@pytest.mark.parametrize("jobs", ["1", "2"])  # with 2, each worker reads its batches from the store itself
def test_kg_validate_fails_on_a_broken_record(tmp_path: Path, jobs: str) -> None:
    store = tmp_path / "store"
    assert run_kg("build", str(EXAMPLES), "--store", str(store)).returncode == 0
    assert run_kg("validate", "--store", str(store)).returncode == 0
    with open_store(store) as writable:
        writable.update(f"""DELETE {{ GRAPH ?g {{ <{TRIAL_2}> <{ONTOLOGY}enrollment> ?n }} }}
            INSERT {{ GRAPH ?g {{ <{TRIAL_2}> <{ONTOLOGY}enrollment> "twenty-two" }} }}
            WHERE {{ GRAPH ?g {{ <{TRIAL_2}> <{ONTOLOGY}enrollment> ?n }} }}""")
    checked = run_kg("validate", "--store", str(store), "--jobs", jobs)
    assert checked.returncode == 1
    assert "TrialShape tkg:enrollment" in checked.stdout and "violation" in checked.stderr


# ---------------------------------------------------------------- broken graphs are caught


ORPHAN_ID = "https://w3id.org/trialkg/resource/identifier/NCT01719640/orphan"


def _broken_seed_store() -> OxigraphStore:
    store = OxigraphStore(None)
    build([EXAMPLES], store)
    nct = f"<{ONTOLOGY}nctId>"
    enrollment = f"<{ONTOLOGY}enrollment>"
    role_type = f"<{ONTOLOGY}roleType>"
    store.update(f"""
        DELETE WHERE {{ GRAPH ?g {{ <{TRIAL_1}> {nct} ?id }} }} ;
        DELETE {{ GRAPH ?g {{ <{TRIAL_2}> {enrollment} ?n }} }}
        INSERT {{ GRAPH ?g {{ <{TRIAL_2}> {enrollment} "twenty-two" }} }}
        WHERE {{ GRAPH ?g {{ <{TRIAL_2}> {enrollment} ?n }} }} ;
        DELETE WHERE {{ GRAPH ?g {{ <{_a_role(store)}> {role_type} ?type }} }}
    """)
    g = f"<{GRAPH_2}>"
    store.load_nquads(f"""
<{TRIAL_2}> <{ONTOLOGY}startDate> "2011-13"^^<{XSD}gYearMonth> {g} .
<https://w3id.org/trialkg/resource/arm/NCT01719640/ghost> <{ONTOLOGY}armIntervention> <urn:x> {g} .
<https://w3id.org/trialkg/resource/trial-site/NCT01719640/x> <{RDF}type> <{ONTOLOGY}TrialSite> {g} .
<{TRIAL_2}> <{ONTOLOGY}hasTrialSite> <https://w3id.org/trialkg/resource/trial-site/NCT01719640/x> {g} .
<{ORPHAN_ID}> <{RDF}type> <{ONTOLOGY}Identifier> {g} .
<{ORPHAN_ID}> <{ONTOLOGY}identifierValue> "X-1" {g} .
""".encode())
    return store


def _a_role(store: Store) -> str:
    rows = store.select(f"SELECT ?r WHERE {{ <{TRIAL_2}> <{ONTOLOGY}hasRole> ?r }} ORDER BY ?r LIMIT 1").values()
    return str(rows[0][0])


def test_broken_graphs_show_violations_at_the_right_nodes() -> None:
    store = _broken_seed_store()
    role = _a_role(store)
    report = validate(store)
    expected = {
        (TRIAL_1, "TrialShape tkg:nctId"),  # a trial without its NCT id
        (TRIAL_2, "TrialShape tkg:enrollment"),  # an enrollment that is a string
        (role, "RoleShape tkg:roleType"),  # a role without role type
        (TRIAL_2, "TrialShape tkg:startDate"),  # month 13, and a second start date
        ("https://w3id.org/trialkg/resource/arm/NCT01719640/ghost", "ArmDomain"),  # an arm nobody typed
        ("https://w3id.org/trialkg/resource/trial-site/NCT01719640/x", "TrialSiteShape tkg:site"),
        (ORPHAN_ID, "IdentifierShape"),  # neither a trial's identifier nor a publication's accession
    }
    found = _violations(report)
    assert expected <= found, "\n".join(map(str, report.violations))
    assert {focus for focus, _ in found} == {focus for focus, _ in expected}, found - expected
    assert not report.conforms
    by_shape = {shape: count for shape, _, count in report.by_shape()}
    assert by_shape["TrialShape tkg:enrollment"] == 2  # not an integer, so not >= 0 either
    constraints = {r.constraint for r in report.violations if r.focus == TRIAL_2}
    assert {"Datatype", "MaxCount", "Node"} <= constraints


def test_an_unknown_code_is_a_warning_not_a_violation() -> None:
    """The registry's vocabulary grows: an odd code is reported but does not fail the store."""
    store = OxigraphStore(None)
    build([EXAMPLES], store)
    store.update(f"""
        DELETE {{ GRAPH ?g {{ <{TRIAL_2}> <{ONTOLOGY}sex> ?sex }} }}
        INSERT {{ GRAPH ?g {{ <{TRIAL_2}> <{ONTOLOGY}sex> "BOTH" ; <{ONTOLOGY}phase> "PHASE9" }} }}
        WHERE {{ GRAPH ?g {{ <{TRIAL_2}> <{ONTOLOGY}sex> ?sex }} }}
    """)
    report = validate(store)
    assert report.conforms and not report.violations
    assert {(r.focus, r.shape, r.severity) for r in report.results} == {
        ('"BOTH"', "SexValue", "Warning"), ('"PHASE9"', "PhaseValue", "Warning")}


def test_a_sample_is_deterministic_and_carries_the_nodes_it_references() -> None:
    store = OxigraphStore(None)
    build([DATA / "ctgov-json" / "herniated-disc.ctg-studies.json"], store)
    first, second = validate(store, sample=7), validate(store, sample=7)
    assert first.sampled_graphs == second.sampled_graphs and len(first.sampled_graphs) == 7
    assert first.sampled and first.graphs_total == 100 + 4  # the records, resolution, links, sharing, VoID
    # Source files and the build are in the metadata graph, which no sample contains:
    # pulled in as referenced nodes, they satisfy sh:class tkg:SourceFile / tkg:Extraction.
    assert first.conforms, "\n".join(map(str, first.results))
    victim = first.sampled_graphs[3]
    store.update(f"DELETE WHERE {{ GRAPH <{victim}> {{ ?t <{ONTOLOGY}nctId> ?id }} }}")
    broken = validate(store, sample=7, batch_graphs=3)
    assert {r.focus for r in broken.violations} == {"https://clinicaltrials.gov/study/" + victim.rsplit("/", 1)[-1]}


# ---------------------------------------------------------------- the command line


def _run_validate(*args: str) -> subprocess.CompletedProcess[str]:
    """``kg validate ...``, registering the command group if kg/cli.py does not (yet)."""
    script = ("import sys; from kg import cli; from kg.cli import quality; "
              "'validate' in cli.cli.commands or quality.register(cli.cli); sys.argv[0] = 'kg'; cli.main()")
    return subprocess.run([sys.executable, "-c", script, "validate", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_reports_violations_readably_and_exits_non_zero(tmp_path: Path) -> None:
    good = tmp_path / "good"
    with OxigraphStore(good) as store:
        build([EXAMPLES], store)
    result = _run_validate("--store", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "conforms" in result.stderr and "Traceback" not in result.stderr
    broken = OxigraphStore(tmp_path / "bad")
    build([EXAMPLES], broken)
    broken.update(f"DELETE WHERE {{ GRAPH ?g {{ <{TRIAL_1}> <{ONTOLOGY}nctId> ?id }} }}")
    broken.close()
    bad = tmp_path / "bad"
    report_path = tmp_path / "validation.json"
    result = _run_validate("--store", str(bad), "--report", str(report_path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("violation: ct:NCT01374854 tkg:nctId:") and "[TrialShape tkg:nctId, MinCount]" in first
    assert "by shape:" in result.stdout and "1 violation" in result.stderr
    document = json.loads(report_path.read_text(encoding="utf-8"))
    assert document["violations"] == 1 and document["results"][0]["focus"] == TRIAL_1
    sampled = _run_validate("--store", str(bad), "--sample", "1")
    assert "1 of 6 record graphs (sample)" in sampled.stderr


def test_cli_without_a_store_says_so(tmp_path: Path) -> None:
    result = _run_validate("--store", str(tmp_path / "absent"))
    assert result.returncode != 0 and "no store" in result.stderr and "Traceback" not in result.stderr
