"""Hostile strings survive every output: each format is parsed back by an independent parser.

Why: registry text is free text typed by thousands of sponsors. Quotes, backslashes,
newlines, ``<script>``, ``]]>``, NUL bytes, right-to-left marks and the like end up in
titles, keywords and names, and every output (RDF serialisations, SPARQL result tables,
and the graph and HTML exports to come) must carry them without breaking its syntax or
changing the text. A trial is built from a real API v2 study whose fields hold such
strings, exported in every format, and read back with rdflib, csv and json.

Characters a format cannot carry are replaced deliberately, and the tests pin that:
a lone surrogate (not encodable as UTF-8) never reaches an output: a JSON document
holding one is refused as invalid JSON, and the emitter writes U+FFFD for any that a
parser lets through.

To cover a new output, add an :class:`Output` to ``OUTPUTS``: how to produce it from a
store, and how to read the trial's keywords back with a parser that is not ours.

Example:
    .venv/bin/pytest tests/test_escaping.py -k turtle
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib
from rdflib import Literal, URIRef

from kg.build import build
from kg.export.rdf import export_rdf
from kg.model import Trial
from kg.rdf.emit import emit_trial
from kg.rdf.namespaces import ONTOLOGY
from kg.rdf.terms import iri
from kg.store import open_store
from kg.store.base import Store
from kg.store.results import ResultTable, to_csv, to_json, to_tsv
from tests.conftest import DATA

SEED = DATA / "ctgov-json" / "single" / "NCT03418623.json"
TRIAL = URIRef("https://clinicaltrials.gov/study/NCT03418623")
KEYWORD = URIRef(ONTOLOGY + "keyword")
TITLE = URIRef(ONTOLOGY + "briefTitle")

HOSTILE = {
    "quotes": "say \"hi\" and 'bye' and \"\"\"triple\"\"\"",
    "backslashes": "C:\\temp\\new \\u0041 \\\\n \\",
    "newlines": "one\ntwo\r\nthree\rfour",
    "tab": "a\tb\t\tc",
    "script": "<script>alert('x')</script>",
    "cdata": "]]> <![CDATA[ x ]]> ]]",
    "nul": "before\x00after",
    "controls": "bell\x07 esc\x1b[2J vt\x0b ff\x0c del\x7f",
    "rtl": "\u202eevil\u202c and \u200fmark\u200e",
    "separators": "line\u2028para\u2029next\x85",
    "bom": "\ufeffbom inside",
    "turtle": '@prefix x: <http://e/> . x:a x:b "c" ; # comment',
    "jsonld": '{"@id": "x", "@context": [1, 2]}',
    "csv": 'a,b;"c"\r\nd\te',
    "markup": "&amp; &lt; &#0; &#xD800; <b>bold</b>",
    "unicode": "über straße 試験 🧪 𝔘 e\u0301",
}
# Parsers strip the ends of a value: the hostile part sits inside.
KEYWORDS = {name: f"[{name}] {text} [end]" for name, text in HOSTILE.items()}
TITLE_TEXT = "Title: " + " | ".join(HOSTILE.values()) + " (end)"
# Characters IRIs may not hold: the emitter percent-encodes them.
DOCUMENT_URL = 'https://example.org/docs/a b<c>"d"{e}|f^g`h\\i?q=1&r=ü#frag'


def _study_file(folder: Path) -> Path:
    study = json.loads(SEED.read_text(encoding="utf-8"))
    protocol = study["protocolSection"]
    protocol["conditionsModule"]["keywords"] = list(KEYWORDS.values())
    protocol["identificationModule"]["briefTitle"] = TITLE_TEXT
    protocol.setdefault("referencesModule", {})["seeAlsoLinks"] = [{"label": HOSTILE["script"], "url": DOCUMENT_URL}]
    path = folder / "hostile.json"
    path.write_text(json.dumps(study, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(None)
    report = build([_study_file(tmp_path_factory.mktemp("hostile"))], store)
    assert report.records_loaded == 1 and not report.failures, report.failures
    return store


# ---------------------------------------------------------------- outputs, each with an independent reader


@dataclass(frozen=True)
class Output:
    """One output format: how to write it from a store and how to read the trial's keywords back."""

    name: str
    write: Callable[[Store], bytes]
    read_keywords: Callable[[bytes], set[str]]
    read_title: Callable[[bytes], str] | None = None
    read_iris: Callable[[bytes], set[str]] | None = None


def _export(format_name: str) -> Callable[[Store], bytes]:
    def write(store: Store) -> bytes:
        out = io.BytesIO()
        export_rdf(store, out, format_name)
        return out.getvalue()

    return write


def _rdf_graph(rdflib_format: str, quads: bool = False) -> Callable[[bytes], rdflib.Graph]:
    def parse(data: bytes) -> rdflib.Graph:
        if quads:
            dataset = rdflib.Dataset()
            dataset.parse(data=data, format=rdflib_format)
            union = rdflib.Graph()
            for s, p, o, _ in dataset.quads((None, None, None, None)):
                union.add((s, p, o))
            return union
        if rdflib_format == "json-ld":  # the shipped context inline: rdflib would fetch its IRI
            from kg.store.jsonld import with_inline_context

            return rdflib.Graph().parse(data=with_inline_context(data), format=rdflib_format)
        return rdflib.Graph().parse(data=data, format=rdflib_format)

    return parse


def _rdf_output(name: str, rdflib_format: str, quads: bool = False) -> Output:
    graph = _rdf_graph(rdflib_format, quads)
    return Output(
        name=name,
        write=_export(name),
        read_keywords=lambda data: {str(o) for o in graph(data).objects(TRIAL, KEYWORD)},
        read_title=lambda data: str(graph(data).value(TRIAL, TITLE)),
        read_iris=lambda data: {str(n) for t in graph(data) for n in t if isinstance(n, URIRef)},
    )


_QUERY = (f"SELECT ?keyword ?document WHERE {{ <{TRIAL}> <{KEYWORD}> ?keyword . "
          f"OPTIONAL {{ <{TRIAL}> <{ONTOLOGY}hasDocument> ?document }} }} ORDER BY ?keyword")


def _results(formatter: Callable[[ResultTable], str]) -> Callable[[Store], bytes]:
    return lambda store: formatter(store.select(_QUERY)).encode("utf-8")


def _csv_column(data: bytes, column: int) -> set[str]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == ["keyword", "document"]
    return {row[column] for row in rows[1:]}


def _tsv_terms(data: bytes, column: int) -> set[rdflib.term.Node]:
    """SPARQL TSV cells are N-Triples terms: read each with rdflib's N-Triples parser."""
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == "?keyword\t?document" and lines[-1] == ""
    terms = set()
    for line in lines[1:-1]:
        cells = line.split("\t")
        assert len(cells) == 2, line
        graph = rdflib.Graph().parse(data=f"<urn:x:s> <urn:x:p> {cells[column]} .\n", format="nt")
        terms.add(next(iter(graph.objects())))
    return terms


def _json_column(data: bytes, variable: str) -> set[str]:
    document = json.loads(data)
    assert document["head"]["vars"] == ["keyword", "document"]
    return {binding[variable]["value"] for binding in document["results"]["bindings"]}


OUTPUTS = [
    _rdf_output("nquads", "nquads", quads=True),
    _rdf_output("trig", "trig", quads=True),
    _rdf_output("ntriples", "nt"),
    _rdf_output("turtle", "turtle"),
    _rdf_output("jsonld", "json-ld"),
    Output("results-csv", _results(to_csv), lambda d: _csv_column(d, 0), read_iris=lambda d: _csv_column(d, 1)),
    Output("results-tsv", _results(to_tsv), lambda d: {str(t) for t in _tsv_terms(d, 0)},
           read_iris=lambda d: {str(t) for t in _tsv_terms(d, 1)}),
    Output("results-json", _results(to_json), lambda d: _json_column(d, "keyword"),
           read_iris=lambda d: _json_column(d, "document")),
]


@pytest.mark.parametrize("output", OUTPUTS, ids=[o.name for o in OUTPUTS])
def test_hostile_strings_round_trip(output: Output, hostile_store: Store) -> None:
    data = output.write(hostile_store)
    assert output.read_keywords(data) == set(KEYWORDS.values())
    if output.read_title is not None:
        assert output.read_title(data) == TITLE_TEXT


@pytest.mark.parametrize("output", [o for o in OUTPUTS if o.read_iris], ids=[o.name for o in OUTPUTS if o.read_iris])
def test_iris_are_percent_encoded_where_iris_forbid_characters(output: Output, hostile_store: Store) -> None:
    assert output.read_iris is not None
    encoded = iri(DOCUMENT_URL)[1:-1]
    assert encoded == "https://example.org/docs/a%20b%3Cc%3E%22d%22%7Be%7D%7Cf%5Eg%60h%5Ci?q=1&r=ü#frag"
    assert encoded in output.read_iris(output.write(hostile_store))


def test_the_outputs_are_valid_text_in_their_format(hostile_store: Store) -> None:
    """Line formats stay one statement per line; nothing writes a raw NUL or lone surrogate.

    U+2028, U+2029 and NEL stay raw inside literals (N-Triples allows them), so line
    formats are split on LF, as line tools do, not with ``str.splitlines``.
    """
    for output in OUTPUTS:
        data = output.write(hostile_store)
        text = data.decode("utf-8")  # strict: no lone surrogates
        if output.name in {"nquads", "ntriples"}:
            assert all(line.endswith(" .") for line in text.split("\n") if line), output.name
            assert "\x00" not in text and "\r" not in text, output.name
        if output.name == "results-tsv":
            assert "\x00" not in text and "\r" not in text


def test_a_lone_surrogate_is_refused_by_the_json_reader(tmp_path: Path) -> None:
    study = json.loads(SEED.read_text(encoding="utf-8"))
    study["protocolSection"]["conditionsModule"]["keywords"] = ["a\ud800b"]
    path = tmp_path / "surrogate.json"
    path.write_text(json.dumps(study), encoding="ascii")  # escaped: "a\ud800b"
    store = open_store(None)
    report = build([path], store)
    assert report.records_loaded == 0 and len(report.failures) == 1
    assert "surrogate" in report.failures[0].reason and "JSON" in report.failures[0].reason


def test_the_emitter_writes_u_fffd_for_a_lone_surrogate() -> None:
    """A surrogate that some future parser let through becomes U+FFFD, in every output."""
    store = open_store(None)
    trial = Trial(nct_id="NCT03418623", brief_title="t", keywords=("a\ud800b", "c\udfffd"))
    store.load_nquads("".join(emit_trial(trial)).encode("utf-8"))
    for output in OUTPUTS:
        assert output.read_keywords(output.write(store)) == {"a\ufffdb", "c\ufffdd"}, output.name


def test_literals_keep_what_rdflib_reads_back() -> None:
    """The emitter's own literal escaping agrees with rdflib's N-Triples parser, string by string."""
    from kg.rdf.terms import literal

    for text in [*HOSTILE.values(), "\x00\x01\x1f\x7f", "\\", '"', ""]:
        graph = rdflib.Graph().parse(data=f"<urn:x:s> <urn:x:p> {literal(text)} .\n", format="nt")
        assert graph.value(URIRef("urn:x:s"), URIRef("urn:x:p")) == Literal(text), repr(text)
