"""Projections of the RDF graph onto networkx graphs, registered by name.

Why projections: network questions ("which trials cluster together", "who is central among
investigators", "which sponsors share sites") are asked of one-mode or two-mode graphs derived
from the knowledge graph. Each projection is one registered builder; the store does the
grouping and counting (:mod:`kg.analyze.sparql`, :mod:`kg.analyze.pairs`), and a builder only
assembles nodes and edges with readable attributes.

Nodes are keyed by IRI and carry ``label`` and ``type`` (trial, person, sponsor, site,
condition) plus what describes them (status, phase, country...); edges carry ``weight``,
``kinds`` (``;``-joined) and one count per kind. Nodes and edges are added in sorted order, so
two runs give the same graph and the same exports.

Example:
    >>> from kg import build, open_store
    >>> store = open_store(None); _ = build(["examples"], store)
    >>> graph = project(store, "trial-trial")
    >>> edge = graph.edges["https://clinicaltrials.gov/study/NCT01374854",
    ...                    "https://clinicaltrials.gov/study/NCT01719640"]
    >>> edge["shared_pi"], edge["shared_exclusion"]
    (1, 27)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx

from kg.analyze import sparql
from kg.analyze.pairs import Edges, shared_edges
from kg.errors import KGError
from kg.store.base import Store

# Things shared by more than this many nodes make no edges (see kg.analyze.sparql). 50 keeps
# every shared thing of the sample data (its most shared: "placebo", in 31 trials) and keeps the
# projection of a 100,000-study registry small enough for networkx to analyse in seconds.
DEFAULT_MAX_SHARED = 50

Nodes = dict[str, dict[str, object]]


@dataclass(frozen=True, slots=True)
class ProjectionOptions:
    """``max_shared``: hub cap (None: no cap); ``min_weight``: leave out lighter edges."""

    max_shared: int | None = DEFAULT_MAX_SHARED
    min_weight: int = 1


Builder = Callable[[Store, ProjectionOptions], nx.Graph]


@dataclass(frozen=True, slots=True)
class Projection:
    name: str
    description: str
    builder: Builder


PROJECTIONS: dict[str, Projection] = {}


def register_projection(name: str, description: str) -> Callable[[Builder], Builder]:
    """Decorator adding a builder to :data:`PROJECTIONS` under ``name``."""

    def add(builder: Builder) -> Builder:
        PROJECTIONS[name] = Projection(name, description, builder)
        return builder

    return add


def get_projection(name: str) -> Projection:
    try:
        return PROJECTIONS[name]
    except KeyError:
        raise KGError(f"no projection {name!r} (known: {', '.join(sorted(PROJECTIONS))})") from None


def project(store: Store, name: str, *, max_shared: int | None = DEFAULT_MAX_SHARED, min_weight: int = 1) -> nx.Graph:
    """The projection ``name`` of the store as a networkx Graph (see :data:`PROJECTIONS`)."""
    if max_shared is not None and max_shared < 2:
        raise KGError("max_shared must be at least 2 (or None for no cap)")
    options = ProjectionOptions(max_shared=max_shared, min_weight=max(1, min_weight))
    graph = get_projection(name).builder(store, options)
    graph.graph.update(projection=name, max_shared=max_shared if max_shared is not None else 0,
                       min_weight=options.min_weight)
    return graph


# --- reading attributes ------------------------------------------------------------------------

def _values(store: Store, query: str) -> dict[str, list[str]]:
    """``?n ?v`` rows as node -> sorted distinct values."""
    values: dict[str, set[str]] = {}
    for node, value in store.select(query).values():
        if node is not None and value:
            values.setdefault(node, set()).add(value)
    return {node: sorted(found) for node, found in values.items()}


def _first(store: Store, query: str) -> dict[str, str]:
    """One value per node: the smallest, so that the choice is stable."""
    return {node: found[0] for node, found in _values(store, query).items()}


def _local_name(node: str) -> str:
    return node.rstrip("/").rsplit("/", 1)[-1]


def _set(nodes: Nodes, name: str, values: dict[str, object]) -> None:
    for node, value in values.items():
        if node in nodes:
            nodes[node][name] = value


def _resolved(store: Store) -> bool:
    """Whether `kg resolve` has run: then links go through canonical entities."""
    return store.has_graph(sparql.RESOLUTION_GRAPH)


def _trial_nodes(store: Store, resolved: bool) -> Nodes:
    nodes: Nodes = {node: {"label": nct, "type": "trial"} for node, nct in _first(store, sparql.TRIAL_ID).items()}
    for name, query in sparql.TRIAL_VALUES.items():
        found = _values(store, query)
        if name == "phase":
            _set(nodes, name, {node: "/".join(phases) for node, phases in found.items()})
        elif name == "enrollment":
            _set(nodes, name, {node: int(float(values[0])) for node, values in found.items()})
        else:
            _set(nodes, name, {node: values[0] for node, values in found.items()})
    names = _first(store, sparql.NAMES)
    _set(nodes, "sponsor", {node: names[org] for node, org in _first(store, sparql.TRIAL_SPONSOR[resolved]).items() if org in names})
    countries = _first(store, sparql.COUNTRIES)
    for node, sites in _values(store, sparql.TRIAL_SITES[resolved]).items():
        if node not in nodes:
            continue
        nodes[node]["sites"] = len(sites)
        ranked = Counter(countries[site] for site in sites if site in countries).most_common()
        if ranked:  # the country with most of the trial's sites (ties: alphabetical)
            nodes[node]["country"] = min(ranked, key=lambda item: (-item[1], item[0]))[0]
            nodes[node]["countries"] = len(ranked)
    return nodes


def _graph(nodes: Nodes, edges: Edges) -> nx.Graph:
    graph = nx.Graph()
    for node in sorted(nodes):
        graph.add_node(node, **nodes[node])
    for a, b in sorted(edges):
        for end in (a, b):
            if end not in graph:  # an end the attribute queries did not describe: still a node
                graph.add_node(end, label=_local_name(end), type="unknown")
        graph.add_edge(a, b, **edges[(a, b)])
    return graph


def _endpoints(nodes: Nodes, edges: Edges) -> Nodes:
    """Only the nodes that some edge touches (a two-mode projection has no isolated nodes)."""
    touched = {end for pair in edges for end in pair}
    return {node: attributes for node, attributes in nodes.items() if node in touched}


def _two_mode_edges(left: dict[str, list[str]], right: dict[str, list[str]], min_weight: int,
                    kind: str) -> Edges:
    """Bipartite edges between the things ``left`` and ``right`` attach to the same key (trial),
    weighted by the number of keys."""
    counts: Counter[tuple[str, str]] = Counter()
    for key, ends in left.items():
        for end in ends:
            counts.update((end, other) for other in right.get(key, ()))
    return {(a, b) if a < b else (b, a): {"weight": n, "trials": n, "kinds": kind}
            for (a, b), n in counts.items() if n >= min_weight}


# --- the projections ---------------------------------------------------------------------------

@register_projection("trial-trial", "trials linked when they share principal investigators, sites, sponsors, "
                     "exclusion criteria or interventions (one count per kind; weight = their sum)")
def trial_trial(store: Store, options: ProjectionOptions) -> nx.Graph:
    resolved = _resolved(store)
    nodes = _trial_nodes(store, resolved)
    exclusion = {node: int(count) for node, count in
                 store.select(sparql.count_query(sparql.LINKS["exclusion_criteria"], resolved)).values()
                 if node and count}
    _set(nodes, "exclusion_criteria", dict(exclusion))
    edges = shared_edges(store, list(sparql.LINKS.values()), options.max_shared, options.min_weight,
                         resolved=resolved)
    for (a, b), attributes in edges.items():
        # Jaccard of the two trials' exclusion-criterion sets. Concepts above the hub cap count
        # in the sets but not in the intersection: a lower bound when a cap applies.
        shared = int(str(attributes["shared_exclusion"]))
        union = exclusion.get(a, 0) + exclusion.get(b, 0) - shared
        attributes["exclusion_jaccard"] = round(shared / union, 6) if shared and union > 0 else 0.0
    return _graph(nodes, edges)


@register_projection("investigators", "people linked when they hold roles in the same trial (any role) or, when "
                     "publications with authors are loaded, co-author a publication")
def investigators(store: Store, options: ProjectionOptions) -> nx.Graph:
    resolved = _resolved(store)
    trials = _values(store, sparql.ROLE_AGENTS[resolved])
    pi_trials = _values(store, sparql.PI_AGENTS[resolved])
    has_authors = bool(store.select(sparql.HAS_AUTHOR_LINKS).rows)
    authored = _values(store, sparql.AUTHORED) if has_authors else {}
    names = _first(store, sparql.NAMES)
    nodes: Nodes = {}
    for person in sorted(set(trials) | set(authored)):
        nodes[person] = {"label": names.get(person, _local_name(person)), "type": "person",
                         "trials": len(trials.get(person, ())), "pi_trials": len(pi_trials.get(person, ())),
                         "publications": len(authored.get(person, ()))}
    skip = frozenset() if has_authors else frozenset({"publication"})
    edges = shared_edges(store, list(sparql.PERSON_LINKS.values()), options.max_shared, options.min_weight, skip,
                         resolved)
    return _graph(nodes, edges)


@register_projection("sponsor-site", "two-mode: sponsors and collaborators linked to the sites of their trials "
                     "(weight = number of trials)")
def sponsor_site(store: Store, options: ProjectionOptions) -> nx.Graph:
    resolved = _resolved(store)
    funders = _values(store, sparql.TRIAL_FUNDERS[resolved])
    sites = _values(store, sparql.TRIAL_SITES[resolved])
    edges = _two_mode_edges(funders, sites, options.min_weight, "sponsor_site")
    names, classes = _first(store, sparql.NAMES), _first(store, sparql.AGENCY_CLASSES)
    facilities, cities, countries = (_first(store, query) for query in (sparql.FACILITIES, sparql.CITIES,
                                                                        sparql.COUNTRIES))
    sponsor_trials: Counter[str] = Counter(org for trial, orgs in funders.items() if trial in sites for org in orgs)
    site_trials: Counter[str] = Counter(site for trial, found in sites.items() if trial in funders for site in found)
    nodes: Nodes = {}
    for org, count in sponsor_trials.items():
        nodes[org] = {"label": names.get(org, _local_name(org)), "type": "sponsor", "trials": count}
        if org in classes:
            nodes[org]["agency_class"] = classes[org]
    for site, count in site_trials.items():
        nodes[site] = {"label": facilities.get(site, _local_name(site)), "type": "site", "trials": count}
        for name, source in (("city", cities), ("country", countries)):
            if site in source:
                nodes[site][name] = source[site]
    return _graph(_endpoints(nodes, edges), edges)


@register_projection("trial-condition", "two-mode: trials linked to the conditions they study")
def trial_condition(store: Store, options: ProjectionOptions) -> nx.Graph:
    conditions = _values(store, sparql.TRIAL_CONDITIONS) if options.min_weight <= 1 else {}
    edges: Edges = {}
    for trial, found in conditions.items():
        for condition in found:
            edges[(trial, condition) if trial < condition else (condition, trial)] = {"weight": 1,
                                                                                       "kinds": "condition"}
    nodes = _trial_nodes(store, _resolved(store))
    labels = _first(store, sparql.LABELS)
    trial_counts: Counter[str] = Counter(condition for found in conditions.values() for condition in found)
    for condition, count in trial_counts.items():
        nodes[condition] = {"label": labels.get(condition, _local_name(condition)), "type": "condition",
                            "trials": count}
    return _graph(_endpoints(nodes, edges), edges)
