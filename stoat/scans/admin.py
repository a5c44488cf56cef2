from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from stoat.core.admin import WrittenByScans, short_path
from stoat.scans import services
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
    verbose_name_plural = "scan batches"
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
        accepted += services.cancel_job(pk).accepted
    skipped = queryset.count() - accepted
    modeladmin.message_user(
        request,
        f"Cancel requested for {accepted} job(s); {skipped} had already ended.",
        messages.SUCCESS if accepted else messages.WARNING,
    )


@admin.register(Job)
class JobAdmin(WrittenByScans, admin.ModelAdmin[Job]):
    list_display = ("id", "folder", "status", "found", "processed", "errors", "created_at")
    list_display_links = ("id", "folder")
    list_filter = ("status", "recursive")
    search_fields = ("path",)
    fields = ("kind", "path", "recursive", *PROGRESS_FIELDS)
    actions = [cancel_jobs]
    inlines = [ScanBatchInline, ScanErrorInline]

    @admin.display(description="folder", ordering="path")
    def folder(self, job: Job) -> SafeString:
        return short_path(job.path)

    @admin.display(description="errors", ordering="error_count")
    def errors(self, job: Job) -> int:
        return job.error_count

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        # An old scan may be cleared away; one still running is cancelled instead.
        return (obj is None or obj.is_terminal) and super().has_delete_permission(request, obj)


@admin.register(ScanError)
class ScanErrorAdmin(WrittenByScans, admin.ModelAdmin[ScanError]):
    list_display = ("file", "message", "job", "created_at")
    search_fields = ("path", "message")
    list_filter = ("job__status",)

    @admin.display(description="file", ordering="path")
    def file(self, error: ScanError) -> SafeString:
        return short_path(error.path)

    def has_delete_permission(self, request: HttpRequest, obj: ScanError | None = None) -> bool:
        return False
