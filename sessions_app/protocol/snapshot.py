"""The `session.snapshot` frame (docs/PROTOCOL.md §4.1): what a resuming client redraws its screen from."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from sessions_app.protocol.outbound import Histogram, LeaderboardEntry, LobbyPlayer


class You(TypedDict):
    player_id: str
    name: str
    score: int
    rank: int


class SessionSnapshot(TypedDict):
    type: Literal["session.snapshot"]
    session_id: str
    state: str
    locked: bool
    count: int
    players: NotRequired[list[LobbyPlayer]]  # the host's
    you: NotRequired[You]  # a player's
    question: NotRequired[dict]  # question.next's fields without `type`, plus a player's answered_idx
    histogram: NotRequired[Histogram | None]
    leaderboard: NotRequired[list[LeaderboardEntry]]


def session_snapshot(*, session_id: str, state: str, locked: bool, count: int) -> SessionSnapshot:
    """The common part of a snapshot; the caller adds what its reader may see."""
    return {
        "type": "session.snapshot",
        "session_id": session_id,
        "state": state,
        "locked": locked,
        "count": count,
    }
