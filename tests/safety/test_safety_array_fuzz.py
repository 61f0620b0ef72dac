"""Random damage anywhere in a JSON array: every study whose bytes were not touched is read, exactly.

The old reader passed the fuzz suite while one bad element silently truncated the array;
this property fails on any reader that stops, or resynchronises late, after damage.
Examples per run: ``TRIALKG_FUZZ_EXAMPLES`` (default 25), like tests/test_fuzz.py.
"""

from __future__ import annotations

import io
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.errors import RecordError, SourceError
from kg.sources.json_array import CTGOV_ANCHOR, ArrayElement, read_json_array
from tests.conftest import DATA

EXAMPLES = int(os.environ.get("TRIALKG_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES * 4, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
_STUDIES = json.loads((DATA / "ctgov-json" / "herniated-disc.ctg-studies.json").read_text(encoding="utf-8"))[:6]
_TEXTS = [json.dumps(s, indent=1, ensure_ascii=False).encode("utf-8") for s in _STUDIES]
INSERTS = [b"\x00", b"\xff\xfe", b"\xc3(", b'"', b"\\", b"{", b"}", b"[", b"]", b",", b":", b"9" * 400,
           b"[" * 5000, b"\n", b'"x": ', b"\xef\xbb\xbf", b"@@@"]


def _layout(texts: list[bytes]) -> tuple[bytes, list[tuple[int, int]]]:
    data, spans = b"[\n", []
    for i, text in enumerate(texts):
        if i:
            data += b",\n"
        spans.append((len(data), len(data) + len(text)))
        data += text
    return data + b"\n]\n", spans


@FUZZ
@given(data=st.data())
def test_untouched_studies_survive_any_damage(data: st.DataObject) -> None:
    document, spans = _layout(_TEXTS)
    kind = data.draw(st.sampled_from(["insert", "delete", "overwrite", "truncate"]))
    at = data.draw(st.integers(0, len(document)))
    if kind == "truncate":
        damaged, region = document[:at], (at, len(document))
    elif kind == "delete":
        length = data.draw(st.integers(1, 300))
        damaged, region = document[:at] + document[at + length :], (at, at + length)
    else:
        chunk = data.draw(st.sampled_from(INSERTS) | st.binary(min_size=1, max_size=8))
        if kind == "insert":
            damaged, region = document[:at] + chunk + document[at:], (at, at + 1)
        else:
            damaged, region = document[:at] + chunk + document[at + len(chunk) :], (at, at + len(chunk))
    try:
        items = list(read_json_array(io.BytesIO(damaged), "a.json", anchor=CTGOV_ANCHOR))
    except SourceError:
        assert region[0] <= 1, (kind, at)  # only damage to the opening bracket refuses the whole file
        return
    assert all(isinstance(item, (ArrayElement, RecordError)) for item in items)
    values = [item.value for item in items if isinstance(item, ArrayElement)]
    errors = [item for item in items if isinstance(item, RecordError)]
    for error in errors:
        assert error.record and "\n" not in error.message and len(error.message) < 400, error
    touched = 0
    for study, (start, end) in zip(_STUDIES, spans, strict=True):
        untouched = end + 2 <= region[0] or start - 2 >= region[1]
        touched += not untouched
        if untouched and not (kind == "truncate" and end > at):
            assert study in values, (kind, at, region, [str(e) for e in errors])
    # Damage across two studies can merge them into one valid object (JSON allows repeated
    # keys): nothing can see that. Damage inside one study is always seen.
    if damaged != document and len(values) < len(_STUDIES) and touched <= 1:
        assert errors, "a study vanished without a trace"
