"""Structured constraints of a criterion as N-Quads, beside the criterion in its record graph.

Emitted at build time with the criterion (not by a later pass) because a constraint is a
fact of one record: re-loading the record replaces its constraints with it, and a query
can filter on bounds without any resolution having run.

Each constraint is a node under its criterion (``.../criterion/NCT.../exc/<hash>/c1``)
with the variable (a shared ``tkg:ClinicalVariable`` node keyed by its code), comparator,
value and unit as stated, and the value in the variable's canonical unit when known.

Example:
    >>> bmi = Constraint("bmi", ">", 35.0, "kg/m2", 35.0, "kg/m2", "bmi > 35 kg/m2", "body mass index")
    >>> lines = constraint_lines("<https://example.org/c>", (bmi,), "<https://example.org/g>")
    >>> [line.split()[1].rsplit("#", 1)[-1] for line in lines][:3]
    ['hasConstraint>', 'type>', 'constrainedVariable>']
"""

from __future__ import annotations

from kg.model import Constraint
from kg.rdf import iris
from kg.rdf.namespaces import LABEL, TKG, A
from kg.rdf.terms import decimal, iri, literal


def _label(constraint: Constraint) -> str:
    """A readable statement of the bound: "bmi > 35 kg/m2", "platelets < 100000/l"."""
    unit = constraint.unit or ""
    if unit and not unit.startswith(("/", "%")):
        unit = " " + unit
    return f"{constraint.variable} {constraint.comparator} {constraint.value:g}{unit}"


def constraint_lines(criterion: str, constraints: tuple[Constraint, ...], graph: str) -> list[str]:
    """N-Quads for the constraints a criterion states (``criterion`` and ``graph`` are encoded IRIs)."""
    lines: list[str] = []
    for position, constraint in enumerate(constraints, start=1):
        node = f"{criterion[:-1]}/c{position}>"
        variable = iri(iris.resource("variable", constraint.variable))
        lines += [
            f"{criterion} {TKG.hasConstraint} {node} {graph} .\n",
            f"{node} {A} {TKG.Constraint} {graph} .\n",
            f"{node} {TKG.constrainedVariable} {variable} {graph} .\n",
            f"{node} {TKG.comparator} {literal(constraint.comparator)} {graph} .\n",
            f"{node} {TKG.constraintValue} {decimal(constraint.value)} {graph} .\n",
            f"{node} {LABEL} {literal(_label(constraint))} {graph} .\n",
            f"{variable} {A} {TKG.ClinicalVariable} {graph} .\n",
            f"{variable} {TKG.variableCode} {literal(constraint.variable)} {graph} .\n",
            f"{variable} {LABEL} {literal(constraint.variable_label)} {graph} .\n",
        ]
        if constraint.unit:
            lines.append(f"{node} {TKG.constraintUnit} {literal(constraint.unit)} {graph} .\n")
        if constraint.normalized_value is not None:
            lines.append(f"{node} {TKG.normalizedValue} {decimal(constraint.normalized_value)} {graph} .\n")
            if constraint.normalized_unit:
                lines.append(f"{node} {TKG.normalizedUnit} {literal(constraint.normalized_unit)} {graph} .\n")
    return lines
