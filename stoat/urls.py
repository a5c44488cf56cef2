from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path

from stoat.accounts import views as account_views
from stoat.api.urls import urls as api_urls
from stoat.core import views as core_views
from stoat.library import copies as copy_views
from stoat.library import library_views as libraries_views
from stoat.library import views as library_views
from stoat.scans import views as scan_views

library_urls = (
    [
        path("", library_views.library, name="index"),
        path("folders/", library_views.folder_view, name="folder"),
        path("stats/", library_views.stats_page, name="stats"),
        re_path(r"^export\.(?P<fmt>csv|json)$", library_views.export, name="export"),
        path("videos/<int:pk>/", library_views.video_detail, name="video"),
        path("videos/<int:pk>/stream", library_views.stream, name="stream"),
        path("videos/<int:pk>/thumbnail.jpg", library_views.thumbnail, name="thumbnail"),
        path("videos/<int:pk>/check-copies", copy_views.check_copies, name="check_copies"),
        path("videos/<int:pk>/remove-copy", copy_views.remove_copy, name="remove_copy"),
        path("duplicates/", copy_views.duplicates, name="duplicates"),
    ],
    "library",
)
libraries_urls = (
    [
        path("", libraries_views.library_list, name="list"),
        path("new", libraries_views.library_add, name="add"),
        path("<int:pk>/", libraries_views.library_edit, name="edit"),
        path("<int:pk>/save", libraries_views.library_update, name="update"),
        path("<int:pk>/scan", libraries_views.library_scan, name="scan"),
        path("<int:pk>/remove", libraries_views.library_remove, name="remove"),
    ],
    "libraries",
)
scan_urls = (
    [
        path("", scan_views.job_list, name="jobs"),
        path("new", scan_views.start_scan, name="start"),
        path("<int:pk>/", scan_views.job_detail, name="job"),
        path("<int:pk>/cancel", scan_views.cancel_job, name="cancel"),
    ],
    "scans",
)

# Every admin page names the app, not the framework.
admin.site.site_header = "stoat"
admin.site.site_title = "stoat admin"
admin.site.index_title = "Administration"
# The lists (jobs, videos) need the width more than a second copy of the app list does.
admin.site.enable_nav_sidebar = False

account_urls = (
    [
        path("login/", account_views.login_view, name="login"),
        path("logout/", account_views.logout_view, name="logout"),
        path("password/", account_views.password_change, name="password"),
    ],
    "accounts",
)

urlpatterns = [
    path("", include(library_urls)),
    path("jobs/", include(scan_urls)),
    path("libraries/", include(libraries_urls)),
    path("accounts/", include(account_urls)),
    # Ahead of the admin's own login view, so there is one sign-in page with one rate limit.
    path("admin/login/", account_views.admin_login),
    path("admin/", admin.site.urls),
    path("api/v1/", api_urls),
    # For load balancers and orchestrators: no login, no session, no HTML.
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
]
