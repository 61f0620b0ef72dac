"""What investigator-author linking reads: from the mention tables, or back from the store.

Three kinds of row, the same from either source (:mod:`kg.resolve.authorship` merges them):

* trial-publication links: (trial IRI, publication IRI, kind), the kind a trial's reference
  type (background, result, derived, reference) or a PubMed record's trial link (databank,
  abstract);
* author places of the linked publications: (publication, authorship, family name, position,
  initials, given names, affiliation), one row per value a record graph states;
* investigators of the linked trials: (trial, person, role, role type, person name,
  affiliation), the affiliation being the role's affiliation text or its site's facility.

Why two sources: the load writes these rows into the mention tables
(:mod:`kg.rdf.mention_rows`), so linking reads nothing back from the store, and a
sync's linking costs DuckDB scans instead of SPARQL joins over the whole store (9 of
the 12 s of linking at 10,000 studies were the author-list join). A store whose tables
do not cover it (built before the tables held these rows) is read by SPARQL, as before.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None)
    >>> _ = build(["examples"], store, resolve=False)
    >>> sorted(row[2] for row in author_rows(store).links())
    ['derived', 'derived']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from kg.rdf.mention_rows import AUTHOR_TABLES
from kg.rdf.namespaces import ONTOLOGY
from kg.store.base import Store
from kg.store.mention_tables import MentionTables, mention_tables, sql_string

__all__ = ["AuthorRows", "StoreAuthorRows", "TableAuthorRows", "author_rows"]

Row = tuple[Any, ...]

_PREFIX = f"PREFIX tkg: <{ONTOLOGY}>\n"
_TRIAL_LINKS = """
  { VALUES (?relation ?kind) { (tkg:backgroundReference "background") (tkg:resultReference "result")
      (tkg:derivedReference "derived") (tkg:hasReference "reference") }
    ?t ?relation ?pub . }
  UNION
  { VALUES (?relation ?kind) { (tkg:databankTrial "databank") (tkg:abstractTrial "abstract") }
    ?pub ?relation ?t . }
"""
PAIRS_QUERY = _PREFIX + f"SELECT DISTINCT ?t ?pub ?kind WHERE {{ {_TRIAL_LINKS} }}"
# Each record graph restates the shared nodes it mentions (a publication cited by 1,000 trials
# has its author list in 1,000 graphs), and a union default graph does not deduplicate them
# (Oxigraph's does not), so joining several patterns over the union multiplies rows by the
# number of graphs per pattern. Matching inside GRAPH ?g keeps the work linear; DISTINCT and
# the grouping in Python merge what several graphs state.
AUTHORS_QUERY = _PREFIX + f"""
SELECT DISTINCT ?pub ?authorship ?family ?position ?initials ?given ?affiliation
WHERE {{
  {{ SELECT DISTINCT ?pub WHERE {{ {_TRIAL_LINKS} }} }}
  GRAPH ?g {{
    ?pub tkg:hasAuthorship ?authorship .
    ?authorship tkg:familyName ?family .
    OPTIONAL {{ ?authorship tkg:position ?position }}
    OPTIONAL {{ ?authorship tkg:initials ?initials }}
    OPTIONAL {{ ?authorship tkg:givenName ?given }}
    OPTIONAL {{ ?authorship tkg:authorAffiliation ?affiliation }}
  }}
}}
"""
INVESTIGATORS_QUERY = _PREFIX + f"""
SELECT DISTINCT ?t ?person ?role ?roleType ?name ?affiliation
WHERE {{
  {{ SELECT DISTINCT ?t WHERE {{ {_TRIAL_LINKS} }} }}
  GRAPH ?g {{
    ?t tkg:hasRole ?role .
    ?role tkg:agent ?person ; tkg:roleType ?roleType .
    OPTIONAL {{ ?person tkg:name ?name }}
    OPTIONAL {{ {{ ?role tkg:affiliationText ?affiliation }}
               UNION {{ ?role tkg:atSite/tkg:facilityName ?affiliation }} }}
  }}
}}
"""

# The same three reads over the mention tables. A role's trial is the trial of its record
# graph; its person's name and its site's facility are the ones that graph states; its type
# is the ontology term, as the store gives it.
_LINKS_SQL = "SELECT DISTINCT trial, publication, kind FROM publication_links"
_AUTHORS_SQL = """
SELECT DISTINCT publication, authorship, family, position, initials, given, affiliation
FROM authorships WHERE publication IN (SELECT publication FROM publication_links)"""
_INVESTIGATORS_SQL = f"""
WITH linked AS (
  SELECT t.graph, t.trial FROM trials t WHERE t.trial IN (SELECT trial FROM publication_links)),
held AS (
  SELECT r.graph, linked.trial, r.agent, r.role, {sql_string(ONTOLOGY)} || r.role_type AS role_type,
         r.affiliation_text, r.site
  FROM roles r JOIN linked USING (graph) WHERE r.agent IS NOT NULL AND r.role_type IS NOT NULL),
named AS (
  SELECT held.*, p.name FROM held LEFT JOIN persons p ON p.graph = held.graph AND p.person = held.agent)
SELECT DISTINCT trial, agent, role, role_type, name, affiliation_text FROM named
UNION
SELECT DISTINCT n.trial, n.agent, n.role, n.role_type, n.name, s.facility FROM named n
  JOIN sites s ON s.graph = n.graph AND s.site = n.site WHERE s.facility IS NOT NULL"""


class AuthorRows(Protocol):
    """Where linking reads its three kinds of row; ``source`` names it in the report."""

    source: str

    def links(self) -> Iterator[Row]: ...

    def authors(self) -> Iterator[Row]: ...

    def investigators(self) -> Iterator[Row]: ...


class StoreAuthorRows:
    """The rows read back from the store by SPARQL (a store without complete mention tables)."""

    source = "store"

    def __init__(self, store: Store) -> None:
        self.store = store

    def links(self) -> Iterator[Row]:
        return iter(self.store.select(PAIRS_QUERY).values())

    def authors(self) -> Iterator[Row]:
        return iter(self.store.select(AUTHORS_QUERY).values())

    def investigators(self) -> Iterator[Row]:
        return iter(self.store.select(INVESTIGATORS_QUERY).values())


class TableAuthorRows:
    """The rows from the mention tables the load wrote: nothing read back from the store."""

    source = "tables"

    def __init__(self, tables: MentionTables) -> None:
        self.tables = tables

    def links(self) -> Iterator[Row]:
        return self.tables.iter_query(_LINKS_SQL)

    def authors(self) -> Iterator[Row]:
        return self.tables.iter_query(_AUTHORS_SQL)

    def investigators(self) -> Iterator[Row]:
        return self.tables.iter_query(_INVESTIGATORS_SQL)


def author_rows(store: Store) -> StoreAuthorRows | TableAuthorRows:
    """The store's mention tables when the load wrote them for every record; else the store itself."""
    tables = mention_tables(store)
    return TableAuthorRows(tables) if tables.covers(AUTHOR_TABLES) else StoreAuthorRows(store)
