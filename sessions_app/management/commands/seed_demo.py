"""manage.py seed_demo: a demo host and a demo quiz, so a fresh checkout has something to play."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from quizzes_app.hosts import host_ensure
from quizzes_app.io import quiz_from_dict

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "knewit-demo"  # noqa: S105 - a published demo login for local use, not a secret
DEMO_TITLE = "Knewit demo quiz"
DEMO_QUIZ = {
    "title": DEMO_TITLE,
    "default_timer": 20,
    "questions": [
        {
            "prompt": "How many legs does a spider have?",
            "options": ["6", "8", "10", "12"],
            "correct_idx": 1,
        },
        {
            "prompt": "Is a tomato botanically a fruit?",
            "options": ["Yes", "No"],
            "correct_idx": 0,
            "time_limit": 10,
        },
        {
            "prompt": "Which ocean is the largest?",
            "options": ["Atlantic", "Indian", "Pacific"],
            "correct_idx": 2,
        },
        {
            "prompt": "What is the chemical symbol for gold?",
            "options": ["Go", "Gd", "Au", "Ag"],
            "correct_idx": 2,
            "time_limit": 15,
        },
        {
            "prompt": "Which planet has the most known moons?",
            "options": ["Earth", "Saturn", "Mars"],
            "correct_idx": 1,
            "points": 2000,
            "time_limit": 30,
        },
        {
            "prompt": "Honey found in ancient Egyptian tombs can still be edible.",
            "options": ["True", "False"],
            "correct_idx": 0,
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
