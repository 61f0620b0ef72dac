"""One synthetic API v2 study: a real study's shape, re-populated from the shared pools.

Why: the shape of a record (which modules and keys it has, how many arms, officials, sites,
criteria and references, how long its texts are) is taken whole from a real *template* study,
so field presence, list lengths and text lengths follow the real records' joint distribution.
A second real *topic* study lends titles, descriptions, conditions (with their MeSH browse
module) and outcomes, so a template's design is seen with many topics. Everything that the
graph turns into shared entities (sponsors, investigators, sites, criteria, references) and
everything that identifies a study (NCT id, org study id, dates) is replaced, so no two
synthetic studies share anything by accident of reusing a template. Template subtrees that are
copied unchanged are shared between studies, not copied: callers must not mutate them.

Example:
    >>> from benchmarks.synthetic.corpus import load_corpus
    >>> factory = StudyFactory(100, seed=1, corpus=load_corpus())
    >>> study = factory.study(0)
    >>> study["protocolSection"]["identificationModule"]["nctId"]
    'NCT90000001'
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from benchmarks.synthetic.corpus import Corpus, Study, split_criteria
from benchmarks.synthetic.pools import Organization, Person, Pools

NCT_BASE = 90_000_000  # NCT9xxxxxxx: above every real NCT id (NCT07... in 2025)
NCT_STRIDE = 17  # ids are spread out like a search result's, not consecutive
MAX_STUDIES = (99_999_999 - NCT_BASE) // NCT_STRIDE
EARLIEST = date(2000, 1, 1).toordinal()  # the registry opened in February 2000
INVESTIGATOR_PARTIES = ("PRINCIPAL_INVESTIGATOR", "SPONSOR_INVESTIGATOR")
ACTIVE = ("RECRUITING", "NOT_YET_RECRUITING", "ACTIVE_NOT_RECRUITING", "ENROLLING_BY_INVITATION")


class StudyFactory:
    """Builds study ``i`` of a run; call ``study(i)`` for i = 0, 1, 2... in order (one random stream)."""

    def __init__(self, n: int, seed: int, corpus: Corpus) -> None:
        if not 0 <= n <= MAX_STUDIES:
            raise ValueError(f"n must be between 0 and {MAX_STUDIES}")
        self.rng = random.Random(seed)
        self.seed = seed
        self.pools = Pools(n, seed, corpus)
        self.templates = corpus.templates
        self.criteria_counts = [_criteria_counts(t) for t in self.templates]
        self.date_ranges = [_shift_range(t, _cutoff(corpus)) for t in self.templates]
        self.status_plans = [_status_plan(t["protocolSection"]["statusModule"]) for t in self.templates]
        self.version = date.fromordinal(_cutoff(corpus)).isoformat()
        self.rates = _coupling_rates(self.templates)

    def study(self, index: int) -> Study:
        rng = self.rng
        which = rng.randrange(len(self.templates))
        template, topic = self.templates[which], self.templates[rng.randrange(len(self.templates))]
        nct = f"NCT{NCT_BASE + index * NCT_STRIDE + self.seed % NCT_STRIDE}"
        return _Context(self, rng, template, topic, which, nct).build()


class _Context:
    """The state of one study while it is built (people and sponsor are drawn once, used by several modules)."""

    def __init__(self, factory: StudyFactory, rng: random.Random, template: Study, topic: Study, which: int,
                 nct: str) -> None:
        self.f, self.rng, self.pools = factory, rng, factory.pools
        self.template, self.topic, self.which, self.nct = template, topic, which, nct
        protocol = template["protocolSection"]
        contacts = protocol.get("contactsLocationsModule", {})
        persons = self.pools.persons
        self.officials = persons.draws(rng, len(contacts.get("overallOfficials", ())))
        party = protocol.get("sponsorCollaboratorsModule", {}).get("responsibleParty", {})
        self.investigator: Person | None = None
        if party.get("type") in INVESTIGATOR_PARTIES or "oldNameTitle" in party:
            reuse = self.officials and rng.random() < factory.rates["party_is_official"]
            self.investigator = self.officials[0] if reuse else persons.draw(rng)
        self.sponsor = self._lead_sponsor()

    def _lead_sponsor(self) -> Organization:
        rates, rng = self.f.rates, self.rng
        if self.investigator is not None and rng.random() < rates["investigator_org_sponsors"]:
            return self.investigator.org
        if self.officials and rng.random() < rates["official_org_sponsors"]:
            return self.officials[0].org
        return self.pools.organizations.draw(rng)

    def build(self) -> Study:
        study: Study = {}
        for section, value in self.template.items():
            if section == "protocolSection":
                study[section] = {key: self._module(key, module) for key, module in value.items()}
            elif section == "derivedSection":
                study[section] = self._derived(value)
            elif section == "resultsSection":
                study[section] = self._results(value)
            else:
                study[section] = value  # documentSection, hasResults: as the template has them
        return study

    def _module(self, key: str, module: Any) -> Any:
        builder = _BUILDERS.get(key)
        if builder is not None:
            return builder(self, module)
        if key in _TOPIC_MODULES and not (key == "outcomesModule" and self.template.get("hasResults")):
            return self.topic["protocolSection"].get(key, module)  # results keep their own outcomes
        return module

    def identification(self, module: dict[str, Any]) -> dict[str, Any]:
        topic = self.topic["protocolSection"]["identificationModule"]
        out: dict[str, Any] = {}
        for key, value in module.items():
            if key == "nctId":
                out[key] = self.nct
            elif key == "orgStudyIdInfo":
                out[key] = {**value, "id": self.redigit(value.get("id", ""))}
            elif key == "secondaryIdInfos":
                out[key] = [{**info, "id": self.redigit(info.get("id", ""))} for info in value]
            elif key == "nctIdAliases":
                out[key] = [self.other_nct() for _ in value]
            elif key == "organization":
                out[key] = {"fullName": self.sponsor.name, "class": self.sponsor.cls}
            elif key in ("briefTitle", "officialTitle", "acronym"):
                out[key] = topic.get(key, value)
            else:
                out[key] = value
        return out

    def status(self, module: dict[str, Any]) -> dict[str, Any]:
        low, high = self.f.date_ranges[self.which]
        shift = self.rng.randint(low, high)
        out: dict[str, Any] = {}
        for key, value, day, mode in self.f.status_plans[self.which]:
            if mode == _KEEP:
                out[key] = value
            elif mode == _DATE:
                out[key] = _format(day + shift, len(value))
            elif mode == _STRUCT:
                out[key] = {**value, "date": _format(day + shift, len(value["date"]))}
            else:
                out[key] = {**value, "nctId": self.other_nct()}
        return out

    def sponsors(self, module: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in module.items():
            if key == "responsibleParty":
                out[key] = self.responsible_party(value)
            elif key == "leadSponsor":
                out[key] = {"name": self.sponsor.name, "class": self.sponsor.cls}
            elif key == "collaborators":
                orgs = self.pools.organizations.draws(self.rng, len(value), taken={self.sponsor.index})
                out[key] = [{"name": org.name, "class": org.cls} for org in orgs]
            else:
                out[key] = value
        return out

    def responsible_party(self, party: dict[str, Any]) -> dict[str, Any]:
        person = self.investigator
        if person is None:
            return party
        fields = {"investigatorFullName": person.name, "investigatorTitle": person.title,
                  "investigatorAffiliation": person.org.name, "oldNameTitle": person.name,
                  "oldOrganization": person.org.name}
        return {key: fields.get(key, value) for key, value in party.items()}

    def eligibility(self, module: dict[str, Any]) -> dict[str, Any]:
        included, excluded = self.f.criteria_counts[self.which]
        rng, pools = self.rng, self.pools
        inclusion = pools.inclusion.draws(rng, included)
        exclusion = pools.exclusion.draws(rng, excluded)
        return {key: render_criteria(inclusion, exclusion) if key == "eligibilityCriteria" else value
                for key, value in module.items()}

    def contacts_locations(self, module: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in module.items():
            if key == "overallOfficials":
                out[key] = [self.official(person, entry) for person, entry in zip(self.officials, value, strict=True)]
            elif key == "centralContacts":
                out[key] = [self.contact(c) for c in value]
            elif key == "locations":
                sites = self.pools.sites.draws(self.rng, len(value))
                out[key] = [self.location(loc, site) for loc, site in zip(value, sites, strict=True)]
            else:
                out[key] = value
        return out

    def official(self, person: Person, official: dict[str, Any]) -> dict[str, Any]:
        fields = {"name": person.mention, "affiliation": person.org.name}
        return {key: fields.get(key, value) for key, value in official.items()}

    def contact(self, contact: dict[str, Any]) -> dict[str, Any]:
        person = self.pools.persons.draw(self.rng)
        fields = {"name": person.mention, "email": f"investigator{person.index}@example.org",
                  "phone": self.redigit(contact.get("phone", ""))}
        return {key: fields.get(key, value) for key, value in contact.items()}

    def location(self, location: dict[str, Any], site: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "facility" in location:
            out["facility"] = site["facility"]
        if "status" in location:
            out["status"] = location["status"]
        for key in ("city", "state", "zip", "country"):
            if key in site:
                out[key] = site[key]
        if "contacts" in location:
            out["contacts"] = [self.contact(c) for c in location["contacts"]]
        out["geoPoint"] = site["geoPoint"]
        return out

    def references(self, module: dict[str, Any]) -> dict[str, Any]:
        """Background references recur across trials; results and derived ones belong to one trial."""
        out: dict[str, Any] = {}
        pool = self.pools.references
        for key, value in module.items():
            if key == "references":
                background = iter(pool.draws(self.rng, sum(ref.get("type") == "BACKGROUND" for ref in value)))
                drawn = [next(background) if ref.get("type") == "BACKGROUND" else pool.fresh() for ref in value]
                out[key] = [self.reference(ref, found) for ref, found in zip(value, drawn, strict=True)]
            else:
                out[key] = value
        return out

    def reference(self, ref: dict[str, Any], drawn: dict[str, str]) -> dict[str, Any]:
        out = {"pmid": drawn["pmid"]} if "pmid" in drawn else {}
        out["type"] = ref.get("type", "BACKGROUND")
        out["citation"] = drawn["citation"]
        return out

    def _results(self, results: dict[str, Any]) -> dict[str, Any]:
        """The template's results, but the point of contact is the sponsor's, not a real person's."""
        contact = results.get("moreInfoModule", {}).get("pointOfContact")
        if contact is None:
            return results
        person = self.investigator or (self.officials[0] if self.officials else self.pools.persons.draw(self.rng))
        fields = {"title": person.mention, "organization": self.sponsor.name,
                  "email": f"investigator{person.index}@example.org", "phone": self.redigit(contact.get("phone", ""))}
        more = {**results["moreInfoModule"], "pointOfContact": {k: fields.get(k, v) for k, v in contact.items()}}
        return {**results, "moreInfoModule": more}

    def _derived(self, derived: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        topic = self.topic.get("derivedSection", {})
        for key, value in derived.items():
            if key == "miscInfoModule":
                out[key] = {**value, "versionHolder": self.f.version}
            elif key == "conditionBrowseModule":
                if "conditionBrowseModule" in topic:
                    out[key] = topic["conditionBrowseModule"]  # MeSH terms go with the topic's conditions
            else:
                out[key] = value
        return out

    def other_nct(self) -> str:
        """An NCT9 id that no study of this run has (aliases, expanded-access records): off the run's stride."""
        number = self.rng.randrange(MAX_STUDIES) * NCT_STRIDE + (self.f.seed + 1) % NCT_STRIDE
        return f"NCT{NCT_BASE + number}"

    def redigit(self, text: str) -> str:
        """The same identifier shape with fresh digits ("REC-FSD-00244" -> "REC-FSD-83017")."""
        count = sum(ch.isdigit() for ch in text)
        if not count:
            return text
        digits = iter(f"{self.rng.randrange(10**count):0{count}d}")
        return "".join(next(digits) if ch.isdigit() else ch for ch in text)


_BUILDERS = {
    "identificationModule": _Context.identification,
    "statusModule": _Context.status,
    "sponsorCollaboratorsModule": _Context.sponsors,
    "eligibilityModule": _Context.eligibility,
    "contactsLocationsModule": _Context.contacts_locations,
    "referencesModule": _Context.references,
}
_TOPIC_MODULES = ("descriptionModule", "conditionsModule", "outcomesModule")


def render_criteria(inclusion: list[str], exclusion: list[str]) -> str:
    """Eligibility text exactly as API v2 writes it ("Inclusion Criteria:\\n\\n* ...")."""
    parts = []
    if inclusion:
        parts.append("Inclusion Criteria:\n\n* " + "\n* ".join(inclusion))
    if exclusion:
        parts.append("Exclusion Criteria:\n\n* " + "\n* ".join(exclusion))
    return "\n\n".join(parts)


def _criteria_counts(template: Study) -> tuple[int, int]:
    text = template["protocolSection"].get("eligibilityModule", {}).get("eligibilityCriteria", "")
    inclusion, exclusion = split_criteria(text)
    return max(len(inclusion), 1), len(exclusion)


def _cutoff(corpus: Corpus) -> int:
    """The data version of the real download: no synthetic update is posted after it."""
    versions = [t.get("derivedSection", {}).get("miscInfoModule", {}).get("versionHolder") for t in corpus.templates]
    return max(date.fromisoformat(v).toordinal() for v in versions if v)


def _shift_range(template: Study, cutoff: int) -> tuple[int, int]:
    """Days a template's dates can move: registered no earlier than 2000, updated no later than the
    cutoff; studies still recruiting move by at most a year, so they stay current."""
    status = template["protocolSection"]["statusModule"]
    first = _ordinal(status.get("studyFirstSubmitDate") or status["lastUpdatePostDateStruct"]["date"])
    last = _ordinal(status["lastUpdatePostDateStruct"]["date"])
    low, high = EARLIEST - first, cutoff - last
    if status.get("overallStatus") in ACTIVE:
        low = max(low, -365)
    return (low, high) if low <= high else (0, 0)


def _coupling_rates(templates: list[Study]) -> dict[str, float]:
    """How often, in the real records, the lead sponsor is the responsible investigator's or the
    first official's affiliation, and the responsible investigator is also an official."""
    counts = [0, 0, 0, 0, 0, 0]
    for template in templates:
        protocol = template["protocolSection"]
        sponsor = protocol.get("sponsorCollaboratorsModule", {})
        lead, party = sponsor.get("leadSponsor", {}).get("name"), sponsor.get("responsibleParty", {})
        officials = protocol.get("contactsLocationsModule", {}).get("overallOfficials", [])
        if party.get("investigatorAffiliation"):
            counts[0] += party["investigatorAffiliation"] == lead
            counts[1] += 1
        if officials and not party.get("investigatorFullName"):
            counts[2] += officials[0].get("affiliation") == lead
            counts[3] += 1
        if officials and party.get("investigatorFullName"):
            last = party["investigatorFullName"].split()[-1].lower()
            counts[4] += any(last in o.get("name", "").lower() for o in officials)
            counts[5] += 1
    return {"investigator_org_sponsors": counts[0] / max(counts[1], 1),
            "official_org_sponsors": counts[2] / max(counts[3], 1),
            "party_is_official": counts[4] / max(counts[5], 1)}


def _status_plan(module: dict[str, Any]) -> list[tuple[str, Any, int, int]]:
    """Each status field with what to do to it, dates parsed once per template rather than per study."""
    plan: list[tuple[str, Any, int, int]] = []
    for key, value in module.items():
        if isinstance(value, str) and _is_date(value):
            plan.append((key, value, _ordinal(value), _DATE))
        elif isinstance(value, dict) and isinstance(value.get("date"), str) and _is_date(value["date"]):
            plan.append((key, value, _ordinal(value["date"]), _STRUCT))
        elif key == "expandedAccessInfo" and "nctId" in value:
            plan.append((key, value, 0, _EXPANDED_ACCESS))
        else:
            plan.append((key, value, 0, _KEEP))
    return plan


_KEEP, _DATE, _STRUCT, _EXPANDED_ACCESS = range(4)


def _is_date(value: str) -> bool:
    return len(value) in (7, 10) and value[4] == "-" and value[:4].isdigit()


def _ordinal(value: str) -> int:
    return date.fromisoformat(value if len(value) == 10 else f"{value}-15").toordinal()


def _format(day: int, length: int) -> str:
    """A day as "YYYY-MM-DD", or "YYYY-MM" where the registry gave only the month."""
    return date.fromordinal(day).isoformat()[:length]
