"""Data-quality findings as N-Quads in the trial's record graph.

Why at build time and not by SPARQL: the checks need what SPARQL cannot compare portably
(dates of mixed precision, xsd:gYearMonth against xsd:date, which rdflib and Oxigraph treat
differently) and the constraints parsed from the criteria text; emitted with the record,
the findings are replaced when the record is, and ``queries/data-quality.rq`` only looks
them up, on any engine, at any scale.

Example:
    >>> from kg.model import Enrollment, Trial
    >>> lines = quality_lines(Trial(nct_id="NCT1", overall_status="COMPLETED", enrollment=Enrollment(0)),
    ...                       "<https://clinicaltrials.gov/study/NCT1>", "<https://example.org/g>")
    >>> any('"zero-enrollment-completed"' in line for line in lines)
    True
"""

from __future__ import annotations

from kg.model import Trial
from kg.rdf import iris
from kg.rdf.namespaces import LABEL, TKG, A
from kg.rdf.terms import iri, literal
from kg.resolve.quality import find_issues


def quality_lines(trial: Trial, subject: str, graph: str) -> list[str]:
    """N-Quads for every finding about ``trial`` (``subject`` and ``graph`` are encoded IRIs)."""
    lines: list[str] = []
    for finding in find_issues(trial):
        node = iri(iris.resource("finding", trial.nct_id, finding.code))
        lines += [
            f"{subject} {TKG.hasFinding} {node} {graph} .\n",
            f"{node} {A} {TKG.DataQualityFinding} {graph} .\n",
            f"{node} {TKG.findingType} {literal(finding.code)} {graph} .\n",
            f"{node} {TKG.severity} {literal(finding.severity)} {graph} .\n",
            f"{node} {TKG.findingMessage} {literal(finding.message)} {graph} .\n",
            f"{node} {LABEL} {literal(finding.message)} {graph} .\n",
        ]
        if finding.stated:
            lines.append(f"{node} {TKG.statedValue} {literal(finding.stated)} {graph} .\n")
        if finding.structured:
            lines.append(f"{node} {TKG.structuredValue} {literal(finding.structured)} {graph} .\n")
    return lines
