"""The ranking rules: the live leaderboard, the podium, the report, its CSV and each player's page.

By points: higher score first; on equal scores, the lower total answer time, where a question the
player left unanswered counts as its whole time limit (so silence is never faster than an answer);
then the earlier joiner; then the earlier row.

By accuracy: more correct answers first; then the same total answer time, joiner and row.

The total answer time counts each answer's time divided by the player's extra-time factor
(`paced_ms`): a student with twice the time who answers after 20 s of a 20 s question took half
their time, as a classmate answering after 10 s did, and scores the same. So extra time is neither
an advantage nor a penalty in the tie-break either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

# The rules as database orderings, for queries that rank in SQL (they must say what the keys say).
ORDER = ("-score", "total_answer_ms", "joined_at", "pk")
ACCURACY_ORDER = ("-correct_count", "total_answer_ms", "joined_at", "pk")


def rank_key(*, score: int, total_answer_ms: int, joined_at: datetime, pk: int) -> tuple:
    """The points rule as a sort key, for rows ranked in Python."""
    return (-score, total_answer_ms, joined_at, pk)


def accuracy_key(*, correct_count: int, total_answer_ms: int, joined_at: datetime, pk: int) -> tuple:
    """The accuracy rule as a sort key: correct answers, then the same tie-breaks as by points."""
    return (-correct_count, total_answer_ms, joined_at, pk)


def paced_ms(response_ms: int, time_percent: int = 100) -> int:
    """An answer's time as it counts in the tie-break: divided by the player's extra-time factor
    (`time_percent` 100, 150 or 200), rounded down. Whole numbers, as the SQL side divides them."""
    return response_ms * 100 // time_percent


def total_answer_ms(response_ms: Iterable[int | None], limits_ms: Iterable[int]) -> int:
    """A player's time over the questions played: each answer's (paced) time, or the limit where none."""
    return sum(limit if ms is None else ms for ms, limit in zip(response_ms, limits_ms, strict=True))
