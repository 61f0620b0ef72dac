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
    (1, 31)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import networkx as nx

from kg.analyze import sparql
from kg.analyze.pairs import Edges, member_lists, merge_counts, pair_counts, shared_counts, weight_threshold
from kg.errors import KGError
from kg.store.base import Store

# Things shared by more than this many nodes make no edges (see kg.analyze.sparql). 50 keeps
# every shared thing of the sample data (its most shared: "placebo", in 31 trials).
DEFAULT_MAX_SHARED = 50
# Keep at most this many edges, the heaviest (see kg.analyze.pairs.weight_threshold): networkx
# runs Louvain and sampled betweenness on 200,000 edges in well under a minute; on a
# 20,000-study synthetic store, 468,000 trial pairs took it 90 s.
DEFAULT_MAX_EDGES = 200_000

Nodes = dict[str, dict[str, object]]


@dataclass(frozen=True, slots=True)
class ProjectionOptions:
    """``max_shared``: hub cap; ``min_weight``: leave out lighter edges; ``max_edges``: keep the
    heaviest edges within this budget by raising the weight threshold (None: no cap or budget)."""

    max_shared: int | None = DEFAULT_MAX_SHARED
    min_weight: int = 1
    max_edges: int | None = DEFAULT_MAX_EDGES


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


def project(store: Store, name: str, *, max_shared: int | None = DEFAULT_MAX_SHARED, min_weight: int = 1,
            max_edges: int | None = DEFAULT_MAX_EDGES) -> nx.Graph:
    """The projection ``name`` of the store as a networkx Graph (see :data:`PROJECTIONS`).

    ``graph.graph`` records how it was made: ``projection``, ``max_shared`` (0: no cap),
    ``max_edges`` (0: no budget) and ``min_weight``, the weight threshold actually applied.
    """
    if max_shared is not None and max_shared < 2:
        raise KGError("max_shared must be at least 2 (or None for no cap)")
    if max_edges is not None and max_edges < 1:
        raise KGError("max_edges must be at least 1 (or None for no budget)")
    options = ProjectionOptions(max_shared=max_shared, min_weight=max(1, min_weight), max_edges=max_edges)
    graph = get_projection(name).builder(store, options)
    graph.graph.setdefault("min_weight", options.min_weight)
    graph.graph.update(projection=name, max_shared=max_shared or 0, max_edges=max_edges or 0)
    return graph


# --- reading attributes ------------------------------------------------------------------------

def _values(store: Store, query: str) -> dict[str, list[str]]:
    """``?n ?v`` rows as node -> sorted distinct values."""
    values: dict[str, set[str]] = {}
    for node, value in sparql.rows(store, query):
        if node is not None and value:
            values.setdefault(node, set()).add(value)
    return {node: sorted(found) for node, found in values.items()}


def _first(store: Store, query: str) -> dict[str, str]:
    """One value per node: the smallest, so that the choice is stable."""
    return {node: found[0] for node, found in _values(store, query).items()}


def describe(store: Store, nodes: Iterable[str], predicates: list[str]) -> dict[str, dict[str, str]]:
    """node -> {predicate IRI: smallest value}, looked up in batches."""
    wanted = sorted(set(nodes))
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(wanted), sparql.DESCRIBE_BATCH):
        query = sparql.describe_query(wanted[start:start + sparql.DESCRIBE_BATCH], predicates)
        for node, predicate, value in sparql.rows(store, query):
            if node is None or predicate is None or not value:
                continue
            current = found.setdefault(node, {}).get(predicate)
            if current is None or value < current:
                found[node][predicate] = value
    return found


def _local_name(node: str) -> str:
    return node.rstrip("/").rsplit("/", 1)[-1]


def _set(nodes: Nodes, name: str, values: dict[str, object]) -> None:
    for node, value in values.items():
        if node in nodes:
            nodes[node][name] = value


def is_resolved(store: Store) -> bool:
    """Whether `kg resolve` has run: then links go through canonical entities."""
    return store.has_graph(sparql.RESOLUTION_GRAPH)


def trial_nodes(store: Store, resolved: bool, sites: dict[str, list[str]] | None = None) -> Nodes:
    """Every trial with its attributes; ``sites`` (trial -> site IRIs) when the caller has read them."""
    nodes: Nodes = {node: {"label": nct, "type": "trial"} for node, nct in _first(store, sparql.TRIAL_ID).items()}
    for name, query in sparql.TRIAL_VALUES.items():
        found = _values(store, query)
        if name == "phase":
            _set(nodes, name, {node: "/".join(phases) for node, phases in found.items()})
        elif name == "enrollment":
            _set(nodes, name, {node: int(float(values[0])) for node, values in found.items()})
        else:
            _set(nodes, name, {node: values[0] for node, values in found.items()})
    sponsors = _first(store, sparql.TRIAL_SPONSOR[resolved])
    names = describe(store, sponsors.values(), [sparql.NAME])
    _set(nodes, "sponsor", {node: names[org][sparql.NAME] for node, org in sponsors.items() if org in names})
    countries = _first(store, sparql.COUNTRIES)
    for node, at in (sites if sites is not None else _values(store, sparql.TRIAL_SITES[resolved])).items():
        if node not in nodes:
            continue
        nodes[node]["sites"] = len(at)
        ranked = Counter(countries[site] for site in at if site in countries).most_common()
        if ranked:  # the country with most of the trial's sites (ties: alphabetical)
            nodes[node]["country"] = min(ranked, key=lambda item: (-item[1], item[0]))[0]
            nodes[node]["countries"] = len(ranked)
    return nodes


def make_graph(nodes: Nodes, edges: Edges, min_weight: int = 1) -> nx.Graph:
    graph = nx.Graph(min_weight=min_weight)
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


def _two_mode_edges(left: dict[str, list[str]], right: dict[str, list[str]], options: ProjectionOptions,
                    kind: str) -> tuple[Edges, int]:
    """Bipartite edges between the things ``left`` and ``right`` attach to the same key (trial),
    weighted by the number of keys; and the weight threshold applied."""
    counts: Counter[tuple[str, str]] = Counter()
    for key, ends in left.items():
        for end in ends:
            counts.update((end, other) for other in right.get(key, ()))
    threshold = weight_threshold(counts.values(), options.min_weight, options.max_edges)
    edges: Edges = {(a, b) if a < b else (b, a): {"weight": n, "trials": n, "kinds": kind}
                    for (a, b), n in counts.items() if n >= threshold}
    return edges, threshold


# --- the projections ---------------------------------------------------------------------------

@register_projection("trial-trial", "trials linked when they share principal investigators, sites, sponsors, "
                     "exclusion criteria or interventions (one count per kind; weight = their sum)")
def trial_trial(store: Store, options: ProjectionOptions) -> nx.Graph:
    resolved = is_resolved(store)
    per_kind = []
    exclusion: Counter[str] = Counter()
    sites: dict[str, list[str]] = {}
    for link in sparql.LINKS.values():
        if link.kind in ("exclusion_criteria", "site"):
            # Every thing, singletons too: one pass gives the shared pairs and, per trial, its
            # number of exclusion criteria (for the Jaccard index) or its sites (for its country).
            lists = list(member_lists(store, link, None, resolved, min_members=1))
            for thing, members in lists:
                for trial in members:
                    if link.kind == "site":
                        sites.setdefault(trial, []).append(thing)
                    else:
                        exclusion[trial] += 1
            per_kind.append(pair_counts((m for _, m in lists if len(m) > 1), options.max_shared))
        else:
            per_kind.append(shared_counts(store, link, options.max_shared, resolved))
    nodes = trial_nodes(store, resolved, sites)
    _set(nodes, "exclusion_criteria", dict(exclusion))
    edges, threshold = merge_counts(list(sparql.LINKS.values()), per_kind, options.min_weight, options.max_edges)
    for (a, b), attributes in edges.items():
        # Jaccard of the two trials' exclusion-criterion sets. Concepts above the hub cap count
        # in the sets but not in the intersection: a lower bound when a cap applies.
        shared = int(str(attributes["shared_exclusion"]))
        union = exclusion.get(a, 0) + exclusion.get(b, 0) - shared
        attributes["exclusion_jaccard"] = round(shared / union, 6) if shared and union > 0 else 0.0
    return make_graph(nodes, edges, threshold)


@register_projection("investigators", "people linked when they hold roles in the same trial (any role) or, when "
                     "publications with authors are loaded, co-author a publication")
def investigators(store: Store, options: ProjectionOptions) -> nx.Graph:
    resolved = is_resolved(store)
    trials = _values(store, sparql.ROLE_AGENTS[resolved])
    pi_trials = _values(store, sparql.PI_AGENTS[resolved])
    has_authors = any(True for _ in sparql.rows(store, sparql.HAS_AUTHOR_LINKS))
    authored = _values(store, sparql.AUTHORED) if has_authors else {}
    people = sorted(set(trials) | set(authored))
    names = describe(store, people, [sparql.NAME])
    nodes: Nodes = {}
    for person in people:
        nodes[person] = {"label": names.get(person, {}).get(sparql.NAME, _local_name(person)), "type": "person",
                         "trials": len(trials.get(person, ())), "pi_trials": len(pi_trials.get(person, ())),
                         "publications": len(authored.get(person, ()))}
    links = list(sparql.PERSON_LINKS.values())
    per_kind = [shared_counts(store, link, options.max_shared, resolved)
                if link.kind != "publication" or has_authors else Counter() for link in links]
    edges, threshold = merge_counts(links, per_kind, options.min_weight, options.max_edges)
    return make_graph(nodes, edges, threshold)


@register_projection("sponsor-site", "two-mode: sponsors and collaborators linked to the sites of their trials "
                     "(weight = number of trials)")
def sponsor_site(store: Store, options: ProjectionOptions) -> nx.Graph:
    resolved = is_resolved(store)
    funders = _values(store, sparql.TRIAL_FUNDERS[resolved])
    sites = _values(store, sparql.TRIAL_SITES[resolved])
    edges, threshold = _two_mode_edges(funders, sites, options, "sponsor_site")
    sponsor_trials: Counter[str] = Counter(org for trial, orgs in funders.items() if trial in sites for org in orgs)
    site_trials: Counter[str] = Counter(site for trial, found in sites.items() if trial in funders for site in found)
    touched = {end for pair in edges for end in pair}
    described = describe(store, [org for org in sponsor_trials if org in touched], [sparql.NAME, sparql.AGENCY_CLASS])
    described.update(describe(store, [site for site in site_trials if site in touched],
                              [sparql.FACILITY, sparql.CITY, sparql.COUNTRY]))
    nodes: Nodes = {}
    for org, count in sponsor_trials.items():
        about = described.get(org, {})
        nodes[org] = {"label": about.get(sparql.NAME, _local_name(org)), "type": "sponsor", "trials": count}
        if sparql.AGENCY_CLASS in about:
            nodes[org]["agency_class"] = about[sparql.AGENCY_CLASS]
    for site, count in site_trials.items():
        about = described.get(site, {})
        nodes[site] = {"label": about.get(sparql.FACILITY, _local_name(site)), "type": "site", "trials": count}
        for name, predicate in (("city", sparql.CITY), ("country", sparql.COUNTRY)):
            if predicate in about:
                nodes[site][name] = about[predicate]
    return make_graph(_endpoints(nodes, edges), edges, threshold)


@register_projection("trial-condition", "two-mode: trials linked to the conditions they study")
def trial_condition(store: Store, options: ProjectionOptions) -> nx.Graph:
    conditions = _values(store, sparql.TRIAL_CONDITIONS) if options.min_weight <= 1 else {}
    edges: Edges = {}
    for trial, found in conditions.items():
        for condition in found:
            edges[(trial, condition) if trial < condition else (condition, trial)] = {"weight": 1,
                                                                                       "kinds": "condition"}
    nodes = trial_nodes(store, is_resolved(store))
    trial_counts: Counter[str] = Counter(condition for found in conditions.values() for condition in found)
    labels = describe(store, trial_counts, [sparql.LABEL])
    for condition, count in trial_counts.items():
        label = labels.get(condition, {}).get(sparql.LABEL, _local_name(condition))
        nodes[condition] = {"label": label, "type": "condition", "trials": count}
    return make_graph(_endpoints(nodes, edges), edges)
