"""Bar charts drawn as SVG on the server: each bar's geometry, a title and a text alternative."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 150
BAR_AREA = 330
VALUE_WIDTH = 120
WIDTH = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH


@dataclass(frozen=True)
class Bar:
    label: str
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
    chart_id: str, title: str, column: str, rows: Sequence[tuple[str, float, str]]
) -> Chart:
    """`rows` are (label, value, the value as text); bars are scaled to the largest value."""
    largest = max((value for _, value, _ in rows), default=0) or 1
    bars = [
        Bar(label, value, text, GAP + index * (BAR_HEIGHT + GAP), BAR_AREA * value / largest)
        for index, (label, value, text) in enumerate(rows)
    ]
    if bars:
        description = f"{title}: " + "; ".join(f"{bar.label}: {bar.text}" for bar in bars) + "."
    else:
        description = f"{title}: nothing to show."
    return Chart(chart_id, title, description, column, bars)
