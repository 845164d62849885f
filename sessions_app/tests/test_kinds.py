"""Question kinds through the engine (issue #14): what players are sent, what they may answer, how it
scores, what the reveal says, and what a reload shows. The quiz is knewit.testing's every_kind_quiz."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from knewit.testing import EVERY_KIND
from sessions_app import engine, protocol, selectors
from sessions_app.engine import EngineError, Push, judging
from sessions_app.models import Answer, Player

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
SHOWN_ORDER = ("Mercury", "Venus", "Earth", "Mars")


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def game(host, every_kind_quiz):
    quiz = every_kind_quiz(host)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="http://x").session
    players = [
        engine.player_join(
            code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None, now=at(0)
        ).player
        for name in ("Ada", "Bo")
    ]
    return session, players


def open_question(session, host, kind: str, seconds: float = 0) -> dict:
    """Move the game on to the question of this kind; its question.next payload."""
    index = EVERY_KIND.index(kind)
    session.refresh_from_db()
    outcome = None
    while session.question_index < index:
        outcome = engine.question_next(session_pk=session.pk, host=host, now=at(seconds))
        session.refresh_from_db()
    return next(
        e.payload for e in outcome.events if isinstance(e, Push) and e.payload["type"] == "question.next"
    )


def submit(session, player, seconds=2, msg_id=None, **answer):
    return engine.answer_submit(
        session_pk=session.pk, player_pk=player.pk, answer=answer, msg_id=msg_id, now=at(seconds)
    )


def reveal(session, host, seconds=12):
    outcome = engine.question_end(session_pk=session.pk, host=host, now=at(seconds))
    pushed = [e.payload for e in outcome.events if isinstance(e, Push)]
    results = next(p for p in pushed if p["type"] == "question.results")
    personal = [e for e in outcome.events if isinstance(e, Push) and e.payload["type"] == "answer.result"]
    return results, {e.player_id: e.payload for e in personal}


def order_answer(question: dict, wanted: tuple[str, ...]) -> list[int]:
    """The shown positions that put the items in `wanted` order."""
    return [question["options"].index(text) for text in wanted]


# --- what the players are sent --------------------------------------------------------------


def test_question_next_carries_the_kind_and_never_the_answer(game, host):
    session, _ = game
    sent = {}
    for kind in EVERY_KIND:
        if kind != "single":
            engine.question_end(session_pk=session.pk, host=host, now=at(1))
        sent[kind] = open_question(session, host, kind)
    assert all(sent[kind]["kind"] == kind for kind in EVERY_KIND)
    assert sent["single"]["options"] == ["Mars", "Jupiter", "Venus"]
    assert sent["truefalse"]["options"] == ["True", "False"]
    assert sent["text"]["options"] == [] and sent["text"]["max_length"] == 80
    assert (sent["slider"]["min"], sent["slider"]["max"], sent["slider"]["step"]) == (0, 20, 1)
    assert sorted(sent["order"]["options"]) == sorted(SHOWN_ORDER)
    assert tuple(sent["order"]["options"]) != SHOWN_ORDER  # shuffled, never in the answer's order
    text = protocol.dumps(sent["text"]) + protocol.dumps(sent["slider"])
    assert "Sun" not in text and "correct" not in text and "tolerance" not in text and "accepted" not in text
    assert all(sent[kind]["image"] is None and sent[kind]["image_alt"] == "" for kind in EVERY_KIND)


def test_the_order_shuffle_is_the_same_for_everyone_and_every_worker(game, host):
    session, _ = game
    first = open_question(session, host, "order")
    judging.order_shuffle.cache_clear()  # another worker computes it afresh
    snap = selectors.snapshot(selectors.current_session(session.code), player=None, now=at(1))
    assert snap["question"]["options"] == first["options"]


# --- scoring --------------------------------------------------------------------------------

RIGHT = {
    "single": {"answer_idx": 1},
    "multi": {"answer_idxs": [2, 0]},
    "truefalse": {"answer_idx": 0},
    "text": {"text": "  the   SUN "},
    "slider": {"value": 8},
}
WRONG = {
    "single": {"answer_idx": 0},
    "multi": {"answer_idxs": [0]},  # a subset is not the set
    "truefalse": {"answer_idx": 1},
    "text": {"text": "Moon"},
    "slider": {"value": 9},
}


@pytest.mark.parametrize("kind", sorted(RIGHT))
def test_right_scores_with_time_decay_and_wrong_scores_nothing(game, host, kind):
    session, (ada, bo) = game
    open_question(session, host, kind)
    assert submit(session, ada, seconds=10, **RIGHT[kind]).reply["type"] == "answer.recorded"
    submit(session, bo, seconds=2, **WRONG[kind])
    results, verdicts = reveal(session, host)
    assert verdicts[ada.public_id] | {"rank": None} == {
        "type": "answer.result", "question_num": EVERY_KIND.index(kind) + 1, "round": 1, "answered": True,
        "correct": True, "scored": True, "points": 750, "score": 750, "rank": None,
    }  # fmt: skip
    assert verdicts[bo.public_id]["correct"] is False and verdicts[bo.public_id]["points"] == 0
    assert results["kind"] == kind


def test_order_is_right_only_in_exactly_the_right_order(game, host):
    session, (ada, bo) = game
    question = open_question(session, host, "order")
    submit(session, ada, seconds=0, order=order_answer(question, SHOWN_ORDER))
    submit(session, bo, seconds=0, order=order_answer(question, ("Venus", "Mercury", "Earth", "Mars")))
    results, verdicts = reveal(session, host)
    assert verdicts[ada.public_id]["correct"] is True and verdicts[ada.public_id]["points"] == 1000
    assert verdicts[bo.public_id]["correct"] is False
    assert [question["options"][p] for p in results["correct_order"]] == list(SHOWN_ORDER)
    assert results["bins"] == [1, 1]  # in the right order, not
    stored = Answer.objects.get(player=bo)
    assert stored.choice_idx is None and stored.response == [1, 0, 2, 3]  # choice indices, as placed


def test_a_slider_answer_within_the_tolerance_counts(game, host):
    session, (ada, bo) = game
    open_question(session, host, "slider")
    session.current_question.__class__.objects.filter(pk=session.current_question_id).update(
        slider_tolerance=1
    )
    engine.question_facts.cache_clear()  # as if opened after the edit
    submit(session, ada, value=9.0)
    submit(session, bo, value=6.5)
    _, verdicts = reveal(session, host)
    assert verdicts[ada.public_id]["correct"] is True and verdicts[bo.public_id]["correct"] is False


def test_a_poll_scores_nothing_and_is_never_wrong(game, host):
    session, (ada, bo) = game
    open_question(session, host, "poll")
    submit(session, ada, answer_idx=2)
    submit(session, bo, answer_idx=2)
    results, verdicts = reveal(session, host)
    assert results["correct_idx"] is None and results["correct_idxs"] == [] and results["bins"] == [0, 0, 2]
    for verdict in verdicts.values():
        assert verdict["scored"] is False and verdict["points"] == 0 and verdict["answered"] is True
    assert Player.objects.get(pk=ada.pk).correct_count == 0


# --- refused answers ------------------------------------------------------------------------

REFUSED = [
    ("single", {"answer_idxs": [1]}, "is answered with `answer_idx`"),
    ("single", {"answer_idx": 3}, "`answer_idx` must be 0 to 2"),
    ("truefalse", {"answer_idx": 2}, "`answer_idx` must be 0 to 1"),
    ("multi", {"answer_idx": 1}, "is answered with `answer_idxs`"),
    ("multi", {"answer_idxs": [0, 0]}, "names an option twice"),
    ("multi", {"answer_idxs": []}, "at least one option"),
    ("multi", {"answer_idxs": [4]}, "must be 0 to 3"),
    ("multi", {"answer_idxs": [True]}, "must be 0 to 3"),
    ("order", {"order": [0, 1, 2]}, "each of the 4 options once"),
    ("order", {"order": [0, 1, 2, 2]}, "names an option twice"),
    ("order", {"order": [0, 1, 2, 4]}, "must be 0 to 3"),
    ("order", {"order": "0123"}, "must be a list"),
    ("text", {"text": "   "}, "cannot be empty"),
    ("text", {"text": "x" * 81}, "longer than 80"),
    ("text", {"text": 5}, "must be a string"),
    ("text", {"answer_idx": 0}, "is answered with `text`"),
    ("slider", {"value": 21}, "between 0 and 20"),
    ("slider", {"value": -0.5}, "between 0 and 20"),
    ("slider", {"value": True}, "must be a number"),
    ("slider", {"value": float("nan")}, "must be a number"),
    ("slider", {"value": "8"}, "must be a number"),
]


@pytest.mark.parametrize(("kind", "answer", "message"), REFUSED)
def test_a_bad_answer_is_invalid_and_changes_nothing(game, host, kind, answer, message):
    session, (ada, _) = game
    open_question(session, host, kind)
    with pytest.raises(EngineError) as refused:
        submit(session, ada, msg_id="m1", **answer)
    assert refused.value.code == "invalid" and message in refused.value.message
    assert not Answer.objects.filter(player=ada).exists()
    # Nothing was used up: the same msg_id with a good answer is recorded.
    good = {"order": [0, 1, 2, 3]} if kind == "order" else RIGHT[kind]
    assert submit(session, ada, msg_id="m1", **good).reply["duplicate"] is False


def test_answer_submit_needs_exactly_one_answer_field():
    for fields in ({}, {"answer_idx": 1, "text": "a"}):
        with pytest.raises(protocol.ProtocolError) as refused:
            protocol.parse_data({"type": "answer.submit", **fields})
        assert refused.value.code == "invalid" and "exactly one of" in refused.value.message
    with pytest.raises(protocol.ProtocolError, match="at most 6"):
        protocol.parse_data({"type": "answer.submit", "order": list(range(7))})
    assert protocol.parse_data({"type": "answer.submit", "value": 2.5}).answer == {"value": 2.5}


def test_page_forms_send_strings_that_become_the_kinds_fields():
    parse = lambda **f: protocol.parse_form_message(protocol.dumps({"type": "answer.submit", **f})).answer  # noqa: E731
    assert parse(answer_idxs="2") == {"answer_idxs": [2]}  # one box ticked
    assert parse(answer_idxs=["0", "3"]) == {"answer_idxs": [0, 3]}
    assert parse(order=["3", "1", "0", "2"]) == {"order": [3, 1, 0, 2]}
    assert parse(value="12.5") == {"value": 12.5}
    assert parse(text="Sun") == {"text": "Sun"}
    with pytest.raises(protocol.ProtocolError):
        parse(value="12,5")


# --- acknowledgements, repeats and reloads --------------------------------------------------


def test_acknowledgements_echo_the_answer_as_sent_even_when_repeated(game, host):
    session, (ada, _) = game
    question = open_question(session, host, "order")
    sent = order_answer(question, ("Venus", "Mercury", "Earth", "Mars"))
    first = submit(session, ada, msg_id="o1", order=sent).reply
    assert first == {"type": "answer.recorded", "question_num": 7, "round": 1, "answer_idx": None,
                     "order": sent, "duplicate": False}  # fmt: skip
    reveal(session, host)
    again = submit(session, ada, seconds=30, msg_id="o1", order=[0, 1, 2, 3]).reply  # after the close
    assert again == {**first, "duplicate": True}


@pytest.mark.parametrize("kind", ["multi", "text", "slider", "single"])
def test_a_reloaded_player_sees_what_they_answered(game, host, kind):
    session, (ada, bo) = game
    open_question(session, host, kind)
    submit(session, ada, **RIGHT[kind])
    session = selectors.current_session(session.code)
    mine = selectors.snapshot(session, player=ada, now=at(3))["question"]
    other = selectors.snapshot(session, player=bo, now=at(3))["question"]
    field = judging.ANSWER_FIELD[kind]
    expected = {
        "answer_idxs": [0, 2],
        "text": "the SUN",  # kept tidied, as typed
        "value": 8.0,
        "answer_idx": 1,
    }[field]
    key = "answered_idx" if field == "answer_idx" else field  # the snapshot's name for the tapped index
    assert mine["answered"] is True and mine[key] == expected
    assert other["answered"] is False and other["answered_idx"] is None and "text" not in other


# --- the reveal -----------------------------------------------------------------------------


def test_the_reveal_says_what_each_kind_needs(game, host):
    session, (ada, bo) = game
    seen = {}
    for kind in EVERY_KIND:
        question = open_question(session, host, kind, seconds=0)
        if kind == "text":
            submit(session, ada, text="the sun")
            submit(session, bo, text="Moon")
        elif kind == "slider":
            submit(session, ada, value=8)
            submit(session, bo, value=19.5)
        elif kind == "multi":
            submit(session, ada, answer_idxs=[0, 2])
            submit(session, bo, answer_idxs=[0])
        elif kind == "order":
            submit(session, ada, order=order_answer(question, SHOWN_ORDER))
        seen[kind], _ = reveal(session, host, seconds=1)
    assert seen["single"]["correct_idx"] == 1 and seen["single"]["correct_idxs"] == [1]
    assert seen["multi"]["correct_idx"] is None and seen["multi"]["correct_idxs"] == [0, 2]
    assert seen["multi"]["bins"] == [2, 0, 1, 0]  # each option, as often as it was picked
    assert seen["truefalse"]["correct_idx"] == 0
    assert seen["text"]["accepted"] == ["The Sun", "Sun"]
    assert seen["text"]["top"] == [
        {"text": "Moon", "count": 1, "correct": False},
        {"text": "the sun", "count": 1, "correct": True},
    ]
    assert seen["slider"]["correct"] == 8 and seen["slider"]["tolerance"] == 0
    assert (
        len(seen["slider"]["bins"]) == 10
        and seen["slider"]["bins"][4] == 1
        and seen["slider"]["bins"][9] == 1
    )
    assert all(seen[kind]["explanation"] is None for kind in EVERY_KIND)


def test_the_live_histogram_of_typed_answers_reaches_the_host_only(game, host):
    session, (ada, bo) = game
    open_question(session, host, "text")
    submit(session, ada, text="Sun")
    submit(session, bo, text="sun ")
    payload = selectors.histogram_payload(selectors.current_session(session.code))
    assert payload["top"] == [{"text": "Sun", "count": 2}] and payload["answered"] == 2
    assert "top" not in protocol.players_histogram(payload)


def test_slider_parts_cover_the_range():
    few = judging.QuestionFacts(
        kind="slider", correct=(), points=1000, time_limit_s=20, prompt="p", texts=(), total=1,
        slider=judging.Slider(min=1, max=5, step=1, correct=3, tolerance=0),
    )  # fmt: skip
    assert judging.slider_bins(few.slider) == 5  # one per value
    assert [judging.slider_bin(few.slider, v, 5) for v in (1, 2, 5)] == [0, 1, 4]
    wide = judging.Slider(min=0, max=100, step=0.5, correct=50, tolerance=0)
    assert judging.slider_bins(wide) == 10
    assert [judging.slider_bin(wide, v, 10) for v in (0, 9.5, 10, 99.5, 100)] == [0, 0, 1, 9, 9]
