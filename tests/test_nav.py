"""The header marks the section a page belongs to: its own page, and the pages inside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from stoat.library.models import Video
from stoat.scans import lifecycle
from stoat.scans.runner import run_here
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def marked(client: Client, address: str) -> dict[str, str]:
    """The header's links that carry aria-current, with its value."""
    html = client.get(address).content.decode()
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert nav is not None
    links = re.findall(r'<a href="[^"]*" aria-current="(\w+)">([^<]+)</a>', nav[1])
    return {name: value for value, name in links}


def test_each_section_is_marked_on_its_own_page_and_inside_it(
    client: Client, library_dir: Path
) -> None:
    make_clip(library_dir / "a.mp4")
    job = lifecycle.create_scan(str(library_dir), recursive=True).job
    run_here(job)
    video = Video.objects.get()

    assert marked(client, "/") == {"Library": "page"}
    assert marked(client, f"/videos/{video.pk}/") == {"Library": "true"}
    assert marked(client, "/folders/") == {"Library": "true"}
    assert marked(client, "/stats/") == {"Statistics": "page"}
    assert marked(client, "/duplicates/") == {"Duplicates": "page"}
    assert marked(client, "/jobs/") == {"Scans": "page"}
    assert marked(client, f"/jobs/{job.pk}/") == {"Scans": "true"}
    assert marked(client, "/libraries/") == {"Libraries": "page"}
