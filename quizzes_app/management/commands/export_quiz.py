"""manage.py export_quiz QUIZ_ID [-o FILE]: write a quiz as JSON."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from quizzes_app.io import quiz_to_json
from quizzes_app.models import Quiz


class Command(BaseCommand):
    help = "Export a quiz as pretty JSON in the Knewit quiz format, to stdout or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("quiz_id", type=int, metavar="QUIZ_ID")
        parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")

    def handle(self, *args, quiz_id: int, output: str | None, **options) -> None:
        try:
            quiz = Quiz.objects.get(pk=quiz_id)
        except Quiz.DoesNotExist as exc:
            raise CommandError(f"No quiz with id {quiz_id}") from exc
        text = quiz_to_json(quiz)
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{output}: {exc.strerror or exc}") from exc
        self.stderr.write(f"Wrote quiz {quiz.pk} ({quiz.title}) to {output}")
