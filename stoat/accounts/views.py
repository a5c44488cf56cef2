from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from stoat.accounts import throttle
from stoat.accounts.forms import SignInForm
from stoat.core.http import client_ip

logger = logging.getLogger("stoat.accounts")


def safe_next(request: HttpRequest) -> str:
    """The page to go to after signing in, if it is on this site."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return ""


@login_not_required
@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request)
    form = SignInForm(request, data=request.POST if request.method == "POST" else None)
    status = 200
    locked_out = False
    if request.method == "POST":
        ip = client_ip(request)
        username = request.POST.get("username", "")[:150]
        if throttle.is_locked_out(ip, username):
            logger.warning("sign-in refused, too many failures: user=%r ip=%s", username, ip)
            form = SignInForm(request, initial={"username": username})
            locked_out = True
            status = 429
        elif form.is_valid():
            user = form.get_user()
            login(request, user)
            throttle.clear_failures(ip, username)
            logger.info("signed in: user=%r ip=%s", user.get_username(), ip)
            return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
        else:
            throttle.record_failure(ip, username)
            # The form again with one message: a mistyped password is not a malformed request.
            logger.warning("sign-in failed: user=%r ip=%s", username, ip)
    context = {
        "form": form,
        "next": next_url,
        "locked_out": locked_out,
        "lockout_minutes": max(1, settings.STOAT_LOGIN_LOCKOUT_SECONDS // 60),
        "no_users_yet": not get_user_model().objects.exists(),
    }
    return render(request, "registration/login.html", context, status=status)


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """A signed-in user changes their own password, and stays signed in."""
    form = PasswordChangeForm(request.user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            update_session_auth_hash(request, user)
            logger.info("password changed: user=%r", user.get_username())
            messages.success(request, "Your password is changed.")
            return redirect("library:index")
        return render(request, "registration/password_change.html", {"form": form}, status=400)
    return render(request, "registration/password_change.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect(settings.LOGIN_URL)


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin signs in through stoat's own (rate-limited) login page."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(resolve_url(settings.LOGIN_URL) + (f"?{query}" if query else ""))
