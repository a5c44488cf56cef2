from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from stoat.core.http import HtmxHttpRequest
from stoat.library.models import Video
from stoat.library.queries import DEFAULT_SORT, SORT_LABELS, library_videos
from stoat.scans.forms import ScanForm

VIDEOS_PER_PAGE = 48


@require_GET
def library(request: HtmxHttpRequest) -> HttpResponse:
    return library_page(request, ScanForm(initial={"recursive": True}))


def library_page(request: HtmxHttpRequest, form: ScanForm, status: int = 200) -> HttpResponse:
    """The library, with the scan form as given (one with errors opens the scan panel)."""
    query = request.GET.get("q", "")[:500]
    sort = request.GET.get("sort", DEFAULT_SORT)
    if sort not in SORT_LABELS:
        sort = DEFAULT_SORT
    show_missing = request.GET.get("missing") == "1"
    videos = library_videos(Video.objects.all(), query=query, sort=sort, show_missing=show_missing)
    page = Paginator(videos, VIDEOS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "sort": sort,
        "sorts": SORT_LABELS,
        "show_missing": show_missing,
        # Only an empty page needs to know whether the library or the search came up empty.
        "library_empty": not page.object_list and not Video.objects.exists(),
        "form": form,
    }
    template = "library/_results.html" if request.htmx else "library/index.html"
    return render(request, template, context, status=status)


@require_GET
def video_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    video = get_object_or_404(Video, pk=pk)
    return render(request, "library/video.html", {"video": video})


def placeholder_path() -> str:
    found = finders.find("stoat/placeholder.jpg")
    if not isinstance(found, str):  # pragma: no cover - the file ships with the app
        raise Http404("placeholder missing")
    return found


def thumbnail_response(video: Video) -> FileResponse:
    """The video's JPEG, found by id and never by a path from the request; else the placeholder."""
    if video.thumbnail:
        path = settings.STOAT_THUMB_DIR / video.thumbnail
        try:
            response = FileResponse(path.open("rb"), content_type="image/jpeg")
        except OSError:
            pass
        else:
            response["Cache-Control"] = "private, max-age=300"
            return response
    # FileResponse closes the file once it has been sent.
    placeholder = Path(placeholder_path()).open("rb")  # noqa: SIM115
    response = FileResponse(placeholder, content_type="image/jpeg")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def thumbnail(request: HtmxHttpRequest, pk: int) -> FileResponse:
    return thumbnail_response(get_object_or_404(Video, pk=pk))
