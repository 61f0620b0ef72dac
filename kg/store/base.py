"""The store interface every backend implements (embedded Oxigraph, rdflib, remote SPARQL).

The build only needs to load N-Quads text and replace named graphs; the query side only
needs SELECT results as a :class:`~kg.store.results.ResultTable`. Keeping the interface
this small is what lets a remote SPARQL 1.1 store stand in for the embedded one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING

from kg.store.results import ResultTable

if TYPE_CHECKING:
    import rdflib


class Store(ABC):
    """A quad store holding one named graph per source record."""

    #: Whether the store answers queries (an N-Quads file being written does not).
    readable: bool = True

    @abstractmethod
    def load_nquads(self, data: bytes) -> None:
        """Add N-Quads text (a whole number of lines)."""

    @abstractmethod
    def remove_graphs(self, graphs: Iterable[str]) -> None:
        """Drop named graphs (no error for graphs that do not exist)."""

    def replace_graphs(self, graphs: list[str], data: bytes) -> None:
        """Replace the named graphs with exactly these N-Quads (remote stores do it in one request)."""
        self.remove_graphs(graphs)
        self.load_nquads(data)

    @abstractmethod
    def has_graph(self, graph: str) -> bool: ...

    @abstractmethod
    def graphs(self) -> list[str]:
        """Named graph IRIs, sorted."""

    @abstractmethod
    def select(self, sparql: str) -> ResultTable:
        """Run a SELECT query with the union of all graphs as the default graph."""

    def iter_select(self, sparql: str) -> Iterator[tuple[str | None, ...]]:
        """Rows of a SELECT over the union of graphs, each value a plain string (None if unbound).

        Why: whole-store passes (resolution, projections) read millions of rows; decoding them
        into result-table terms would cost more than the query. Backends that can stream
        override this; the default reads the materialised table.
        """
        yield from self.select(sparql).values()

    @abstractmethod
    def dump(self, out: IO[bytes], format_name: str, *, prefixes: bool = False) -> None:
        """Serialise the whole dataset (``nquads``, ``trig``) or its union (``ntriples``, ``turtle``).

        ``prefixes`` asks for trialkg's prefixes in formats that have them (Turtle, TriG,
        JSON-LD); backends that cannot honour it write full IRIs.
        """

    @abstractmethod
    def __len__(self) -> int:
        """Number of quads."""

    def to_rdflib(self) -> rdflib.Dataset:
        """The store as an in-memory rdflib Dataset (for small stores: notebooks, interop)."""
        import io

        import rdflib

        buffer = io.BytesIO()
        self.dump(buffer, "nquads")
        dataset = rdflib.Dataset(default_union=True)
        dataset.parse(data=buffer.getvalue(), format="nquads")
        return dataset

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Make written data durable (backends that buffer override this)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files and connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
