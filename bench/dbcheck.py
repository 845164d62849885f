"""Count what a bench session left in the database: `python bench/dbcheck.py CODE` prints JSON.

Reads DATABASE_URL like the app does (run it with the same environment as the server).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def counts(code: str) -> dict:
    from django.db.models import Count

    from sessions_app.models import Answer, GameSession

    session = GameSession.objects.filter(code=code).order_by("-created_at").first()
    if session is None:
        return {"found": False}
    per_question = dict(
        Answer.objects.filter(session=session)
        .order_by()
        .values_list("question_index")
        .annotate(n=Count("pk"))
    )
    twice = (
        Answer.objects.filter(session=session)
        .order_by()
        .values("player_id", "question_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    # Each player's recorded choice per question (1-based), to compare with what the students sent.
    choices: dict[str, dict[int, int | None]] = {}
    rows = Answer.objects.filter(session=session).values_list("player__name", "question_index", "choice_idx")
    for name, index, choice in rows:
        choices.setdefault(name, {})[index + 1] = choice
    return {
        "found": True,
        "state": session.state,
        "players": session.players.filter(kicked=False).count(),
        "answers_per_question": {int(k) + 1: v for k, v in sorted(per_question.items())},
        "answers_total": sum(per_question.values()),
        "player_question_pairs_recorded_twice": twice,
        "vendor": __import__("django.db", fromlist=["connection"]).connection.vendor,
        "choices": choices,
    }


def main() -> int:
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knewit.settings")
    import django

    django.setup()
    print(json.dumps(counts(sys.argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
