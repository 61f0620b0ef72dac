"""The pages around the resources: the home page (trials, canned queries), the query page, the ontology.

Why: a person arriving at ``kg serve`` should find the trials, run the project's canned
questions with one click, and write their own SPARQL without installing a client. The query
page is a plain form (GET, so a result can be bookmarked and shared); results link every IRI
to its page.

Example:
    >>> b"<textarea" in query_page("SELECT * WHERE { ?s ?p ?o } LIMIT 1", None)
    True
"""

from __future__ import annotations

from urllib.parse import urlencode

from kg.queries import list_queries
from kg.rdf.namespaces import ONTOLOGY
from kg.serve.engine import Boolean, Engine, Result, Solutions, ontology_terms
from kg.serve.html import esc, link, page, resource_link, section, table, term_html, text
from kg.serve.paths import compact
from kg.store.results import Term

TRIALS_PER_PAGE = 100
DEFAULT_QUERY = """PREFIX tkg: <https://w3id.org/trialkg/ontology#>
SELECT ?trial ?title WHERE {
  ?trial a tkg:Trial ; tkg:briefTitle ?title .
}
ORDER BY ?trial
LIMIT 100"""


def home_page(engine: Engine, offset: int = 0) -> bytes:
    prefix = f"PREFIX tkg: <{ONTOLOGY}>\n"
    total_rows = engine.select(prefix + "SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE { ?t a tkg:Trial }").values()
    total = int(total_rows[0][0] or 0) if total_rows else 0
    trials = engine.select(prefix + f"""SELECT ?t (MIN(?id) AS ?nct) (MIN(?bt) AS ?title) WHERE {{
      ?t a tkg:Trial ; tkg:nctId ?id . OPTIONAL {{ ?t tkg:briefTitle ?bt }} }}
      GROUP BY ?t ORDER BY ?nct LIMIT {TRIALS_PER_PAGE} OFFSET {max(0, offset)}""")
    rows = [[term_html(t, nct.value if nct else None), text(title.value if title else None)]
            for t, nct, title in trials.rows]
    pager = []
    if offset > 0:
        pager.append(link(f"/?offset={max(0, offset - TRIALS_PER_PAGE)}", "← previous"))
    if offset + TRIALS_PER_PAGE < total:
        pager.append(link(f"/?offset={offset + TRIALS_PER_PAGE}", "next →"))
    canned = [[link("/sparql?" + urlencode({"query": q.sparql}), q.name), text(q.title), text(q.description)]
              for q in list_queries()]
    body = (
        "<h1>trialkg</h1>"
        f"<p>{total} trials. SPARQL 1.1 endpoint at <code>/sparql</code> (GET or POST; JSON, XML, CSV or TSV "
        "results by <code>Accept</code>). Every resource IRI is a page here, and Turtle, JSON-LD or "
        "N-Triples for programs.</p>"
        + section("Canned questions", table(["query", "question", "about"], canned))
        + section(f"Trials {offset + 1 if rows else 0}–{offset + len(rows)} of {total}",
                  table(["trial", "title"], rows) + "<p>" + " · ".join(pager) + "</p>")
    )
    return page("trialkg", body)


def _result_html(result: Result) -> str:
    if isinstance(result, Boolean):
        return f"<p>Answer: <strong>{'yes' if result.value else 'no'}</strong></p>"
    if isinstance(result, Solutions):
        rows = [[term_html(term) for term in row] for row in result.table.rows]
        count = f'<p class="muted">{len(rows)} row{"s" if len(rows) != 1 else ""}</p>'
        return count + table(result.table.variables, rows)
    rows = [[_ox_term_html(part) for part in (t.subject, t.predicate, t.object)] for t in result.triples]
    return f'<p class="muted">{len(rows)} triples</p>' + table(["subject", "predicate", "object"], rows)


def _ox_term_html(term: object) -> str:
    """A term of a CONSTRUCT result (pyoxigraph objects carry value/datatype/language)."""
    value = str(getattr(term, "value", term))
    kind = type(term).__name__
    if kind == "NamedNode":
        return term_html(Term("uri", value))
    if kind == "BlankNode":
        return term_html(Term("bnode", value))
    datatype = getattr(term, "datatype", None)
    return term_html(Term("literal", value, getattr(datatype, "value", None), getattr(term, "language", None)))


def query_page(query: str | None, result: Result | None, error: str | None = None) -> bytes:
    """The query form, with the results (or the error) of ``query`` below it."""
    formats = "".join(f'<option value="{v}">{esc(label)}</option>' for v, label in (
        ("html", "this page"), ("json", "SPARQL JSON"), ("xml", "SPARQL XML"), ("csv", "CSV"), ("tsv", "TSV"),
        ("ttl", "Turtle (CONSTRUCT)"), ("jsonld", "JSON-LD (CONSTRUCT)")))
    form = (f'<form method="get" action="/sparql"><textarea name="query" rows="12" spellcheck="false">'
            f"{esc(query or DEFAULT_QUERY)}</textarea>"
            f'<p><label>Results as <select name="format">{formats}</select></label> '
            '<button type="submit">Run query</button></p></form>')
    parts = ["<h1>SPARQL query</h1>",
             '<p class="muted">Plain SPARQL 1.1 over the union of all named graphs (use <code>GRAPH ?g</code> '
             "for one record's graph). Read-only; federated <code>SERVICE</code> calls are refused.</p>", form]
    if error:
        parts.append(section("Error", f'<p class="error">{text(error)}</p>'))
    elif result is not None:
        parts.append(section("Results", _result_html(result)))
    return page("SPARQL query", "".join(parts))


def ontology_page() -> bytes:
    terms = ontology_terms()
    rows = []
    for term, kind, label, comment in terms:
        anchor = term[len(ONTOLOGY):] if term.startswith(ONTOLOGY) else ""
        name = f'<span id="{esc(anchor)}">{text(compact(term))}</span>' if anchor else resource_link(term)
        rows.append([name, esc(kind), text(label), text(comment)])
    body = (f"<h1>trialkg ontology</h1><p>{text(ONTOLOGY)} · "
            f"{link('/ontology?format=ttl', 'Turtle')}</p>"
            + table(["term", "kind", "label", "comment"], rows))
    return page("trialkg ontology", body)
