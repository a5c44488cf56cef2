"""Pages about a file's identity: the Duplicates view, checking copies, removing one copy."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from stoat.accounts.permissions import manager_required
from stoat.core.http import HtmxHttpRequest
from stoat.library.duplicates import (
    Group,
    NotADuplicate,
    copies_of,
    delete_copy,
    group_keys,
    load_groups,
)
from stoat.library.models import Video
from stoat.library.services import FileNotDeletable
from stoat.library.stream import content_type, playable
from stoat.scans.paths import PathNotAllowed

GROUPS_PER_PAGE = 25


@require_GET
def duplicates(request: HtmxHttpRequest) -> HttpResponse:
    keys = list(group_keys())
    page = Paginator(keys, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    groups: list[Group] = load_groups(list(page.object_list))
    context = {
        "page": page,
        "groups": groups,
        "total_groups": len(keys),
        "total_wasted": sum(size * (copies - 1) for size, _, copies in keys),
    }
    return render(request, "library/duplicates.html", context)


# Copies listed on a video's page; the Duplicates view has them all.
COPIES_SHOWN = 20


def render_video(
    request: HtmxHttpRequest, video: Video, *, status: int = 200, error: str = ""
) -> HttpResponse:
    """The video page: its facts, where it was before, and its copies."""
    copies = copies_of(video)
    context = {
        "video": video,
        "playable": playable(video),
        "media_type": content_type(video),
        # Each copy with whether every byte of both files was found equal.
        "copies": [
            (c, bool(video.content_hash) and c.content_hash == video.content_hash)
            for c in copies[:COPIES_SHOWN]
        ],
        "more_copies": max(0, len(copies) - COPIES_SHOWN),
        "unchecked": any(not v.content_hash for v in [video, *copies]),
        "moves": list(video.moves.all()[:20]),
        "error": error,
    }
    return render(request, "library/video.html", context, status=status)


@require_POST
@manager_required
def check_copies(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Hash the video and its copies in full, in the background."""
    from stoat.scans.tasks import enqueue_confirm

    video = get_object_or_404(Video, pk=pk)
    enqueue_confirm(video.pk)
    messages.info(request, "Reading every byte of the copies in the background: reload to see.")
    return HttpResponseRedirect(reverse("library:video", args=[video.pk]), status=303)


@require_POST
@manager_required
def remove_copy(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Remove this copy's file and video, when another file was confirmed identical."""
    video = get_object_or_404(Video, pk=pk)
    try:
        kept = delete_copy(video)
    except PathNotAllowed as error:
        return render_video(request, video, status=403, error=str(error))
    except (NotADuplicate, FileNotDeletable) as error:
        return render_video(request, video, status=409, error=str(error))
    messages.success(request, f"Removed {video.path}; the copy at {kept.path} stays.")
    return HttpResponseRedirect(reverse("library:video", args=[kept.pk]), status=303)
