"""The teacher's tools (issue #18) through the engine, on a fixed clock: extra time for one student,
accuracy mode and the accuracy ranking, the misconception alert and the re-vote, the answer-key check
and the regrade."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import engine, protocol, ranking, selectors
from sessions_app.engine import HOST, PLAYER, PLAYERS, EngineError, Push, Refresh, Wake, insights
from sessions_app.engine.judging import QuestionFacts
from sessions_app.models import Answer, GameSession, Player, Regrade

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0)
PLANETS = [
    ("Largest planet?", ["Mars", "Jupiter", "Venus", "Earth"], 1),
    ("Red planet?", ["Mars", "Jupiter", "Venus"], 0),
    ("Closest to the Sun?", ["Mercury", "Venus", "Mars"], 0),
]


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def start_game(host, make_quiz, names=("Ada", "Bo", "Cy"), questions=PLANETS, **settings):
    quiz = make_quiz(host, list(questions))
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings=settings, site_url="").session
    players = {
        name: engine.player_join(
            code=session.code, raw_name=name, password=None, requested_id=None, msg_id=None, now=at(0)
        ).player
        for name in names
    }
    return session, players


def answer(session, player, idx, seconds, msg_id=None):
    return engine.answer_submit(
        session_pk=session.pk, player_pk=player.pk, answer_idx=idx, msg_id=msg_id, now=at(seconds)
    )


def refused(call) -> str:
    with pytest.raises(EngineError) as err:
        call()
    return err.value.code


def pushes(outcome, msg_type):
    return [e for e in outcome.events if isinstance(e, Push) and e.payload["type"] == msg_type]


def accommodate(session, host, player, factor, seconds=0):
    return engine.player_accommodate(
        session_pk=session.pk, host=host, player_id=player.public_id, time_factor=factor, now=at(seconds)
    )


def fresh(session) -> GameSession:
    return GameSession.objects.get(pk=session.pk)


# --- 1. extra time ---------------------------------------------------------------------------


def test_extra_time_deadline_and_score_go_by_the_players_own_limit(host, make_quiz):
    session, p = start_game(host, make_quiz)
    accommodate(session, host, p["Ada"], 2)  # 40 s of the 20
    accommodate(session, host, p["Bo"], 1.5)  # 30 s
    start = engine.quiz_start(session_pk=session.pk, host=host, now=at(0))

    # question.next is the class's for everyone; each student with extra time is told their own.
    (question,) = pushes(start, "question.next")
    assert question.audience == "all" and question.payload["time_left_ms"] == 20_000
    own = {e.player_id: e.payload for e in pushes(start, "question.time")}
    assert all(e.audience == PLAYER for e in pushes(start, "question.time"))
    assert own == {
        p["Ada"].public_id: {"type": "question.time", "question_num": 1, "round": 1, "time_limit": 20,
                             "time_factor": 2, "time_left_ms": 40_000},
        p["Bo"].public_id: {"type": "question.time", "question_num": 1, "round": 1, "time_limit": 20,
                            "time_factor": 1.5, "time_left_ms": 30_000},
    }  # fmt: skip
    # The round stays open to the last personal deadline; the class's is what the projector shows.
    session = fresh(session)
    assert (session.question_deadline, session.question_closes_at) == (at(20), at(40))
    wakes = sorted(e.at for e in start.events if isinstance(e, Wake))
    assert wakes == [at(20.5), at(40.5)]

    assert refused(lambda: answer(session, p["Cy"], 1, 20.6)) == "too_late"  # the class's grace is over
    answer(session, p["Bo"], 1, 30.4)  # in Bo's own grace: counted as the whole 30 s
    assert refused(lambda: answer(session, p["Bo"], 1, 25, msg_id="again")) == "already_answered"
    answer(session, p["Ada"], 1, 20)  # half of Ada's 40 s
    ada, bo = (Answer.objects.get(player=p[n]) for n in ("Ada", "Bo"))
    assert (ada.response_ms, ada.time_percent, ada.points) == (20_000, 200, 750)
    assert (bo.response_ms, bo.time_percent, bo.points) == (30_000, 150, 500)


def test_a_late_answer_past_the_players_own_deadline_is_too_late(host, make_quiz):
    session, p = start_game(host, make_quiz)
    accommodate(session, host, p["Ada"], 2)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    assert refused(lambda: answer(session, p["Ada"], 1, 40.6)) == "too_late"
    answer(session, p["Ada"], 1, 40.4)
    assert Answer.objects.get(player=p["Ada"]).response_ms == 40_000


def test_the_round_closes_when_the_class_is_done_and_nobody_with_extra_time_still_answers(host, make_quiz):
    session, p = start_game(host, make_quiz)
    accommodate(session, host, p["Ada"], 2)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    # Only students with extra time count as still answering, whatever the time.
    assert selectors.still_answering(fresh(session), at(10)) == 1
    # The class's deadline passed, Ada still has time: no close, and the host is shown who waits.
    assert engine.due_wakes(now=at(25)) == []
    class_wake = Wake(session.pk, session.code, at(20.5), 0, "close")
    waiting = engine.wake(class_wake, now=at(20.5))
    assert waiting.events == [Refresh(session.pk, session.code, "histogram")]
    session = fresh(session)
    assert session.state == "question"
    histogram = selectors.histogram_payload(session, at(25))
    assert histogram["still_answering"] == 1
    assert "still_answering" not in protocol.players_histogram(histogram)  # nobody else is told
    # Once she answers, the sweep closes the round (no need to wait for her 40 s).
    answer(session, p["Ada"], 1, 26)
    assert selectors.still_answering(fresh(session), at(27)) == 0
    (due,) = engine.due_wakes(now=at(27))
    closed = engine.wake(due, now=at(27))
    assert pushes(closed, "question.results")


def test_a_silent_student_with_extra_time_keeps_the_round_open_to_their_deadline(host, make_quiz):
    session, p = start_game(host, make_quiz)
    accommodate(session, host, p["Ada"], 1.5)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    assert engine.due_wakes(now=at(30.4)) == []
    (due,) = engine.due_wakes(now=at(30.6))
    assert pushes(engine.wake(due, now=at(30.6)), "question.results")


def test_extra_time_given_mid_question_counts_at_once_and_is_told_to_that_student_only(host, make_quiz):
    session, p = start_game(host, make_quiz)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    given = accommodate(session, host, p["Cy"], 2, seconds=12)
    (own,) = pushes(given, "question.time")
    assert own.audience == PLAYER and own.player_id == p["Cy"].public_id
    assert own.payload["time_left_ms"] == 28_000 and own.payload["time_factor"] == 2
    assert [e for e in given.events if isinstance(e, Push)] == [own]  # nobody else hears of it
    assert Wake(session.pk, session.code, at(40.5), 0, "close") in given.events
    assert Refresh(session.pk, session.code, "host_lobby") in given.events
    assert fresh(session).question_closes_at == at(40)
    answer(session, p["Cy"], 1, 35)
    assert Answer.objects.get(player=p["Cy"]).points == engine.score_for(
        points=1000, time_limit_s=40, response_ms=35_000
    )
    # The host's list says it; the players' lobby count never does.
    (cy,) = [row for row in selectors.lobby_players(fresh(session), at(36)) if row["name"] == "Cy"]
    assert cy["time_factor"] == 2


def test_a_student_with_extra_time_who_reconnects_mid_question_gets_their_own_time(host, make_quiz):
    quiz = make_quiz(host, PLANETS)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    joined = engine.player_join(
        code=session.code, raw_name="Ada", password=None, requested_id=None, msg_id=None, now=at(0)
    )
    accommodate(session, host, joined.player, 2)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    # A reload at 25 s, after the class's time: Ada still has 15 s of her 40.
    snap = engine.player_resume(
        code=session.code, rejoin_token=joined.reply["rejoin_token"], now=at(25)
    ).reply
    assert snap["question"]["time_left_ms"] == 15_000
    assert (snap["question"]["time_limit"], snap["question"]["time_factor"]) == (20, 2)
    host_snap = engine.host_resume(code=session.code, host=host, now=at(25)).reply
    assert host_snap["question"]["time_left_ms"] == 0  # the class's
    assert "time_factor" not in host_snap["question"]
    # Another worker, after a restart, reads the same from the database.
    engine.question_facts.cache_clear()
    again = engine.player_resume(
        code=session.code, rejoin_token=joined.reply["rejoin_token"], now=at(30)
    ).reply
    assert again["question"]["time_left_ms"] == 10_000
    engine.answer_submit(
        session_pk=session.pk, player_pk=joined.player.pk, answer_idx=1, msg_id=None, now=at(31)
    )
    assert Answer.objects.get(player=joined.player).response_ms == 31_000


def test_taking_extra_time_back_mid_question_shortens_the_round(host, make_quiz):
    session, p = start_game(host, make_quiz)
    accommodate(session, host, p["Ada"], 2)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    back = accommodate(session, host, p["Ada"], 1, seconds=5)
    assert pushes(back, "question.time")[0].payload["time_left_ms"] == 15_000
    assert fresh(session).question_closes_at == at(20)
    assert refused(lambda: answer(session, p["Ada"], 1, 21)) == "too_late"


def test_accommodate_refusals(host, make_host, make_quiz):
    session, p = start_game(host, make_quiz)
    assert refused(lambda: accommodate(session, host, p["Ada"], 3)) == "invalid"
    assert refused(lambda: accommodate(session, make_host("host_b"), p["Ada"], 2)) == "forbidden"
    engine.player_kick(session_pk=session.pk, host=host, player_id=p["Bo"].public_id)
    assert refused(lambda: accommodate(session, host, p["Bo"], 2)) == "not_found"
    with pytest.raises(EngineError):
        engine.player_accommodate(
            session_pk=session.pk, host=host, player_id="nobody", time_factor=2, now=at(0)
        )
    engine.quiz_stop(session_pk=session.pk, host=host, now=at(1))
    assert refused(lambda: accommodate(session, host, p["Ada"], 2)) == "wrong_state"
    # The wire refuses anything but 1, 1.5 and 2 before the engine sees it.
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_message('{"type": "player.accommodate", "player_id": "x", "time_factor": 1.25}')
    form = protocol.parse_form_message(
        '{"type": "player.accommodate", "player_id": "x", "time_factor": "1.5"}'
    )
    assert form.time_factor == 1.5


def test_extra_time_is_neither_an_advantage_nor_a_penalty_in_the_tie_break(host, make_quiz):
    session, p = start_game(host, make_quiz, questions=PLANETS[:1])
    accommodate(session, host, p["Ada"], 2)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, p["Ada"], 1, 20)  # half her time
    answer(session, p["Bo"], 1, 10)  # half his
    engine.question_end(session_pk=session.pk, host=host, now=at(41))
    ada, bo, cy = (Player.objects.get(pk=p[n].pk) for n in ("Ada", "Bo", "Cy"))
    assert (ada.score, ada.total_answer_ms) == (bo.score, bo.total_answer_ms) == (750, 10_000)
    assert cy.total_answer_ms == 20_000  # silence: the question's whole limit
    assert ranking.paced_ms(20_000, 200) == 10_000


# --- 2. accuracy mode and the two rankings ------------------------------------------------------


def test_accuracy_mode_gives_a_right_answer_its_full_points(host, make_quiz):
    session, p = start_game(host, make_quiz, score_by_accuracy=True)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, p["Ada"], 1, 19.9)
    answer(session, p["Bo"], 1, 0.1)
    answer(session, p["Cy"], 0, 1)
    engine.question_end(session_pk=session.pk, host=host, now=at(21))
    points = {n: Answer.objects.get(player=p[n]).points for n in p}
    assert points == {"Ada": 1000, "Bo": 1000, "Cy": 0}


def test_quiz_finished_carries_both_rankings(host, make_quiz):
    session, p = start_game(host, make_quiz, names=("Ada", "Bo", "Cy", "Dee"), questions=PLANETS[:2])
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, p["Ada"], 1, 1)  # right and fast: 975
    answer(session, p["Bo"], 1, 19)  # right and slow: 525
    answer(session, p["Cy"], 1, 10)  # right: 750
    engine.question_next(session_pk=session.pk, host=host, now=at(100))
    answer(session, p["Bo"], 0, 100 + 15)  # right again, slowly: Bo is the most accurate
    answer(session, p["Cy"], 0, 100 + 2)  # right again, fast
    answer(session, p["Ada"], 1, 100 + 1)  # wrong
    done = engine.question_next(session_pk=session.pk, host=host, now=at(200))
    finished = pushes(done, "quiz.finished")[0].payload
    assert [(e["name"], e["rank"], e["accuracy_rank"]) for e in finished["leaderboard"]] == [
        ("Cy", 1, 1), ("Bo", 2, 2), ("Ada", 3, 3), ("Dee", 4, 4),
    ]  # fmt: skip
    assert [e["name"] for e in finished["accuracy_leaderboard"]] == ["Cy", "Bo", "Ada", "Dee"]
    # Cy and Bo both have two right: Cy took 12 s in all, Bo 34 s.
    by_accuracy = {e["name"]: e for e in finished["accuracy_leaderboard"]}
    assert by_accuracy["Bo"]["correct_count"] == by_accuracy["Cy"]["correct_count"] == 2


# --- 3. misconception alert, thresholds at their edges ----------------------------------------

SINGLE = QuestionFacts(
    kind="single", correct=(False, True, False), points=1000, time_limit_s=20, prompt="?",
    texts=("Mars", "Jupiter", "Venus"), total=1,
)  # fmt: skip


def rows(*choices):
    return [(n, c, None, SINGLE.correct[c]) for n, c in enumerate(choices)]


@pytest.mark.parametrize(
    ("choices", "threshold", "alert"),
    [
        ((0, 0, 0, 1, 1, 1, 1, 1, 1, 1), 30, (30, 3)),  # exactly 30%: said
        ((0, 0, 1, 1, 1, 1, 1), 30, None),  # 2 of 7 is 28.6%: not
        ((0, 0, 2, 2, 1, 1, 1, 1, 1, 1), 30, None),  # 40% wrong, but split: 20% each
        ((0, 0, 0, 0, 0, 1, 1, 1, 1, 1), 50, (50, 5)),  # the session's own threshold, met
        ((0, 0, 0, 0, 1, 1, 1, 1, 1), 50, None),  # 4 of 9 = 44%
        ((1, 1, 1), 30, None),  # nobody wrong
        ((), 30, None),  # nobody answered
    ],
)
def test_misconception_threshold_edges(choices, threshold, alert):
    found = insights.misconception(SINGLE, rows(*choices), threshold, session_pk=1, question_pk=1)
    assert (None if found is None else (found["percent"], found["count"])) == alert
    if found:
        assert (found["answer_idx"], found["answer_text"], found["answered"]) == (0, "Mars", len(choices))


def test_misconception_kinds(host, every_kind_quiz):
    """The same wrong set (multi), the same typed word ignoring case (text); never a slider or a poll."""
    multi = QuestionFacts(
        kind="multi", correct=(True, False, True), points=1000, time_limit_s=20, prompt="?",
        texts=("Mars", "Jupiter", "Venus"), total=1,
    )  # fmt: skip
    given = [(1, None, [0], False), (2, None, [0], False), (3, None, [0, 2], True)]
    found = insights.misconception(multi, given, 30, session_pk=1, question_pk=1)
    assert (found["answer_idxs"], found["answer_text"], found["percent"]) == ([0], "Mars", 67)
    text = QuestionFacts(
        kind="text", correct=(True,), points=1000, time_limit_s=20, prompt="?", texts=("Sun",), total=1
    )
    given = [(1, None, "the moon", False), (2, None, "The Moon", False), (3, None, "The Moon", False),
             (4, None, "Sun", True)]  # fmt: skip
    found = insights.misconception(text, given, 30, session_pk=1, question_pk=1)
    assert (found["text"], found["count"], found["percent"]) == ("The Moon", 3, 75)
    for kind in ("slider", "poll"):
        facts = QuestionFacts(
            kind=kind,
            correct=(False, False),
            points=1000,
            time_limit_s=20,
            prompt="?",
            texts=("a", "b"),
            total=1,
        )
        assert (
            insights.misconception(facts, [(1, 0, 5.0, False)] * 3, 30, session_pk=1, question_pk=1) is None
        )


def test_the_misconception_reaches_the_host_only(host, make_quiz):
    session, p = start_game(host, make_quiz, misconception_threshold=60)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, p["Ada"], 0, 1)
    answer(session, p["Bo"], 0, 2)
    answer(session, p["Cy"], 1, 3)
    closed = engine.question_end(session_pk=session.pk, host=host, now=at(5))
    host_copy, players_copy = pushes(closed, "question.results")
    assert host_copy.audience == HOST and players_copy.audience == PLAYERS
    assert host_copy.payload["misconception"] == {
        "percent": 67, "count": 2, "answered": 3, "answer_text": "Mars", "answer_idx": 0,
    }  # fmt: skip
    assert "misconception" not in players_copy.payload and "key_check" not in players_copy.payload
    assert "Mars" not in protocol.dumps({k: v for k, v in players_copy.payload.items() if k != "leaderboard"})
    # A host page drawn afresh in the results reads it again.
    assert insights.alerts_now(fresh(session))["misconception"] == host_copy.payload["misconception"]


# --- 3. the re-vote ------------------------------------------------------------------------------


def test_a_revote_reopens_the_question_and_shows_both_rounds(host, make_quiz):
    session, p = start_game(host, make_quiz, names=("Ada", "Bo", "Cy", "Dee"))
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, p["Ada"], 0, 1, msg_id="ada-q1")  # Mars: wrong
    answer(session, p["Bo"], 0, 2)  # wrong
    answer(session, p["Cy"], 1, 3)  # right
    # A re-vote is for a question whose results are up.
    assert (
        refused(lambda: engine.question_revote(session_pk=session.pk, host=host, now=at(9))) == "wrong_state"
    )
    engine.question_end(session_pk=session.pk, host=host, now=at(10))
    scores = {n: Player.objects.get(pk=p[n].pk).score for n in p}

    again = engine.question_revote(session_pk=session.pk, host=host, now=at(30))
    (question,) = pushes(again, "question.next")
    assert question.payload["question_num"] == 1 and question.payload["round"] == 2
    assert question.payload["options"] == ["Mars", "Jupiter", "Venus", "Earth"]
    assert question.payload["time_left_ms"] == 20_000
    assert any(isinstance(e, Wake) and e.at == at(50.5) and e.round == 2 for e in again.events)
    # The first round's msg_id is that answer's (its `round` says so); a fresh one records the second.
    repeat = answer(session, p["Ada"], 1, 31, msg_id="ada-q1").reply
    assert (repeat["duplicate"], repeat["round"], repeat["answer_idx"]) == (True, 1, 0)
    second = answer(session, p["Ada"], 1, 32, msg_id="ada-q1-r2").reply  # switched to the right answer
    assert (second["duplicate"], second["round"]) == (False, 2)
    answer(session, p["Bo"], 0, 33)  # still wrong
    answer(session, p["Cy"], 1, 34)  # still right
    answer(session, p["Dee"], 1, 35)  # did not answer the first time: not a switch
    assert refused(lambda: answer(session, p["Ada"], 2, 36)) == "already_answered"
    # The host's live histogram counts the second round only.
    assert selectors.histogram_payload(fresh(session), at(36))["bins"] == [1, 3, 0, 0]

    closed = engine.question_end(session_pk=session.pk, host=host, now=at(40))
    host_copy, results = pushes(closed, "question.results")
    assert results.payload["round"] == 2
    assert results.payload["bins"] == [1, 3, 0, 0] and results.payload["first_bins"] == [2, 1, 0, 0]
    assert results.payload["switched_to_right"] == 1
    assert host_copy.payload["key_check"] is None
    verdicts = {e.player_id: e.payload for e in pushes(closed, "answer.result")}
    assert verdicts[p["Ada"].public_id]["correct"] is True and verdicts[p["Ada"].public_id]["points"] == 0
    assert verdicts[p["Ada"].public_id]["round"] == 2
    # No points for a re-vote by default: the scores are the first round's.
    assert {n: Player.objects.get(pk=p[n].pk).score for n in p} == scores
    assert Answer.objects.filter(session=session, round=2).count() == 4
    assert (
        refused(lambda: engine.question_revote(session_pk=session.pk, host=host, now=at(41))) == "wrong_state"
    )
    # Next moves on to question 2, round 1.
    nxt = engine.question_next(session_pk=session.pk, host=host, now=at(50))
    assert pushes(nxt, "question.next")[0].payload["round"] == 1


def test_a_stale_close_of_the_first_round_does_not_close_the_revote(host, make_quiz):
    session, p = start_game(host, make_quiz)
    accommodate(session, host, p["Ada"], 2)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    engine.question_end(session_pk=session.pk, host=host, now=at(5))
    engine.question_revote(session_pk=session.pk, host=host, now=at(10))
    stale = Wake(session.pk, session.code, at(40.5), 0, "close", 1)  # round 1's, still pending
    assert engine.wake(stale, now=at(40.5)).events == []
    assert fresh(session).state == "question"


def test_with_revote_scores_the_second_answer_counts_instead_of_the_first(host, make_quiz):
    session, p = start_game(host, make_quiz, revote_scores=True)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, p["Ada"], 0, 1)  # wrong
    answer(session, p["Bo"], 1, 0)  # right: 1000
    answer(session, p["Cy"], 1, 0)  # right, and will not re-vote
    engine.question_end(session_pk=session.pk, host=host, now=at(5))
    engine.question_revote(session_pk=session.pk, host=host, now=at(10))
    answer(session, p["Ada"], 1, 20)  # right after 10 s: 750
    answer(session, p["Bo"], 0, 11)  # wrong now: 0
    engine.question_end(session_pk=session.pk, host=host, now=at(30))
    players = {n: Player.objects.get(pk=p[n].pk) for n in p}
    assert {n: (pl.score, pl.correct_count) for n, pl in players.items()} == {
        "Ada": (750, 1), "Bo": (0, 0), "Cy": (1000, 1),
    }  # fmt: skip
    assert players["Ada"].total_answer_ms == 10_000 and players["Cy"].total_answer_ms == 0


# --- 4. the answer-key check ----------------------------------------------------------------------


def key_check_game(host, make_quiz, strong_choices, others=4):
    """Eight players: four strong ones right on question 1 (fast), four others wrong; on question 2 the
    strong ones choose `strong_choices` (its key says Mars, 0, is right)."""
    names = [f"S{i}" for i in range(4)] + [f"O{i}" for i in range(others)]
    session, p = start_game(host, make_quiz, names=names)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    for i in range(4):
        answer(session, p[f"S{i}"], 1, 1 + i)
    for i in range(others):
        answer(session, p[f"O{i}"], 0, 1)
    engine.question_next(session_pk=session.pk, host=host, now=at(100))
    for i, choice in enumerate(strong_choices):
        answer(session, p[f"S{i}"], choice, 101 + i)
    for i in range(others):
        answer(session, p[f"O{i}"], 0, 101)
    closed = engine.question_end(session_pk=session.pk, host=host, now=at(130))
    return pushes(closed, "question.results")[0].payload


@pytest.mark.parametrize(
    ("strong_choices", "check"),
    [
        ((1, 1, 1, 0), (75, 3, 4)),  # three of the four strongest chose Jupiter, marked wrong
        ((1, 1, 2, 0), None),  # two of four: 50%, under 60%
        ((0, 0, 0, 0), None),  # they agree with the key
    ],
)
def test_key_check_edges(host, make_quiz, strong_choices, check):
    results = key_check_game(host, make_quiz, strong_choices)
    found = results["key_check"]
    assert (None if found is None else (found["percent"], found["count"], found["strongest"])) == check
    if found:
        assert found["answer_text"] == "Jupiter" and found["answer_idx"] == 1


def test_key_check_at_exactly_60_percent_of_a_larger_top_quarter(host, make_quiz):
    """Twenty players: the top quarter is five; three of five is 60%."""
    names = [f"P{i:02d}" for i in range(20)]
    session, p = start_game(host, make_quiz, names=names)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    for i, name in enumerate(names):
        answer(session, p[name], 1 if i < 5 else 0, 1 + i * 0.1)  # P00..P04 right, fastest first
    engine.question_next(session_pk=session.pk, host=host, now=at(100))
    for i, name in enumerate(names):
        answer(session, p[name], 1 if i < 3 else 0, 101)  # P00..P02 choose Jupiter
    # At the close the players' totals are their scores before the question: both reads agree.
    from_totals = insights.strongest(fresh(session), 1, 20, from_totals=True)
    assert from_totals == insights.strongest(fresh(session), 1, 20) == [p[n].pk for n in names[:5]]
    closed = engine.question_end(session_pk=session.pk, host=host, now=at(130))
    found = pushes(closed, "question.results")[0].payload["key_check"]
    assert (found["percent"], found["count"], found["strongest"]) == (60, 3, 5)


def test_no_key_check_on_the_first_question_or_with_fewer_than_four_players(host, make_quiz):
    session, p = start_game(host, make_quiz, names=("A", "B", "C", "D"))
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    for name in p:
        answer(session, p[name], 0, 1)  # everyone "wrong" on question 1: nothing to rank by yet
    closed = engine.question_end(session_pk=session.pk, host=host, now=at(5))
    assert pushes(closed, "question.results")[0].payload["key_check"] is None
    small, q = start_game(host, make_quiz, names=("X", "Y", "Z"))
    small_quiz_session = fresh(small)
    assert insights.strongest(small_quiz_session, 1, 3) == []


# --- 4. the regrade -------------------------------------------------------------------------------


def numbers(session):
    """Everything a regrade recomputes: each answer's verdict and points, each player's totals."""
    answers = sorted(Answer.objects.filter(session=session).values_list("pk", "correct", "points"))
    players = sorted(Player.objects.filter(session=session).values_list("name", "score", "correct_count",
                                                                        "total_answer_ms"))  # fmt: skip
    ranks = [e["name"] for e in selectors.leaderboard(session)]
    return answers, players, ranks, [e["name"] for e in selectors.accuracy_leaderboard(session)]


def finished_game(host, make_quiz, **settings):
    session, p = start_game(host, make_quiz, names=("Ada", "Bo", "Cy", "Dee"), **settings)
    accommodate(session, host, p["Dee"], 2)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    answer(session, p["Ada"], 1, 2)
    answer(session, p["Bo"], 0, 3)
    answer(session, p["Cy"], 3, 4)
    answer(session, p["Dee"], 0, 30)
    engine.question_end(session_pk=session.pk, host=host, now=at(41))
    engine.question_revote(session_pk=session.pk, host=host, now=at(50))
    answer(session, p["Bo"], 1, 52)
    answer(session, p["Dee"], 0, 60)
    engine.question_next(session_pk=session.pk, host=host, now=at(100))
    answer(session, p["Ada"], 0, 101)
    answer(session, p["Bo"], 1, 102)
    engine.quiz_stop(session_pk=session.pk, host=host, now=at(120))
    return fresh(session), p


def regrade(session, host, index, key, seconds=200):
    question = session.quiz.questions.order_by("order", "pk")[index]
    return engine.regrade_question(
        session_pk=session.pk, host=host, question_pk=question.pk, key=key, now=at(seconds)
    )


@pytest.mark.parametrize("options", [{}, {"score_by_accuracy": True}, {"revote_scores": True}])
def test_regrade_is_idempotent_and_regrading_back_gives_the_games_numbers(host, make_quiz, options):
    session, p = finished_game(host, make_quiz, **options)
    played = numbers(session)
    regrade(session, host, 0, {"correct_idxs": [0]})  # "Mars" was right after all
    once = numbers(session)
    assert once != played
    regrade(session, host, 0, {"correct_idxs": [0]}, seconds=300)
    assert numbers(session) == once
    regrade(session, host, 0, {"correct_idxs": [1]}, seconds=400)  # back to the quiz's key
    assert numbers(session) == played
    mark = Regrade.objects.get(session=session)
    assert (mark.key, mark.regraded_at) == ({"correct_idxs": [1]}, at(400))


def test_regrade_recomputes_verdicts_points_and_ranks(host, make_quiz):
    session, p = finished_game(host, make_quiz)
    regrade(session, host, 0, {"correct_idxs": [0]})
    bo_first = Answer.objects.get(player=p["Bo"], question_index=0, round=1)
    assert (bo_first.correct, bo_first.points) == (True, 925)  # 3 s of 20
    dee = Answer.objects.get(player=p["Dee"], question_index=0, round=1)
    assert (dee.correct, dee.points) == (
        True,
        engine.score_for(points=1000, time_limit_s=40, response_ms=30_000),
    )
    ada = Answer.objects.get(player=p["Ada"], question_index=0)
    assert (ada.correct, ada.points) == (False, 0)
    revote = Answer.objects.get(player=p["Dee"], question_index=0, round=2)
    assert (revote.correct, revote.points) == (True, 0)  # a re-vote scores nothing by default
    assert Player.objects.get(pk=p["Bo"].pk).correct_count == 1


def test_regrade_refusals(host, make_host, make_quiz):
    session, p = start_game(host, make_quiz)
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    assert refused(lambda: regrade(fresh(session), host, 0, {"correct_idxs": [0]})) == "wrong_state"
    engine.quiz_stop(session_pk=session.pk, host=host, now=at(5))
    session = fresh(session)
    assert refused(lambda: regrade(session, make_host("host_b"), 0, {"correct_idxs": [0]})) == "forbidden"
    assert refused(lambda: regrade(session, host, 0, {"correct_idxs": [0, 1]})) == "invalid"  # single
    assert refused(lambda: regrade(session, host, 0, {"correct_idxs": [9]})) == "invalid"
    assert refused(lambda: regrade(session, host, 1, {"correct_idxs": [0]})) == "wrong_state"  # not played
    assert not Regrade.objects.exists()


def test_regrade_of_every_kind_with_a_key(host, every_kind_quiz):
    quiz = every_kind_quiz(host)
    session = engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session
    ada = engine.player_join(
        code=session.code, raw_name="Ada", password=None, requested_id=None, msg_id=None, now=at(0)
    ).player
    answers = [{"answer_idx": 0}, {"answer_idxs": [0]}, {"answer_idx": 1}, {"answer_idx": 0},
               {"text": "Moon"}, {"value": 9}, None]  # fmt: skip
    engine.quiz_start(session_pk=session.pk, host=host, now=at(0))
    for index, given in enumerate(answers):  # question `index` opens at 100 * index s
        if given:
            engine.answer_submit(
                session_pk=session.pk, player_pk=ada.pk, answer=given, msg_id=None, now=at(100 * index + 1)
            )
        engine.question_next(session_pk=session.pk, host=host, now=at(100 * index + 100))
    session = fresh(session)
    assert session.state == "finished" and Player.objects.get(pk=ada.pk).correct_count == 0
    keys = {0: {"correct_idxs": [0]}, 1: {"correct_idxs": [0]}, 2: {"correct_idxs": [1]},
            4: {"accepted": ["the Moon", " moon "]}, 5: {"correct": 10, "tolerance": 1}}  # fmt: skip
    for index, key in keys.items():
        regrade(session, host, index, key)
    assert Player.objects.get(pk=ada.pk).correct_count == 5
    assert Regrade.objects.get(question__kind="text").key == {"accepted": ["the Moon", "moon"]}
    assert refused(lambda: regrade(session, host, 3, {"correct_idxs": [0]})) == "invalid"  # a poll
    order = session.quiz.questions.get(kind="order")
    assert refused(lambda: regrade(session, host, 6, {"correct_order": [0, 0, 1, 2]})) == "invalid"
    regrade(session, host, 6, {"correct_order": [3, 2, 1, 0]})
    assert Regrade.objects.get(question=order).key == {"correct_order": [3, 2, 1, 0]}
