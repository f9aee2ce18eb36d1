"""Fictional Chinese place names: two-character stems, road names, random picks.

No geometry here (so no CRS); every name comes from the generator passed in, so with the
fixed seed the names are the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

NAME_FIRST = (
    "青云枫白鹭松柳桃梅兰竹荷星月朝晨春秋金玉石翠锦丰永长平和安宁康福瑞兴盛新东西南北紫凤鹤碧"
)
NAME_SECOND = "溪桥江湾塘浦港泾河湖岭山园林庄坊墩泉亭洲渚埭台阁"
SURNAMES = "陈王张李刘周吴徐朱孙胡沈顾陆曹施钱蒋秦季"
RESERVED_STEMS = ("云溪", "枫桥", "临江", "白鹭", "青岚")  # the city's and districts' names


def pick(rng: np.random.Generator, items: Sequence[T]) -> T:
    """One element of ``items``, uniformly at random (one ``rng.integers`` draw)."""
    return items[int(rng.integers(len(items)))]


class NameMaker:
    """Unique fictional two-character place-name stems (e.g. 松岭, 梅湾)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set(RESERVED_STEMS)

    def stem(self, unique: bool = True) -> str:
        """A new stem (two different characters); ``unique=False`` allows repeats."""
        for _ in range(10_000):
            s = pick(self.rng, NAME_FIRST) + pick(self.rng, NAME_SECOND)
            if s[0] != s[1] and (not unique or s not in self.used):
                self.used.add(s)
                return s
        raise RuntimeError("ran out of names")

    def roads(self, n: int) -> list[str]:
        """``n`` unique road names; every sixth is an avenue (大道), the rest roads (路)."""
        return [self.stem() + ("大道" if i % 6 == 0 else "路") for i in range(n)]
