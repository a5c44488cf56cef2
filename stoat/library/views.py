from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from django.contrib.humanize.templatetags.humanize import intcomma
from django.contrib.staticfiles import finders
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_safe

from stoat.core.http import HtmxHttpRequest
from stoat.library.charts import Chart, bar_chart, short_folder
from stoat.library.copies import render_video
from stoat.library.export import FORMATS, export_stream
from stoat.library.facets import count_facets
from stoat.library.filters import FilterError, VideoFilters, parse_filters, unknown_libraries
from stoat.library.folders import breadcrumbs, sub_folders, top_folder
from stoat.library.models import Library, Video, VideoQuerySet
from stoat.library.queries import DEFAULT_SORT, SORTS, is_sort_key, library_videos
from stoat.library.services import thumbnail_file
from stoat.library.stats import Group, LibraryStats, library_stats
from stoat.library.stream import stream_response
from stoat.library.templatetags.stoat_format import rate, size_text
from stoat.scans.forms import ScanForm

VIDEOS_PER_PAGE = 48


def read_filters(request: HtmxHttpRequest) -> tuple[VideoFilters, str]:
    """The filters in the URL, or none and the reason when one is wrong."""
    try:
        return parse_filters(dict(request.GET.lists())), ""
    except FilterError as error:
        return VideoFilters(), str(error)


@require_GET
def library(request: HtmxHttpRequest) -> HttpResponse:
    return library_page(request, ScanForm(initial={"recursive": True}))


def library_page(request: HtmxHttpRequest, form: ScanForm, status: int = 200) -> HttpResponse:
    """The library, with the scan form as given (one with errors opens the scan panel)."""
    query = request.GET.get("q", "")[:500]
    wanted = request.GET.get("sort", DEFAULT_SORT)
    sort = wanted if is_sort_key(wanted) else DEFAULT_SORT
    show_missing = request.GET.get("missing") == "1"
    filters, filter_error = read_filters(request)
    if unknown_libraries(filters):
        raise Http404("No such library.")
    counts = count_facets(filters, query=query, show_missing=show_missing)
    videos = library_videos(
        Video.objects.all(), query=query, sort=sort, show_missing=show_missing, filters=filters
    )
    paginator = Paginator(videos, VIDEOS_PER_PAGE)
    # The facet counts already summed the total: no COUNT query (`count` is a cached property).
    paginator.__dict__["count"] = counts.total
    page = paginator.get_page(request.GET.get("page"))
    context = {
        "page": page,
        "query": query,
        "sort": sort,
        "sorts": {key: choice.label for key, choice in SORTS.items()},
        "show_missing": show_missing,
        "filters": filters,
        "filter_error": filter_error,
        "facets": counts.facets,
        "filtered_query": urlencode(filters.query_pairs() + search_pairs(query, show_missing)),
        "libraries": Library.objects.only("name"),
        "chosen": filters.library[0] if filters.library else None,
        # Only an empty page needs to know whether the library or the search came up empty.
        "library_empty": not page.object_list and not Video.objects.exists(),
        "hidden_missing": hidden_missing(page, query, show_missing, filters),
        "form": form,
    }
    status = 400 if filter_error else status
    if not request.htmx:
        return render(request, "library/index.html", context, status=status)
    response = render(request, "library/_results.html", context, status=status)
    # The counts change with every filter: htmx swaps them in beside the results (out of band).
    facets = render_to_string("library/_filters.html", {**context, "oob": True}, request)
    response.content += facets.encode()
    return response


def hidden_missing(page: Page[Video], query: str, show_missing: bool, filters: VideoFilters) -> int:
    """On an empty page only: how many missing files would match if they were shown."""
    if page.object_list or show_missing:
        return 0
    matching = library_videos(Video.objects.all(), query=query, show_missing=True, filters=filters)
    return matching.filter(missing=True).count()


def search_pairs(query: str, show_missing: bool) -> list[tuple[str, str]]:
    return ([("q", query)] if query else []) + ([("missing", "1")] if show_missing else [])


@require_GET
def folder_view(request: HtmxHttpRequest) -> HttpResponse:
    """One folder: where it sits, its sub-folders with counts and sizes, and its own videos."""
    present = Video.objects.present()
    folder = request.GET.get("path", "")
    try:
        folder = parse_filters({"folder": [folder]}).folder or top_folder(present)
    except FilterError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    videos = present.filter(folder=folder).order_by("name_order", "id")
    page = Paginator(videos, VIDEOS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "folder": folder,
        "crumbs": breadcrumbs(folder),
        "sub_folders": sub_folders(present, folder),
        "page": page,
        "library_query": urlencode([("folder", folder)]),
    }
    return render(request, "library/folder.html", context)


def stats_charts(stats: LibraryStats) -> list[Chart]:
    def counts(groups: list[Group]) -> list[tuple[str, float, str]]:
        return [(g.label, g.videos, intcomma(g.videos)) for g in groups]

    def sizes(groups: list[Group]) -> list[tuple[str, float, str]]:
        return [(g.label, g.bytes, size_text(g.bytes)) for g in groups]

    folders = [(f.folder, f.bytes, size_text(f.bytes)) for f in stats.largest_folders]
    months = [(m.month, m.videos, intcomma(m.videos)) for m in stats.added_per_month]
    scans = [
        (f"#{s.job_id}", s.files_per_second or 0, rate(s.files_per_second))
        for s in stats.recent_scans
    ]
    return [
        bar_chart("codec-videos", "Videos by video codec", "Codec", counts(stats.by_video_codec)),
        bar_chart("codec-bytes", "Bytes by video codec", "Codec", sizes(stats.by_video_codec)),
        bar_chart("res-videos", "Videos by resolution", "Resolution", counts(stats.by_resolution)),
        bar_chart("res-bytes", "Bytes by resolution", "Resolution", sizes(stats.by_resolution)),
        bar_chart("box-videos", "Videos by container", "Container", counts(stats.by_container)),
        bar_chart("box-bytes", "Bytes by container", "Container", sizes(stats.by_container)),
        bar_chart(
            "folders",
            "The 10 largest folders",
            "Folder",
            folders,
            short_folder,
        ),
        bar_chart("months", "Videos added per month", "Month", months),
        bar_chart("scans", "Speed of the recent scans", "Scan", scans),
    ]


@require_GET
def stats_page(request: HtmxHttpRequest) -> HttpResponse:
    """The whole library at a glance, under the filters in the URL."""
    filters, filter_error = read_filters(request)
    stats = library_stats(filters)
    context = {
        "stats": stats,
        "charts": stats_charts(stats),
        "filters": filters,
        "filter_error": filter_error,
        "filtered_query": urlencode(filters.query_pairs()),
    }
    return render(request, "library/stats.html", context, status=400 if filter_error else 200)


def export_response(videos: VideoQuerySet, fmt: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(export_stream(videos, fmt), content_type=FORMATS[fmt])
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="stoat-videos-{stamp}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def export(request: HtmxHttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """The list the library page shows (filters, search, sort), every row of it."""
    filters, filter_error = read_filters(request)
    if filter_error:
        return HttpResponse(filter_error, status=400, content_type="text/plain; charset=utf-8")
    sort = request.GET.get("sort", DEFAULT_SORT)
    videos = library_videos(
        Video.objects.all(),
        query=request.GET.get("q", "")[:500],
        sort=sort if is_sort_key(sort) else DEFAULT_SORT,
        show_missing=request.GET.get("missing") == "1",
        filters=filters,
    )
    return export_response(videos, fmt)


@require_GET
def video_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return render_video(request, get_object_or_404(Video, pk=pk))


@require_safe
def stream(request: HtmxHttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    """The video's file, with Range support for seeking; `?download=1` saves it instead."""
    video = get_object_or_404(Video, pk=pk)
    return stream_response(request, video, download=request.GET.get("download") == "1")


def placeholder_path() -> str:
    found = finders.find("stoat/placeholder.jpg")
    if not isinstance(found, str):  # pragma: no cover - the file ships with the app
        raise Http404("placeholder missing")
    return found


def thumbnail_response(video: Video) -> FileResponse:
    """The video's JPEG, found by id and never by a path from the request; else the placeholder."""
    path = thumbnail_file(video)
    if path is not None:
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
