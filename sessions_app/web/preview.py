"""A question as the live pages show it, for a question no session has opened (the quiz page's preview,
quizzes_app/preview.py): the contexts of the projector's and the phone's partials, made with pages.py's
own builders. A module of its own only because pages.py is at the 400 lines tests/test_architecture.py
allows."""

from __future__ import annotations

from quizzes_app.kinds import TEXT_ANSWER_MAX, Kind
from quizzes_app.models import Question
from sessions_app.engine import judging
from sessions_app.engine.judging import QuestionFacts
from sessions_app.models import GameSession
from sessions_app.web.pages import answer_key, histogram_rows, option_views, slider_view

State = GameSession.State


def question_preview(question: Question, num: int, total: int, *, revealed: bool) -> tuple[dict, dict]:
    """preview_views of a saved question, number `num` of `total` in its quiz."""
    facts = judging.facts_of(question, list(question.choices.order_by("order", "pk")), total=total)
    return preview_views(facts, num, revealed=revealed)


def preview_views(facts: QuestionFacts, num: int, *, revealed: bool) -> tuple[dict, dict]:
    """The projector's context (_host_stage, _histogram) and a phone's (_player_stage, _player_reveal)
    as the question opens, with the whole time left and no answers yet, or at its reveal, the phone as
    a student who got it right sees it. The question is built as pages._question builds it: keep the
    two in step."""
    order = judging.shown(facts, 0, num)  # an order question's items shuffled, as a session would
    time_ms = facts.time_limit_s * 1000
    key = answer_key(facts, order) if revealed else None
    question = {
        "num": num, "total": facts.total, "prompt": facts.prompt, "kind": facts.kind,
        "texts": judging.shown_options(facts, order), "time_limit": facts.time_limit_s,
        "time_limit_ms": time_ms, "time_left_ms": 0 if revealed else time_ms, "round": 1,
        "image": facts.image_url, "image_alt": facts.image_alt, "facts": facts, "order": order, "key": key,
    }  # fmt: skip
    if facts.kind == Kind.SLIDER:
        question["slider"] = slider_view(facts.slider)
    elif facts.kind == Kind.TEXT:
        question["max_length"] = TEXT_ANSWER_MAX
    state = State.RESULTS if revealed else State.QUESTION
    host = {
        "state": state, "question": question, "count": 0, "answered": 0, "in_order": 0,
        "options": option_views(question["texts"], correct=key["positions"] if key else frozenset()),
        "bars": histogram_rows(question, [], None),
    }  # fmt: skip
    player: dict = {"state": state, "question": question, "options": option_views(question["texts"])}
    if key is None:
        return host, {**player, "stage": "question", "reveal": None}
    points = facts.points if key["scored"] else 0
    result = {"correct": key["scored"], "points": points, "score": points, "rank": 1, "answered": True}
    return host, {**player, "stage": "result", "reveal": key, "result": {**result, "scored": key["scored"]}}
