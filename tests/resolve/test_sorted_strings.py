"""SortedStrings answers as a sorted list of str does, for any strings (a reference oracle: bisect on a list)."""

from __future__ import annotations

import bisect
import random

import pytest

from kg.resolve.sorted_strings import SortedStrings


def test_lookups_agree_with_a_sorted_list_over_mixed_scripts() -> None:
    rng = random.Random(7)
    alphabet = "ab/:-_0z" + "éüß" + "中文" + "\U0001f600"  # one, two, three and four UTF-8 bytes
    words = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(3000)})
    present, absent = words[::2], words[1::2]
    strings = SortedStrings()
    for word in present:
        strings.append(word)
    assert len(strings) == len(present) and list(strings) == present
    assert [strings[i] for i in range(len(present))] == present and strings[-1] == present[-1]
    for word in words:
        index = bisect.bisect_left(present, word)
        expected = index if index < len(present) and present[index] == word else None
        assert strings.position(word) == expected
        assert (word in strings) == (expected is not None)
    assert all(word not in strings for word in absent)


def test_out_of_order_or_repeated_strings_are_refused() -> None:
    strings = SortedStrings()
    strings.append("b")
    for bad in ("b", "a"):
        with pytest.raises(ValueError, match="sorted"):
            strings.append(bad)
    with pytest.raises(IndexError):
        strings[1]
