"""Heavy-tailed draws without numpy: Zipf ranks by inverse CDF, and seeded integer hashing.

Why: registries are dominated by a few very active investigators, sponsors, sites and boilerplate
criteria, with a long tail seen once. A rank ``r`` (0-based) is drawn with probability proportional
to ``(r + 1) ** -s`` from a cumulative table and ``bisect`` (one table per pool, 8 bytes a rank in
an ``array``), so a draw costs one ``random()`` and one binary search.

Example:
    >>> import random
    >>> sampler = ZipfSampler(1000, s=1.1)
    >>> rng = random.Random(1)
    >>> ranks = [sampler.draw(rng) for _ in range(10_000)]
    >>> ranks.count(0) > ranks.count(1) > ranks.count(10)
    True
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from math import gcd
from typing import Generic, TypeVar

_MASK = (1 << 64) - 1
T = TypeVar("T")


class ZipfSampler:
    """Ranks ``0..size-1`` with weights ``(rank + 1 + offset) ** -s`` (Zipf-Mandelbrot; offset 0 is Zipf).

    With s = 1.1 and no offset, rank 0 takes at least 1/zeta(1.1), about 9.5%, of all draws at any
    pool size; an offset flattens that head without changing the tail's exponent.
    """

    def __init__(self, size: int, s: float = 1.1, offset: float = 0.0) -> None:
        if size < 1:
            raise ValueError("a Zipf pool needs at least one member")
        self.size = size
        self._cumulative = array("d", accumulate((rank + 1 + offset) ** -s for rank in range(size)))
        self._total = self._cumulative[-1]

    def draw(self, rng: random.Random) -> int:
        """One rank, from the generator's stream."""
        return self.rank_at(rng.random())

    def rank_at(self, unit: float) -> int:
        """The rank whose cumulative share first exceeds ``unit`` (in [0, 1)): a deterministic draw."""
        return min(bisect_right(self._cumulative, unit * self._total), self.size - 1)


class WeightedChoice(Generic[T]):
    """Items drawn with empirical weights (e.g. how often a city appears in the real records)."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = list(items)
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]

    def at(self, unit: float) -> T:
        """The item at cumulative share ``unit`` (in [0, 1))."""
        return self.items[min(bisect_right(self._cumulative, unit * self._total), len(self.items) - 1)]


def mix(*values: int) -> int:
    """A 64-bit hash of integers (a multiply-add combine, then the splitmix64 finaliser): per-member
    properties that need no stored state, identical on every platform and Python version."""
    state = 0
    for value in values:
        state = (state * 0x100000001B3 + value + 0x9E3779B97F4A7C15) & _MASK
    state = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    state = ((state ^ (state >> 27)) * 0x94D049BB133111EB) & _MASK
    return state ^ (state >> 31)


def unit(*values: int) -> float:
    """A float in [0, 1) hashed from integers: the same member always gets the same 'random' value."""
    return (mix(*values) >> 11) * (1.0 / (1 << 53))


class Permutation:
    """A seeded bijection of ``range(size)``: ``(i * step + offset) % size`` with ``step`` coprime to ``size``.

    Recombined names walk their token combinations through one, so neighbouring indices do not
    share a first name, and no two indices share a combination.
    """

    def __init__(self, size: int, *salt: int) -> None:
        self.size = size
        step = mix(*salt, size) % size or 1
        while gcd(step, size) != 1:
            step = step % (size - 1) + 1
        self._step = step
        self._offset = mix(*salt, size, 1) % size

    def __call__(self, value: int) -> int:
        return (value * self._step + self._offset) % self.size

