"""Library cards name their folder, say why a search matched, and the pager jumps to a page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from stoat.library.models import Video
from tests.test_search import add_video

pytestmark = pytest.mark.django_db

DEEP = "/srv/family/" + "/".join(["a-long-folder-name"] * 8) + "/summer-2024"


def card_of(html: str, name: str) -> str:
    found = re.search(
        rf'<li class="card[^"]*">(?:(?!</li>).)*>{re.escape(name)}<.*?</li>', html, re.S
    )
    assert found is not None, name
    return found.group(0)


def test_a_card_shows_its_folder_shortened_with_the_whole_path_on_hover(client: Client) -> None:
    add_video(f"{DEEP}/beach.mp4")

    card = card_of(client.get("/").content.decode(), "beach.mp4")

    assert f'title="{DEEP}"' in card
    # The end tells folders apart (their start is the library's root): the start is cut.
    assert ">…/summer-2024</a>" in card
    assert f'href="/folders/?path={DEEP}"' in card


def test_a_search_that_matched_the_folder_says_so(client: Client) -> None:
    add_video("/srv/holiday-2023/IMG_0001.mp4")
    add_video("/srv/misc/holiday-trailer.mp4")

    html = client.get("/", {"q": "holiday"}).content.decode()

    assert "folder matches" in card_of(html, "IMG_0001.mp4")
    assert "folder matches" not in card_of(html, "holiday-trailer.mp4")


def test_no_match_says_how_many_missing_files_the_filter_hid(client: Client) -> None:
    add_video("/srv/old/wedding.mp4", missing=True)
    add_video("/srv/old/wedding-party.mp4", missing=True)
    add_video("/srv/new/birthday.mp4")

    hidden = client.get("/", {"q": "wedding"}).content.decode()
    none = client.get("/", {"q": "graduation"}).content.decode()
    shown = client.get("/", {"q": "wedding", "missing": "1"}).content.decode()

    assert "No video matches “wedding”" in hidden
    assert "2 missing files match but are hidden: tick <em>Show missing files</em>" in hidden
    assert "No video matches “graduation”" in none
    assert "missing file" not in none.split('id="results"')[1]
    assert "wedding-party.mp4" in shown


def make_pages(count: int) -> None:
    Video.objects.bulk_create(
        Video(
            path=f"/srv/p/clip{index}.mp4",
            path_key=f"clip{index}",
            folder="/srv/p",
            filename=f"clip{index}.mp4",
            name_order=f"clip{index:06d}",
            size=1,
            mtime_ns=1,
            width=16,
            height=16,
            video_codec="h264",
        )
        for index in range(count)
    )


def test_the_pager_shows_page_numbers_around_this_one_and_the_ends(client: Client) -> None:
    make_pages(48 * 20)

    html = client.get("/", {"page": "10", "sort": "-name"}).content.decode()

    pager = re.search(r'<nav class="pager".*?</nav>', html, re.S)
    assert pager is not None
    numbers = re.findall(r">(\d+|…)</(?:a|span)>", pager.group(0))
    assert numbers == ["1", "…", "8", "9", "10", "11", "12", "…", "20"]
    assert '<span aria-current="page">10</span>' in pager.group(0)
    assert 'href="?page=11&amp;sort=-name" aria-label="Page 11"' in pager.group(0)
    assert "Page 10 of 20" in pager.group(0)


def test_the_pager_jumps_to_a_page_keeping_the_search_and_sort(client: Client) -> None:
    make_pages(48 * 3)

    html = client.get("/", {"q": "clip", "sort": "-name"}).content.decode()

    form = re.search(r'<form class="jump".*?</form>', html, re.S)
    assert form is not None
    assert '<input type="hidden" name="q" value="clip">' in form.group(0)
    assert '<input type="hidden" name="sort" value="-name">' in form.group(0)
    assert 'name="page" min="1" max="3"' in form.group(0)
    assert '<label for="jump-page">Go to page</label>' in form.group(0)
    jumped = client.get("/", {"q": "clip", "sort": "-name", "page": "3"})
    assert jumped.context["page"].number == 3


def test_a_size_never_breaks_across_lines(client: Client) -> None:
    add_video("/srv/v/big.mp4", size=1_500_000_000)

    html = client.get("/").content.decode()
    video = Video.objects.get()
    detail = client.get(f"/videos/{video.pk}/").content.decode()

    assert '<span class="size">1.4 GB</span>' in html
    assert '<span class="size">1.4 GB</span>' in detail
