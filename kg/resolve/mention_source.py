"""Resolution's mentions from the mention tables the load wrote (:mod:`kg.store.mention_tables`).

The same records as :class:`kg.resolve.mentions.StoreMentions` gives, with the same rules
(each node's smallest value of each property over every record graph that states it; a
role without a type or name, or a site without a facility, is no mention), computed in
DuckDB by GROUP BY instead of SPARQL scans joined in Python dicts: nothing is read back
from the store. Results are sorted in Python, by code point, as the store reader sorts.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None)
    >>> _ = build(["examples"], store, resolve=False)
    >>> sorted({r.name for r in TableMentions.of(store).roles(TableMentions.of(store).ncts())})
    ['Jianming Tan', 'Jianming Tan, professor']
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Container, Iterator

from kg.rdf.mention_rows import RESOLUTION_TABLES
from kg.resolve.mentions import RoleMention, StoreMentions, SurfaceSite, role_mention, surface_site
from kg.store.base import Store
from kg.store.mention_tables import MentionTables, mention_tables

__all__ = ["TableMentions", "mention_source"]


class TableMentions:
    """Mentions read from the mention tables of a store."""

    def __init__(self, tables: MentionTables) -> None:
        self.tables = tables

    @classmethod
    def of(cls, store: Store) -> TableMentions:
        return cls(mention_tables(store))

    def ncts(self) -> dict[str, str]:
        rows = self.tables.iter_query("SELECT trial, min(nct) FROM trials WHERE nct IS NOT NULL GROUP BY trial")
        return {trial: sys.intern(nct) for trial, nct in rows}  # the NCT ids other readers give are these strings

    def organizations(self) -> dict[str, str]:
        rows = self.tables.iter_query("SELECT org, min(name) FROM organizations WHERE name IS NOT NULL GROUP BY org")
        return dict(sorted(rows))

    def sponsors(self, ncts: dict[str, str]) -> dict[str, set[str]]:
        known = set(ncts.values())
        out: dict[str, set[str]] = defaultdict(set)
        for nct, org in self.tables.iter_query("SELECT DISTINCT nct, org FROM sponsors"):
            if nct in known:
                out[sys.intern(nct)].add(sys.intern(org))
        return out

    def affiliations(self) -> dict[str, str]:
        rows = self.tables.iter_query(
            "SELECT role, min(affiliation_org) FROM roles WHERE affiliation_org IS NOT NULL GROUP BY role")
        return {sys.intern(role): sys.intern(org) for role, org in rows}

    def roles(self, ncts: dict[str, str]) -> list[RoleMention]:
        known = set(ncts.values())
        rows = self.tables.iter_query(
            "SELECT role, min(nct), min(role_type), min(name), min(affiliation_text), min(site), min(agent) "
            "FROM roles GROUP BY role HAVING min(role_type) IS NOT NULL AND min(name) IS NOT NULL")
        return sorted((role_mention(*row) for row in rows if row[1] in known), key=lambda m: m.role)

    def site_places(self) -> dict[str, SurfaceSite]:
        """Every surface site with a facility name, by IRI (sorted): one record per node, not per trial."""
        rows = self.tables.iter_query("""
            SELECT site, min(facility), min(city), min(state), min(country), min(lat), min(lon)
            FROM sites GROUP BY site HAVING min(facility) IS NOT NULL ORDER BY site""")
        return {row[0]: surface_site(*row) for row in rows}

    def site_pairs(self, ncts: dict[str, str], places: Container[str]) -> Iterator[tuple[str, str, str]]:
        """(trial IRI, NCT id, site IRI) of every trial listing a site of ``places``, sorted, streamed."""
        known = set(ncts.values())
        rows = self.tables.iter_query("SELECT DISTINCT trial, nct, site FROM sites ORDER BY trial, nct, site")
        return (row for row in rows if row[1] in known and row[2] in places)

    def concepts(self) -> Iterator[tuple[str, str]]:
        """(IRI, normalised text) of each criterion concept, sorted by IRI, streamed: millions at registry scale.

        DuckDB orders VARCHAR byte by byte, which for UTF-8 is Python's code-point order.
        """
        return self.tables.iter_query(
            "SELECT concept, min(norm) FROM concepts WHERE norm IS NOT NULL GROUP BY concept ORDER BY concept")


    def exclusions(self, ncts: dict[str, str]) -> Iterator[tuple[str, str]]:
        """(NCT id, criterion concept IRI) of each trial's exclusion criteria, once each, streamed (not sorted)."""
        known = set(ncts.values())
        rows = self.tables.iter_query("SELECT DISTINCT nct, concept FROM exclusions")
        return ((nct, concept) for nct, concept in rows if nct in known)


def mention_source(store: Store) -> TableMentions | StoreMentions:
    """The store's mention tables when the load wrote them for every record; else the store itself."""
    tables = mention_tables(store)
    return TableMentions(tables) if tables.covers(RESOLUTION_TABLES) else StoreMentions(store)
