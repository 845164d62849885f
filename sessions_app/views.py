"""Pages of the live quiz: the join form, the host dashboard and the live views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def join(request: HttpRequest) -> HttpResponse:
    """The student's front door: Game PIN and nickname."""
    return render(request, "sessions/join.html", {})


@login_required
def host_dashboard(request: HttpRequest) -> HttpResponse:
    """My quizzes and my past sessions."""
    quizzes = request.user.quizzes.all()
    sessions = request.user.game_sessions.select_related("quiz")[:50]
    return render(request, "sessions/host_dashboard.html", {"quizzes": quizzes, "sessions": sessions})
