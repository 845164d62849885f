"""Pages of the live quiz: joining, the student's phone view, the host dashboard and live view."""

from __future__ import annotations

from datetime import timedelta

import segno
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quizzes_app.hosts import is_host
from sessions_app import engine, metrics, selectors, throttle
from sessions_app.auth import rejoin_cookie_name
from sessions_app.live import effects
from sessions_app.models import GameSession
from sessions_app.reports import past_sessions_for
from sessions_app.web import pages
from sessions_app.web.forms import JoinForm, StartSessionForm

REJOIN_COOKIE_AGE = timedelta(hours=12)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The student's front door: Game PIN and nickname; errors keep what was typed."""
    if request.method == "POST":
        form = JoinForm(request.POST)
        if form.is_valid():
            return _join(request, form)
        return _refused(request, form, 400)
    form = JoinForm(initial={"code": code} if code else None)
    return render(request, "sessions/join.html", {"form": form})


def _refused(request: HttpRequest, form: JoinForm, status: int) -> HttpResponse:
    """The form again with what was wrong; posted by htmx, it stays at its address (htmx swaps these
    statuses in: base.html's htmx-config)."""
    response = render(request, "sessions/join.html", {"form": form}, status=status)
    if request.headers.get("HX-Request"):
        response["HX-Push-Url"] = "false"
    return response


NOT_OPEN = gettext_lazy("No game is open for joining with that PIN. Check it with your teacher.")
LOCKED = gettext_lazy("The host has locked this game, so nobody new can join. Ask your teacher to unlock it.")


def _join(request: HttpRequest, form: JoinForm) -> HttpResponse:
    code = form.cleaned_data["code"]
    address = request.META.get("REMOTE_ADDR", "unknown")
    if throttle.pin_guessing_blocked(address):
        form.add_error("code", throttle.BLOCKED_MESSAGE)
        return _refused(request, form, 429)
    try:
        outcome = engine.player_join(
            code=code, raw_name=form.cleaned_data["nickname"], password=form.cleaned_data["password"],
            requested_id=None, msg_id=None, now=timezone.now(), language=request.LANGUAGE_CODE,
        )  # fmt: skip
    except engine.EngineError as exc:
        if exc.code in throttle.GUESS_CODES:
            throttle.record_wrong_pin(address, code)
        if exc.code in ("not_found", "wrong_state"):
            form.add_error("code", NOT_OPEN)  # unknown and finished PINs look alike
        elif exc.code == "locked":
            form.add_error("code", LOCKED)  # the PIN is on the projector: say what is going on
        elif exc.code == "full":
            form.add_error("code", exc.message)
        else:
            form.add_error("nickname" if exc.code != "forbidden" else "password", exc.message)
        return _refused(request, form, 400)
    async_to_sync(effects.dispatch)(outcome.events)
    token = outcome.reply["rejoin_token"]
    if request.headers.get("HX-Request"):
        # The join form posted by htmx (hx-boost): the play page itself, its address pushed, so a
        # phone joins in one round trip fewer than through the redirect (bench/RESULTS.md, #16).
        response = _play_page(request, outcome.player, code)
        response["HX-Push-Url"] = reverse("play", kwargs={"code": code})
    else:
        response = redirect("play", code=code)
    response.set_cookie(
        rejoin_cookie_name(code), token,
        max_age=int(REJOIN_COOKIE_AGE.total_seconds()),
        httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
    )  # fmt: skip
    return response


@require_GET
def play(request: HttpRequest, code: str) -> HttpResponse:
    """The student's live view; without a valid rejoin cookie, back to the join form."""
    player = selectors.player_for_token(code, request.COOKIES.get(rejoin_cookie_name(code), ""))
    if player is None:
        return redirect("join_code", code=code)
    return _play_page(request, player, code)


def _play_page(request: HttpRequest, player, code: str) -> HttpResponse:
    context = pages.player_view(player.session, player, timezone.now())
    return render(request, "sessions/play.html", {**context, "player": player, "code": code})


@login_required
@require_GET
def host_dashboard(request: HttpRequest) -> HttpResponse:
    """My quizzes with a start form each, and my past sessions."""
    if not is_host(request.user):
        raise PermissionDenied(_("Only hosts have a dashboard."))
    return _dashboard(request, StartSessionForm(initial={"max_players": 2000}))


def _dashboard(request: HttpRequest, start_form: StartSessionForm, status: int = 200) -> HttpResponse:
    context = {
        "quizzes": selectors.quizzes_for_host(request.user).filter(owner=request.user),
        "start_form": start_form,
        "past_sessions": past_sessions_for(request.user),
    }
    return render(request, "sessions/host_dashboard.html", context, status=status)


@login_required
@require_POST
def session_start(request: HttpRequest) -> HttpResponse:
    """Open a session for one of my quizzes and go to its live page."""
    if not is_host(request.user):
        raise PermissionDenied(_("Only hosts can start sessions."))
    form = StartSessionForm(request.POST)
    if not form.is_valid():
        return _dashboard(request, form, status=400)
    site_url = request.build_absolute_uri("/").rstrip("/")
    try:
        outcome = engine.session_create(
            host=request.user,
            quiz_id=form.cleaned_data["quiz_id"],
            raw_settings=form.settings(),
            site_url=site_url,
        )
    except engine.EngineError as exc:
        if exc.code == "not_found":
            raise PermissionDenied(exc.message) from None
        form.add_error(None, exc.message)  # e.g. a question with no choices, named
        return _dashboard(request, form, status=400)
    return redirect("host_session", code=outcome.session.code)


@login_required
@require_GET
def host_session(request: HttpRequest, code: str) -> HttpResponse:
    """The host's live view: PIN and QR code, lobby, controls, histogram, leaderboard."""
    session = selectors.session_for_host(request.user, code)
    if session.state == GameSession.State.FINISHED and session.closed_at:
        return redirect("session_results", code=code)
    join_url = request.build_absolute_uri(reverse("join_code", kwargs={"code": code}))
    qr_svg = segno.make(join_url, error="m").svg_inline(
        scale=6, dark="#1b1b1f", light="#ffffff", title=_("QR code of the join link"), omitsize=True
    )
    context = {
        **pages.host_view(session, timezone.now()),
        "join_url": join_url,
        "qr_svg": qr_svg,
        "code": code,
    }
    return render(request, "sessions/host_session.html", context)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics of this worker, for staff or a scraper holding KNEWIT_METRICS_TOKEN."""
    token = settings.KNEWIT_METRICS_TOKEN
    bearer = request.headers.get("Authorization", "")
    if not (request.user.is_staff or (token and constant_time_compare(bearer, f"Bearer {token}"))):
        return HttpResponseForbidden(_("Metrics are for staff or a configured token."))
    return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE_LATEST)
