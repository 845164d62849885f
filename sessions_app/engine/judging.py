"""What each question kind sends, accepts, counts as right, tallies and reveals (docs/PROTOCOL.md §2.1).

Every per-kind rule of a live question is here, over a question's facts as it was opened
(`QuestionFacts`); the rest of the engine, the pages and the report call these and branch on nothing.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy

from quizzes_app.kinds import (
    ONE_TAP,
    SHOWS_OPTIONS,
    TEXT_ANSWER_MAX,
    Kind,
    Slider,
    format_number,
    normalise_text,
)
from quizzes_app.kinds import tidy_text as tidy
from sessions_app.engine.events import EngineError

if TYPE_CHECKING:
    from quizzes_app.models import Choice, Question

SLIDER_BINS = 10  # at most; fewer when the slider has fewer values
TOP_ANSWERS = 8  # typed answers shown, most frequent first
# Which field of answer.submit each kind takes.
ANSWER_FIELD = {
    Kind.SINGLE: "answer_idx", Kind.TRUEFALSE: "answer_idx", Kind.POLL: "answer_idx",
    Kind.MULTI: "answer_idxs", Kind.ORDER: "order", Kind.TEXT: "text", Kind.SLIDER: "value",
}  # fmt: skip
ANSWER_FIELDS = frozenset(ANSWER_FIELD.values())


@dataclass(frozen=True)
class QuestionFacts:
    """A question as it was opened (engine/answers.py question_facts): what scores and shows it."""

    kind: str
    correct: tuple[bool, ...]  # by choice index
    points: int
    time_limit_s: int
    prompt: str
    texts: tuple[str, ...]  # the choices, in their stored order (order: the correct order)
    total: int  # questions in the quiz
    slider: Slider | None = None
    explanation: str = ""
    image_url: str = ""
    image_alt: str = ""
    key_order: tuple[int, ...] | None = None  # order: the right order set by a regrade, if any

    @property
    def scored(self) -> bool:
        return self.kind != Kind.POLL


def facts_of(question: Question, choices: list[Choice], *, total: int = 0) -> QuestionFacts:
    """A saved question's facts from the question and its choices (in order), read no further.

    For reads that already hold both, like the report over a finished session; a live question is
    judged by the facts it opened with (engine/answers.py question_facts) instead.
    """
    return QuestionFacts(
        kind=question.kind,
        correct=tuple(c.is_correct for c in choices),
        points=question.points,
        time_limit_s=question.effective_time_limit,
        prompt=question.prompt,
        texts=tuple(c.text for c in choices),
        total=total,
        slider=question.slider,
        explanation=question.explanation,
        image_url=question.image.url if question.image else "",
        image_alt=question.image_alt,
    )


@dataclass(frozen=True)
class Given:
    """An answer as checked: the tapped index (one-tap kinds) or the kind's response, and its verdict."""

    choice_idx: int | None
    response: Any  # list[int] (multi, order: choice indices), str (text), float (slider), or None
    correct: bool


# --- what the players are shown -------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def order_shuffle(session_pk: int, question_pk: int, n: int) -> tuple[int, ...]:
    """For an `order` question: shown position -> choice index. The same for everyone in a session
    (seeded by session and question, so any worker computes it), never the correct order itself."""
    shuffle = list(range(n))
    random.Random(f"{session_pk}:{question_pk}").shuffle(shuffle)  # noqa: S311  # nosec B311: not secret
    if n > 1 and shuffle == sorted(shuffle):
        shuffle = shuffle[1:] + shuffle[:1]
    return tuple(shuffle)


def shown(facts: QuestionFacts, session_pk: int, question_pk: int) -> tuple[int, ...]:
    """Shown position -> choice index: shuffled for `order`, as stored for the other kinds."""
    n = len(facts.texts) if facts.kind in SHOWS_OPTIONS else 0
    return order_shuffle(session_pk, question_pk, n) if facts.kind == Kind.ORDER else tuple(range(n))


def shown_options(facts: QuestionFacts, order: tuple[int, ...]) -> list[str]:
    """The option texts players see, in `shown` order; none for text (they are the answers) and slider."""
    return [facts.texts[i] for i in order]


def question_fields(facts: QuestionFacts) -> dict:
    """question.next's fields beyond the common ones: what a client needs to draw this kind."""
    fields: dict = {"kind": facts.kind, "image": facts.image_url or None, "image_alt": facts.image_alt}
    if facts.kind == Kind.SLIDER:
        fields.update(min=facts.slider.min, max=facts.slider.max, step=facts.slider.step)
    elif facts.kind == Kind.TEXT:
        fields["max_length"] = TEXT_ANSWER_MAX
    return fields


# --- checking and judging an answer ----------------------------------------------------------


def check(facts: QuestionFacts, answer: dict, order: tuple[int, ...]) -> Given:
    """The answer.submit fields for this question's kind, checked and judged; EngineError "invalid" else.

    `answer` holds the one answer field the message carried; `order` is `shown(...)`.
    """
    field = ANSWER_FIELD[facts.kind]
    if set(answer) != {field}:
        raise EngineError(
            "invalid",
            gettext_lazy("This question (%(kind)s) is answered with `%(field)s`."),
            kind=facts.kind,
            field=field,
        )
    value = answer[field]
    n = len(facts.texts)
    if facts.kind in ONE_TAP:
        _check_index(value, n, "answer_idx")
        return Given(value, None, is_right(facts, value, None))
    if facts.kind == Kind.MULTI:
        picked = _check_indices(value, n, "answer_idxs")
        if not picked:
            raise EngineError("invalid", gettext_lazy("`answer_idxs` must name at least one option."))
        return _given(facts, sorted(picked))
    if facts.kind == Kind.ORDER:
        positions = _check_indices(value, n, "order")
        if len(positions) != n:
            raise EngineError(
                "invalid", gettext_lazy("`order` must list each of the %(n)s options once."), n=n
            )
        return _given(facts, [order[p] for p in positions])  # choice indices, in the student's order
    if facts.kind == Kind.TEXT:
        if not isinstance(value, str):
            raise EngineError("invalid", gettext_lazy("`text` must be a string."))
        text = tidy(value)
        if not text:
            raise EngineError("invalid", gettext_lazy("`text` cannot be empty."))
        if len(text) > TEXT_ANSWER_MAX:
            raise EngineError(
                "invalid", gettext_lazy("`text` is longer than %(max)s characters."), max=TEXT_ANSWER_MAX
            )
        return _given(facts, text)
    # slider
    slider = facts.slider
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EngineError("invalid", gettext_lazy("`value` must be a number."))
    if not slider.min <= value <= slider.max:
        low, high = format_number(slider.min), format_number(slider.max)
        raise EngineError(
            "invalid", gettext_lazy("`value` must be between %(low)s and %(high)s."), low=low, high=high
        )
    return _given(facts, float(value))


def _given(facts: QuestionFacts, response: Any) -> Given:
    return Given(None, response, is_right(facts, None, response))


def is_right(facts: QuestionFacts, choice_idx: int | None, response: Any) -> bool:
    """Whether an answer as stored (Answer.choice_idx, Answer.response) is right by these facts: the
    verdict `check` gives an answer as it arrives, and a regrade gives it again (engine/regrade.py)."""
    if not facts.scored:
        return False
    if facts.kind in ONE_TAP:
        return choice_idx is not None and 0 <= choice_idx < len(facts.correct) and facts.correct[choice_idx]
    if response is None:
        return False
    if facts.kind == Kind.MULTI:
        return set(response) == {i for i, ok in enumerate(facts.correct) if ok}
    if facts.kind == Kind.ORDER:
        return list(response) == right_order(facts)
    if facts.kind == Kind.TEXT:
        return normalise_text(response) in {normalise_text(a) for a in facts.texts}
    slider = facts.slider
    return abs(response - slider.correct) <= slider.tolerance + _slack(slider)


def right_order(facts: QuestionFacts) -> list[int]:
    """An order question's right order, as choice indices first to last: the order the items were
    written in, unless a regrade said otherwise."""
    return list(facts.key_order) if facts.key_order is not None else list(range(len(facts.texts)))


def _slack(slider: Slider) -> float:
    """Room for floating point: 0.1 + 0.2 is within 0 of 0.3."""
    return 1e-9 * max(1.0, abs(slider.correct), abs(slider.step))


def _check_index(value: Any, n: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n:
        raise EngineError("invalid", gettext_lazy("`%(name)s` must be 0 to %(last)s."), name=name, last=n - 1)


def _check_indices(value: Any, n: int, name: str) -> list[int]:
    if not isinstance(value, list):
        raise EngineError("invalid", gettext_lazy("`%(name)s` must be a list of option numbers."), name=name)
    for item in value:
        _check_index(item, n, name)
    if len(set(value)) != len(value):
        raise EngineError("invalid", gettext_lazy("`%(name)s` names an option twice."), name=name)
    return list(value)


def recorded_fields(
    kind: str, choice_idx: int | None, response: Any, *, session_pk: int, question_pk: int
) -> dict:
    """What answer.recorded (and a player's snapshot) says was recorded: `answer_idx` (null unless a
    one-tap kind), plus the kind's own field as the player sent it (for order: shown positions)."""
    fields: dict = {"answer_idx": choice_idx}
    if kind in ONE_TAP or response is None:
        return fields
    if kind == Kind.ORDER:
        order = order_shuffle(session_pk, question_pk, len(response))
        response = [order.index(i) for i in response]
    fields[ANSWER_FIELD[kind]] = response
    return fields


# --- counting and revealing -------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    bins: list[int]
    answered: int
    top: list[dict] | None = None  # text: [{"text", "count", "correct"}], most frequent first


def tally_column(kind: str) -> str:
    """The Answer column that a question's answers are grouped by, in SQL, to count them."""
    if kind in ONE_TAP:
        return "choice_idx"
    return "correct" if kind == Kind.ORDER else "response"


def tally(facts: QuestionFacts, groups: list[tuple[Any, int]]) -> Tally:
    """Counts from (value of tally_column, number of answers) pairs.

    one-tap and multi: answers per option (multi: each option picked); order: [in the right order,
    not]; slider: answers per equal part of the range (slider_bins); text: the top answers.
    """
    answered = sum(n for _, n in groups)
    if facts.kind in ONE_TAP or facts.kind == Kind.MULTI:
        bins = [0] * len(facts.texts)
        for value, n in groups:
            for i in value if isinstance(value, list) else [value]:
                if isinstance(i, int) and 0 <= i < len(bins):
                    bins[i] += n
        return Tally(bins, answered)
    if facts.kind == Kind.ORDER:
        right = sum(n for value, n in groups if value)
        return Tally([right, answered - right], answered)
    if facts.kind == Kind.SLIDER:
        bins = [0] * slider_bins(facts.slider)
        for value, n in groups:
            if isinstance(value, int | float):
                bins[slider_bin(facts.slider, value, len(bins))] += n
        return Tally(bins, answered)
    return _top_answers(facts, groups, answered)


def slider_bins(slider: Slider) -> int:
    """How many equal parts the range is counted in: one per value up to 10 values, else 10."""
    values = round((slider.max - slider.min) / slider.step) + 1
    return max(1, min(SLIDER_BINS, values))


def slider_bin(slider: Slider, value: float, n: int) -> int:
    """Part i covers [min + i*w, min + (i+1)*w) with w = (max - min) / n; the last includes max."""
    if n == round((slider.max - slider.min) / slider.step) + 1:  # one part per value
        return min(n - 1, max(0, round((value - slider.min) / slider.step)))
    return min(n - 1, max(0, math.floor((value - slider.min) / (slider.max - slider.min) * n)))


@functools.lru_cache(maxsize=64)
def slider_bin_labels(slider: Slider) -> tuple[str, ...]:
    """Each of the slider_bins parts named for people by the values a student can pick in it
    ('8', or '8\u20139' when several), or by its span where no step falls in it."""
    n = slider_bins(slider)
    low: list[float | None] = [None] * n
    high: list[float | None] = [None] * n
    for k in range(round((slider.max - slider.min) / slider.step) + 1):
        value = slider.min + k * slider.step
        if value > slider.max + _slack(slider):  # a step that does not divide the range
            break
        part = slider_bin(slider, value, n)
        low[part] = value if low[part] is None else low[part]
        high[part] = value
    width = (slider.max - slider.min) / n
    labels = []
    for i in range(n):
        first = format_number(slider.min + i * width if low[i] is None else low[i])
        last = format_number(slider.min + (i + 1) * width if high[i] is None else high[i])
        labels.append(first if first == last else f"{first}\u2013{last}")
    return tuple(labels)


def _top_answers(facts: QuestionFacts, groups: list[tuple[Any, int]], answered: int) -> Tally:
    """Typed answers that normalise alike count together, shown as the spelling typed most often."""
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for value, n in groups:
        if isinstance(value, str):
            key = normalise_text(value)
            counts[key] += n
            spellings.setdefault(key, Counter())[value] += n
    accepted = {normalise_text(a) for a in facts.texts}
    top = [
        {"text": spellings[key].most_common(1)[0][0], "count": n, "correct": key in accepted}
        for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_ANSWERS]
    ]
    return Tally([row["count"] for row in top], answered, top)


def reveal_fields(facts: QuestionFacts, order: tuple[int, ...]) -> dict:
    """question.results' answer key for this kind (the fields beyond bins and leaderboard)."""
    correct_idxs = [i for i, ok in enumerate(facts.correct) if ok]
    fields: dict = {
        "kind": facts.kind,
        "correct_idx": correct_idxs[0] if facts.kind in (Kind.SINGLE, Kind.TRUEFALSE) else None,
        "explanation": facts.explanation or None,
    }
    if facts.kind in (Kind.SINGLE, Kind.TRUEFALSE, Kind.MULTI):
        fields["correct_idxs"] = correct_idxs
    elif facts.kind == Kind.POLL:
        fields["correct_idxs"] = []
    elif facts.kind == Kind.ORDER:
        fields["correct_order"] = [order.index(i) for i in right_order(facts)]
    elif facts.kind == Kind.TEXT:
        fields["accepted"] = list(facts.texts)
    else:
        fields.update(correct=facts.slider.correct, tolerance=facts.slider.tolerance)
    return fields


def answer_key_text(facts: QuestionFacts) -> str:
    """The right answer in words, for people: 'Paris', 'Mars, Venus', 'Lima > Quito', '42 (± 2)'."""
    if facts.kind == Kind.POLL:
        return ""
    if facts.kind == Kind.SLIDER:
        tolerance = f" (± {format_number(facts.slider.tolerance)})" if facts.slider.tolerance else ""
        return format_number(facts.slider.correct) + tolerance
    if facts.kind == Kind.ORDER:
        return " > ".join(facts.texts[i] for i in right_order(facts))
    if facts.kind == Kind.TEXT:
        return " / ".join(facts.texts)
    return ", ".join(t for t, ok in zip(facts.texts, facts.correct, strict=True) if ok)


def readable(kind: str, texts: list[str] | tuple[str, ...], choice_idx: int | None, response: Any) -> str:
    """A stored answer in words, for the report and the CSV."""

    def text_of(i: Any) -> str:
        return texts[i] if isinstance(i, int) and 0 <= i < len(texts) else "?"

    if kind in ONE_TAP:
        return text_of(choice_idx) if choice_idx is not None else ""
    if response is None:
        return ""
    if kind == Kind.MULTI:
        return ", ".join(text_of(i) for i in response)
    if kind == Kind.ORDER:
        return " > ".join(text_of(i) for i in response)
    if kind == Kind.SLIDER:
        return format_number(response)
    return str(response)
