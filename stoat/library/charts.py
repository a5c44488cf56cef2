"""Bar charts drawn as SVG on the server: each bar's geometry, a title and a text alternative.

Everything a chart holds is plain text: HTML inside an SVG's <text> ends the SVG in the HTML parser.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from stoat.library.labels import cut_end, path_end

BAR_HEIGHT = 22
GAP = 6
# Narrow enough that a phone (390 px, ~350 px for the chart) shrinks its 12 px text by < 10%.
LABEL_WIDTH = 120
BAR_AREA = 175
VALUE_WIDTH = 85
WIDTH = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
# What fits left of the bars at 12 px; the full label is in the bar's tooltip and the table.
LABEL_CHARS = 16
short_label = partial(cut_end, length=LABEL_CHARS)
# A folder is told apart from its neighbours by its end.
short_folder = partial(path_end, length=LABEL_CHARS)


@dataclass(frozen=True)
class Bar:
    label: str
    short: str
    value: float
    text: str
    y: int
    width: float

    @property
    def middle(self) -> float:
        return self.y + BAR_HEIGHT / 2

    @property
    def value_x(self) -> float:
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    column: str
    bars: list[Bar]

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * (BAR_HEIGHT + GAP) + GAP

    width = WIDTH
    label_width = LABEL_WIDTH
    bar_height = BAR_HEIGHT


def bar_chart(
    chart_id: str,
    title: str,
    column: str,
    rows: Sequence[tuple[str, float, str]],
    shorten: Callable[[str], str] = short_label,
) -> Chart:
    """`rows` are (label, value, the value as text), all plain text; bars are scaled to the
    largest value, and each label is drawn as `shorten` makes it."""
    largest = max((value for _, value, _ in rows), default=0) or 1
    bars = [
        Bar(
            label,
            shorten(label),
            value,
            text,
            GAP + index * (BAR_HEIGHT + GAP),
            BAR_AREA * value / largest,
        )
        for index, (label, value, text) in enumerate(rows)
    ]
    if bars:
        description = f"{title}: " + "; ".join(f"{bar.label}: {bar.text}" for bar in bars) + "."
    else:
        description = f"{title}: nothing to show."
    return Chart(chart_id, title, description, column, bars)
