"""A real browser on kg serve's pages: headless Debian chromium driven by playwright.

The browser follows links as a person would: from a trial to its principal investigator, and
from there to the investigator's other trial; and it opens a page full of hostile text to
check that nothing in the data runs as script. Nothing is installed at run time:
``scripts/test --with-browser`` (``scripts/install-test-deps``) puts chromium in place. A
missing browser skips the tests with that command as the reason on a developer's machine, and
fails them when ``CI`` is set, so CI can never pass without having run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.serve import ServeConfig, running_server
from kg.store import open_store
from kg.store.base import Store

CHROMIUM = os.environ.get("TRIALKG_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE_TITLE = "<script>alert('title')</script> \"quoted\" & \u202egnp.exe"
HOSTILE_NAME = "\"><img src=x onerror=alert('name')> \u05e9\u05dc\u05d5\u05dd \u202bRTL"
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        reason = f"needs chromium at {CHROMIUM}: run `scripts/test --with-browser` (installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must run the browser tests")
        pytest.skip(reason)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: `.venv/bin/pip install 'playwright>=1.40'` "
                    "(no `playwright install`: the test drives Debian's chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


def test_trial_page_leads_to_the_investigator_and_their_other_trial(browser: Any, seed_store: Store) -> None:
    from playwright.sync_api import expect

    with running_server(seed_store, ServeConfig(port=0)) as url:  # type: ignore[arg-type]
        page = browser.new_page()
        page.goto(url + "/study/NCT01374854")
        expect(page.locator("h1")).to_contain_text("Umbilical Mesenchymal Stem Cells")
        people = page.locator("section").filter(has=page.get_by_role("heading", name="People"))
        people.get_by_role("link", name="Jianming Tan").click()
        page.wait_for_url("**/resource/person/jianming-tan")
        expect(page.locator("h1")).to_have_text("Jianming Tan")
        trials = page.locator("section").filter(has=page.get_by_role("heading", name="Trials"))
        expect(trials.get_by_role("link", name="NCT01374854")).to_be_visible()
        other = trials.get_by_role("link", name="NCT01719640")
        expect(other).to_be_visible()
        expect(trials).to_contain_text("MSC and BMMNC in Type 2 Diabetes Mellitus")
        other.click()
        page.wait_for_url("**/study/NCT01719640")
        expect(page.locator("h1")).to_contain_text("Type 2 Diabetes")
        page.close()


def _hostile_store() -> Store:
    store = open_store(None)
    tkg = "https://w3id.org/trialkg/ontology#"
    trial = "<https://clinicaltrials.gov/study/NCT09999999>"
    role = "<https://w3id.org/trialkg/resource/role/NCT09999999/principalinvestigator/x>"
    person = "<https://w3id.org/trialkg/resource/person/x>"
    graph = "<https://w3id.org/trialkg/graph/ctgov/NCT09999999>"

    def lit(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        f"{trial} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{tkg}Trial>",
        f"{trial} <{tkg}nctId> \"NCT09999999\"",
        f"{trial} <http://www.w3.org/2000/01/rdf-schema#label> {lit(HOSTILE_TITLE)}",
        f"{trial} <{tkg}briefTitle> {lit(HOSTILE_TITLE)}",
        f"{trial} <{tkg}hasDocument> <javascript:alert('document')>",
        f"{trial} <{tkg}hasRole> {role}",
        f"{role} <{tkg}roleType> <{tkg}PrincipalInvestigator>",
        f"{role} <{tkg}agent> {person}",
        f"{person} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{tkg}Person>",
        f"{person} <{tkg}name> {lit(HOSTILE_NAME)}",
    ]
    store.load_nquads("".join(f"{line} {graph} .\n" for line in lines).encode("utf-8"))
    return store


def test_hostile_text_is_shown_never_run(browser: Any) -> None:
    from playwright.sync_api import expect

    with running_server(_hostile_store(), ServeConfig(port=0)) as url:  # type: ignore[arg-type]
        page = browser.new_page()
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        for path in ("/study/NCT09999999", "/resource/person/x", "/"):
            page.goto(url + path)
            page.wait_for_load_state("load")
            assert page.evaluate("document.scripts.length") == 0
            assert page.evaluate("document.querySelectorAll('img').length") == 0
            hrefs = page.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
            assert not [h for h in hrefs if h.lower().startswith("javascript:")]
        page.goto(url + "/study/NCT09999999")
        expect(page.locator("h1")).to_have_text(HOSTILE_TITLE)
        assert "\u202e" not in page.title()
        people = page.locator("section").filter(has=page.get_by_role("heading", name="People"))
        expect(people.get_by_role("link", name=HOSTILE_NAME)).to_be_visible()
        assert dialogs == []
        page.close()
