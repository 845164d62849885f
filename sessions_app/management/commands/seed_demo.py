"""manage.py seed_demo: a demo host and a demo quiz, so a fresh checkout has something to play."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from quizzes_app.hosts import host_ensure
from quizzes_app.io import quiz_from_dict

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "knewit-demo"  # noqa: S105 - a published demo login for local use, not a secret
DEMO_TITLE = "Knewit demo quiz"
# One question of each kind (quizzes_app/kinds.py), so a first game shows them all.
DEMO_QUIZ = {
    "title": DEMO_TITLE,
    "default_timer": 20,
    "questions": [
        {
            "prompt": "Which planet is closest to the Sun?",
            "options": ["Venus", "Mercury", "Mars", "Earth"],
            "correct_idx": 1,
        },
        {
            "prompt": "Which of these animals are mammals?",
            "kind": "multi",
            "options": ["Dolphin", "Shark", "Bat", "Penguin"],
            "correct_idxs": [0, 2],
            "explanation": "Dolphins and bats feed their young on milk; sharks are fish, penguins birds.",
        },
        {
            "prompt": "Honey found in ancient Egyptian tombs can still be edible.",
            "kind": "truefalse",
            "correct_idx": 0,
            "time_limit": 15,
        },
        {
            "prompt": "What should our next quiz be about?",
            "kind": "poll",
            "options": ["Space", "Animals", "History", "Music"],
            "points": 0,
        },
        {
            "prompt": "What is the chemical symbol for gold?",
            "kind": "text",
            "accepted": ["Au"],
        },
        {
            "prompt": "In what year did people first walk on the Moon?",
            "kind": "slider",
            "min": 1950,
            "max": 2000,
            "step": 1,
            "correct": 1969,
            "tolerance": 1,
            "points": 2000,
            "time_limit": 30,
        },
        {
            "prompt": "Put these planets in order, nearest to the Sun first.",
            "kind": "order",
            "options": ["Mercury", "Venus", "Earth", "Mars"],
            "time_limit": 30,
        },
    ],
}


class Command(BaseCommand):
    help = f"Create the '{DEMO_USERNAME}' host and '{DEMO_TITLE}' unless they exist (safe to rerun)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            # host_ensure only sets the password on creation, so a changed demo password survives.
            user = host_ensure(username=DEMO_USERNAME, password=DEMO_PASSWORD)
            quiz = user.quizzes.filter(title=DEMO_TITLE).first()
            if quiz is None:
                quiz = quiz_from_dict(DEMO_QUIZ, owner=user)
                self.stdout.write(f"Created demo quiz {quiz.pk}: {quiz.title}")
            else:
                self.stdout.write(f"Demo quiz {quiz.pk} already exists")
        self.stdout.write(
            f"Log in at /accounts/login/ as '{DEMO_USERNAME}' with password '{DEMO_PASSWORD}' "
            "(unless you changed it); /host/ starts a session, /admin/ edits quizzes."
        )
