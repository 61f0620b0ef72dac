"""One damaged study in a JSON array costs that study: the reader resynchronises at the next one.

The 100-study array is real (tests/data); each case damages element 37 of a copy in a way
that stopped the old ``ijson`` reader (89 studies lost) or exhausted memory (deep nesting).
"""

from __future__ import annotations

import io
import json
import re
import tracemalloc
from pathlib import Path

import pytest

from kg.build import build
from kg.errors import RecordError, SourceError
from kg.sources.json_array import CTGOV_ANCHOR, ArrayElement, Limits, read_json_array
from kg.store import open_store
from tests.conftest import DATA
from tests.safety.bombs import GeneratedStream

ARRAY = DATA / "ctgov-json" / "herniated-disc.ctg-studies.json"
VICTIM = 37


def _studies() -> list[bytes]:
    return [json.dumps(study, indent=2, ensure_ascii=False).encode("utf-8")
            for study in json.loads(ARRAY.read_text(encoding="utf-8"))]


def _nct(study: bytes) -> str:
    match = re.search(rb'"nctId": "(NCT\d{8})"', study)
    assert match
    return match.group(1).decode()


def _damage_nth_brace(study: bytes) -> bytes:
    """Drop the closing brace of the identification module (not the last one: the element stays open)."""
    at = study.index(b"}", study.index(b'"identificationModule"'))
    return study[:at] + study[at + 1 :]


DAMAGES = {
    "syntax-error": lambda s: s.replace(b'"briefTitle":', b'"briefTitle" ', 1),
    "bad-utf8": lambda s: s.replace(b'"briefTitle": "', b'"briefTitle": "\xff\xfe', 1),
    "400-digit-number": lambda s: s.replace(b'"nctId":', b'"big": ' + b"9" * 400 + b', "nctId":', 1),
    "truncated-element": lambda s: s[: len(s) // 2],
    "truncated-in-a-string": lambda s: s[: s.index(b'"briefTitle": "') + 20],
    "unescaped-quote": lambda s: s.replace(b'"briefTitle": "', b'"briefTitle": "say "hi" [', 1),
    "missing-closing-brace": _damage_nth_brace,
    "extra-closing-brace": lambda s: s.replace(b'"briefTitle":', b'"x": 1}}, "briefTitle":', 1),
    "mismatched-bracket": lambda s: s.replace(b'"conditions": [', b'"conditions": {', 1),
    "deep-nesting": lambda s: s.replace(b'"nctId":', b'"deep": ' + b"[" * 100_000 + b"]" * 100_000 + b', "nctId":', 1),
    "nul-bytes": lambda s: s.replace(b'"briefTitle": "', b'"briefTitle": "\x00\x00', 1),
    "garbage-between": lambda s: s + b" @@@ ",
}


def _array(studies: list[bytes]) -> bytes:
    return b"[\n" + b",\n".join(studies) + b"\n]\n"


def _read(data: bytes, **kwargs: object) -> tuple[list[ArrayElement], list[RecordError]]:
    items = list(read_json_array(io.BytesIO(data), "studies.json", anchor=CTGOV_ANCHOR, **kwargs))  # type: ignore[arg-type]
    return ([i for i in items if isinstance(i, ArrayElement)], [i for i in items if isinstance(i, RecordError)])


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_one_damaged_study_costs_one_study(damage: str) -> None:
    studies = _studies()
    assert len(studies) == 100
    victim = _nct(studies[VICTIM])
    studies[VICTIM] = DAMAGES[damage](studies[VICTIM])
    good, errors = _read(_array(studies))
    expected = {_nct(s) for i, s in enumerate(_studies()) if i != VICTIM}
    studies_read = [e for e in good if isinstance(e.value, dict) and "protocolSection" in e.value]
    loaded = {e.value["protocolSection"]["identificationModule"]["nctId"] for e in studies_read}
    assert expected <= loaded, sorted(expected - loaded)
    if damage == "garbage-between":
        assert victim in loaded and len(errors) == 1
        return
    if damage == "extra-closing-brace":
        # A valid prefix of the study closes early: it is read (its remainder is reported),
        # so the damage shows in the errors right after it, and every other study is whole.
        assert errors and all(e.record and e.record.startswith(("[37]", "[38]", "[39]")) for e in errors), errors
        assert len(studies_read) == 100
        return
    assert victim not in loaded
    assert len(good) == 99
    assert errors, "the damaged study vanished without a trace"
    first = errors[0]
    assert first.source == "studies.json" and first.record is not None
    assert first.record.startswith(f"[{VICTIM}]"), first
    assert "\n" not in str(first) and len(str(first)) < 400
    if damage not in ("truncated-in-a-string",):
        assert victim in first.record, first  # the NCT id, when it can be read


def test_the_ids_and_bytes_of_good_elements_are_exact() -> None:
    studies = _studies()
    good, errors = _read(_array(studies))
    assert not errors and [e.position for e in good] == list(range(100))
    assert [json.loads(s) for s in studies] == [e.value for e in good]
    assert all(json.loads(e.data) == e.value for e in good)


def test_an_api_page_is_read_with_the_same_scanner() -> None:
    studies = _studies()[:10]
    studies[3] = DAMAGES["bad-utf8"](studies[3])
    page = b'{"totalCount": 10, "studies": ' + _array(studies) + b', "nextPageToken": "abc"}'
    items = list(read_json_array(io.BytesIO(page), "page.json", pointer="studies[{}]", key="studies",
                                 anchor=CTGOV_ANCHOR))
    good = [i for i in items if isinstance(i, ArrayElement)]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert len(good) == 9 and len(errors) == 1 and errors[0].record is not None
    assert errors[0].record.startswith("studies[3]")
    with pytest.raises(SourceError):
        list(read_json_array(io.BytesIO(b'{"other": []}'), "page.json", key="studies"))


def test_the_anchor_is_learned_when_not_given() -> None:
    studies = _studies()[:5]
    studies[2] = DAMAGES["missing-closing-brace"](studies[2])
    items = list(read_json_array(io.BytesIO(_array(studies)), "s.json"))
    assert sum(isinstance(i, ArrayElement) for i in items) == 4


def test_a_truncated_array_reports_the_cut_and_keeps_what_came_before() -> None:
    studies = _studies()
    data = _array(studies)
    cut = len(data) * 3 // 4
    whole = sum(1 for i in range(len(studies)) if len(_array(studies[: i + 1])) - 3 <= cut)
    good, errors = _read(data[:cut])
    assert len(good) == whole and len(errors) == 1 and "truncated" in errors[0].message, errors




_SHORT = b'"abcdefgh", '


@pytest.mark.parametrize(("fill", "kind"), [(b"a", "string"), (b"[", "depth"), (b"7", "number"), (_SHORT, "size")])
def test_limits_hold_before_memory_is_spent(fill: bytes, kind: str) -> None:
    """A 64 MiB string, 64 MiB of '[', a 64 MiB number or 64 MiB of short strings in element 1:
    flat memory, a clear error, then element 2 reads."""
    good = _studies()[0]
    opener = {b"a": b'{"protocolSection": {}, "x": "', b"[": b'{"protocolSection": {}, "x": ', b"7": b'{"x": ',
              _SHORT: b'{"protocolSection": {}, "x": ['}[fill]
    closer = {b"a": b'"}', b"[": b"1}", b"7": b"}", _SHORT: b'"z"]}'}[fill]
    stream = GeneratedStream(b"[" + good + b",\n" + opener, fill, 64 << 20, closer + b",\n" + good + b"]")
    tracemalloc.start()
    try:
        items = list(read_json_array(io.BufferedReader(stream), "big.json", anchor=CTGOV_ANCHOR,
                                     limits=Limits(element=4 << 20, string=1 << 20)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20, peak
    assert [type(i).__name__ for i in items] == ["ArrayElement", "RecordError", "ArrayElement"], items
    message = items[1].message  # type: ignore[union-attr]
    expected = {"string": "longer than", "depth": "nested deeper", "number": "number longer", "size": "larger than"}
    assert expected[kind] in message


@pytest.mark.parametrize("damage", ["syntax-error", "bad-utf8", "400-digit-number", "deep-nesting"])
def test_a_build_of_the_damaged_array_loads_99(damage: str, tmp_path: Path) -> None:
    studies = _studies()
    studies[VICTIM] = DAMAGES[damage](studies[VICTIM])
    path = tmp_path / "studies.json"
    path.write_bytes(_array(studies))
    store = open_store(None)
    report = build([path], store, resolve=False)
    assert report.records_loaded == 99, report.failures
    assert report.records_failed == 1 and f"[{VICTIM}]" in str(report.failures[0])
