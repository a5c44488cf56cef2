from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from stoat.scans import lifecycle
from stoat.scans.models import Job, ScanBatch, ScanError

PROGRESS_FIELDS = (
    "status",
    "phase",
    "found",
    "found_final",
    "to_read",
    "processed",
    "new",
    "updated",
    "unchanged",
    "skipped",
    "error_count",
    "missing",
    "batches_total",
    "batches_done",
    "current_file",
    "failure_reason",
    "created_at",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "cancel_requested_at",
)


class ScanErrorInline(admin.TabularInline[ScanError, Job]):
    model = ScanError
    fields = ("path", "message")
    readonly_fields = ("path", "message")
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


class ScanBatchInline(admin.TabularInline[ScanBatch, Job]):
    """Which host read which part of a fanned-out scan; a batch left running names a lost worker."""

    model = ScanBatch
    fields = ("number", "files", "status", "worker", "read", "started_at", "finished_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


@admin.action(description="Cancel selected jobs")
def cancel_jobs(modeladmin: JobAdmin, request: HttpRequest, queryset: QuerySet[Job]) -> None:
    accepted = 0
    for pk in queryset.values_list("pk", flat=True):
        accepted += lifecycle.request_cancel(pk).accepted
    skipped = queryset.count() - accepted
    modeladmin.message_user(
        request,
        f"Cancel requested for {accepted} job(s); {skipped} had already ended.",
        messages.SUCCESS if accepted else messages.WARNING,
    )


@admin.register(Job)
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = (
        "id",
        "kind",
        "path",
        "status",
        "found",
        "processed",
        "error_count",
        "created_at",
    )
    list_filter = ("status", "kind", "recursive")
    search_fields = ("path",)
    readonly_fields = PROGRESS_FIELDS
    fields = ("kind", "path", "recursive", *PROGRESS_FIELDS)
    actions = [cancel_jobs]
    inlines = [ScanBatchInline, ScanErrorInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs start from the scan form, the API or `manage.py scan`

    def get_readonly_fields(self, request: HttpRequest, obj: Job | None = None) -> tuple[str, ...]:
        return ("kind", "path", "recursive", *PROGRESS_FIELDS)


@admin.register(ScanError)
class ScanErrorAdmin(admin.ModelAdmin[ScanError]):
    list_display = ("path", "message", "job", "created_at")
    search_fields = ("path", "message")
    list_filter = ("job__status",)
    readonly_fields = ("job", "path", "message", "created_at")
