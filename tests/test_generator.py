"""The synthetic-registry generator (benchmarks/generate.py): deterministic, shaped like the real
API v2 records, heavy-tailed sharing, and the two output layouts."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from benchmarks.generate import iter_studies, write_jsonl, write_zip
from benchmarks.synthetic.corpus import load_corpus, normal_form, read_real_studies, split_criteria
from benchmarks.synthetic.study import MAX_STUDIES
from benchmarks.synthetic.zipout import StreamingZip

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = 5000
SHAPED = 1000  # key paths are collected from the first studies: ~9 uses of each of the 110 templates
NCT = re.compile(r"NCT9\d{7}")
BULLETS = r"\n\n\* [^\n]+(\n\* [^\n]+)*"
CRITERIA = re.compile(rf"Inclusion Criteria:{BULLETS}(\n\nExclusion Criteria:{BULLETS})?|Exclusion Criteria:{BULLETS}")


def _paths(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every leaf as (key path with list positions folded to [], JSON type)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, f"{prefix}/{key}")
    elif isinstance(value, list):
        for child in value:
            yield from _paths(child, f"{prefix}[]")
    else:
        yield prefix, type(value).__name__


@dataclass
class Sample:
    """What the tests need from 5,000 generated studies, collected in one streaming pass."""

    ids: list[str] = field(default_factory=list)
    paths: set[tuple[str, str]] = field(default_factory=set)
    modules: Counter[str] = field(default_factory=Counter)
    principal_investigators: Counter[str] = field(default_factory=Counter)
    exclusion: Counter[str] = field(default_factory=Counter)
    sites: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    sponsors: Counter[str] = field(default_factory=Counter)
    bad_criteria: list[str] = field(default_factory=list)
    bad_dates: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def sample() -> Sample:
    found = Sample()
    for number, study in enumerate(iter_studies(SAMPLE, seed=42, copy=False)):
        protocol = study["protocolSection"]
        found.ids.append(protocol["identificationModule"]["nctId"])
        if number < SHAPED:
            found.paths.update(_paths(study))
        found.modules.update(protocol.keys())
        contacts = protocol.get("contactsLocationsModule", {})
        found.principal_investigators.update({o["name"].split(",")[0] for o in contacts.get("overallOfficials", [])
                                              if o.get("role") == "PRINCIPAL_INVESTIGATOR"})
        found.sites.update({(loc["facility"], loc["city"], loc["country"]) for loc in contacts.get("locations", [])
                            if "facility" in loc})
        found.sponsors[protocol["sponsorCollaboratorsModule"]["leadSponsor"]["name"]] += 1
        text = protocol["eligibilityModule"]["eligibilityCriteria"]
        if not CRITERIA.fullmatch(text):
            found.bad_criteria.append(text)
        found.exclusion.update({normal_form(item) for item in split_criteria(text)[1]})
        status = protocol["statusModule"]
        first, last = status["studyFirstSubmitDate"], status["lastUpdatePostDateStruct"]["date"]
        if not "2000-01-01" <= first <= last <= study["derivedSection"]["miscInfoModule"]["versionHolder"]:
            found.bad_dates.append(found.ids[-1])
    return found


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first, again, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    write_jsonl(first, 500, seed=7)
    write_jsonl(again, 500, seed=7)
    write_jsonl(other, 500, seed=8)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    assert len(first.read_bytes().splitlines()) == 500


def test_the_command_line_gives_the_same_bytes_in_any_process(tmp_path: Path) -> None:
    """String hashing differs per process (PYTHONHASHSEED); the output must not."""
    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"cli-{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "200", "--seed", "3",
                                 "--out", str(out)], capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "studies/s" in result.stderr
        outputs.append(out.read_bytes())
    write_jsonl(tmp_path / "library.jsonl", 200, seed=3)
    assert outputs[0] == outputs[1] == (tmp_path / "library.jsonl").read_bytes()


def test_studies_have_the_keys_and_types_of_the_real_records(sample: Sample) -> None:
    real = {path for study in read_real_studies() for path in _paths(study)}
    assert sample.paths <= real, sorted(sample.paths - real)[:10]
    for required in ("/protocolSection/identificationModule/nctId", "/protocolSection/identificationModule/briefTitle",
                     "/protocolSection/statusModule/overallStatus",
                     "/protocolSection/statusModule/lastUpdatePostDateStruct/date",
                     "/protocolSection/sponsorCollaboratorsModule/leadSponsor/name",
                     "/protocolSection/eligibilityModule/eligibilityCriteria",
                     "/derivedSection/miscInfoModule/versionHolder", "/hasResults"):
        assert (required, "str" if required != "/hasResults" else "bool") in sample.paths


def test_modules_appear_about_as_often_as_in_the_real_records(sample: Sample) -> None:
    templates = load_corpus().templates
    real = Counter(key for study in templates for key in study["protocolSection"])
    for module, count in real.items():
        assert abs(sample.modules[module] / SAMPLE - count / len(templates)) < 0.1, module


def test_ids_are_unique_synthetic_nct_ids(sample: Sample) -> None:
    assert len(set(sample.ids)) == SAMPLE
    assert all(NCT.fullmatch(nct) for nct in sample.ids)


def test_eligibility_text_is_api_v2_markdown_and_dates_are_plausible(sample: Sample) -> None:
    assert sample.bad_criteria == []
    assert sample.bad_dates == []


def test_a_few_investigators_run_many_trials_and_most_run_one(sample: Sample) -> None:
    counts = sample.principal_investigators
    busiest = counts.most_common(1)[0][1]
    once = sum(1 for n in counts.values() if n == 1)
    assert busiest >= 10
    assert once / len(counts) > 0.6


def test_common_exclusion_criteria_recur_and_most_are_trial_specific(sample: Sample) -> None:
    counts = sample.exclusion
    top, top_trials = counts.most_common(1)[0]
    assert top_trials / SAMPLE > 0.05, top
    assert sum(1 for n in counts.values() if n == 1) / len(counts) > 0.6


def test_sites_and_sponsors_recur_with_a_long_tail(sample: Sample) -> None:
    assert sample.sites.most_common(1)[0][1] / SAMPLE > 0.01
    assert sum(1 for n in sample.sites.values() if n == 1) / len(sample.sites) > 0.5
    assert sample.sponsors.most_common(1)[0][1] / SAMPLE > 0.02
    assert len(sample.sponsors) > 100


def test_the_zip_has_one_deflated_json_member_per_study(tmp_path: Path) -> None:
    path = tmp_path / "ctg-studies.json.zip"
    write_zip(path, 300, seed=5)
    write_jsonl(tmp_path / "same.jsonl", 300, seed=5)
    lines = (tmp_path / "same.jsonl").read_bytes().splitlines()
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert len(infos) == 300
        for info, line in zip(infos, lines, strict=True):
            assert info.compress_type == zipfile.ZIP_DEFLATED
            data = archive.read(info)
            assert data == line
            assert orjson.loads(data)["protocolSection"]["identificationModule"]["nctId"] + ".json" == info.filename


def test_the_zip_writer_switches_to_zip64_for_many_members() -> None:
    buffer = io.BytesIO()
    with StreamingZip(buffer) as archive:
        for i in range(65_600):  # more than the 65,535 entries a plain end record can count
            archive.add(f"{i}.json", b"{}")
    assert b"PK\x06\x06" in buffer.getvalue()[-200:]
    with zipfile.ZipFile(buffer) as archive:
        names = archive.namelist()
        assert len(names) == 65_600
        assert archive.read(names[-1]) == b"{}"


def test_yielded_studies_can_be_mutated_without_changing_later_ones() -> None:
    for study in iter_studies(30, seed=9):
        for module in study["protocolSection"].values():
            module["touched"] = True
    again = list(iter_studies(30, seed=9))
    assert not any("touched" in module for study in again for module in study["protocolSection"].values())


def test_sizes_outside_the_nct_range_are_refused() -> None:
    assert list(iter_studies(0, seed=1)) == []
    with pytest.raises(ValueError):
        next(iter_studies(MAX_STUDIES + 1, seed=1))


def test_dates_keep_their_precision() -> None:
    for study in iter_studies(200, seed=4):
        status = study["protocolSection"]["statusModule"]
        assert len(status["statusVerifiedDate"]) == 7
        date.fromisoformat(status["lastUpdatePostDateStruct"]["date"])
