"""Markdown escapes out of a record's free text: the one rule (:func:`kg.rules.eligibility.unescape_markdown`).

ClinicalTrials.gov writes its free-text fields as markdown, so API v2 JSON and the CSV download
carry ``\\>=50%``, ``Male \\& Female``, ``\\(n=20\\)`` where the record means ``>=50%``, ``Male &
Female``, ``(n=20)``. The graph states what the record means. The eligibility block itself stays
as given (``Eligibility.text``, for audit): the splitter reads its markup and unescapes each
criterion.

Example:
    >>> from kg.model import Arm, Trial
    >>> unescape_record(Trial(nct_id="NCT00000001", arms=(Arm("A", description="\\\\>= 2 mg"),))).arms[0].description
    '>= 2 mg'
"""

from __future__ import annotations

from dataclasses import replace

from kg.model import Arm, Intervention, Outcome, Trial
from kg.rules.eligibility import unescape_markdown


def _plain(text: str | None) -> str | None:
    return unescape_markdown(text) if text else text


def _arm(arm: Arm) -> Arm:
    return replace(arm, description=_plain(arm.description))


def _intervention(intervention: Intervention) -> Intervention:
    return replace(intervention, description=_plain(intervention.description))


def _outcome(outcome: Outcome) -> Outcome:
    return replace(outcome, measure=unescape_markdown(outcome.measure), time_frame=_plain(outcome.time_frame),
                   description=_plain(outcome.description))


def unescape_record(trial: Trial) -> Trial:
    """The trial with the markdown escapes of its free-text fields removed (summaries, descriptions,
    why stopped, arms, interventions, outcomes); names, titles and codes are not markdown."""
    return replace(
        trial,
        brief_summary=_plain(trial.brief_summary),
        detailed_description=_plain(trial.detailed_description),
        why_stopped=_plain(trial.why_stopped),
        arms=tuple(map(_arm, trial.arms)),
        interventions=tuple(map(_intervention, trial.interventions)),
        outcomes=tuple(map(_outcome, trial.outcomes)),
    )
