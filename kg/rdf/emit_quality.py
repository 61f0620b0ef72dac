"""Data-quality findings as N-Quads in the trial's record graph.

Why at build time and not by SPARQL: the checks need what SPARQL cannot compare portably
(dates of mixed precision, xsd:gYearMonth against xsd:date, which rdflib and Oxigraph treat
differently) and the constraints parsed from the criteria text; emitted with the record,
the findings are replaced when the record is, and ``queries/data-quality.rq`` only looks
them up, on any engine, at any scale.

Example:
    >>> finding = Finding("zero-enrollment-completed", "warning", "Completed with an enrollment of 0.")
    >>> lines = quality_lines("NCT1", (finding,), "<https://clinicaltrials.gov/study/NCT1>", "<https://example.org/g>")
    >>> any('"zero-enrollment-completed"' in line for line in lines)
    True
"""

from __future__ import annotations

from kg.model import Finding
from kg.rdf import iris
from kg.rdf.namespaces import LABEL, TKG, A
from kg.rdf.terms import iri, literal


def quality_lines(nct_id: str, findings: tuple[Finding, ...], subject: str, graph: str) -> list[str]:
    """N-Quads for the findings of one trial (``subject`` and ``graph`` are encoded IRIs)."""
    lines: list[str] = []
    for finding in findings:
        node = iri(iris.resource("finding", nct_id, finding.code))
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
