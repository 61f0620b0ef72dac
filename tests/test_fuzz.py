"""Fuzzing every reader: mutated real records never crash a build and never vanish silently.

Why: registry downloads are large and messy (truncated transfers, re-encoded files, hand
edits, fields of the wrong type), and one bad record must neither stop a build of half a
million studies nor disappear without a trace. Hypothesis mutates real records of each
format (truncation, deleted keys and elements, values of the wrong type, huge strings,
odd unicode, control characters, NUL bytes) and every mutation must give either a clear
per-record error or a well-formed (partial) trial, with the books balanced:
``records_read == records_loaded + record-level failures + superseded`` and one named
graph per loaded record.

The runs are seeded and derandomized, so CI sees the same examples every time; the
number of examples per test comes from ``TRIALKG_FUZZ_EXAMPLES`` (default 25).

Example:
    .venv/bin/pytest tests/test_fuzz.py                                   # CI: < 2 minutes
    TRIALKG_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/test_fuzz.py -x -q  # the long run
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from rdflib import RDF, Literal, URIRef

from kg.build import BuildReport, build
from kg.rdf.emit_void import VOID_GRAPH
from kg.rdf.namespaces import GRAPH, META_GRAPH, ONTOLOGY
from kg.store import open_store
from kg.store.base import Store
from kg.validate import validate
from tests.conftest import CLASSIC_SEED, DATA, MODERN_SEED, run_kg

# Hypothesis runs many builds per test: part of the whole suite, left out of `scripts/test --fast`.
pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("TRIALKG_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# pySHACL is the slow part: a few examples per format show mutated records stay valid.
SHACL_FUZZ = settings(FUZZ, max_examples=max(3, EXAMPLES // 5))

JSON_SEEDS = [DATA / "ctgov-json" / "single" / f"{nct}.json" for nct in
              ("NCT03418623", "NCT06171568", "NCT00973089", "NCT03475563")]
XML_SEEDS = [DATA / "ctgov-xml" / "aact-fixtures" / f"{nct}.xml" for nct in ("NCT03245528", "NCT02591940")]
XML_SEEDS += [DATA / "ctgov-xml" / "aact-search-2016" / "NCT00216060.xml"]
CSV_SEED = DATA / "ctgov-csv" / "urology-search-sample.csv"
CSV_ROWS = 3
MEMBERS = 3  # records per multi-record container (JSON Lines, JSON array, zip, CSV)

XSD = "http://www.w3.org/2001/XMLSchema#"
_LEXICAL = {  # what a well-formed literal of these datatypes looks like (rdflib checks only some)
    XSD + "date": re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"),
    XSD + "gYearMonth": re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])"),
    XSD + "gYear": re.compile(r"[0-9]{4}"),
    XSD + "decimal": re.compile(r"-?[0-9]+(\.[0-9]+)?"),
    XSD + "integer": re.compile(r"-?[0-9]+"),
    XSD + "boolean": re.compile(r"true|false"),
}
_TRIAL_IRI = re.compile(r"https://clinicaltrials\.gov/study/NCT[0-9]{8}")
_NCT = re.compile(r"NCT[0-9]{8}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # a reason goes to a terminal: no newlines, no ESC
_MAX_REASON = 1000  # a reason quoting a 100,000-character field is no clear message

# ---------------------------------------------------------------------------------------
# Strategies: hostile values and mutations
# ---------------------------------------------------------------------------------------

NASTY = [
    "", " ", "\x00", "a\x00b", "\x01\x02\x1f\x7f", "\r\n", "\t", "\u2028\u2029", "\ufeff", "\u202e\u200f",
    "'\"\\", "<script>alert(1)</script>", "]]>", "<![CDATA[x]]>", "&amp;&#0;&#xD800;", "%zz", "%", "http://[bad",
    "www.example.org", "https://exa mple.org/%zz", "NCT00000000", "NCT0137", "1e400", "-5", "9" * 400, "NaN",
    "inf", "٢٠١١-٠١", "2011-13-45", "2011-02-30", "0000", "January 2099", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩‍⚕️", "Ω≈ç√∫",
    "ＮＣＴ０１３７４８５４", "\ud800", "a" * 100_000, "Drug: ", "Inclusion Criteria:\n- x\nExclusion Criteria:\n- y",
    "PHASE9", "@@@", "+1 (555) 123-4567 test@example.org",
]
hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x3F), max_size=20),
)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False), hostile_text,
)
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
BYTE_INSERTS = [b"\x00", b"\x00" * 64, b"\xff\xfe", b"\xc3(", b"\xed\xa0\x80", b"\r", b"\x1b[2J", b"\xef\xbb\xbf",
                b"<", b'"', b"{", b"]", b"|", b"\n\n", b"PK\x03\x04"]


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Damage a file the way transfers and editors do: cut it, drop or insert bytes."""
    kind = draw(st.sampled_from(["truncate", "insert", "delete", "overwrite"]))
    at = draw(st.integers(0, len(data)))
    if kind == "truncate":
        return data[:at]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 200)):]
    chunk = draw(st.sampled_from(BYTE_INSERTS) | st.binary(min_size=1, max_size=16))
    if kind == "insert":
        return data[:at] + chunk + data[at:]
    return data[:at] + chunk + data[at + len(chunk):]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@st.composite
def json_mutation(draw: st.DrawFn, study: dict[str, Any]) -> dict[str, Any]:
    """Delete keys, change types, plant hostile strings anywhere in a study."""
    study = copy.deepcopy(study)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(study) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = study
        for key in path[:-1]:
            parent = parent[key]
        kind = draw(st.sampled_from(["delete", "value", "text"]))
        if kind == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_value if kind == "value" else hostile_text)
    return study


@st.composite
def xml_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Delete, duplicate and rename elements; hostile text and attributes (XML-legal ones)."""
    root = etree.fromstring(data)
    for _ in range(draw(st.integers(1, 4))):
        elements = [e for e in root.iter() if isinstance(e.tag, str)][1:]  # elements, not comments
        if not elements:
            break
        element = draw(st.sampled_from(elements))
        kind = draw(st.sampled_from(["delete", "text", "duplicate", "rename", "attribute", "nest"]))
        parent = element.getparent()
        if kind == "delete" and parent is not None:
            parent.remove(element)
        elif kind == "duplicate" and parent is not None:
            parent.append(copy.deepcopy(element))
        elif kind == "rename":
            element.tag = draw(st.sampled_from(["x", "nct_id", "clinical_study", "textblock", "location"]))
        elif kind == "attribute":
            element.set("type", _xml_legal(draw(hostile_text)))
        elif kind == "nest":
            etree.SubElement(element, draw(st.sampled_from(["textblock", "x", "name"]))).text = "nested"
        else:
            element.text = _xml_legal(draw(hostile_text))
    return bytes(etree.tostring(root, encoding="utf-8", xml_declaration=True))


def _xml_legal(text: str) -> str:
    """XML 1.0 cannot carry NUL, most C0 controls or lone surrogates: lxml refuses them."""
    return "".join(c for c in text if c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd")
                   or c >= "\U00010000")


@st.composite
def line_mutation(draw: st.DrawFn, text: str) -> str:
    """Drop, repeat, move and rewrite lines of a page capture; plant control characters."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 5))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "block", "swap"]))
        if kind == "delete":
            del lines[at]
        elif kind == "duplicate":
            lines.insert(at, lines[at])
        elif kind == "replace":
            lines[at] = draw(hostile_text)
        elif kind == "insert":
            position = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:position] + draw(hostile_text) + lines[at][position:]
        elif kind == "block":
            del lines[at : at + draw(st.integers(1, 40))]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# The invariants
# ---------------------------------------------------------------------------------------


def _build(files: list[Path], format_name: str | None = None) -> tuple[BuildReport, Store]:
    """Build files into a fresh in-memory store and check that nothing went unaccounted."""
    store = open_store(None)
    # The invariants are of reading and parsing: one record graph per record loaded, so the
    # post-load stages (their own graphs) are left out.
    report = build(files, store, format_name=format_name, resolve=False)
    check_accounting(report, store, files)
    check_well_formed(store)
    return report, store


def check_accounting(report: BuildReport, store: Store, files: list[Path]) -> None:
    """Every record read is loaded, failed (with a clear reason) or superseded; no internal errors."""
    internal = [issue for issue in report.failures if issue.reason.startswith("internal error")]
    assert not internal, f"a parser crashed: {internal[0]}"
    # A whole-file failure (SourceError) names no record and was never counted as read.
    file_level = [issue for issue in report.failures if issue.record is None]
    assert len(file_level) <= len(files), file_level
    record_level = len(report.failures) - len(file_level)
    assert report.records_read == report.records_loaded + record_level + len(report.superseded), report
    record_graphs = [g for g in store.graphs() if g not in (META_GRAPH, VOID_GRAPH)]
    assert len(record_graphs) == report.records_loaded, (record_graphs, report)
    names = [str(f) for f in files]
    for issue in report.failures + report.warnings:
        text = str(issue)
        assert issue.reason.strip(), issue
        assert "Traceback" not in text and not _CONTROL.search(issue.reason), text  # one line, no escapes
        assert len(issue.reason) <= _MAX_REASON, f"unreadably long reason: {issue.reason[:200]}..."
        assert any(issue.source.startswith(name) for name in names), issue


def check_well_formed(store: Store) -> None:
    """What loaded parses back with rdflib, with well-typed literals and registry trial IRIs."""
    out = io.BytesIO()
    store.dump(out, "nquads")
    dataset = rdflib.Dataset()
    dataset.parse(data=out.getvalue(), format="nquads")
    trial_class = URIRef(ONTOLOGY + "Trial")
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        if isinstance(o, Literal) and o.datatype is not None:
            pattern = _LEXICAL.get(str(o.datatype))
            assert o.ill_typed is not True and (pattern is None or pattern.fullmatch(str(o))), (s, p, o)
        if p == RDF.type and o == trial_class:
            assert _TRIAL_IRI.fullmatch(str(s)), s


def _file_refused(report: BuildReport) -> bool:
    return any(issue.record is None for issue in report.failures)


def _loaded_ids(store: Store) -> set[str]:
    prefix = GRAPH + "ctgov/"
    return {g[len(prefix):] for g in store.graphs() if g.startswith(prefix)}


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(data)
    return path


def _check_file(folder: Path, name: str, data: bytes | str, format_name: str | None = None) -> None:
    _build([_write(folder, name, data)], format_name)


def _in_tmp(run: Callable[[Path], None]) -> None:
    with tempfile.TemporaryDirectory(prefix="kg-fuzz-") as folder:
        run(Path(folder))


# ---------------------------------------------------------------------------------------
# Page captures (one record per file)
# ---------------------------------------------------------------------------------------

PAGES = {"page-modern": MODERN_SEED, "page-classic": CLASSIC_SEED}


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(sorted(PAGES)), forced=st.booleans())
def test_mutated_pages_fail_clearly_or_load(data: st.DataObject, fmt: str, forced: bool) -> None:
    text = PAGES[fmt].read_text(encoding="utf-8")
    mutated = data.draw(line_mutation(text))

    def run(folder: Path) -> None:
        path = _write(folder, "page.txt", mutated)
        report, _ = _build([path], fmt if forced else None)
        assert report.records_read + len(report.failures) >= 1  # read, or refused as a whole

    _in_tmp(run)


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(sorted(PAGES)))
def test_damaged_page_bytes_fail_clearly_or_load(data: st.DataObject, fmt: str) -> None:
    damaged = data.draw(byte_mutation(PAGES[fmt].read_bytes()))
    forced = data.draw(st.sampled_from([None, fmt]))
    _in_tmp(lambda folder: _check_file(folder, "page.txt", damaged, forced))


# ---------------------------------------------------------------------------------------
# ClinicalTrials.gov API v2 JSON
# ---------------------------------------------------------------------------------------


def _study(index: int) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(JSON_SEEDS[index % len(JSON_SEEDS)].read_text(encoding="utf-8"))
    return loaded


def _nct(study: dict[str, Any]) -> str:
    return str(study["protocolSection"]["identificationModule"]["nctId"])


@FUZZ
@given(data=st.data(), seed=st.integers(0, len(JSON_SEEDS) - 1), shape=st.sampled_from(["jsonl", "array"]))
def test_mutated_json_study_fails_alone(data: st.DataObject, seed: int, shape: str) -> None:
    """One mutated study among good ones: it fails clearly or loads; the others always load."""
    studies = [_study(seed + i) for i in range(MEMBERS)]
    victim = data.draw(st.integers(0, MEMBERS - 1))
    studies[victim] = data.draw(json_mutation(studies[victim]))
    ascii_only = data.draw(st.booleans())  # False writes raw UTF-8; True escapes (lone surrogates too)
    texts = [json.dumps(s, ensure_ascii=ascii_only) for s in studies]
    document = "\n".join(texts) + "\n" if shape == "jsonl" else "[" + ",\n".join(texts) + "]"

    def run(folder: Path) -> None:
        path = _write(folder, f"studies.{'jsonl' if shape == 'jsonl' else 'json'}", document)
        report, store = _build([path], "ctgov-json")
        good = {_nct(s) for i, s in enumerate(studies) if i != victim}
        if not _file_refused(report):  # a first line that is no UTF-8 refuses the file (its encoding)
            assert good <= _loaded_ids(store), (good, report.failures)

    _in_tmp(run)


@FUZZ
@given(data=st.data(), seed=st.integers(0, len(JSON_SEEDS) - 1), container=st.sampled_from(["single", "zip"]))
def test_damaged_json_bytes_fail_clearly_or_load(data: st.DataObject, seed: int, container: str) -> None:
    raw = data.draw(byte_mutation(JSON_SEEDS[seed].read_bytes()))

    def run(folder: Path) -> None:
        if container == "zip":
            path = folder / "ctg-studies.json.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("damaged.json", raw)
                archive.writestr("good.json", JSON_SEEDS[(seed + 1) % len(JSON_SEEDS)].read_bytes())
            report, store = _build([path])
            assert _nct(_study(seed + 1)) in _loaded_ids(store), report.failures
        else:
            _check_file(folder, "study.json", raw)

    _in_tmp(run)


@FUZZ
@given(data=st.data(), seed=st.integers(0, len(JSON_SEEDS) - 1), shape=st.sampled_from(["jsonl", "array"]))
def test_damaged_bytes_in_one_json_study_cost_that_study(data: st.DataObject, seed: int, shape: str) -> None:
    """Byte damage inside one study of a JSON Lines file or array: the others load, the victim is reported.

    (Mutations above keep the JSON valid; this one breaks it, so a reader that stops at the
    first bad line or element, or truncates the array silently, fails here.)
    """
    studies = [_study(seed + i) for i in range(MEMBERS)]
    victim = data.draw(st.integers(0, MEMBERS - 1))
    texts = [json.dumps(s, ensure_ascii=False).encode("utf-8") for s in studies]
    texts[victim] = data.draw(byte_mutation(texts[victim]))
    document = b"\n".join(texts) + b"\n" if shape == "jsonl" else b"[" + b",\n".join(texts) + b"]"

    def run(folder: Path) -> None:
        path = _write(folder, f"studies.{'jsonl' if shape == 'jsonl' else 'json'}", document)
        report, store = _build([path], "ctgov-json")
        loaded = _loaded_ids(store)
        good = {_nct(s) for i, s in enumerate(studies) if i != victim}
        if not _file_refused(report):
            assert good <= loaded, (good - loaded, report.failures)
        if _nct(studies[victim]) not in loaded | good and texts[victim].strip():
            assert report.failures, "the damaged study vanished without a trace"

    _in_tmp(run)


# ---------------------------------------------------------------------------------------
# Legacy XML
# ---------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), seed=st.integers(0, len(XML_SEEDS) - 1))
def test_mutated_xml_study_fails_alone(data: st.DataObject, seed: int) -> None:
    documents = [XML_SEEDS[(seed + i) % len(XML_SEEDS)].read_bytes() for i in range(MEMBERS)]
    victim = data.draw(st.integers(0, MEMBERS - 1))
    documents[victim] = data.draw(xml_mutation(documents[victim]))
    if data.draw(st.booleans()):
        documents[victim] = data.draw(byte_mutation(documents[victim]))

    def run(folder: Path) -> None:
        path = folder / "AllPublicXML.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for i, document in enumerate(documents):
                archive.writestr(f"NCT0000xxxx/study{i}.xml", document)
        report, store = _build([path])
        good = {XML_SEEDS[(seed + i) % len(XML_SEEDS)].stem for i in range(MEMBERS) if i != victim}
        assert good - {XML_SEEDS[(seed + victim) % len(XML_SEEDS)].stem} <= _loaded_ids(store), report.failures
        single = _write(folder, "study.xml", documents[victim])  # and the same document on its own
        _build([single], data.draw(st.sampled_from([None, "ctgov-xml"])))

    _in_tmp(run)


# ---------------------------------------------------------------------------------------
# CSV downloads
# ---------------------------------------------------------------------------------------


def _csv_rows() -> list[list[str]]:
    with CSV_SEED.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))[: CSV_ROWS + 1]


@FUZZ
@given(data=st.data())
def test_mutated_csv_row_fails_alone(data: st.DataObject) -> None:
    rows = _csv_rows()
    victim = data.draw(st.integers(1, CSV_ROWS))
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["cell", "drop", "extra", "header"]))
        column = data.draw(st.integers(0, len(rows[0]) - 1))
        if kind == "cell":
            if column < len(rows[victim]):
                rows[victim][column] = data.draw(hostile_text)
        elif kind == "drop":
            rows[victim] = rows[victim][: data.draw(st.integers(0, len(rows[victim])))]
        elif kind == "extra":
            rows[victim].append(data.draw(hostile_text))
        elif rows[0][column] != "NCT Number":  # a renamed (or undecodable) column name
            rows[0][column] = data.draw(hostile_text)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)

    def run(folder: Path) -> None:
        path = _write(folder, "search.csv", buffer.getvalue())
        report, store = _build([path], "ctgov-csv")
        good = {row[0] for i, row in enumerate(rows[1:], start=1) if i != victim}
        if not _file_refused(report):  # a header that is no UTF-8 refuses the file
            assert good <= _loaded_ids(store), report.failures

    _in_tmp(run)


@FUZZ
@given(data=st.data())
def test_damaged_csv_bytes_fail_clearly_or_load(data: st.DataObject) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(_csv_rows())
    damaged = data.draw(byte_mutation(buffer.getvalue().encode("utf-8")))
    forced = data.draw(st.sampled_from([None, "ctgov-csv"]))
    _in_tmp(lambda folder: _check_file(folder, "search.csv", damaged, forced))


# ---------------------------------------------------------------------------------------
# Mutated records that load are valid graphs (SHACL), and the CLI never shows a traceback
# ---------------------------------------------------------------------------------------


@SHACL_FUZZ
@given(data=st.data(), fmt=st.sampled_from(["page-modern", "page-classic", "ctgov-json", "ctgov-xml", "ctgov-csv"]))
def test_mutated_records_that_load_conform_to_the_shapes(data: st.DataObject, fmt: str) -> None:
    def run(folder: Path) -> None:
        if fmt in PAGES:
            path = _write(folder, "page.txt", data.draw(line_mutation(PAGES[fmt].read_text(encoding="utf-8"))))
        elif fmt == "ctgov-json":
            study = data.draw(json_mutation(_study(data.draw(st.integers(0, len(JSON_SEEDS) - 1)))))
            path = _write(folder, "study.json", json.dumps(study))
        elif fmt == "ctgov-xml":
            seed = XML_SEEDS[data.draw(st.integers(0, len(XML_SEEDS) - 1))]
            path = _write(folder, "study.xml", data.draw(xml_mutation(seed.read_bytes())))
        else:
            rows = _csv_rows()[:2]
            column = data.draw(st.integers(0, len(rows[0]) - 1))
            rows[1][column] = data.draw(hostile_text)
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)
            path = _write(folder, "search.csv", buffer.getvalue())
        _report, store = _build([path], fmt)
        report = validate(store)
        assert report.conforms, "\n".join(str(r) for r in report.violations[:10])

    _in_tmp(run)


def test_cli_builds_damaged_files_without_traceback(tmp_path: Path) -> None:
    """A folder of damaged files of every format: one line per problem, the good records load."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    json_text = JSON_SEEDS[0].read_text(encoding="utf-8")
    _write(inputs, "truncated.json", json_text[: len(json_text) // 2])
    _write(inputs, "nul.json", json_text.replace('"briefTitle": "', '"briefTitle": "\\u0000\x00', 1))
    _write(inputs, "good.json", JSON_SEEDS[1].read_bytes())
    xml = XML_SEEDS[0].read_bytes()
    _write(inputs, "nul.xml", xml.replace(b"<brief_title>", b"<brief_title>\x00", 1))
    _write(inputs, "huge.xml", xml.replace(b"<brief_title>", b"<brief_title>" + b"x" * 200_000, 1))
    rows = _csv_rows()
    rows[1][1] = "\x00" + "y" * 200_000
    rows[2] = rows[2][:3]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    _write(inputs, "search.csv", buffer.getvalue())
    modern = MODERN_SEED.read_text(encoding="utf-8")
    _write(inputs, "control.txt", modern.replace("Basic Information", "Basic Information\x00\x1b[2J", 1))
    _write(inputs, "latin1.txt", CLASSIC_SEED.read_text(encoding="utf-8").encode("latin-1", errors="replace") + b"\xe9")
    report_path = tmp_path / "report.json"
    result = run_kg("build", str(inputs), "--store", str(tmp_path / "store"), "--report", str(report_path))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["records_failed"] >= 3
    named = {Path(issue["source"].split("!")[0]).name for issue in report["failures"]}
    assert {"truncated.json", "nul.xml", "search.csv", "latin1.txt"} <= named, named
    for line in result.stderr.splitlines():
        assert len(line) < 2000, line[:200]


# ---------------------------------------------------------------------------------------
# The checks parsers rely on to keep source text out of IRIs and typed literals
# ---------------------------------------------------------------------------------------

url_text = st.one_of(
    st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(["http://", "https://", "ftp://", "HTTP://", ""]),
              st.text(st.characters(codec="utf-8"), max_size=30)),
    st.builds(lambda rest: "https://example.org/" + rest, st.text(max_size=30)),
    st.sampled_from(NASTY),
)


@FUZZ
@given(text=url_text)
def test_every_accepted_web_address_is_an_iri_oxigraph_takes(text: str) -> None:
    """A document's address becomes its IRI: one Oxigraph refuses would fail a whole chunk of records."""
    import pyoxigraph

    from kg.rdf.terms import iri
    from kg.rules.codes import web_address

    url = web_address(text)
    if url is not None:
        pyoxigraph.NamedNode(iri(url)[1:-1])  # raises ValueError on an invalid IRI
        assert re.match(r"(?i)(https?|ftp)://", url)


@FUZZ
@given(text=st.one_of(st.text(max_size=20), st.from_regex(r"[0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?", fullmatch=True),
                      st.sampled_from(NASTY)))
def test_every_accepted_date_is_a_valid_xsd_date(text: str) -> None:
    from kg.rdf.terms import date_literal
    from kg.rules.codes import iso_date

    value = iso_date(text)
    if value is not None:
        datatype = date_literal(value).rsplit("^^<", 1)[1][:-1]
        assert _LEXICAL[datatype].fullmatch(value), value
        assert Literal(value, datatype=URIRef(datatype)).ill_typed is not True, value


@pytest.mark.parametrize("name", ["NCT03418623", "NCT06171568"])
def test_unmutated_seeds_pass_the_invariants(name: str, tmp_path: Path) -> None:
    """The checks themselves accept the real records (so a fuzz failure is the mutation's doing)."""
    report, store = _build([DATA / "ctgov-json" / "single" / f"{name}.json"])
    assert report.records_loaded == 1 and _loaded_ids(store) == {name}
    assert _NCT.fullmatch(name)
