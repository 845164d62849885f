"""Answer keys as data: a question's own key, a key a host sets by a regrade (checked, then applied to
the question's facts), and which answers count as "the same answer" for the alerts at a reveal.

A key is a dict in the shape of its kind (docs/PROTOCOL.md §2.1's answer keys, by choice index):
{"correct_idxs": [...]} (single, truefalse, multi), {"accepted": [...]} (text),
{"correct": x, "tolerance": y} (slider), {"correct_order": [...]} (order, first to last). A poll has
no key.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from django.utils.translation import gettext_lazy

from quizzes_app.kinds import MAX_CHOICES, TEXT_ANSWER_MAX, Kind, format_number, normalise_text, tidy_text
from sessions_app.engine import judging
from sessions_app.engine.events import EngineError
from sessions_app.engine.judging import QuestionFacts

OPTION_KINDS = frozenset({Kind.SINGLE, Kind.TRUEFALSE, Kind.MULTI})
# Kinds where many students giving one and the same wrong answer says something: an option (or set
# of options, or order) picked, a word typed. A slider's wrong values are near misses more often
# than one shared idea, and a poll has no wrong answer.
SAME_ANSWER_KINDS = frozenset({Kind.SINGLE, Kind.TRUEFALSE, Kind.MULTI, Kind.ORDER, Kind.TEXT})


def own_key(facts: QuestionFacts) -> dict | None:
    """The key the question was played with, in the shape a regrade sets."""
    if facts.kind in OPTION_KINDS:
        return {"correct_idxs": [i for i, ok in enumerate(facts.correct) if ok]}
    if facts.kind == Kind.TEXT:
        return {"accepted": list(facts.texts)}
    if facts.kind == Kind.SLIDER:
        return {"correct": facts.slider.correct, "tolerance": facts.slider.tolerance}
    if facts.kind == Kind.ORDER:
        return {"correct_order": judging.right_order(facts)}
    return None


def with_key(facts: QuestionFacts, key: dict | None) -> QuestionFacts:
    """The facts judged by `key` instead of their own (a key as `clean_key` returns it)."""
    if not key:
        return facts
    if facts.kind in OPTION_KINDS:
        right = set(key["correct_idxs"])
        return dataclasses.replace(facts, correct=tuple(i in right for i in range(len(facts.correct))))
    if facts.kind == Kind.TEXT:
        return dataclasses.replace(facts, texts=tuple(key["accepted"]))
    if facts.kind == Kind.SLIDER:
        slider = dataclasses.replace(facts.slider, correct=key["correct"], tolerance=key["tolerance"])
        return dataclasses.replace(facts, slider=slider)
    if facts.kind == Kind.ORDER:
        return dataclasses.replace(facts, key_order=tuple(key["correct_order"]))
    return facts


def clean_key(facts: QuestionFacts, raw: dict) -> dict:
    """A key for this question checked (EngineError "invalid" with what is wrong) and tidied."""
    n = len(facts.texts)
    if facts.kind in OPTION_KINDS:
        idxs = raw.get("correct_idxs")
        if (
            not isinstance(idxs, list)
            or not all(_is_index(i, n) for i in idxs)
            or len(set(idxs)) != len(idxs)
        ):
            raise EngineError("invalid", gettext_lazy("Pick the correct options."))
        if facts.kind != Kind.MULTI and len(idxs) != 1:
            raise EngineError("invalid", gettext_lazy("Pick exactly one correct option."))
        if not idxs:
            raise EngineError("invalid", gettext_lazy("Pick at least one correct option."))
        return {"correct_idxs": sorted(idxs)}
    if facts.kind == Kind.TEXT:
        accepted = raw.get("accepted")
        accepted = (
            [tidy_text(a) for a in accepted if isinstance(a, str)] if isinstance(accepted, list) else []
        )
        accepted = [a for a in accepted if a]
        if not 1 <= len(accepted) <= MAX_CHOICES or any(len(a) > TEXT_ANSWER_MAX for a in accepted):
            raise EngineError(
                "invalid",
                gettext_lazy("Give 1 to %(most)s accepted answers of at most %(max)s characters."),
                most=MAX_CHOICES,
                max=TEXT_ANSWER_MAX,
            )
        return {"accepted": accepted}
    if facts.kind == Kind.SLIDER:
        slider = facts.slider
        correct, tolerance = raw.get("correct"), raw.get("tolerance", 0)
        if not (_is_number(correct) and slider.min <= correct <= slider.max):
            low, high = format_number(slider.min), format_number(slider.max)
            raise EngineError(
                "invalid",
                gettext_lazy("The correct value must be a number from %(low)s to %(high)s."),
                low=low,
                high=high,
            )
        if not (_is_number(tolerance) and tolerance >= 0):
            raise EngineError("invalid", gettext_lazy("The tolerance must be a number, 0 or more."))
        return {"correct": float(correct), "tolerance": float(tolerance)}
    if facts.kind == Kind.ORDER:
        order = raw.get("correct_order")
        if (
            not isinstance(order, list)
            or sorted(order) != list(range(n))
            or not all(_is_index(i, n) for i in order)
        ):
            raise EngineError("invalid", gettext_lazy("Put every item in one place."))
        return {"correct_order": list(order)}
    raise EngineError("invalid", gettext_lazy("A poll has no correct answer to regrade."))


def _is_index(value: Any, n: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def same_answer(kind: str, choice_idx: int | None, response: Any) -> Any:
    """What answers are grouped by to find the one most given: the option, the set of options, the
    order, or the typed text as it is compared; None for kinds where that says little."""
    if kind not in SAME_ANSWER_KINDS:
        return None
    if kind in judging.ONE_TAP:
        return choice_idx
    if response is None:
        return None
    if kind == Kind.TEXT:
        return normalise_text(response)
    return tuple(response)
