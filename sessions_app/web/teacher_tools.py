"""What the pages show of the teacher's tools (issue #18, docs/PROTOCOL.md §2.2): a student's own
countdown, who is still answering once the class's time is up, the host's alerts at a reveal, a
re-vote beside its first round. Context only; web/pages.py puts it into its views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils.translation import gettext_lazy

from quizzes_app.kinds import Kind
from sessions_app import selectors
from sessions_app.engine import insights
from sessions_app.models import GameSession, Player
from sessions_app.report_rows import LETTERS

State = GameSession.State


def host_tools(
    session: GameSession, now: datetime, question: dict, options: list[dict], histogram: dict | None,
    known: dict | None, rows_of: Callable, bars: list[dict], answered: int,
) -> dict:  # fmt: skip
    """The host's view: during a question, how many students with extra time are still answering and
    whether the class's time is up; at a reveal, the alerts (from the frame being pushed, else read
    again), whether a re-vote is possible, and after one the first round's bars beside the second's.
    `options`, `bars`, `answered`: the stage's option views, the histogram's rows and count of this
    round; `rows_of`: pages.histogram_rows."""
    if session.state == State.QUESTION:
        waiting = histogram.get("still_answering") if histogram else selectors.still_answering(session, now)
        return {"still_answering": waiting or 0, "class_time_up": now >= session.question_deadline}
    if known and known["type"] == "question.results" and "misconception" in known:
        alerts = {"misconception": known["misconception"], "key_check": known["key_check"]}
    else:
        alerts = insights.alerts_now(session)
    tools: dict = {
        "alerts": alerts,
        "misconception": alert_view(alerts["misconception"], question["kind"], options),
        "key_check": alert_view(alerts["key_check"], question["kind"], options),
        "can_revote": question["round"] == 1,
    }
    if question["round"] == 2:
        first = selectors.tally(session, session.question_index, question["facts"], 1)
        tools["first_bars"] = rows_of(question, first.bins, first.top)
        tools["switched_to_right"] = selectors.switched_to_right(session, session.question_index)
        tools["revote_rounds"] = [
            {"title": gettext_lazy("First vote"), "rows": tools["first_bars"], "answered": first.answered},
            {"title": gettext_lazy("Re-vote"), "rows": bars, "answered": answered},
        ]
        # Side by side, both on one scale: a bar as long in each round means as many students.
        most = max([row["count"] for rows in (tools["first_bars"], bars) for row in rows] + [1])
        for rows in (tools["first_bars"], bars):
            for row in rows:
                row["bar"] = round(100 * row["count"] / most)
    return tools


def alert_view(alert: dict | None, kind: str, options: list[dict]) -> dict | None:
    """An alert as the stage says it, in the results report's words ("42% chose B: Mars", B the
    option's place on the projector), with the shapes of the options it names; a typed answer in
    quotes, an order by its items' shapes (_alert_answer.html)."""
    if not alert:
        return None
    positions = alert.get("answer_idxs") or (
        [alert["answer_idx"]] if alert.get("answer_idx") is not None else []
    )
    how = "typed" if kind == Kind.TEXT else "ordered" if kind == Kind.ORDER else "chose"
    picked = [opt for opt in options if opt["idx"] in positions] if how == "chose" else []
    if how == "ordered":  # six long items spelled out would not fit the projector: their shapes, in order
        picked = [options[pos] for pos in alert.get("order") or [] if pos < len(options)]
    letters = ", ".join(LETTERS[pos] for pos in positions if pos < len(LETTERS))
    return {**alert, "how": how, "picked": picked, "letters": letters}


def own_time(session: GameSession, player: Player, question: dict | None, now: datetime) -> dict | None:
    """The question as this player's page shows it: with their own time, if they have extra time."""
    if question is None or player.time_percent == 100:
        return question
    own = {**question, "time_left_ms": selectors.own_time_left_ms(session, player.time_percent, now)}
    own["time_limit_ms"] = question["time_limit_ms"] * player.time_percent // 100
    return own


def own_time_view(payload: dict) -> dict:
    """The countdown of a question.time frame (a player's own time), as _countdown.html draws it."""
    limit_ms = round(payload["time_limit"] * payload["time_factor"] * 1000)
    return {
        "num": payload["question_num"],
        "time_limit_ms": limit_ms,
        "time_left_ms": payload["time_left_ms"],
    }
