"""What the engine tells its callers: a refused command, or an Outcome with the events of what happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.functional import lazy

from sessions_app.audiences import ALL, HOST, PLAYER, PLAYERS
from sessions_app.models import GameSession, Player

__all__ = ["ALL", "HOST", "PLAYER", "PLAYERS", "EngineError", "Outcome", "Push", "Refresh", "Wake"]


def _formatted(message, params: dict) -> str:
    return str(message) % params


class EngineError(Exception):
    """A refused command; `code` is one of docs/PROTOCOL.md's error codes.

    `message` is for people: marked with gettext_lazy, and formatted with `params` ("%(name)s") only
    when it is read, so it is in the language of whoever reads it. A socket sends it with str() in
    its own language; answers are judged in batches, many students' at once, in none of theirs.
    """

    def __init__(self, code: str, message, **params):
        if params:
            message = lazy(_formatted, str)(message, params)
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Push:
    """A frame of docs/PROTOCOL.md for an audience of a session: all, host, players, or one player.

    What each kind of socket receives for it (JSON, page regions) is the live layer's business.
    """

    code: str
    audience: str
    payload: dict
    player_id: str | None = None
    close_code: int | None = None


@dataclass(frozen=True)
class Refresh:
    """The lobby or the histogram changed; pushes are coalesced, so this only marks it dirty."""

    session_pk: int
    code: str
    what: str  # "lobby" (host and players), "host_lobby" (only the host's list changed), "histogram"


@dataclass(frozen=True)
class Wake:
    """Something is due at `at`: closing round `round` of question `index`, or auto-advancing after it."""

    session_pk: int
    code: str
    at: datetime
    index: int
    kind: str  # "close" | "advance"
    round: int = 1


@dataclass
class Outcome:
    reply: dict | None = None
    events: list[Push | Refresh | Wake] = field(default_factory=list)
    session: GameSession | None = None
    player: Player | None = None
