from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from stoat.accounts.permissions import can_manage_scans, manager_required
from stoat.core.http import HtmxHttpRequest
from stoat.core.prepared import RowByKey
from stoat.library.views import library_page
from stoat.scans import services
from stoat.scans.forms import PATH_NOT_ALLOWED, ScanForm, origin_of
from stoat.scans.lifecycle import CancelOutcome
from stoat.scans.models import Job, Status
from stoat.scans.panels import announcement, job_panel, said_key
from stoat.scans.paths import InvalidPath, PathNotAllowed
from stoat.scans.polling import poll_every

JOBS_PER_PAGE = 25
# A hundred open pages of a scan each load it every second.
JOB_BY_PK = RowByKey(Job)


def jobs_page(request: HtmxHttpRequest, form: ScanForm, status: int = 200) -> HttpResponse:
    wanted = request.GET.get("status", "")
    jobs = services.list_jobs(wanted if wanted in Status.values else None)
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "status": wanted, "statuses": Status.values}
    template = "scans/_job_table.html" if request.htmx else "scans/jobs.html"
    return render(request, template, context, status=status)


@require_GET
def job_list(request: HtmxHttpRequest) -> HttpResponse:
    return jobs_page(request, ScanForm(initial={"recursive": True}))


def invalid_form(request: HtmxHttpRequest, form: ScanForm) -> HttpResponse:
    """The form again, with its errors, on the page it was sent from."""
    origin = origin_of(request.POST)
    if origin == "library":
        return library_page(request, form, status=form.status())
    if origin == "new":
        return render(request, "scans/new.html", {"form": form}, status=form.status())
    return jobs_page(request, form, status=form.status())


@require_http_methods(["GET", "HEAD", "POST"])
@manager_required
def start_scan(request: HtmxHttpRequest) -> HttpResponse:
    if request.method != "POST":
        # Reloaded, bookmarked or opened in a new tab: the form, filled in from ?path= if given.
        initial = {"recursive": True, "path": request.GET.get("path", "")[:5000]}
        return render(request, "scans/new.html", {"form": ScanForm(initial=initial)})
    form = ScanForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, form)
    try:
        # Checked again: every caller of the service is, and the folder may have changed since.
        start = services.start_scan(form.cleaned_data["path"], form.cleaned_data["recursive"])
    except PathNotAllowed as error:
        form.add_error("path", forms.ValidationError(str(error), code=PATH_NOT_ALLOWED))
        return invalid_form(request, form)
    except InvalidPath as error:
        form.add_error("path", str(error))
        return invalid_form(request, form)
    if not start.created:
        messages.info(request, services.describe_start(start))
    return redirect("scans:job", pk=start.job.pk)


def offers_rescan(request: HtmxHttpRequest) -> bool:
    """Whether to show *Scan again*: a poll asks only what the loaded user already says, so
    the hundred readers of one scan cost no permission query when it ends."""
    if request.htmx:
        return bool(getattr(request.user, "is_staff", False))
    return can_manage_scans(request.user)


def render_job(
    request: HtmxHttpRequest, job: Job, *, status: int = 200, message: str = ""
) -> HttpResponse:
    words = message or announcement(job)
    # A poll names what the live region said last; the region gets words only when they change.
    changed = bool(message) or request.GET.get("said") != said_key(job)
    context = {
        "job": job,
        "message": message,
        "panel": job_panel(job),
        "offer_rescan": job.is_terminal and offers_rescan(request),
        "said": said_key(job),
        "words": words,
        "announce": words if request.htmx and changed else "",
        "poll_every": poll_every(job.pk) if job.is_active else 0,
    }
    if not request.htmx:
        return render(request, "scans/job.html", context, status=status)
    response = render(request, "scans/_progress.html", context, status=status)
    if job.is_terminal and status == 200:
        # 286 makes htmx swap this last state in and stop polling.
        stop = HttpResponseStopPolling(response.content)
        stop["Content-Type"] = response["Content-Type"]
        return stop
    return response


@require_GET
def job_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    job = JOB_BY_PK.get(pk)
    if job is None:
        raise Http404(f"No scan {pk}.")
    return render_job(request, services.current(job))


@require_POST
@manager_required
def cancel_job(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    result = services.cancel_job(pk)
    if result.job is None:
        return HttpResponse(f"Job {pk} not found.", status=404, content_type="text/plain")
    status = 409 if result.outcome is CancelOutcome.TERMINAL else 200
    return render_job(request, result.job, status=status, message=result.message)
