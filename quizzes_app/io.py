"""Import and export of quizzes in the original Knewit JSON format (docs/PROTOCOL.md, "A quiz object")."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from quizzes_app.models import (
    MAX_CHOICES,
    MAX_TIME_LIMIT,
    MIN_CHOICES,
    MIN_TIME_LIMIT,
    POINTS_CHOICES,
    Choice,
    Question,
    Quiz,
    question_label,
)

MAX_TITLE_CHARS = Quiz._meta.get_field("title").max_length
MAX_OPTION_CHARS = Choice._meta.get_field("text").max_length
DEFAULT_POINTS = Question._meta.get_field("points").default
DEFAULT_TIMER = Quiz._meta.get_field("default_time_limit").default
ALLOWED_POINTS = [value for value, _ in POINTS_CHOICES]


class QuizFormatError(ValueError):
    """A quiz file that does not follow the format; the message says where and why."""


def _is_int(value: Any) -> bool:
    # bool is a subclass of int, but `"correct_idx": true` is a mistake, not index 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _question_label(number: int, raw: Any) -> str:
    return question_label(number, raw.get("prompt") if isinstance(raw, dict) else None)


def _check_time(value: Any, what: str) -> None:
    if not _is_int(value) or not MIN_TIME_LIMIT <= value <= MAX_TIME_LIMIT:
        raise QuizFormatError(
            f"{what} must be a whole number of seconds from {MIN_TIME_LIMIT} to {MAX_TIME_LIMIT},"
            f" not {value!r}"
        )


def _check_text(value: str, what: str) -> None:
    """Text a database can store: no NUL characters (PostgreSQL refuses them) and no lone surrogates."""
    if "\x00" in value:
        raise QuizFormatError(f"{what} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QuizFormatError(f"{what} is not valid Unicode") from None


def _check_options(label: str, options: Any) -> None:
    if not isinstance(options, list):
        raise QuizFormatError(f'{label} needs "options": a list of {MIN_CHOICES} to {MAX_CHOICES} strings')
    if not MIN_CHOICES <= len(options) <= MAX_CHOICES:
        raise QuizFormatError(
            f"{label} has {_plural(len(options), 'option')}; {MIN_CHOICES} to {MAX_CHOICES} are needed"
        )
    for number, option in enumerate(options, start=1):
        if not isinstance(option, str) or not option.strip():
            raise QuizFormatError(f"{label}: option {number} must be a non-empty string")
        if len(option) > MAX_OPTION_CHARS:
            raise QuizFormatError(f"{label}: option {number} is longer than {MAX_OPTION_CHARS} characters")
        _check_text(option, f"{label}: option {number}")


def _check_question(number: int, raw: Any) -> None:
    label = _question_label(number, raw)
    if not isinstance(raw, dict):
        raise QuizFormatError(f"{label} must be an object")
    prompt = raw.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise QuizFormatError(f"{label} has an empty prompt")
    _check_text(prompt, f"{label}: the prompt")
    options = raw.get("options")
    _check_options(label, options)
    correct_idx = raw.get("correct_idx")
    if not _is_int(correct_idx) or not 0 <= correct_idx < len(options):
        raise QuizFormatError(
            f'{label}: "correct_idx" must be a whole number from 0 to {len(options) - 1}, not {correct_idx!r}'
        )
    if raw.get("time_limit") is not None:
        _check_time(raw["time_limit"], f'{label}: "time_limit"')
    if "points" in raw and (not _is_int(raw["points"]) or raw["points"] not in ALLOWED_POINTS):
        allowed = ", ".join(str(p) for p in ALLOWED_POINTS)
        raise QuizFormatError(f'{label}: "points" must be one of {allowed}, not {raw["points"]!r}')


def quiz_check(data: Any) -> None:
    """Raise QuizFormatError at the first thing in data that is not a valid quiz object."""
    if not isinstance(data, dict):
        raise QuizFormatError(f"A quiz must be a JSON object, not {type(data).__name__}")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise QuizFormatError('The quiz needs a non-empty "title"')
    if len(title) > MAX_TITLE_CHARS:
        raise QuizFormatError(f"The title is longer than {MAX_TITLE_CHARS} characters")
    _check_text(title, "The title")
    if data.get("default_timer") is not None:
        _check_time(data["default_timer"], '"default_timer"')
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise QuizFormatError('The quiz needs "questions": a non-empty list')
    for number, raw in enumerate(questions, start=1):
        _check_question(number, raw)


def quiz_from_dict(data: Any, *, owner: AbstractBaseUser) -> Quiz:
    """Validate a whole quiz object, then save it for owner in one transaction."""
    quiz_check(data)
    default_timer = data.get("default_timer")
    with transaction.atomic():
        quiz = Quiz.objects.create(
            title=data["title"],
            owner=owner,
            default_time_limit=DEFAULT_TIMER if default_timer is None else default_timer,
        )
        choices = []
        for order, raw in enumerate(data["questions"]):
            question = Question.objects.create(
                quiz=quiz,
                order=order,
                prompt=raw["prompt"],
                time_limit=raw.get("time_limit"),
                points=raw.get("points", DEFAULT_POINTS),
            )
            choices += [
                Choice(question=question, order=i, text=text, is_correct=i == raw["correct_idx"])
                for i, text in enumerate(raw["options"])
            ]
        Choice.objects.bulk_create(choices)
    return quiz


def quiz_from_json(text: str | bytes, *, owner: AbstractBaseUser) -> Quiz:
    """Parse JSON text and import it; bad JSON is a QuizFormatError like any other mistake."""
    try:
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise QuizFormatError("The file is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise QuizFormatError(f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
    return quiz_from_dict(data, owner=owner)


def quiz_to_dict(quiz: Quiz) -> dict[str, Any]:
    """The quiz as a quiz object that quiz_from_dict reads back unchanged."""
    questions = []
    for question in quiz.questions.prefetch_related("choices"):
        choices = list(question.choices.all())
        item: dict[str, Any] = {
            "prompt": question.prompt,
            "options": [choice.text for choice in choices],
            "correct_idx": next((i for i, c in enumerate(choices) if c.is_correct), 0),
            "points": question.points,
        }
        if question.time_limit is not None:
            item["time_limit"] = question.time_limit
        questions.append(item)
    return {"title": quiz.title, "default_timer": quiz.default_time_limit, "questions": questions}


def quiz_to_json(quiz: Quiz) -> str:
    """Pretty, human-editable JSON; non-ASCII stays readable."""
    return json.dumps(quiz_to_dict(quiz), ensure_ascii=False, indent=2) + "\n"
