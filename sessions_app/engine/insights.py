"""What the host is told at a reveal, beside the answer: a misconception many share, and an answer
key the strongest players disagree with. Both are read from the round's answers, so a reload of
the host's page shows them again; players are never sent them (docs/PROTOCOL.md §2.2)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sessions_app import protocol, selectors
from sessions_app.engine import judging
from sessions_app.engine.answer_keys import same_answer
from sessions_app.engine.answers import question_facts
from sessions_app.engine.judging import QuestionFacts
from sessions_app.engine.scores import ranked_before
from sessions_app.engine.session_settings import DEFAULT_MISCONCEPTION_THRESHOLD
from sessions_app.models import Answer, GameSession

# The answer-key check: the strongest quarter of the class (at least this many players) ...
KEY_CHECK_MIN_PLAYERS = 4
# ... of whom at least this share (percent) gave one and the same answer that is marked wrong.
KEY_CHECK_SHARE = 60

# (player pk, choice_idx, response, correct): one answer of a round, as the close reads them.
Row = tuple[int, int | None, Any, bool]


def percent(part: int, whole: int) -> int:
    """part / whole as a whole percent, halves rounded up: 2 of 3 is 67."""
    return (200 * part + whole) // (2 * whole) if whole else 0


@dataclass(frozen=True)
class Shared:
    """The wrong answer given most often, as one of its givers gave it."""

    count: int
    choice_idx: int | None
    response: Any


def most_given_wrong(facts: QuestionFacts, rows: list[Row]) -> Shared | None:
    """Of the wrong answers, the one given most (answers alike by answer_keys.same_answer); ties go
    to the first given. A typed one is shown in the spelling typed most often."""
    counts: Counter = Counter()
    first: dict = {}
    spellings: dict = {}
    for _, choice_idx, response, correct in rows:
        same = None if correct else same_answer(facts.kind, choice_idx, response)
        if same is None:
            continue
        counts[same] += 1
        first.setdefault(same, (choice_idx, response))
        spellings.setdefault(same, Counter())[response if isinstance(response, str) else None] += 1
    if not counts:
        return None
    most = max(counts.values())
    same = next(key for key in first if counts[key] == most)
    choice_idx, response = first[same]
    if isinstance(response, str):
        response = spellings[same].most_common(1)[0][0]
    return Shared(most, choice_idx, response)


def _given(facts: QuestionFacts, shared: Shared, session_pk: int, question_pk: int) -> dict:
    """The shared answer in words and in answer.recorded's fields."""
    fields = judging.recorded_fields(
        facts.kind, shared.choice_idx, shared.response, session_pk=session_pk, question_pk=question_pk
    )
    words = judging.readable(facts.kind, facts.texts, shared.choice_idx, shared.response)
    return {"answer_text": words, "given": fields}


def misconception(
    facts: QuestionFacts, rows: list[Row], threshold: int, *, session_pk: int, question_pk: int
) -> protocol.Misconception | None:
    """The wrong answer given by at least `threshold` percent of those who answered, if any."""
    shared = most_given_wrong(facts, rows)
    if shared is None or shared.count * 100 < threshold * len(rows):
        return None
    return protocol.misconception(
        percent=percent(shared.count, len(rows)), count=shared.count, answered=len(rows),
        **_given(facts, shared, session_pk, question_pk),
    )  # fmt: skip


def strongest(session: GameSession, index: int, players: int, *, from_totals: bool = False) -> list[int]:
    """The top quarter of the `players` (at least KEY_CHECK_MIN_PLAYERS) by their scores before question
    `index`; none when there are fewer players, or nobody had scored yet (nothing to tell them by).

    `from_totals`: read those scores from the players' totals, which at a close, before its recompute,
    are exactly that (every close recomputes them up to its question), at a tenth of the cost of
    summing the answers again (what a page drawn afresh later does)."""
    if index == 0:
        return []
    size = max(KEY_CHECK_MIN_PLAYERS, math.ceil(players / 4))
    if from_totals:
        ranked = selectors.ranked_players(session).values_list("pk", "score")
    else:
        ranked = ranked_before(session, index).values_list("pk", "score_before")
    top = list(ranked[:size])
    if len(top) < KEY_CHECK_MIN_PLAYERS or not any(score for _, score in top):
        return []
    return [pk for pk, _ in top]


def key_check(
    facts: QuestionFacts, rows: list[Row], strongest_pks: list[int], *, session_pk: int, question_pk: int
) -> protocol.KeyCheck | None:
    """The answer marked wrong that at least KEY_CHECK_SHARE percent of the strongest players gave."""
    if not strongest_pks:
        return None
    members = set(strongest_pks)
    shared = most_given_wrong(facts, [row for row in rows if row[0] in members])
    if shared is None or shared.count * 100 < KEY_CHECK_SHARE * len(strongest_pks):
        return None
    return protocol.key_check(
        percent=percent(shared.count, len(strongest_pks)), count=shared.count, strongest=len(strongest_pks),
        **_given(facts, shared, session_pk, question_pk),
    )  # fmt: skip


def alerts(
    session: GameSession, index: int, round_: int, facts: QuestionFacts, rows: list[Row], players: int,
    strongest_pks: list[int] | None = None,
) -> dict:  # fmt: skip
    """Both alerts for a revealed round: {"misconception": ..., "key_check": ...} (None when quiet).
    The key check is for a first round only: a re-vote's answers come after the class talked.
    `strongest_pks`: the strongest players if already known (strongest), else read here."""
    threshold = session.settings.get("misconception_threshold", DEFAULT_MISCONCEPTION_THRESHOLD)
    question_pk = session.current_question_id
    where = {"session_pk": session.pk, "question_pk": question_pk}
    check = None
    if round_ == 1 and facts.scored:
        if strongest_pks is None:
            strongest_pks = strongest(session, index, players)
        check = key_check(facts, rows, strongest_pks, **where)
    return {"misconception": misconception(facts, rows, threshold, **where), "key_check": check}


def round_rows(session: GameSession, index: int, round_: int) -> list[Row]:
    return list(
        Answer.objects.filter(session=session, question_index=index, round=round_).values_list(
            "player_id", "choice_idx", "response", "correct"
        )
    )


def alerts_now(session: GameSession) -> dict:
    """The alerts of the round whose results are up (for a host page drawn afresh)."""
    if session.state != GameSession.State.RESULTS or session.current_question_id is None:
        return {"misconception": None, "key_check": None}
    facts = question_facts(session.current_question_id, session.question_opened_at)
    index, round_ = session.question_index, session.question_round
    players = session.players.filter(kicked=False).count()
    return alerts(session, index, round_, facts, round_rows(session, index, round_), players)
