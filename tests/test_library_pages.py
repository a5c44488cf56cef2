"""The /libraries/ pages, the library filter on the library page, and the admin."""

from __future__ import annotations

from pathlib import Path

import pytest
import time_machine
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from stoat.library.models import Library, Video
from stoat.scans.models import Job, Origin
from stoat.scans.runner import run_here
from stoat.watch.models import Mode, WatchLease
from tests.conftest import signed_in
from tests.libraries import add_library
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def form(path: Path, **fields: str) -> dict[str, str]:
    data = {"name": "Films", "path": str(path), "recursive": "on", "every": "6h", "cron": ""}
    data.update({"watch": "auto", "poll_seconds": "60", **fields})
    return data


def test_adding_a_library_on_the_page_saves_it_and_starts_its_first_scan(
    client: Client, library_dir: Path
) -> None:
    response = client.post(reverse("libraries:add"), form(library_dir))

    assert response.status_code == 302
    library = Library.objects.get()
    assert (library.name, library.path, library.every_minutes) == ("Films", str(library_dir), 360)
    job = Job.objects.get()
    assert (job.library, job.origin) == (library, Origin.MANUAL)
    page = client.get(reverse("libraries:list")).content.decode()
    assert "Films" in page and "every 6 h" in page
    assert "its first scan is job" in page


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"path": "/nowhere/at/all"}, 400, "is not a folder"),
        ({"every": "30s"}, 400, "at least one minute"),
        ({"cron": "0 3 * *"}, 400, "is not a cron expression"),
        ({"watch": "inotify"}, 400, "Select a valid choice"),
        ({"name": ""}, 400, "This field is required"),
    ],
)
def test_bad_input_on_the_page_is_answered_with_its_reason(
    client: Client, library_dir: Path, fields: dict[str, str], status: int, message: str
) -> None:
    response = client.post(reverse("libraries:add"), {**form(library_dir), **fields})

    assert response.status_code == status
    assert message in response.content.decode()
    assert not Library.objects.exists()
    assert not Job.objects.exists()


def test_a_folder_outside_the_roots_is_403_and_an_overlap_409_on_the_page(
    client: Client, settings: LazySettings, library_dir: Path, tmp_path: Path
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    add_library(library_dir / "films")
    (tmp_path / "elsewhere").mkdir()

    outside = client.post(reverse("libraries:add"), form(tmp_path / "elsewhere", name="X"))
    overlap = client.post(reverse("libraries:add"), form(library_dir, name="All"))

    assert outside.status_code == 403
    assert overlap.status_code == 409
    assert "overlaps the library" in overlap.content.decode()
    assert Library.objects.count() == 1


def test_a_reader_sees_libraries_but_may_not_add_scan_or_remove_them(
    reader_client: Client, library_dir: Path
) -> None:
    library = add_library(library_dir)

    assert reader_client.get(reverse("libraries:list")).status_code == 200
    for name in ("libraries:scan", "libraries:remove", "libraries:update"):
        assert reader_client.post(reverse(name, args=[library.pk])).status_code == 403
    assert reader_client.post(reverse("libraries:add"), form(library_dir)).status_code == 403
    assert Library.objects.count() == 1
    assert not Job.objects.exists()


@time_machine.travel("2026-03-01 12:00:00+00:00", tick=False)
def test_the_list_shows_last_scan_next_run_in_local_time_and_watch_state(
    client: Client, settings: LazySettings, library_dir: Path
) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    make_clip(library_dir / "a.mp4")
    library = add_library(library_dir)
    client.post(reverse("libraries:scan", args=[library.pk]))
    run_here(Job.objects.get())

    page = client.get(reverse("libraries:list")).content.decode()

    # 12:00 UTC + 6 h is 19:00 in Berlin (UTC+1 in March).
    assert "2026-03-01 19:00 CET" in page
    assert "complete" in page and "1 new" in page
    assert "not watching: no watcher is running" in page
    # The command line's backticks become code on the page.
    assert "(start <code>manage.py watch</code> or <code>manage.py serve</code>)" in page
    assert "`" not in page


def test_the_list_says_a_day_in_words_and_labels_cron_times(
    client: Client, library_dir: Path
) -> None:
    add_library(library_dir / "a", name="Daily", every=1440)
    add_library(library_dir / "b", name="Nightly", every=None, cron="0 3 * * *")

    page = client.get(reverse("libraries:list")).content.decode()

    assert "every day" in page and "every 1 d" not in page
    assert 'at cron times <code class="nowrap">0 3 * * *</code>' in page


def test_the_edit_form_writes_the_interval_in_its_largest_unit(
    client: Client, library_dir: Path
) -> None:
    library = add_library(library_dir, every=1440)

    page = client.get(reverse("libraries:edit", args=[library.pk])).content.decode()

    assert 'name="every" value="1d"' in page and "1440m" not in page
    assert '<button type="submit" class="danger">Remove library</button>' in page


def test_a_field_error_is_shown_beside_its_field_and_named_by_it(
    client: Client, library_dir: Path
) -> None:
    response = client.post(reverse("libraries:add"), form(library_dir, every="often"))

    page = response.content.decode()
    assert 'aria-describedby="id_every_helptext id_every_error"' in page
    error = page.index('<p class="field-error" id="id_every_error" role="alert">')
    assert page.index('id="id_every"') < error < page.index('id="id_every_helptext"')
    assert 'class="form-errors"' not in page


def test_the_watch_state_is_shown_in_words(client: Client, library_dir: Path) -> None:
    library = add_library(library_dir)
    lease = WatchLease.objects.create(
        library=library, holder="h:1", heartbeat_at=timezone.now(), mode=Mode.EVENTS
    )
    assert "watching (file-system events)" in client.get(reverse("libraries:list")).content.decode()

    lease.mode, lease.reason = Mode.POLL, "the system's limit of watched folders is reached"
    lease.save()
    page = client.get(reverse("libraries:list")).content.decode()
    assert "watching by polling every 60 s; the system&#x27;s limit" in page


def test_scan_now_goes_to_the_scan_and_a_second_press_to_the_same_one(
    client: Client, library_dir: Path
) -> None:
    library = add_library(library_dir)

    first = client.post(reverse("libraries:scan", args=[library.pk]))
    second = client.post(reverse("libraries:scan", args=[library.pk]), follow=True)

    job = Job.objects.get()
    assert first["Location"] == reverse("scans:job", args=[job.pk])
    assert "already being scanned" in second.content.decode()


def test_editing_a_library_updates_its_schedule(client: Client, library_dir: Path) -> None:
    library = add_library(library_dir)
    assert client.get(reverse("libraries:edit", args=[library.pk])).status_code == 200

    response = client.post(
        reverse("libraries:update", args=[library.pk]),
        form(library_dir, name="Renamed", every="", cron="15 4 * * 1"),
    )

    assert response.status_code == 302
    library.refresh_from_db()
    assert (library.name, library.cron, library.every_minutes) == ("Renamed", "15 4 * * 1", None)
    assert Schedule.objects.get(name__startswith="stoat: rescan").cron == "15 4 * * 1"
    bad = client.post(reverse("libraries:update", args=[library.pk]), form(library_dir, every="x"))
    assert bad.status_code == 400


def test_removing_on_the_page_can_forget_the_videos(client: Client, library_dir: Path) -> None:
    make_clip(library_dir / "a.mp4")
    library = add_library(library_dir)
    client.post(reverse("libraries:scan", args=[library.pk]))
    run_here(Job.objects.get())

    response = client.post(reverse("libraries:remove", args=[library.pk]), {"videos": "forget"})

    assert response.status_code == 302
    assert not Library.objects.exists()
    assert not Video.objects.exists()


def test_the_library_page_can_be_filtered_to_one_library(client: Client, library_dir: Path) -> None:
    make_clip(library_dir / "films" / "film.mp4")
    make_clip(library_dir / "series" / "episode.mp4")
    films = add_library(library_dir / "films", name="Films")
    series = add_library(library_dir / "series", name="Series")
    for library in (films, series):
        client.post(reverse("libraries:scan", args=[library.pk]))
        run_here(Job.objects.get(library=library))

    everything = client.get(reverse("library:index")).content.decode()
    only_films = client.get(reverse("library:index"), {"library": films.pk}).content.decode()

    assert "film.mp4" in everything and "episode.mp4" in everything
    assert "film.mp4" in only_films and "episode.mp4" not in only_films
    assert f'<option value="{films.pk}" selected>Films</option>' in only_films


def test_a_bad_library_filter_is_400_and_an_unknown_one_404(client: Client) -> None:
    assert client.get(reverse("library:index"), {"library": "films"}).status_code == 400
    assert client.get(reverse("library:index"), {"library": "12345"}).status_code == 404


def test_the_job_history_names_library_scans_by_their_label(
    client: Client, library_dir: Path
) -> None:
    library = add_library(library_dir)
    Job.objects.create(
        path=str(library_dir),
        library=library,
        origin=Origin.WATCH,
        label=f"watch: 3 files in {library_dir}",
        status="complete",
    )

    page = client.get(reverse("scans:jobs")).content.decode()

    assert f"watch: 3 files in {library_dir}" in page
    assert "by the watcher" in page


def test_the_admin_saves_libraries_with_their_schedule_and_refuses_bad_ones(
    library_dir: Path,
) -> None:
    client = signed_in(User.objects.create_superuser("admin", "a@example.com", "pw-for-tests"))
    data = {
        "name": "Films",
        "path": str(library_dir),
        "recursive": "on",
        "every_minutes": "60",
        "cron": "",
        "watch": "auto",
        "poll_seconds": "60",
    }
    bad = client.post(reverse("admin:library_library_add"), {**data, "cron": "nope"})
    assert "is not a cron expression" in bad.content.decode()
    assert not Library.objects.exists()

    client.post(reverse("admin:library_library_add"), data)

    library = Library.objects.get()
    assert Schedule.objects.get(name__startswith="stoat: rescan").minutes == 60
    client.post(reverse("admin:library_library_delete", args=[library.pk]), {"post": "yes"})
    assert not Library.objects.exists()
    assert not Schedule.objects.filter(name__startswith="stoat: rescan").exists()


@time_machine.travel("2026-03-01 12:00:00+00:00", tick=False)
def test_times_are_shown_in_the_time_zone_the_browser_gave(
    client: Client, settings: LazySettings, library_dir: Path
) -> None:
    settings.TIME_ZONE = "UTC"
    add_library(library_dir)

    client.cookies["stoat_tz"] = "America/New_York"
    # 18:00 UTC is 13:00 in New York (UTC-5 in early March).
    assert "2026-03-01 13:00 EST" in client.get(reverse("libraries:list")).content.decode()
    for bad in ("Not/AZone", "../../etc/passwd", "x" * 100, ""):
        client.cookies["stoat_tz"] = bad
        assert "2026-03-01 18:00 UTC" in client.get(reverse("libraries:list")).content.decode()


def test_a_library_scan_names_its_library_and_why_it_ran(client: Client, library_dir: Path) -> None:
    library = add_library(library_dir)
    job = Job.objects.create(
        path=str(library_dir), library=library, origin=Origin.SCHEDULE, status="complete"
    )

    page = client.get(reverse("scans:job", args=[job.pk])).content.decode()

    assert f'library <a href="{reverse("libraries:edit", args=[library.pk])}">Videos</a>' in page
    assert "on schedule" in page
