"""Question kinds and what each needs to be playable: the one place the authoring rules live.

The admin, the importers, `quiz_problems` and the engine's opening of a question all call
`check_question`, so a quiz that one of them accepts, the others accept too.

How each kind uses a question's choices:

| kind | choices are | marked correct |
| --- | --- | --- |
| single, truefalse | the options | exactly one |
| multi | the options | at least one |
| poll | the options | none: a poll is never scored |
| order | the items, stored in the correct order | (not used) |
| text | the accepted answers | (not used: every one is accepted) |
| slider | none: the slider's fields say it all | |
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

MIN_CHOICES, MAX_CHOICES = 2, 6
TEXT_ANSWER_MAX = 80  # what a student may type, and so the longest accepted answer that can match
MAX_SLIDER_STEPS = 10_000


class Kind(models.TextChoices):
    SINGLE = "single", _("Single answer")
    MULTI = "multi", _("Several answers")
    TRUEFALSE = "truefalse", _("True or false")
    POLL = "poll", _("Poll (not scored)")
    TEXT = "text", _("Type the answer")
    SLIDER = "slider", _("Slider (a number)")
    ORDER = "order", _("Put in order")


# Kinds answered by tapping one option, by its index (`answer_idx`).
ONE_TAP = frozenset({Kind.SINGLE, Kind.TRUEFALSE, Kind.POLL})
# Kinds whose choices are shown to the players as options (buttons, toggles or items to order).
SHOWS_OPTIONS = frozenset({Kind.SINGLE, Kind.MULTI, Kind.TRUEFALSE, Kind.POLL, Kind.ORDER})
TRUE_FALSE_TEXTS = ("True", "False")


SLIDER_FIELDS = ("min", "max", "step", "correct", "tolerance")


@dataclass(frozen=True)
class Slider:
    min: float
    max: float
    step: float
    correct: float
    tolerance: float


def check_question(kind: str, correct_flags: list[bool], slider: Slider | None = None) -> None:
    """Raise ValidationError unless a question of this kind with these choices can be played.

    `correct_flags` are the choices' is_correct, in order; `slider` the slider's fields (slider only).
    Codes: "choice_count", "correct_count" (the choices are at fault), "slider", "kind".
    """
    count, correct = len(correct_flags), sum(1 for flag in correct_flags if flag)
    # The messages are lazy and take their params when read: in the language of whoever reads them.
    if kind not in Kind.values:
        raise ValidationError(_("Unknown question kind %(kind)s."), code="kind", params={"kind": repr(kind)})
    if kind == Kind.SLIDER:
        if count:
            raise ValidationError(_("A slider question has no choices; remove them."), code="choice_count")
        check_slider(slider)
        return
    counts = {"count": count, "min": MIN_CHOICES, "max": MAX_CHOICES}
    if kind == Kind.TEXT:
        if not 1 <= count <= MAX_CHOICES:
            raise ValidationError(
                _("A typed-answer question needs 1 to %(max)s accepted answers; this one has %(count)s."),
                code="choice_count",
                params=counts,
            )
        return
    if kind == Kind.TRUEFALSE and count != 2:
        raise ValidationError(
            _("A true-or-false question has exactly 2 choices (True, False); this one has %(count)s."),
            code="choice_count",
            params=counts,
        )
    if not MIN_CHOICES <= count <= MAX_CHOICES:
        raise ValidationError(
            _("A question needs %(min)s to %(max)s choices; this one has %(count)s."),
            code="choice_count",
            params=counts,
        )
    if kind in (Kind.SINGLE, Kind.TRUEFALSE) and correct != 1:
        raise ValidationError(
            _("Exactly one choice must be marked correct; %(count)s are."),
            code="correct_count",
            params={"count": correct},
        )
    if kind == Kind.MULTI and correct < 1:
        raise ValidationError(_("At least one choice must be marked correct; none is."), code="correct_count")
    if kind == Kind.POLL and correct:
        raise ValidationError(
            ngettext_lazy(
                "A poll has no correct answer; unmark the %(count)s marked correct.",
                "A poll has no correct answer; unmark the %(count)s marked correct.",
                "count",
            ),
            code="correct_count",
            params={"count": correct},
        )


def check_slider(slider: Slider | None) -> None:
    """min < max, a step that fits, the correct value in range and a tolerance of 0 or more.

    Each error's params["field"] names the Slider field at fault, so an editor can show it there.
    """
    missing = [
        field
        for field in SLIDER_FIELDS
        if slider is None or (value := getattr(slider, field)) is None or not math.isfinite(value)
    ]
    if missing:
        raise _slider_error(
            _("A slider question needs its minimum, maximum, step, correct value and tolerance."), missing[0]
        )
    if not slider.min < slider.max:
        raise _slider_error(_("The slider's minimum must be less than its maximum."), "max")
    if not 0 < slider.step <= slider.max - slider.min:
        raise _slider_error(_("The slider's step must be more than 0 and at most max - min."), "step")
    if (slider.max - slider.min) / slider.step > MAX_SLIDER_STEPS:
        raise _slider_error(_("The slider has more than %(steps)s steps."), "step")
    if not slider.min <= slider.correct <= slider.max:
        raise _slider_error(
            _("The slider's correct value must be between its minimum and maximum."), "correct"
        )
    if slider.tolerance < 0:
        raise _slider_error(_("The slider's tolerance cannot be negative."), "tolerance")


def _slider_error(message, field: str) -> ValidationError:
    # params carry the field at fault; the one message with a number takes it from params too.
    return ValidationError(message, code="slider", params={"field": field, "steps": MAX_SLIDER_STEPS})


def slider_error_field(error: ValidationError) -> str | None:
    """The Slider field a check_slider error is about ("min", "max", ...), or None for other errors."""
    if getattr(error, "code", None) != "slider":
        return None
    return (getattr(error, "params", None) or {}).get("field")


def normalise_text(text: str) -> str:
    """What a typed answer is compared by: case, accents, surrounding and repeated spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


def tidy_text(text: str) -> str:
    """A typed answer as it is kept and shown: surrounding and repeated spaces removed."""
    return " ".join(text.split())


def format_number(value: float | None) -> str:
    """3.0 -> '3', 2.50 -> '2.5': numbers as a teacher wrote them."""
    if value is None:
        return ""
    return f"{value:.10g}"
