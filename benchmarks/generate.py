"""Generate realistic synthetic ClinicalTrials.gov API v2 studies, at any scale up to the whole registry.

Why: the build and the sharing queries must be measured at registry scale (about 560,000
studies), but tests and benchmarks cannot download the registry. This generator writes studies
shaped exactly like the API v2 records in ``tests/data/ctgov-json`` (every module and key as real
records have them, with the real records' list and text lengths) whose investigators, sponsors,
sites, criteria and references recur across trials with Zipf-like frequencies, as in the registry.
The same ``(n, seed)`` always gives byte-identical output; studies are streamed, never held.

Output layouts: the bulk download's zip of one ``NCT9xxxxxxx.json`` per study, or JSON Lines.
NCT ids start with NCT9 and synthetic PMIDs with 9, so they never collide with real ones.

Example (command line; prints the rate to stderr)::

    python benchmarks/generate.py 10000 --seed 42 --out benchmarks/work/studies.zip
    python benchmarks/generate.py 560000 --seed 42 --out benchmarks/work/registry.jsonl --format jsonl

Example (library):
    >>> from benchmarks.generate import iter_studies
    >>> [s["protocolSection"]["identificationModule"]["nctId"] for s in iter_studies(2, seed=42)]
    ['NCT90000008', 'NCT90000025']
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synthetic.corpus import load_corpus
from benchmarks.synthetic.study import MAX_STUDIES, StudyFactory
from benchmarks.synthetic.zipout import StreamingZip

__all__ = ["iter_studies", "write_jsonl", "write_zip"]


def _check_size(n: int) -> None:
    if not 0 <= n <= MAX_STUDIES:
        raise ValueError(f"n must be between 0 and {MAX_STUDIES:,} (the NCT9xxxxxxx ids run out)")


def _raw_studies(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """Studies that share unchanged template subtrees with each other (serialise, don't mutate)."""
    _check_size(n)
    factory = StudyFactory(n, seed, load_corpus())
    for index in range(n):
        yield factory.study(index)


def iter_studies(n: int, seed: int, copy: bool = True) -> Iterator[dict[str, Any]]:
    """``n`` synthetic API v2 study documents, each an independent dict (safe to mutate).

    With ``copy=False`` the studies share the unchanged parts of their real templates (and the
    templates themselves): about twice as fast, for callers that only read or serialise them.

    Example:
        >>> study = next(iter_studies(1, seed=7))
        >>> study["protocolSection"]["identificationModule"]["nctId"], type(study["hasResults"])
        ('NCT90000007', <class 'bool'>)
    """
    for study in _raw_studies(n, seed):
        yield orjson.loads(orjson.dumps(study)) if copy else study


def iter_json(n: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """``(nctId, compact JSON bytes)`` per study: what both writers serialise."""
    for study in _raw_studies(n, seed):
        yield study["protocolSection"]["identificationModule"]["nctId"], orjson.dumps(study)


def write_jsonl(path: str | Path, n: int, seed: int) -> int:
    """Write ``n`` studies as JSON Lines (one compact study per line); returns the bytes written.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     write_jsonl(Path(folder) / "s.jsonl", 3, seed=1) > 0
        True
    """
    _check_size(n)
    written = 0
    with open(path, "wb") as out:
        for _nct, data in iter_json(n, seed):
            out.write(data)
            out.write(b"\n")
            written += len(data) + 1
    return written


def write_zip(path: str | Path, n: int, seed: int, level: int = 1) -> int:
    """Write ``n`` studies as a zip of ``NCT9xxxxxxx.json`` members (deflated, like the bulk
    download ``ctg-studies.json.zip``); returns the uncompressed bytes written. Level 1 deflate is
    about twice as fast as the default 6 and only ~10% bigger on these records."""
    _check_size(n)
    with open(path, "wb") as out, StreamingZip(out, level) as archive:
        return archive.add_all((f"{nct}.json", data) for nct, data in iter_json(n, seed))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write N synthetic ClinicalTrials.gov API v2 studies (realistic shapes, Zipf-shared "
        "investigators, sponsors, sites and criteria).",
        epilog="Example: python benchmarks/generate.py 10000 --seed 42 --out benchmarks/work/studies.zip",
    )
    parser.add_argument("n", type=int, help=f"number of studies (up to {MAX_STUDIES:,})")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", type=Path, required=True, help="output file")
    parser.add_argument("--format", choices=("zip", "jsonl"), help="output layout (default: jsonl for .jsonl/.ndjson, "
                        "else zip)")
    parser.add_argument("--level", type=int, choices=range(1, 10), default=1, metavar="1-9",
                        help="zip deflate level (default 1: fastest)")
    args = parser.parse_args(argv)
    try:
        _check_size(args.n)
    except ValueError as error:
        parser.error(str(error))
    layout = args.format or ("jsonl" if args.out.suffix in (".jsonl", ".ndjson") else "zip")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if layout == "jsonl":
        written = write_jsonl(args.out, args.n, args.seed)
    else:
        written = write_zip(args.out, args.n, args.seed, args.level)
    elapsed = time.perf_counter() - started
    rate = args.n / elapsed if elapsed else float("inf")
    print(f"{args.n:,} studies ({written / 1e6:,.1f} MB of JSON) -> {args.out} [{layout}] in {elapsed:.1f} s: "
          f"{rate:,.0f} studies/s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
