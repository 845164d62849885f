"""manage.py import_quiz FILE... [--owner USERNAME]: load quizzes from JSON files."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes_app.hosts import host_ensure
from quizzes_app.io import QuizFormatError, quiz_from_json


class Command(BaseCommand):
    help = "Import quizzes from JSON files in the Knewit quiz format; each file is all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="quiz JSON files")
        parser.add_argument(
            "--owner",
            metavar="USERNAME",
            help="host who will own the quizzes (created if missing); default: the first superuser",
        )

    def handle(self, *args, files: list[str], owner: str | None, **options) -> None:
        user = self.owner(owner)
        for name in files:
            path = Path(name)
            try:
                text = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{name}: {exc.strerror or exc}") from exc
            try:
                quiz = quiz_from_json(text, owner=user)
            except QuizFormatError as exc:
                # Earlier files stay imported; this one saved nothing, and we stop here.
                raise CommandError(f"{name}: {exc}") from exc
            count = quiz.questions.count()
            self.stdout.write(f"Imported quiz {quiz.pk}: {quiz.title} ({count} questions) from {name}")

    def owner(self, username: str | None) -> AbstractBaseUser:
        """The named host (created on demand), or the first superuser."""
        if username:
            return host_ensure(username=username)
        user = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("No superuser to own the quizzes: pass --owner USERNAME or create one")
        return user
