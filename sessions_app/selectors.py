"""Reads shared by pages, reports and the engine."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from sessions_app.models import GameSession, Player

# Ties share no rank: higher score first, then the lower total answer time, then the earlier joiner.
LEADERBOARD_ORDER = ("-score", "total_answer_ms", "joined_at", "pk")


def session_for_host(user, code: str) -> GameSession:
    """The host's session with this join code (the newest, as codes are reused once finished)."""
    session = GameSession.objects.filter(code=code).select_related("quiz", "host").order_by("-created_at").first()
    if session is None:
        raise Http404("No session with that code.")
    if session.host_id != user.pk and not user.is_superuser:
        raise PermissionDenied("This session belongs to another host.")
    return session


def ranked_players(session: GameSession) -> QuerySet[Player]:
    """Every player not kicked, best first."""
    return session.players.filter(kicked=False).order_by(*LEADERBOARD_ORDER)
