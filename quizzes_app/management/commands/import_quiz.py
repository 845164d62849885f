"""manage.py import_quiz FILE... [--owner USERNAME] [--title TITLE]: load quizzes from JSON, CSV or XLSX."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes_app.hosts import host_ensure
from quizzes_app.io import QuizFormatError, quiz_from_json
from quizzes_app.spreadsheets import is_spreadsheet, quiz_from_spreadsheet


class Command(BaseCommand):
    help = (
        "Import quizzes from Knewit quiz JSON files or from spreadsheets (.xlsx, .csv: the admin import"
        " page's template, or Kahoot's); each file is all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="quiz JSON, XLSX or CSV files")
        parser.add_argument(
            "--owner",
            metavar="USERNAME",
            help="host who will own the quizzes (created if missing); default: the first superuser",
        )
        parser.add_argument("--title", help="a spreadsheet's quiz title; default: its file name")

    def handle(self, *args, files: list[str], owner: str | None, title: str | None, **options) -> None:
        user = self.owner(owner)
        for name in files:
            path = Path(name)
            try:
                text = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{name}: {exc.strerror or exc}") from exc
            try:
                if is_spreadsheet(name, text):
                    quiz = quiz_from_spreadsheet(text, path.name, owner=user, title=title)
                else:
                    quiz = quiz_from_json(text, owner=user)
            except QuizFormatError as exc:
                # Earlier files stay imported; this one saved nothing, and we stop here.
                count = getattr(exc, "count", 1)
                if count > 1:  # a spreadsheet's mistakes, one a line
                    raise CommandError(f"{name}: {count} problems, nothing imported:\n{exc}") from exc
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
