"""/stats/ and /api/v1/stats: totals equal to sums over the rows, well-formed SVG, filters."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stoat.library.filters import parse_filters
from stoat.library.models import Video
from stoat.library.stats import library_stats
from stoat.scans.models import Job, Status
from tests.library_rows import make_library

SVG = "{http://www.w3.org/2000/svg}"


def test_totals_and_breakdowns_are_sums_over_the_rows(db: None) -> None:
    rows = make_library()
    present = [v for v in rows if not v.missing]

    stats = library_stats(parse_filters({}))

    assert stats.videos == len(present)
    assert stats.bytes == sum(v.size for v in present)
    assert abs(stats.hours - sum(v.duration or 0 for v in present) / 3600) < 1e-6
    assert stats.missing == sum(1 for v in rows if v.missing)
    by_codec = Counter(v.video_codec for v in present)
    assert {g.value: g.videos for g in stats.by_video_codec} == by_codec
    assert sum(g.bytes for g in stats.by_resolution) == stats.bytes
    assert sum(g.videos for g in stats.by_container) == stats.videos
    by_folder = Counter[str]()
    for v in present:
        by_folder[v.folder] += v.size
    assert [(f.folder, f.bytes) for f in stats.largest_folders] == sorted(
        by_folder.items(), key=lambda item: (-item[1], item[0])
    )[:10]
    months = Counter(f"{v.created_at:%Y-%m}" for v in present)
    assert [(m.month, m.videos) for m in stats.added_per_month] == sorted(months.items())


def test_stats_honour_the_filters(db: None) -> None:
    rows = [v for v in make_library() if not v.missing]

    stats = library_stats(parse_filters({"resolution": ["4k"], "video_codec": ["hevc", "h264"]}))

    chosen = [v for v in rows if v.resolution_class == "4k" and v.video_codec in ("hevc", "h264")]
    assert stats.videos == len(chosen) > 0
    assert stats.bytes == sum(v.size for v in chosen)
    assert {g.value for g in stats.by_resolution} == {"4k"}


def test_the_page_draws_well_formed_svg_charts_with_titles_and_tables(client: Client) -> None:
    make_library()
    Job.objects.create(
        path="/srv/videos",
        status=Status.COMPLETE,
        processed=120,
        error_count=3,
        started_at=timezone.now() - timedelta(seconds=60),
        finished_at=timezone.now(),
    )

    response = client.get(reverse("library:stats"))

    assert response.status_code == 200
    page = response.content.decode()
    svgs = [page[start : page.index("</svg>", start) + 6] for start in find_all(page, "<svg")]
    assert len(svgs) == 9
    for svg in svgs:
        root = ET.fromstring(svg)
        title = root.find(f"{SVG}title")
        desc = root.find(f"{SVG}desc")
        assert title is not None and title.text
        assert desc is not None and desc.text and desc.text.startswith(title.text)
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
        assert root.findall(f".//{SVG}rect")
    assert page.count("<table") == 10
    assert "Errors in the last scan</dt><dd>3</dd>" in page
    assert "2.0 files/s" in page


# What an SVG chart may hold: any HTML tag inside it (a <span> in a <text>) makes the browser's
# HTML parser close the SVG there, so only the first bar is drawn and the rest spills out as text.
SVG_TAGS = {f"{SVG}{tag}" for tag in ("svg", "title", "desc", "g", "text", "rect")}


def test_every_chart_draws_one_bar_per_row_and_holds_only_plain_text(client: Client) -> None:
    make_library()  # sizes and folders that differ: several bars in every chart of bytes
    Job.objects.create(path="/srv/videos", status=Status.COMPLETE, processed=120)
    stats = library_stats(parse_filters({}))

    page = client.get(reverse("library:stats")).content.decode()

    figures = [page[start : page.index("</figure>", start)] for start in find_all(page, "<figure")]
    rows = {
        "codec-bytes": len(stats.by_video_codec),
        "res-bytes": len(stats.by_resolution),
        "box-bytes": len(stats.by_container),
        "folders": len(stats.largest_folders),
    }
    assert min(rows.values()) > 1
    assert len(figures) == 9
    assert "{#" not in page
    bars = {}
    for figure in figures:
        svg = figure[figure.index("<svg") : figure.index("</svg>") + 6]
        assert "<span" not in svg
        root = ET.fromstring(svg)
        assert {element.tag for element in root.iter()} <= SVG_TAGS
        drawn = root.findall(f".//{SVG}rect[@class='bar']")
        table = figure[figure.index("<tbody>") : figure.index("</tbody>")]
        assert len(drawn) == table.count("<tr>") > 0
        desc = root.find(f"{SVG}desc")
        assert desc is not None and desc.text and "<" not in desc.text
        bars[figure.split('id="', 1)[1].split('"', 1)[0]] = root
    for chart_id, count in rows.items():
        assert len(bars[chart_id].findall(f".//{SVG}rect[@class='bar']")) == count
    # The values drawn are plain text, "1.2 GB"; the totals above keep their <span class="size">.
    values = [
        text.text
        for text in bars["codec-bytes"].iter(f"{SVG}text")
        if "value" in text.get("class", "")
    ]
    assert values and all(value and value.endswith("B") for value in values)
    assert '<dd><span class="size">' in page


def test_folder_labels_show_the_end_of_the_path_and_the_bar_the_whole_of_it(
    client: Client,
) -> None:
    make_library()

    page = client.get(reverse("library:stats")).content.decode()

    folders = page[page.index('id="folders"') : page.index("</figure>", page.index('id="folders"'))]
    root = ET.fromstring(folders[folders.index("<svg") : folders.index("</svg>") + 6])
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    titles = [t.text or "" for t in root.iter(f"{SVG}title")][1:]
    assert "…/2019/june" in labels
    assert len(set(labels)) == len(labels)
    assert any(title.startswith("/srv/videos/2019/june: ") for title in titles)
    assert '<th scope="row">/srv/videos/2019/june</th>' in folders


def find_all(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def test_a_filtered_stats_page_is_a_link_and_says_so(client: Client) -> None:
    make_library()

    response = client.get(reverse("library:stats"), {"resolution": "4k"})

    page = response.content.decode()
    four_k = Video.objects.present().filter(resolution_class="4k").count()
    assert f"<dt>Videos</dt><dd>{four_k}</dd>" in page
    assert "Only the videos of" in page and "?resolution=4k" in page


def test_a_bad_filter_on_the_stats_page_is_400(client: Client) -> None:
    assert client.get(reverse("library:stats"), {"min_size": "x"}).status_code == 400


def test_the_api_returns_the_numbers_behind_the_page(client: Client) -> None:
    make_library()

    data = client.get("/api/v1/stats", {"container": ["webm", "mp4"]}).json()

    stats = library_stats(parse_filters({"container": ["webm", "mp4"]}))
    assert data["videos"] == stats.videos
    assert data["bytes"] == stats.bytes
    assert {g["value"] for g in data["by_container"]} == {"webm", "mp4"}
    assert data["by_video_codec"] == [
        {"value": g.value, "label": g.label, "videos": g.videos, "bytes": g.bytes}
        for g in stats.by_video_codec
    ]
    assert client.get("/api/v1/stats", {"max_size": "1", "min_size": "2"}).status_code == 422
