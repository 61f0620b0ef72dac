"""A real browser on kg serve's pages: headless Debian chromium driven by playwright.

The browser reads a trial page as a researcher would (summary first, then related trials),
follows the principal investigator to their page and on to their other trials, runs a canned
query in YASGUI on the query page, and opens a page full of hostile text to check nothing in
the data runs as script. Screenshots go to the test's directory, and to ``docs/images`` when
``TRIALKG_SCREENSHOTS`` names that directory (how the committed ones were made).

Nothing is installed at run time: a missing browser fails the test with the command to run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.serve import ServeConfig, running_server
from kg.store import StoreDirectory

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("TRIALKG_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE_TITLE = "<script>alert('title')</script> \"quoted\" & \u202egnp.exe"
HOSTILE_NAME = "\"><img src=x onerror=alert('name')> \u05e9\u05dc\u05d5\u05dd \u202bRTL"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        # CI must run these: there a missing browser fails; on a developer's machine it skips, saying how.
        message = f"{CHROMIUM} is missing: run `scripts/test --with-browser` (installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests: {message}")
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: `.venv/bin/pip install 'playwright>=1.40'`")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab that records console errors and fails on any dialog (a script from the data ran)."""
    tab = browser.new_page(viewport={"width": 1280, "height": 1000})
    tab.errors = []
    tab.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.on("dialog", lambda d: (tab.errors.append("dialog: " + d.message), d.dismiss()))
    yield tab
    tab.close()


def _screenshot(page: Any, name: str, tmp_path: Path, **options: Any) -> None:
    target = tmp_path / name
    page.screenshot(path=str(target), **options)
    published = os.environ.get("TRIALKG_SCREENSHOTS")
    if published:
        Path(published).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, Path(published) / name)


def _section(page: Any, heading: str) -> Any:
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))


def test_trial_page_leads_with_its_summary_and_related_trials(page: Any, server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/study/NCT01374854")
    expect(page.locator("h1")).to_contain_text("Umbilical Mesenchymal Stem Cells")
    summary = _section(page, "Summary")
    for label, shown in (("Status", "UNKNOWN"), ("Phase", "PHASE1 / PHASE2"), ("Enrollment", "44"),
                         ("Start", "2009-01-31"), ("Sponsor", "Fuzhou General Hospital"),
                         ("Principal investigator", "Jianming Tan"), ("Conditions", "Type 1 Diabetes Mellitus")):
        expect(summary.locator("dt", has_text=label).first).to_be_visible()
        expect(summary).to_contain_text(shown)
    related = _section(page, "Related trials")
    expect(related.get_by_role("heading", name="Same principal investigator")).to_contain_text("1 trial")
    expect(related.get_by_role("link", name="NCT01719640").first).to_be_visible()
    expect(_section(page, "Eligibility criteria")).to_contain_text("Exclusion criteria")
    assert "tkg:" not in summary.inner_text() and "xsd:" not in summary.inner_text()
    _screenshot(page, "serve-trial.png", tmp_path, full_page=False)
    related.scroll_into_view_if_needed()
    _screenshot(page, "serve-trial-related.png", tmp_path, full_page=False)
    assert not page.errors, page.errors

    summary.get_by_role("link", name="Jianming Tan").click()
    page.wait_for_url("**/resource/person/jianming-tan")
    expect(page.locator("h1")).to_have_text("Jianming Tan")
    trials = _section(page, "Trials 2")
    expect(trials.get_by_role("link", name="NCT01374854")).to_be_visible()
    trials.get_by_role("link", name="NCT01719640").click()
    page.wait_for_url("**/study/NCT01719640")
    outcomes = _section(page, "Outcomes")
    expect(outcomes.get_by_role("heading", name="Primary")).to_be_visible()
    expect(outcomes.locator("tbody tr")).to_have_count(5)


def test_person_page_lists_every_resolved_trial(page: Any, server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/resource/person/thomas-l-ortel")
    expect(page.locator("h1")).to_have_text("Thomas L Ortel")
    trials = page.locator("section.trials-of")
    expect(trials.locator("tbody tr")).to_have_count(3)
    first = trials.locator("tbody tr td a").first
    expect(first).to_have_attribute("href", "/study/" + first.inner_text())
    _screenshot(page, "serve-person.png", tmp_path, full_page=False)
    assert not page.errors, page.errors


def test_query_page_runs_a_canned_query_in_yasgui(page: Any, server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page.goto(server + "/sparql")
    expect(page.locator(".yasqe .CodeMirror")).to_be_visible()
    page.select_option("#examples", "shared-principal-investigator")
    rows = page.locator(".yasr table tbody tr")
    expect(rows.first).to_be_visible(timeout=30_000)
    assert rows.count() > 5
    expect(page.locator(".yasr")).to_contain_text("NCT01374854")
    _screenshot(page, "serve-query.png", tmp_path, full_page=False)
    assert not [e for e in page.errors if "Content Security Policy" in e or "Refused" in e], page.errors


def test_hostile_text_is_shown_not_run(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    trial, person = "https://clinicaltrials.gov/study/NCT09999999", "https://w3id.org/trialkg/resource/person/x"
    tkg, graph = "https://w3id.org/trialkg/ontology#", "https://w3id.org/trialkg/graph/ctgov/NCT09999999"

    def literal(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    quads = [(trial, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", f"<{tkg}Trial>"),
             (trial, tkg + "nctId", '"NCT09999999"'), (trial, tkg + "briefTitle", literal(HOSTILE_TITLE)),
             (trial, tkg + "hasRole", "<urn:role>"), ("urn:role", tkg + "roleType", f"<{tkg}PrincipalInvestigator>"),
             ("urn:role", tkg + "agent", f"<{person}>"), (person, tkg + "name", literal(HOSTILE_NAME)),
             (person, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", f"<{tkg}Person>")]
    root = StoreDirectory(tmp_path / "hostile")
    with root.staging() as staging:
        staging.load_nquads("".join(f"<{s}> <{p}> {o} <{graph}> .\n" for s, p, o in quads).encode("utf-8"))
    with running_server(ServeConfig(store=tmp_path / "hostile", port=0, workers=1, access_log=False)) as url:
        page.goto(url + "/study/NCT09999999")
        expect(page.locator("h1")).to_contain_text("<script>alert('title')</script>")
        expect(_section(page, "Summary")).to_contain_text("onerror=alert('name')")
        page.goto(url + "/resource/person/x")
        expect(page.locator("h1")).to_contain_text("<img src=x")
        page.goto(url + "/")
        page.wait_for_timeout(300)
    assert not [e for e in page.errors if e.startswith("dialog")], page.errors
