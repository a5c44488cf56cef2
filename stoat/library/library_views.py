"""The /libraries/ pages: saved folders with their last and next scan and their watch state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from stoat.accounts.permissions import manager_required
from stoat.core.http import HtmxHttpRequest
from stoat.library.forms import LibraryForm
from stoat.library.libraries import (
    describe_schedule,
    next_runs,
    remove_library,
    save_library,
    scan_library,
)
from stoat.library.models import Library
from stoat.scans.models import Job
from stoat.watch.state import describe_watch


@dataclass(frozen=True)
class LibraryRow:
    library: Library
    schedule: str
    next_run: datetime | None
    last_scan: Job | None
    watch: str


def library_rows() -> list[LibraryRow]:
    libraries = list(Library.objects.select_related("lease"))
    runs = next_runs(libraries)
    return [
        LibraryRow(
            library=library,
            schedule=describe_schedule(library),
            next_run=runs.get(library.pk),
            last_scan=library.jobs.order_by("-created_at", "-id").first(),
            watch=describe_watch(library),
        )
        for library in libraries
    ]


def libraries_page(request: HtmxHttpRequest, form: LibraryForm, status: int = 200) -> HttpResponse:
    context = {"rows": library_rows(), "form": form}
    template = "library/_library_table.html" if request.htmx else "library/libraries.html"
    return render(request, template, context, status=status)


@require_GET
def library_list(request: HtmxHttpRequest) -> HttpResponse:
    return libraries_page(request, LibraryForm())


@require_POST
@manager_required
def library_add(request: HtmxHttpRequest) -> HttpResponse:
    form = LibraryForm(request.POST)
    if not form.is_valid() or form.spec is None:
        return libraries_page(request, form, status=form.status())
    library = save_library(form.spec)
    start = scan_library(library)
    messages.success(
        request, f"Library {library.name} added; its first scan is job {start.job.pk}."
    )
    return redirect("libraries:list")


@require_GET
def library_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    library = get_object_or_404(Library, pk=pk)
    form = LibraryForm(initial=LibraryForm.initial_of(library), library=library)
    return render(request, "library/library_edit.html", {"form": form, "library": library})


@require_POST
@manager_required
def library_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    library = get_object_or_404(Library, pk=pk)
    form = LibraryForm(request.POST, library=library)
    if not form.is_valid() or form.spec is None:
        context = {"form": form, "library": library}
        return render(request, "library/library_edit.html", context, status=form.status())
    save_library(form.spec, library)
    messages.success(request, f"Library {library.name} saved.")
    return redirect("libraries:list")


@require_POST
@manager_required
def library_scan(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    library = get_object_or_404(Library, pk=pk)
    start = scan_library(library)
    if not start.created:
        messages.info(request, f"{library.name} is already being scanned: here is that scan.")
    return redirect("scans:job", pk=start.job.pk)


@require_POST
@manager_required
def library_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    library = get_object_or_404(Library, pk=pk)
    forget = request.POST.get("videos") == "forget"
    forgotten = remove_library(library, forget_videos=forget)
    kept = f"{forgotten} videos forgotten" if forget else "its videos stay in the library"
    messages.success(request, f"Library {library.name} removed; {kept}.")
    return redirect("libraries:list")
