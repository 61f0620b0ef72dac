"""Criterion concepts' blocking out of core: forms, words and candidate pairs in DuckDB.

Why: a registry has millions of distinct criterion wordings (about 3.75 million at 560,000
studies), and their comparison forms and word sets held in Python took about 5 KB each, 20 GiB
in all. Here each form is computed once and stored compactly (JSON, a few hundred bytes) in a
DuckDB database on disk with its blocking words; the words' document frequencies, each
concept's rarest-words prefix, the blocks and the sorted-neighbourhood windows are joins,
window functions and sorts there, which DuckDB spills to disk past its memory limit; and
Python reads back only the candidate pairs that share enough words, a batch at a time, each
with its two forms. The pairs are exactly those :func:`kg.resolve.cluster.candidate_pairs`
gives for the same keys, order and window (a test holds them equal on the shared data).

Strings sort the same way in both: DuckDB compares VARCHAR byte by byte, which for UTF-8 is
Python's code-point order, so ranks, prefixes and window neighbours agree.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import multiprocessing
import tempfile
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TypeVar

import duckdb
import orjson

from kg.model import Constraint
from kg.resolve.criteria_match import CriterionForm, blocking_tokens, criterion_form, match_criteria
from kg.store.mention_tables import sql_string

__all__ = ["CriteriaTables"]

BATCH = 100_000  # concepts per spool file written
WORK = 10_000  # concepts formed, or pairs scored, per task: past the first, the tasks go to a process pool
MEMORY_LIMIT = "1GB"  # DuckDB spills past this

_SCHEMA = """
CREATE TABLE forms (idx INTEGER, sig VARCHAR, ntok INTEGER, tokens VARCHAR[], form VARCHAR);
"""


def encode_form(form: CriterionForm) -> str:
    """A form as JSON: its own fields, from which the derived ones are recomputed on reading."""
    constraints = [[c.variable, c.comparator, c.value, c.unit, c.normalized_value, c.normalized_unit, c.text,
                    c.variable_label] for c in form.constraints]
    return orjson.dumps([form.text, form.words, constraints, sorted(form.numbers), form.raw]).decode()


def decode_form(text: str) -> CriterionForm:
    body, words, constraints, numbers, raw = orjson.loads(text)
    return CriterionForm(body, tuple(words), tuple(Constraint(*c) for c in constraints), frozenset(numbers),
                         tuple(raw))


def signature(form: CriterionForm) -> str:
    """What two matching criteria state alike: their numbers and which variables they bound how."""
    numbers = ",".join(sorted(form.numbers))
    bounds = ",".join(sorted(c.variable + c.comparator for c in form.constraints))
    return f"{numbers}#{bounds}#"


class CriteriaTables:
    """One resolution's criterion forms and candidate pairs, in a DuckDB database in a temporary directory.

    Concepts are numbered in the order given (the caller gives them sorted by IRI, so a
    number orders as its IRI does). Use as a context manager: the directory goes on exit.
    """

    def __init__(self, directory: str | Path | None = None, jobs: int = 1) -> None:
        self.jobs = jobs
        self._temp = tempfile.TemporaryDirectory(prefix="trialkg-criteria-", dir=directory)
        base = Path(self._temp.name)
        self.con = duckdb.connect(str(base / "criteria.duckdb"))
        self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        self.con.execute(f"SET temp_directory = {sql_string(base / 'spill')}")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute(_SCHEMA)
        self.spool = base / "forms.jsonl"

    def __enter__(self) -> CriteriaTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()
        self._temp.cleanup()

    def add(self, texts: Iterable[str], memo: Path | None = None) -> None:
        """Compute and store each normalised text's form, words and block signature, in batches.

        With ``memo`` (a DuckDB file kept beside the store), a text formed by an earlier
        resolution under the same rules takes its form from there, and only new texts are
        formed: a form is a pure function of the text and the rules (:func:`rules_version`),
        so a sync forms what it added, not every concept of the registry again.
        """
        if memo is None:
            self._form(_numbered(texts))
            return
        con = self.con
        con.execute(f"ATTACH {sql_string(memo)} AS memo")
        try:
            con.execute("CREATE TABLE IF NOT EXISTS memo.forms "
                        "(text VARCHAR, sig VARCHAR, ntok INTEGER, tokens VARCHAR[], form VARCHAR)")
            con.execute("CREATE TABLE IF NOT EXISTS memo.meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            if con.execute("SELECT value FROM memo.meta WHERE key = 'rules'").fetchone() != (rules_version(),):
                con.execute("DELETE FROM memo.forms")  # formed under other rules: none can be reused
                con.execute("INSERT OR REPLACE INTO memo.meta VALUES ('rules', ?)", [rules_version()])
            con.execute("CREATE TABLE texts (idx INTEGER, text VARCHAR)")
            for batch in _numbered(texts):
                with self.spool.open("wb") as out:
                    out.write(b"".join(orjson.dumps({"idx": i, "text": t}) + b"\n" for i, t in batch))
                con.execute(f"COPY texts FROM {sql_string(self.spool)} (FORMAT json)")
            con.execute("INSERT INTO forms SELECT t.idx, m.sig, m.ntok, m.tokens, m.form "
                        "FROM texts t JOIN memo.forms m USING (text)")
            con.execute("CREATE TABLE formed AS SELECT idx FROM forms")
            misses = con.cursor()
            misses.execute("SELECT idx, text FROM texts ANTI JOIN formed USING (idx) ORDER BY idx")
            self._form(iter(lambda: misses.fetchmany(WORK), []))
            misses.close()
            con.execute("""INSERT INTO memo.forms SELECT DISTINCT t.text, f.sig, f.ntok, f.tokens, f.form
                           FROM forms f JOIN texts t USING (idx) ANTI JOIN formed USING (idx)""")
            con.execute("DELETE FROM memo.forms m WHERE NOT EXISTS (SELECT 1 FROM texts t WHERE t.text = m.text)")
            con.execute("DROP TABLE texts; DROP TABLE formed")
        finally:
            con.execute("DETACH memo")

    def _form(self, batches: Iterable[list[tuple[int, str]]]) -> None:
        out = self.spool.open("wb")
        pending = 0
        try:
            for lines in self._map(_form_rows, batches):
                out.write(lines)
                pending += lines.count(b"\n")
                if pending >= BATCH:
                    out.close()
                    self._copy()
                    out, pending = self.spool.open("wb"), 0
        finally:
            out.close()
        if pending:
            self._copy()
        self.spool.unlink(missing_ok=True)

    def _copy(self) -> None:
        self.con.execute(f"COPY forms FROM {sql_string(self.spool)} (FORMAT json)")

    def candidates(self, max_keys: int, index_overlap: float, max_block: int, window: int) -> int:
        """Build the candidate pairs (the rules of ``candidate_pairs``); return how many were considered.

        A concept's keys are its signature with each of its first ``prefix`` words ranked
        rarest first (fewest concepts, then by code point), ``prefix = min(max_keys, n -
        ceil(index_overlap * n) + 1)`` of its ``n`` words. A block of 2 to ``window + 1``
        members gives all its pairs; a larger one, up to ``max_block``, each member with the
        ``window`` after it in the order of its ranked words joined by spaces (then number).
        The count is what ``candidate_pairs`` yields: small-block pairs once, window pairs as
        often as they recur.
        """
        full = min(max_block, window + 1)
        con = self.con
        con.execute("""
            CREATE TABLE words AS SELECT idx, unnest(tokens) AS token FROM forms;
            CREATE TABLE df AS SELECT token, count(*) AS df FROM words GROUP BY token;
            CREATE TABLE ranked AS
              SELECT idx, token, df, row_number() OVER (PARTITION BY idx ORDER BY df, token) AS rank
              FROM words JOIN df USING (token);
            DROP TABLE words;""")
        con.execute(f"""
            CREATE TABLE keys AS
              SELECT r.idx, f.sig || r.token AS key FROM ranked r JOIN forms f USING (idx)
              WHERE r.rank <= least({max_keys}, f.ntok - ceil({index_overlap} * f.ntok) + 1);
            CREATE TABLE blocks AS
              SELECT key, count(*) AS n FROM keys GROUP BY key HAVING count(*) BETWEEN 2 AND {max_block};
            CREATE TABLE small AS
              SELECT DISTINCT k1.idx AS a, k2.idx AS b
              FROM keys k1 JOIN keys k2 ON k1.key = k2.key AND k1.idx < k2.idx
              WHERE k1.key IN (SELECT key FROM blocks WHERE n <= {full});
            CREATE TABLE member AS
              WITH large AS (SELECT k.key, k.idx FROM keys k JOIN blocks b ON b.key = k.key AND b.n > {full}),
                   ord AS (SELECT idx, string_agg(token, ' ' ORDER BY df, token) AS ord FROM ranked
                           WHERE idx IN (SELECT idx FROM large) GROUP BY idx)
              SELECT key, idx, row_number() OVER (PARTITION BY key ORDER BY ord, idx) AS r
              FROM large JOIN ord USING (idx);
            CREATE TABLE windowed AS
              SELECT least(m1.idx, m2.idx) AS a, greatest(m1.idx, m2.idx) AS b
              FROM member m1 JOIN member m2 ON m1.key = m2.key AND m2.r > m1.r AND m2.r < m1.r + {full};
            CREATE TABLE pairs AS SELECT DISTINCT a, b FROM (SELECT a, b FROM small UNION ALL
                                                            SELECT a, b FROM windowed);
            """)
        row = con.execute("SELECT (SELECT count(*) FROM small) + (SELECT count(*) FROM windowed)").fetchone()
        con.execute("DROP TABLE ranked; DROP TABLE keys; DROP TABLE blocks; DROP TABLE small; DROP TABLE member; "
                    "DROP TABLE windowed; DROP TABLE df")
        return int(row[0]) if row else 0

    def pairs(self) -> list[tuple[int, int]]:
        """Every candidate pair, sorted (for tests: the comparison with ``candidate_pairs``)."""
        return [(int(a), int(b)) for a, b in self.con.execute("SELECT a, b FROM pairs ORDER BY a, b").fetchall()]

    def matches(self, min_overlap: float) -> Iterator[tuple[float, int, int, tuple[str, ...], str, str]]:
        """Each candidate pair that matches: its score, the evidence, and both forms as stored (JSON).

        Only pairs whose word sets share at least ``min_overlap`` of the larger are read back
        (near-duplicates share at least half their words), a batch at a time, and scored in a
        process pool when there are more than one batch. The forms stay encoded (a few hundred
        bytes, against a few kilobytes decoded): :func:`decode_form` gives them back.
        """
        cursor = self.con.execute(f"""
            SELECT p.a, p.b, fa.form, fb.form FROM pairs p
            JOIN forms fa ON fa.idx = p.a JOIN forms fb ON fb.idx = p.b
            WHERE len(list_intersect(fa.tokens, fb.tokens)) >= {min_overlap} * greatest(fa.ntok, fb.ntok)""")
        batches = iter(lambda: cursor.fetchmany(WORK), [])
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per kind of evidence, not per match
        for found in self._map(_score, batches):
            for score, a, b, evidence, form_a, form_b in found:
                yield score, a, b, shared.setdefault(evidence, evidence), form_a, form_b

    def _map(self, function: Callable[[_T], _R], tasks: Iterable[_T]) -> Iterator[_R]:
        """``function`` over ``tasks`` in order: the first here, the rest in a pool of ``jobs`` processes.

        The pool gets a few tasks at a time (``Pool.imap`` alone would read the whole input
        into its queue), and the input is read on this thread, where the DuckDB cursor lives.
        """
        iterator = iter(tasks)
        first = next(iterator, None)
        if first is None:
            return
        yield function(first)
        if self.jobs < 2:
            yield from map(function, iterator)
            return
        window = list(itertools.islice(iterator, 2 * self.jobs))
        if not window:
            return
        with contextlib.closing(_pool(self.jobs)) as pool:
            try:
                while window:
                    yield from pool.imap(function, window)
                    window = list(itertools.islice(iterator, 2 * self.jobs))
            finally:
                pool.terminate()


_T = TypeVar("_T")
_R = TypeVar("_R")


def _pool(jobs: int) -> Pool:
    # spawn, not fork: a forked worker would share (and report in its RSS) the whole resolution's memory
    return multiprocessing.get_context("spawn").Pool(jobs)


@functools.cache
def rules_version() -> str:
    """A digest of the code a criterion's form comes from (the string rules and the matcher).

    Kept with the memoised forms: after any change to these rules the memo is emptied, so a
    form is never one that the running code would not compute.
    """
    import kg.resolve.criteria_match
    import kg.rules

    digest = hashlib.sha256()
    files = sorted(Path(kg.rules.__file__).parent.glob("*.py"))
    for path in [*files, Path(kg.resolve.criteria_match.__file__), Path(__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _numbered(texts: Iterable[str]) -> Iterator[list[tuple[int, str]]]:
    iterator = enumerate(texts)
    while batch := list(itertools.islice(iterator, WORK)):
        yield batch


def _form_rows(batch: list[tuple[int, str]]) -> bytes:
    """JSON lines of the forms table for a batch of (number, normalised text)."""
    lines = []
    for idx, text in batch:
        form = criterion_form(text, normalized=True)
        tokens = sorted(blocking_tokens(form))
        lines.append(orjson.dumps({"idx": idx, "sig": signature(form), "ntok": len(tokens), "tokens": tokens,
                                   "form": encode_form(form)}))
    return b"\n".join(lines) + b"\n"


def _score(rows: list[tuple[int, int, str, str]]) -> list[tuple[float, int, int, tuple[str, ...], str, str]]:
    """The matching pairs of a batch of candidates, with their evidence (forms decoded once per batch)."""
    decoded: dict[int, CriterionForm] = {}
    found = []
    for a, b, form_a, form_b in rows:
        left = decoded.get(a)
        if left is None:
            left = decoded[a] = decode_form(form_a)
        right = decoded.get(b)
        if right is None:
            right = decoded[b] = decode_form(form_b)
        score = match_criteria(left, right)
        if score:
            found.append((score, a, b, match_evidence(left, right), form_a, form_b))
    return found


def match_evidence(a: CriterionForm, b: CriterionForm) -> tuple[str, ...]:
    """Why two matching criteria were taken as one, in words for the evidence node."""
    out = ["same constraints" if a.constraints else "same numbers"]
    if a.word_set != b.word_set:
        out.append("wording differs by spelling, abbreviation or filler")
    return tuple(out)
