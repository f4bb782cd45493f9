"""A sparkline as text, so it can sit inside a table row."""

from __future__ import annotations

from collections.abc import Sequence

from k8stop.queries.model.values import Value

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[Value], width: int, floor: float = 0.0) -> str:
    """The last `width` values scaled to their max (at least `floor`); gaps as spaces."""
    tail = list(values)[-width:] if width > 0 else []
    known = [v.number for v in tail if v.known]
    top = max([floor, *known]) if known else floor
    if top <= 0:
        return "".join(BLOCKS[0] if v.known else " " for v in tail)
    chars = []
    for v in tail:
        if not v.known:
            chars.append(" ")
            continue
        index = int(min(1.0, v.number / top) * (len(BLOCKS) - 1))
        chars.append(BLOCKS[index])
    return "".join(chars)
