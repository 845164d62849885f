"""Import and export of quizzes in the Knewit JSON format (docs/PROTOCOL.md §3.2, "Quiz object").

A question without "kind" is the original format's single-answer question; each kind adds its own
fields. A quiz is checked whole before anything is saved: what a kind's question needs to be played
is decided by kinds.check_question, the rule the admin and the sessions use too.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from quizzes_app.images import IMAGE_MIME_TYPES, MAX_IMAGE_BYTES, image_format
from quizzes_app.kinds import (
    SLIDER_FIELDS,
    TEXT_ANSWER_MAX,
    TRUE_FALSE_TEXTS,
    Kind,
    Slider,
    check_question,
    slider_error_field,
)
from quizzes_app.models import (
    EXPLANATION_MAX,
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
MAX_IMAGE_ALT_CHARS = Question._meta.get_field("image_alt").max_length
DEFAULT_POINTS = Question._meta.get_field("points").default
DEFAULT_TIMER = Quiz._meta.get_field("default_time_limit").default
ALLOWED_POINTS = [value for value, _ in POINTS_CHOICES]

# The fields that describe a question's answers; each kind takes only its own.
KIND_FIELDS = {
    Kind.SINGLE: {"options", "correct_idx", "correct_idxs"},
    Kind.TRUEFALSE: {"options", "correct_idx", "correct_idxs"},
    Kind.MULTI: {"options", "correct_idxs"},
    Kind.POLL: {"options"},
    Kind.ORDER: {"options"},
    Kind.TEXT: {"accepted"},
    Kind.SLIDER: set(SLIDER_FIELDS),
}
ANSWER_FIELDS = set().union(*KIND_FIELDS.values())
IMAGE_DATA_URL = re.compile(r"data:image/[a-z0-9.+-]+;base64,(?P<data>.*)", re.IGNORECASE | re.DOTALL)
# base64 spends 4 characters on 3 bytes: more characters than this cannot be 5 MB or less.
MAX_IMAGE_CHARS = -(-MAX_IMAGE_BYTES // 3) * 4
IMAGE_TOO_LARGE = _("The image is larger than 5 MB.")


class QuizFormatError(ValueError):
    """A quiz file that does not follow the format; the message says where and why.

    The errors a spreadsheet's row can make also say what is at fault, for its column: `field` is the
    quiz object's field ("options", "accepted", "correct", "time_limit", "points", "explanation", a
    slider field), `index` the option's (0-based) when it is one option, and `detail` the message
    without the question's label.
    """

    def __init__(
        self, message: str, *, field: str | None = None, index: int | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.field, self.index, self.detail = field, index, detail or message


def _fail(label: str, detail: str, field: str, index: int | None = None) -> QuizFormatError:
    """'<label>: <detail>', knowing which field (and option) is at fault."""
    return QuizFormatError(_labelled(label, detail), field=field, index=index, detail=detail)


def _labelled(label: str, detail: str) -> str:
    return gettext("%(label)s: %(detail)s") % {"label": label, "detail": detail}


@dataclass
class ParsedQuestion:
    """One question of a quiz object, checked and ready to save."""

    kind: str
    prompt: str
    time_limit: int | None
    points: int
    choices: list[tuple[str, bool]]  # (text, is_correct), in order
    slider: Slider | None
    explanation: str
    image: ContentFile | None
    image_alt: str


def _is_int(value: Any) -> bool:
    # bool is a subclass of int, but `"correct_idx": true` is a mistake, not index 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _question_label(number: int, raw: Any) -> str:
    return question_label(number, raw.get("prompt") if isinstance(raw, dict) else None)


def _check_time(value: Any, what: str, field: str = "time_limit") -> None:
    if not _is_int(value) or not MIN_TIME_LIMIT <= value <= MAX_TIME_LIMIT:
        detail = gettext("must be a whole number of seconds from %(min)s to %(max)s, not %(value)s") % {
            "min": MIN_TIME_LIMIT,
            "max": MAX_TIME_LIMIT,
            "value": repr(value),
        }
        raise QuizFormatError(f"{what} {detail}", field=field, detail=detail)


def _check_text(value: str, what: str) -> None:
    """Text a database can store: no NUL characters (PostgreSQL refuses them) and no lone surrogates."""
    if "\x00" in value:
        raise QuizFormatError(gettext("%(what)s contains a NUL character") % {"what": what})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QuizFormatError(gettext("%(what)s is not valid Unicode") % {"what": what}) from None


def _optional_text(label: str, raw: dict, field: str, max_chars: int) -> str:
    value = raw.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise QuizFormatError(
            gettext('%(label)s: "%(field)s" must be a string') % {"label": label, "field": field}
        )
    if len(value) > max_chars:
        detail = gettext("is longer than %(max)s characters") % {"max": max_chars}
        raise QuizFormatError(f'{label}: "{field}" {detail}', field=field, detail=detail)
    _check_text(value, f'{label}: "{field}"')
    return value


# --- the answers, kind by kind ---------------------------------------------------------------------


def _check_options(label: str, options: Any) -> None:
    if not isinstance(options, list):
        raise QuizFormatError(
            gettext('%(label)s needs "options": a list of %(min)s to %(max)s strings')
            % {"label": label, "min": MIN_CHOICES, "max": MAX_CHOICES}
        )
    if not MIN_CHOICES <= len(options) <= MAX_CHOICES:
        counts = {"label": label, "count": len(options), "min": MIN_CHOICES, "max": MAX_CHOICES}
        raise QuizFormatError(
            ngettext(
                "%(label)s has %(count)s option; %(min)s to %(max)s are needed",
                "%(label)s has %(count)s options; %(min)s to %(max)s are needed",
                len(options),
            )
            % counts,
            field="options",
            index=min(len(options), MAX_CHOICES),
            detail=ngettext(
                "the question has %(count)s option; %(min)s to %(max)s are needed",
                "the question has %(count)s options; %(min)s to %(max)s are needed",
                len(options),
            )
            % counts,
        )
    for index, option in enumerate(options):
        number = {"number": index + 1, "max": MAX_OPTION_CHARS}
        if not isinstance(option, str) or not option.strip():
            raise _fail(
                label, gettext("option %(number)s must be a non-empty string") % number, "options", index
            )
        if len(option) > MAX_OPTION_CHARS:
            detail = gettext("option %(number)s is longer than %(max)s characters") % number
            raise _fail(label, detail, "options", index)
        _check_text(option, _labelled(label, gettext("option %(number)s") % number))


def _correct_idx(label: str, value: Any, count: int) -> set[int]:
    if not _is_int(value) or not 0 <= value < count:
        raise QuizFormatError(
            gettext('%(label)s: "correct_idx" must be a whole number from 0 to %(last)s, not %(value)s')
            % {"label": label, "last": count - 1, "value": repr(value)}
        )
    return {value}


def _correct_idxs(label: str, value: Any, count: int) -> set[int]:
    if not isinstance(value, list) or not all(_is_int(i) and 0 <= i < count for i in value):
        raise QuizFormatError(
            gettext(
                '%(label)s: "correct_idxs" must be a list of whole numbers from 0 to %(last)s, not %(value)s'
            )
            % {"label": label, "last": count - 1, "value": repr(value)}
        )
    if len(set(value)) != len(value):
        raise QuizFormatError(gettext('%(label)s: "correct_idxs" names an option twice') % {"label": label})
    return set(value)


def _correct_set(label: str, raw: dict, kind: str, count: int) -> set[int]:
    """The indices marked correct; how many there must be is check_question's to say."""
    if kind in (Kind.POLL, Kind.ORDER):
        return set()
    if raw.get("correct_idxs") is not None:
        if raw.get("correct_idx") is not None:
            raise QuizFormatError(
                gettext('%(label)s: give "correct_idx" or "correct_idxs", not both') % {"label": label}
            )
        return _correct_idxs(label, raw["correct_idxs"], count)
    if kind == Kind.MULTI:
        return _correct_idxs(label, None, count)
    return _correct_idx(label, raw.get("correct_idx"), count)


def _option_choices(label: str, raw: dict, kind: str) -> list[tuple[str, bool]]:
    options = raw.get("options")
    if options is None and kind == Kind.TRUEFALSE:
        options = list(TRUE_FALSE_TEXTS)
    _check_options(label, options)
    correct = _correct_set(label, raw, kind, len(options))
    return [(text, i in correct) for i, text in enumerate(options)]


def _text_choices(label: str, raw: dict) -> list[tuple[str, bool]]:
    """A typed-answer question's choices are its accepted answers (is_correct is not used)."""
    accepted = raw.get("accepted")
    if not isinstance(accepted, list):
        raise QuizFormatError(
            gettext('%(label)s needs "accepted": a list of 1 to %(max)s accepted answers')
            % {"label": label, "max": MAX_CHOICES}
        )
    for index, answer in enumerate(accepted):
        number = {"number": index + 1, "max": TEXT_ANSWER_MAX}
        if not isinstance(answer, str) or not answer.strip():
            detail = gettext("accepted answer %(number)s must be a non-empty string") % number
            raise _fail(label, detail, "accepted", index)
        if len(answer) > TEXT_ANSWER_MAX:
            # A student can type at most this many characters, so a longer answer could never match.
            detail = gettext("accepted answer %(number)s is longer than %(max)s characters") % number
            raise _fail(label, detail, "accepted", index)
        _check_text(answer, _labelled(label, gettext("accepted answer %(number)s") % number))
    return [(answer, False) for answer in accepted]


def _number(label: str, raw: dict, field: str) -> float:
    value = raw.get(field)
    if field == "tolerance" and value is None:
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            number = math.inf
        if math.isfinite(number):
            return number
    raise QuizFormatError(
        gettext('%(label)s: "%(field)s" must be a number, not %(value)s')
        % {"label": label, "field": field, "value": repr(value)}
    )


def _slider(label: str, raw: dict) -> Slider:
    return Slider(**{field: _number(label, raw, field) for field in SLIDER_FIELDS})


def _kind(label: str, raw: dict) -> str:
    kind = raw.get("kind")
    if kind is None:
        return Kind.SINGLE
    if kind not in Kind.values:
        raise QuizFormatError(
            gettext('%(label)s: unknown "kind" %(kind)s; one of %(kinds)s')
            % {"label": label, "kind": repr(kind), "kinds": ", ".join(Kind.values)}
        )
    return kind


def _check_fields_of_kind(label: str, raw: dict, kind: str) -> None:
    for field in sorted(ANSWER_FIELDS - KIND_FIELDS[kind]):
        if raw.get(field) is not None:
            raise QuizFormatError(
                gettext('%(label)s: %(kind)s questions do not take "%(field)s"')
                % {"label": label, "kind": kind, "field": field}
            )


def _answers(label: str, raw: dict, kind: str) -> tuple[list[tuple[str, bool]], Slider | None]:
    """The question's choices and slider, checked against what its kind needs to be played."""
    _check_fields_of_kind(label, raw, kind)
    if kind == Kind.SLIDER:
        choices, slider = [], _slider(label, raw)
    elif kind == Kind.TEXT:
        choices, slider = _text_choices(label, raw), None
    else:
        choices, slider = _option_choices(label, raw, kind), None
    try:
        check_question(kind, [ok for _, ok in choices], slider)
    except ValidationError as exc:
        error = exc.error_list[0]
        field = slider_error_field(error) or {
            "choice_count": "accepted" if kind == Kind.TEXT else "options",
            "correct_count": "correct",
        }.get(error.code, "kind")
        raise _fail(label, exc.messages[0], field) from None
    return choices, slider


# --- the rest of a question ------------------------------------------------------------------------


def _image(label: str, value: Any) -> ContentFile | None:
    """A data URL's picture, checked like an upload in the admin (images.image_format)."""
    if value is None:
        return None
    match = IMAGE_DATA_URL.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise QuizFormatError(
            gettext('%(label)s: "image" must be a data URL such as data:image/png;base64,...')
            % {"label": label}
        )
    encoded = re.sub(r"\s+", "", match["data"])  # base64 tools wrap their lines
    if len(encoded) > MAX_IMAGE_CHARS:  # without decoding what is too large anyway
        raise QuizFormatError(_labelled(label, str(IMAGE_TOO_LARGE)))
    try:
        upload = ContentFile(base64.b64decode(encoded, validate=True), name="image")
    except (binascii.Error, ValueError):
        raise QuizFormatError(gettext('%(label)s: "image" is not valid base64') % {"label": label}) from None
    try:
        ext = image_format(upload)
    except ValidationError as exc:
        raise QuizFormatError(_labelled(label, exc.messages[0])) from None
    upload.name = f"image.{ext}"
    return upload


def _parse_question(number: int, raw: Any) -> ParsedQuestion:
    label = _question_label(number, raw)
    if not isinstance(raw, dict):
        raise QuizFormatError(gettext("%(label)s must be an object") % {"label": label})
    prompt = raw.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise QuizFormatError(gettext("%(label)s has an empty prompt") % {"label": label})
    _check_text(prompt, _labelled(label, gettext("the prompt")))
    kind = _kind(label, raw)
    choices, slider = _answers(label, raw, kind)
    if raw.get("time_limit") is not None:
        _check_time(raw["time_limit"], f'{label}: "time_limit"')
    if "points" in raw and (not _is_int(raw["points"]) or raw["points"] not in ALLOWED_POINTS):
        allowed = ", ".join(str(p) for p in ALLOWED_POINTS)
        detail = gettext("must be one of %(allowed)s, not %(value)s") % {
            "allowed": allowed,
            "value": repr(raw["points"]),
        }
        raise QuizFormatError(f'{label}: "points" {detail}', field="points", detail=detail)
    return ParsedQuestion(
        kind=kind,
        prompt=prompt,
        time_limit=raw.get("time_limit"),
        points=raw.get("points", DEFAULT_POINTS),
        choices=choices,
        slider=slider,
        explanation=_optional_text(label, raw, "explanation", EXPLANATION_MAX),
        image=_image(label, raw.get("image")),
        image_alt=_optional_text(label, raw, "image_alt", MAX_IMAGE_ALT_CHARS),
    )


def _parse_quiz(data: Any) -> list[ParsedQuestion]:
    if not isinstance(data, dict):
        raise QuizFormatError(
            gettext("A quiz must be a JSON object, not %(type)s") % {"type": type(data).__name__}
        )
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise QuizFormatError(gettext('The quiz needs a non-empty "title"'))
    if len(title) > MAX_TITLE_CHARS:
        raise QuizFormatError(
            gettext("The title is longer than %(max)s characters") % {"max": MAX_TITLE_CHARS}
        )
    _check_text(title, gettext("The title"))
    if data.get("default_timer") is not None:
        _check_time(data["default_timer"], '"default_timer"', "default_timer")
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        raise QuizFormatError(gettext('The quiz needs "questions": a non-empty list'))
    return [_parse_question(number, raw) for number, raw in enumerate(questions, start=1)]


def quiz_check(data: Any) -> None:
    """Raise QuizFormatError at the first thing in data that is not a valid quiz object."""
    _parse_quiz(data)


# --- saving and reading back -----------------------------------------------------------------------


def _slider_columns(slider: Slider | None) -> dict[str, float]:
    if slider is None:
        return {}
    return {f"slider_{field}": getattr(slider, field) for field in SLIDER_FIELDS}


def _new_question(quiz: Quiz, order: int, parsed: ParsedQuestion) -> Question:
    question = Question(
        quiz=quiz,
        order=order,
        kind=parsed.kind,
        prompt=parsed.prompt,
        time_limit=parsed.time_limit,
        points=parsed.points,
        explanation=parsed.explanation,
        image_alt=parsed.image_alt,
        **_slider_columns(parsed.slider),
    )
    if parsed.image is not None:
        question.image = parsed.image  # stored on save, under its content's hash (images.py)
    question.save()
    return question


def quiz_from_dict(data: Any, *, owner: AbstractBaseUser) -> Quiz:
    """Validate a whole quiz object, then save it for owner in one transaction."""
    questions = _parse_quiz(data)
    default_timer = data.get("default_timer")
    with transaction.atomic():
        quiz = Quiz.objects.create(
            title=data["title"],
            owner=owner,
            default_time_limit=DEFAULT_TIMER if default_timer is None else default_timer,
        )
        choices = []
        for order, parsed in enumerate(questions):
            question = _new_question(quiz, order, parsed)
            choices += [
                Choice(question=question, order=i, text=text, is_correct=is_correct)
                for i, (text, is_correct) in enumerate(parsed.choices)
            ]
        Choice.objects.bulk_create(choices)
    return quiz


def quiz_from_json(text: str | bytes, *, owner: AbstractBaseUser) -> Quiz:
    """Parse JSON text and import it; bad JSON is a QuizFormatError like any other mistake."""
    try:
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise QuizFormatError(gettext("The file is not UTF-8 text")) from exc
    except json.JSONDecodeError as exc:
        raise QuizFormatError(
            gettext("Not valid JSON: %(error)s at line %(line)s, column %(column)s")
            % {"error": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python will convert
        raise QuizFormatError(gettext("Not valid JSON: %(error)s") % {"error": exc}) from exc
    return quiz_from_dict(data, owner=owner)


def _plain_number(value: float | None) -> float | int | None:
    """3.0 is written 3, as a teacher would; it reads back as the same float."""
    return int(value) if value is not None and value.is_integer() else value


def _answers_dict(question: Question, choices: list[Choice]) -> dict[str, Any]:
    """The kind's own fields, as _answers reads them."""
    texts = [choice.text for choice in choices]
    correct = [i for i, choice in enumerate(choices) if choice.is_correct]
    kind = question.kind
    if kind == Kind.SLIDER:
        columns = _slider_columns(question.slider)
        return {field: _plain_number(columns[f"slider_{field}"]) for field in SLIDER_FIELDS}
    if kind == Kind.TEXT:
        return {"accepted": texts}
    if kind == Kind.MULTI:
        return {"options": texts, "correct_idxs": correct}
    if kind in (Kind.SINGLE, Kind.TRUEFALSE):
        # A question left without a correct choice in the admin still exports; importing it says why.
        return {"options": texts, "correct_idx": correct[0] if correct else 0}
    return {"options": texts}


def _image_data_url(question: Question) -> str | None:
    ext = Path(question.image.name).suffix.lstrip(".").lower()
    try:
        with question.image.open("rb") as file:
            data = file.read()
    except FileNotFoundError:  # deleted from MEDIA_ROOT: the rest of the quiz still exports
        return None
    mime = IMAGE_MIME_TYPES.get(ext, "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _question_dict(question: Question) -> dict[str, Any]:
    item: dict[str, Any] = {"prompt": question.prompt}
    if question.kind != Kind.SINGLE:  # the original format's questions stay as they were
        item["kind"] = question.kind
    item |= _answers_dict(question, list(question.choices.all()))
    item["points"] = question.points
    if question.time_limit is not None:
        item["time_limit"] = question.time_limit
    if question.explanation:
        item["explanation"] = question.explanation
    if question.image and (image := _image_data_url(question)):
        item["image"] = image
    if question.image_alt:
        item["image_alt"] = question.image_alt
    return item


def quiz_to_dict(quiz: Quiz) -> dict[str, Any]:
    """The quiz as a quiz object that quiz_from_dict reads back unchanged."""
    questions = [_question_dict(question) for question in quiz.questions.prefetch_related("choices")]
    return {"title": quiz.title, "default_timer": quiz.default_time_limit, "questions": questions}


def quiz_to_json(quiz: Quiz) -> str:
    """Pretty, human-editable JSON; non-ASCII stays readable."""
    return json.dumps(quiz_to_dict(quiz), ensure_ascii=False, indent=2) + "\n"
