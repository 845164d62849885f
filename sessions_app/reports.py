"""Reads for the results report: computed from Answer rows in a fixed number of queries.

The rows it is made of are report_rows.py's. A question the host regraded (engine/regrade.py) is
shown and judged by its new key; a re-voted one has its second round beside the first.
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    When,
)  # fmt: skip
from django.db.models.functions import Cast, Coalesce

from quizzes_app.kinds import Kind
from quizzes_app.models import Question
from sessions_app import ranking
from sessions_app.engine import answer_keys, insights, judging
from sessions_app.engine.judging import QuestionFacts
from sessions_app.engine.scores import counted_round
from sessions_app.engine.session_settings import DEFAULT_MISCONCEPTION_THRESHOLD
from sessions_app.models import Answer, GameSession, Player, Regrade
from sessions_app.report_rows import (
    CORRECT_MARK,
    DISTRIBUTION_LABEL,
    NONE,
    ORDER_ROWS,
    RIGHT,
    VOTED,
    WRONG,
    OptionStat,
    PlayerAnswer,
    PlayerRow,
    QuestionStat,
    Revote,
    SessionReport,
    format_ms,
    median,
    percent,
)  # fmt: skip

__all__ = [
    "CORRECT_MARK", "DISTRIBUTION_LABEL", "NONE", "RIGHT", "VOTED", "WRONG", "OptionStat", "PlayerAnswer",
    "PlayerRow", "QuestionStat", "SessionReport", "format_ms", "past_sessions_for", "session_report",
]  # fmt: skip

# A question of the report: as saved, its facts as judged (by a regrade's key, if any), as saved.
Played = tuple[Question, QuestionFacts, QuestionFacts]


def _questions(session: GameSession) -> list[Played]:
    """The quiz's questions in play order, each with its facts, as regraded and as saved (two queries:
    a regrade comes in the same query as its question)."""
    if session.quiz_id is None:
        return []
    regrade = Regrade.objects.filter(session=session, question=OuterRef("pk"))
    questions = list(
        Question.objects.filter(quiz_id=session.quiz_id)
        .select_related("quiz")
        .order_by("order", "pk")
        .annotate(
            regrade_key=Subquery(regrade.values("key")[:1], output_field=JSONField()),
            regraded_at=Subquery(regrade.values("regraded_at")[:1]),
        )
        .prefetch_related("choices")
    )
    played = []
    for q in questions:
        own = judging.facts_of(q, list(q.choices.all()), total=len(questions))
        played.append((q, answer_keys.with_key(own, q.regrade_key), own))
    return played


def _answers_by_player(session: GameSession, player_ids: set[int]) -> dict[int, dict[tuple[int, int], tuple]]:
    """{player pk: {(question pk, round): (choice_idx, response, response_ms, correct, points,
    time_percent)}} in one query."""
    rows = Answer.objects.filter(session=session).values_list(
        "player_id", "question_id", "round", "choice_idx", "response", "response_ms", "correct", "points",
        "time_percent",
    )  # fmt: skip
    by_player: dict[int, dict[tuple[int, int], tuple]] = {pk: {} for pk in player_ids}
    for player_id, question_id, round_, *rest in rows:
        # Kicked players are out of the report, answers included, so counts match the player count.
        if player_id in by_player:
            by_player[player_id][question_id, round_] = tuple(rest)
    return by_player


def _answer_key(facts: QuestionFacts) -> str:
    if facts.kind == Kind.SLIDER and not _slider_complete(facts):
        return ""
    return judging.answer_key_text(facts)


def _slider_complete(facts: QuestionFacts) -> bool:
    # A question edited into a slider after it was played may lack the slider's fields.
    slider = facts.slider
    return slider is not None and None not in (slider.min, slider.max, slider.step, slider.correct)


def _answer(number: int, question: Question, facts: QuestionFacts, stored: tuple | None) -> PlayerAnswer:
    """One answer of a player, in words, or their silence (outcome NONE)."""
    choice_idx, response, response_ms, correct, points, time_percent = stored or (None,) * 5 + (100,)
    if stored is None:
        outcome = NONE
    elif not facts.scored:
        outcome = VOTED
    else:
        outcome = RIGHT if correct else WRONG
    return PlayerAnswer(
        number=number,
        prompt=question.prompt,
        kind=facts.kind,
        choice_idx=choice_idx,
        response=response,
        answer_text=judging.readable(facts.kind, facts.texts, choice_idx, response),
        correct_text=_answer_key(facts),
        outcome=outcome,
        response_ms=response_ms,
        points=points,
        time_percent=time_percent,
    )


def _player_row(
    player: Player, questions: list[Played], given: dict[tuple[int, int], tuple], played: list[bool],
    revote_scores: bool,
) -> PlayerRow:  # fmt: skip
    answers, counted = [], []
    for number, (question, facts, _) in enumerate(questions, start=1):
        answer = _answer(number, question, facts, given.get((question.pk, 1)))
        if (question.pk, 2) in given:
            answer.second = _answer(number, question, facts, given[question.pk, 2])
        rounds = {r for r in (1, 2) if (question.pk, r) in given}
        answer.counts = counted_round(rounds, revote_scores) == 1
        answers.append(answer)
        counted.append(answer if answer.counts else answer.second)
    answered = [a for a in counted if a.outcome != NONE]
    correct_count = sum(1 for a in answered if a.outcome == RIGHT)
    # A poll has no right answer, so it counts in neither accuracy nor the time it took to be right;
    # the tie-break time below is the ranking rule's, which counts every question played.
    scored_played = sum(1 for (_, facts, _), p in zip(questions, played, strict=True) if p and facts.scored)
    times = [
        (
            None if a.outcome == NONE else ranking.paced_ms(a.response_ms, a.time_percent),
            facts.time_limit_s * 1000,
        )
        for a, (_, facts, _), p in zip(counted, questions, played, strict=True)
        if p
    ]
    return PlayerRow(
        pk=player.pk,
        public_id=player.public_id,
        name=player.name,
        joined_at=player.joined_at,
        score=sum(a.points for a in answered),
        correct_count=correct_count,
        accuracy=percent(correct_count, scored_played),
        median_ms=median([a.response_ms for a in answered if a.scored]),
        total_ms=ranking.total_answer_ms([ms for ms, _ in times], [limit for _, limit in times]),
        answers=answers,
        time_percent=player.time_percent,
    )


def _tally_value(column: str, answer: PlayerAnswer) -> Any:
    """An answer's value in judging.tally_column(kind), as the live tally groups it in SQL."""
    if column == "choice_idx":
        return answer.choice_idx
    if column == "correct":
        return answer.outcome == RIGHT
    return answer.response


def _distribution(facts: QuestionFacts, given: list[PlayerAnswer]) -> tuple[list[OptionStat], int]:
    """The rows of a question's distribution, and (text) how many answers the rows leave out."""
    if facts.kind == Kind.SLIDER and not _slider_complete(facts):
        return [], 0
    column = judging.tally_column(facts.kind)
    counted = judging.tally(facts, [(_tally_value(column, a), 1) for a in given])
    n = len(given)

    def row(i: int, text: str, is_correct: bool) -> OptionStat:
        return OptionStat(i, text, counted.bins[i], percent(counted.bins[i], n), is_correct)

    if facts.kind == Kind.TEXT:
        rows = [row(i, top["text"], top["correct"]) for i, top in enumerate(counted.top)]
        return rows, n - sum(counted.bins)
    if facts.kind == Kind.ORDER:
        return [row(0, ORDER_ROWS[0], True), row(1, ORDER_ROWS[1], False)], 0
    if facts.kind == Kind.SLIDER:
        labels = judging.slider_bin_labels(facts.slider)
        right = judging.slider_bin(facts.slider, facts.slider.correct, len(labels))
        return [row(i, label, i == right) for i, label in enumerate(labels)], 0
    return [row(i, text, ok) for i, (text, ok) in enumerate(zip(facts.texts, facts.correct, strict=True))], 0


def _question_stat(
    index: int, played: Played, rows: list[PlayerRow], reached: bool, session: GameSession
) -> QuestionStat:
    question, facts, own = played
    given = [row.answers[index] for row in rows if row.answers[index].outcome != NONE]
    options, other_count = _distribution(facts, given)
    correct_index = (
        next((i for i, ok in enumerate(facts.correct) if ok), None)
        if facts.kind in (Kind.SINGLE, Kind.TRUEFALSE)
        else None
    )
    correct_count = sum(1 for a in given if a.outcome == RIGHT) if facts.scored else None
    threshold = session.settings.get("misconception_threshold", DEFAULT_MISCONCEPTION_THRESHOLD)
    where = {"session_pk": session.pk, "question_pk": question.pk}
    judged = [(n, a.choice_idx, a.response, a.outcome == RIGHT) for n, a in enumerate(given)]
    return QuestionStat(
        index=index,
        number=index + 1,
        prompt=question.prompt,
        kind=facts.kind,
        options=options,
        correct_index=correct_index,
        correct_text=_answer_key(facts),
        answered_count=len(given),
        correct_count=correct_count,
        percent_correct=None if correct_count is None else percent(correct_count, len(rows)),
        median_ms=median([a.response_ms for a in given]),
        played=reached,
        other_count=other_count,
        question_pk=question.pk,
        misconception=insights.misconception(facts, judged, threshold, **where) if given else None,
        revote=_revote(index, facts, rows),
        regraded_at=question.regraded_at,
        own_key_text=_answer_key(own) if question.regraded_at else "",
        key=answer_keys.own_key(facts) if _slider_complete(facts) or facts.kind != Kind.SLIDER else None,
        texts=facts.texts,
    )


def _revote(index: int, facts: QuestionFacts, rows: list[PlayerRow]) -> Revote | None:
    """The second round of question `index`, if it was re-voted."""
    pairs = [(row.answers[index], row.answers[index].second) for row in rows if row.answers[index].second]
    if not pairs:
        return None
    second = [b for _, b in pairs]
    options, other_count = _distribution(facts, second)
    right = sum(1 for a in second if a.outcome == RIGHT) if facts.scored else None
    switched = sum(1 for a, b in pairs if a.outcome == WRONG and b.outcome == RIGHT)
    return Revote(options, len(second), right, switched, other_count)


def session_report(session: GameSession) -> SessionReport:
    """Everything the results page and CSVs show, in four queries whatever the size of the session."""
    questions = _questions(session)
    players = list(session.players.filter(kicked=False).order_by("joined_at", "pk"))
    given = _answers_by_player(session, {p.pk for p in players})
    # A question counts as played if the session reached it or anyone answered it.
    answered_questions = {qid for answers in given.values() for qid, _ in answers}
    played = [
        i <= session.question_index or q.pk in answered_questions for i, (q, _, _) in enumerate(questions)
    ]
    rows = [_player_row(p, questions, given[p.pk], played, session.scores_revote) for p in players]
    stats = [_question_stat(i, q, rows, played[i], session) for i, q in enumerate(questions)]

    by_score = sorted(
        rows,
        key=lambda r: ranking.rank_key(
            score=r.score, total_answer_ms=r.total_ms, joined_at=r.joined_at, pk=r.pk
        ),
    )
    for rank, row in enumerate(by_score, start=1):
        row.rank = rank
    by_accuracy = sorted(
        rows,
        key=lambda r: ranking.accuracy_key(
            correct_count=r.correct_count, total_answer_ms=r.total_ms, joined_at=r.joined_at, pk=r.pk
        ),
    )
    for rank, row in enumerate(by_accuracy, start=1):
        row.accuracy_rank = rank
    return SessionReport(
        session=session,
        code=session.code,
        quiz_title=session.quiz.title if session.quiz_id else "(deleted quiz)",
        date=session.created_at,
        player_count=len(rows),
        questions=stats,
        players=by_score,
        accuracy_ranking=by_accuracy,
    )


def past_sessions_for(user) -> QuerySet[GameSession]:
    """The user's own sessions, newest first, with player_count and average_score, in one query."""
    player_count = (
        Player.objects.filter(session=OuterRef("pk"), kicked=False)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Points come from answers, like the report, so a session stopped mid-question agrees with it.
    points = (
        Answer.objects.filter(session=OuterRef("pk"), player__kicked=False)
        .order_by()
        .values("session")
        .annotate(total=Sum("points"))
        .values("total")
    )
    return (
        GameSession.objects.filter(host=user)
        .select_related("quiz")
        .annotate(
            player_count=Coalesce(Subquery(player_count, output_field=IntegerField()), 0),
            points_total=Coalesce(Subquery(points, output_field=IntegerField()), 0),
        )
        .annotate(
            average_score=Case(
                When(player_count=0, then=None),
                default=Cast(F("points_total"), FloatField()) / Cast(F("player_count"), FloatField()),
                output_field=FloatField(),
            )
        )
        .order_by("-created_at", "-pk")
    )
