"""The daily sync: changed studies into a built registry, resolution and links written as their difference.

One command, for each size N of the synthetic registry (``generate.py``, as ``run.py`` makes it):

1. builds the store once (``kg build``), then copies it for each way measured;
2. makes the day's changes: ``--changed`` studies spread over the registry, each a newer version
   (a later update date, its first overall official renamed, and every fourth gains a site);
3. times ``kg sync`` of those studies three ways on copies of the same store:
   * ``difference`` (the default): the post-load stages run again and each derived graph
     (resolution, sharing, author and MeSH links) is written as its difference;
   * ``whole`` (the naive way, what sync did before): the same, but each derived graph is
     dropped and loaded again whole and every criterion text formed again (the kept lines
     and forms forgotten before the sync);
   * ``no-resolve``: the records only (``--no-resolve``), resolution marked stale;
4. checks that ``difference`` and ``whole`` leave the same quads in the store.

It writes ``benchmarks/results/sync.md`` and ``sync.json``.

Example:
    python benchmarks/bench_sync.py --sizes 10000 100000 --changed 2000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import orjson

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import PYTHON, RESULTS, WORK, generate, run_measured

WAYS = ("difference", "whole", "no-resolve")
FORGET = (  # what sync did before: every derived graph dropped and written whole, every criterion formed
    "import sys\n"
    "from kg.store import open_store\n"
    "from kg.store.mention_tables import FORMS_MEMO, mention_tables\n"
    "store = open_store(sys.argv[1])\n"
    "tables = mention_tables(store)\n"
    "tables.con.execute(\"DELETE FROM meta WHERE key LIKE 'derived %'\")\n"
    "(tables.path.parent / FORMS_MEMO).unlink(missing_ok=True)\n"
    "store.close()\n"
)


def changed_studies(registry: Path, count: int, out: Path) -> Path:
    """``count`` studies spread evenly over the registry, each made a newer version of itself."""
    with zipfile.ZipFile(registry) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".json"))
        step = max(1, len(names) // count)
        studies = []
        for index, name in enumerate(names[::step][:count]):
            study = orjson.loads(archive.read(name))
            protocol = study["protocolSection"]
            status = protocol["statusModule"]
            status["lastUpdatePostDateStruct"] = {"date": "2031-01-01", "type": "ACTUAL"}
            status["lastUpdateSubmitDate"] = "2031-01-01"
            contacts = protocol.setdefault("contactsLocationsModule", {})
            officials = contacts.get("overallOfficials") or []
            if officials:
                officials[0]["name"] = f"Renamed Investigator {index % 97}, MD"
            if index % 4 == 0:
                contacts.setdefault("locations", []).append(
                    {"facility": f"New Site {index % 13}", "city": "Lyon", "country": "France"})
            studies.append(study)
    out.write_bytes(orjson.dumps(studies))
    return out


def measure(n: int, changed: int, seed: int) -> dict[str, Any]:
    registry = generate(n, seed)
    work = WORK / f"sync-{n}"
    base = work / "base"
    if not (base / "active").exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        seconds, _, result = run_measured([PYTHON, "-m", "kg", "build", str(registry), "--store", str(base)])
        assert result is not None and result.returncode == 0, result.stderr if result else "timeout"
        print(f"built {n} in {seconds:.0f} s", file=sys.stderr)
    changes = changed_studies(registry, changed, work / "changed.json")
    row: dict[str, Any] = {"studies": n, "changed": changed, "ways": {}}
    for way in WAYS:
        store = work / way
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(base, store, symlinks=True)
        if way == "whole":
            subprocess.run([PYTHON, "-c", FORGET, str(store)], check=True)
        report = work / f"{way}.json"
        command = [PYTHON, "-m", "kg", "sync", str(changes), "--store", str(store), "--report", str(report)]
        seconds, peak, result = run_measured(command + (["--no-resolve"] if way == "no-resolve" else []))
        assert result is not None and result.returncode == 0, result.stderr if result else "timeout"
        document = json.loads(report.read_text())
        row["ways"][way] = {"seconds": round(seconds, 1), "peak_rss_gib": round(peak / 2**30, 2),
                            "updated": document["updated"], "stages": {k: round(v, 1) for k, v in
                                                                       document["stage_seconds"].items()},
                            "summary": document["stage_summaries"].get("resolution", "")}
        print(f"{n} {way}: {seconds:.1f} s", file=sys.stderr)
    row["same_quads"] = _dump(work / "difference") == _dump(work / "whole")
    for way in WAYS:
        shutil.rmtree(work / way, ignore_errors=True)
    return row


def _dump(store: Path) -> tuple[int, int]:
    """The store's quads as (count, sum of their hashes mod 2**64): equal for the same set, in any order,
    without holding tens of millions of lines."""
    process = subprocess.Popen([PYTHON, "-m", "kg", "export", "--format", "nquads", "--store", str(store)],
                               stdout=subprocess.PIPE)
    assert process.stdout is not None
    count = total = 0
    for line in process.stdout:
        count += 1
        total = (total + int.from_bytes(hashlib.blake2b(line, digest_size=8).digest(), "big")) % 2**64
    assert process.wait() == 0
    return count, total


def write(rows: list[dict[str, Any]]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sync.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["# Daily sync: changed studies into a built registry", "",
             "`python benchmarks/bench_sync.py` (see its docstring). Each way syncs the same changed studies",
             "into a copy of the same built store; times are `kg sync` wall seconds, everything included.", "",
             "| studies | changed | way | sync s | resolution s | of which criteria | author links s | peak RSS GiB |",
             "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        for way, found in row["ways"].items():
            stages = found["stages"]
            lines.append(f"| {row['studies']:,} | {row['changed']:,} | {way} | {found['seconds']} | "
                         f"{stages.get('resolution', '—')} | {stages.get('resolution.criteria', '—')} | "
                         f"{stages.get('authorship', '—')} | {found['peak_rss_gib'] or '—'} |")
    lines += ["", "Same quads after `difference` and `whole`: " +
              ", ".join(f"{row['studies']:,}: {_same(row['same_quads'])}" for row in rows), "",
              "What each difference wrote (the resolution stage's summary):", ""]
    for row in rows:
        lines.append(f"- {row['studies']:,}: {row['ways']['difference']['summary']}")
    (RESULTS / "sync.md").write_text("\n".join(lines) + "\n")


def _same(found: bool | str) -> str:
    """yes/NO, or what was compared when not every quad could be (a note kept in sync.json)."""
    return found if isinstance(found, str) else ("yes" if found else "NO")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--changed", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"  # both ways' activities get the same times and IRIs
    rows = {row["studies"]: row for row in _earlier()}
    for n in args.sizes:  # each size written as soon as it is measured, the other sizes' rows kept
        rows[n] = measure(n, args.changed, args.seed)
        write([rows[size] for size in sorted(rows)])


def _earlier() -> list[dict[str, Any]]:
    path = RESULTS / "sync.json"
    found: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    return found


if __name__ == "__main__":
    main()
