"""What a close tells: question.results (the host's copy with its alerts, the players' without), then
each player's own answer.result; after a re-vote, both rounds side by side."""

from __future__ import annotations

from sessions_app import protocol, selectors
from sessions_app.engine import insights, judging
from sessions_app.engine.answers import question_facts
from sessions_app.engine.events import HOST, PLAYER, PLAYERS, Push
from sessions_app.models import Answer, GameSession


def reveal(session: GameSession, index: int, strongest: list[int] | None = None) -> list[Push]:
    """question.results for the host and for the players, then each player's own answer.result with
    score and rank, for the round of question `index` that just closed. `strongest`: the players the
    answer-key check asks (insights.strongest), if known."""
    # The choices as they were scored: an edit in the admin meanwhile changes neither verdict nor reveal.
    facts = question_facts(session.current_question_id, session.question_opened_at)
    order = judging.shown(facts, session.pk, session.current_question_id)
    round_ = session.question_round
    counted = selectors.tally(session, index, facts, round_)
    ranked = list(selectors.ranked_players(session).only("public_id", "name", "score", "correct_count"))
    results = protocol.question_results(
        question_num=index + 1, answer_key=judging.reveal_fields(facts, order), bins=counted.bins,
        top=counted.top, leaderboard=selectors.entries(ranked[:10]), round=round_,
    )  # fmt: skip
    rows = Answer.objects.filter(session=session, question_index=index, round=round_).values_list(
        "player_id", "choice_idx", "response", "correct", "points"
    )
    answers = {
        pk: (choice_idx, response, correct, points) for pk, choice_idx, response, correct, points in rows
    }
    if round_ == 2:
        results.update(_compared(session, index, facts))
    given = [(pk, choice_idx, response, ok) for pk, (choice_idx, response, ok, _) in answers.items()]
    alerts = insights.alerts(session, index, round_, facts, given, len(ranked), strongest)
    pushes = [
        Push(session.code, HOST, protocol.host_results(results, **alerts)),
        Push(session.code, PLAYERS, results),
    ]
    for rank, player in enumerate(ranked, start=1):
        _, _, correct, points = answers.get(player.pk, (None, None, False, 0))
        payload = protocol.answer_result(
            question_num=index + 1, answered=player.pk in answers, correct=correct, points=points,
            score=player.score, rank=rank, scored=facts.scored, round=round_,
        )  # fmt: skip
        pushes.append(Push(session.code, PLAYER, payload, player_id=player.public_id))
    return pushes


def _compared(session: GameSession, index: int, facts: judging.QuestionFacts) -> dict:
    """A re-vote's additions: the first round's counts, and who was wrong then and is right now."""
    first = selectors.tally(session, index, facts, 1)
    switched = selectors.switched_to_right(session, index)
    return protocol.revote_fields(first_bins=first.bins, first_top=first.top, switched_to_right=switched)
