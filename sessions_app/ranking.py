"""The one ranking rule: the live leaderboard, the podium, the report, its CSV and each player's page.

Higher score first; on equal scores, the lower total answer time, where a question the player left
unanswered counts as its whole time limit (so silence is never faster than an answer); then the
earlier joiner; then the earlier row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

# The rule as a database ordering, for queries that rank in SQL (it must say what rank_key says).
ORDER = ("-score", "total_answer_ms", "joined_at", "pk")


def rank_key(*, score: int, total_answer_ms: int, joined_at: datetime, pk: int) -> tuple:
    """The rule as a sort key, for rows ranked in Python."""
    return (-score, total_answer_ms, joined_at, pk)


def total_answer_ms(response_ms: Iterable[int | None], limits_ms: Iterable[int]) -> int:
    """A player's time over the questions played: each answer's time, or the limit where none."""
    return sum(limit if ms is None else ms for ms, limit in zip(response_ms, limits_ms, strict=True))
