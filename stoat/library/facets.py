"""How many videos each filter choice would give, counted with the other filters applied.

One GROUP BY over the four facet columns (read from the `video_facets` index) gives every
combination that occurs with its count and bytes; each facet's counts, and the total, are sums
over those combinations, so a page with any number of choices costs one aggregate query, and
none while no other filter or search narrows the library and no video has changed (summary.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count

from stoat.library.filters import FACETS, NO_AUDIO, VideoFilters, range_conditions
from stoat.library.models import Video, VideoQuerySet
from stoat.library.names import RESOLUTION_NAMES, RESOLUTIONS, codec_name, container_name
from stoat.library.queries import library_videos
from stoat.library.summary import cached

Combination = tuple[str, str, str, str]


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    title: str
    choices: list[Choice]


@dataclass(frozen=True)
class FacetCounts:
    total: int
    facets: list[Facet]

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {facet.name: {c.value: c.count for c in facet.choices} for facet in self.facets}


TITLES = {
    "video_codec": "Video codec",
    "audio_codec": "Audio codec",
    "container": "Container",
    "resolution": "Resolution",
}
RESOLUTION_ORDER = [key for key, _, _ in reversed(RESOLUTIONS)]


def combinations(videos: VideoQuerySet, filters: VideoFilters) -> Counter[Combination]:
    rows = (
        videos.filter(range_conditions(filters))
        .order_by()
        .values_list(*FACETS.values())
        .annotate(n=Count("*"))
    )
    counts: Counter[Combination] = Counter()
    for video_codec, audio_codec, container, resolution, n in rows:
        counts[(video_codec, audio_codec or NO_AUDIO, container, resolution)] += n
    return counts


def label(name: str, value: str) -> str:
    if name == "container":
        return container_name(value)
    if name == "resolution":
        return RESOLUTION_NAMES[value]
    return codec_name(value) if value != NO_AUDIO else "No audio"


def count_facets(
    filters: VideoFilters, *, query: str = "", show_missing: bool = False
) -> FacetCounts:
    """The total the filters give (within the search) and, per facet, the count each of its
    values would give."""
    videos = library_videos(Video.objects.all(), query=query, show_missing=show_missing)
    if query.strip() or show_missing or range_conditions(filters):
        combos = combinations(videos, filters)
    else:
        # Every present video, whatever facets are chosen: kept until one changes (summary.py).
        combos = cached("facet-combinations", lambda: combinations(videos, filters))
    chosen = [set(getattr(filters, name)) for name in FACETS]

    def passes(combo: Combination, skip: int | None = None) -> bool:
        return all(
            not wanted or value in wanted
            for index, (value, wanted) in enumerate(zip(combo, chosen, strict=True))
            if index != skip
        )

    facets = []
    for index, name in enumerate(FACETS):
        counts: Counter[str] = Counter()
        for combo, n in combos.items():
            if passes(combo, skip=index):
                counts[combo[index]] += n
        for value in chosen[index]:
            counts.setdefault(value, 0)
        if name == "resolution":
            order = sorted(counts, key=lambda v: RESOLUTION_ORDER.index(v))
        else:
            order = sorted(counts, key=lambda v: (-counts[v], v))
        facet_choices = [
            Choice(value, label(name, value), counts[value], value in chosen[index])
            for value in order
        ]
        facets.append(Facet(name, TITLES[name], facet_choices))
    total = sum(n for combo, n in combos.items() if passes(combo))
    return FacetCounts(total=total, facets=facets)
