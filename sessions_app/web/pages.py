"""What the browser pages show, read from the database: the same context serves a page load and a push."""

from __future__ import annotations

from datetime import datetime

from sessions_app import selectors
from sessions_app.audiences import HOST
from sessions_app.engine.answers import question_facts
from sessions_app.models import Answer, GameSession, Player

State = GameSession.State

# Every option has a colour AND a shape, so colour-blind students can tell them apart.
OPTION_SHAPES = ["triangle", "diamond", "circle", "square", "star", "hexagon"]
SHAPE_GLYPHS = {"triangle": "▲", "diamond": "◆", "circle": "●", "square": "■", "star": "★", "hexagon": "⬢"}


def option_views(
    texts: list[str], *, bins: list[int] | None = None, correct_idx: int | None = None
) -> list[dict]:
    """Options with their index, shape, glyph and, when known, count and correctness."""
    top = max(bins or [0]) or 1
    return [
        {
            "idx": i,
            "text": text,
            "shape": OPTION_SHAPES[i % len(OPTION_SHAPES)],
            "glyph": SHAPE_GLYPHS[OPTION_SHAPES[i % len(OPTION_SHAPES)]],
            "count": bins[i] if bins else 0,
            "bar": round(100 * (bins[i] if bins else 0) / top),
            "correct": correct_idx == i,
        }
        for i, text in enumerate(texts)
    ]


def _question(session: GameSession, now: datetime) -> dict | None:
    """The current question as the page shows it; `correct_idx` only once it has been revealed."""
    if session.current_question_id is None or session.state not in (State.QUESTION, State.RESULTS):
        return None
    # As it was opened (and as it was scored), read once per opening, not per push.
    facts = question_facts(session.current_question_id, session.question_opened_at)
    revealed = session.state == State.RESULTS
    correct_idx = facts.correct.index(True) if revealed and True in facts.correct else None
    left_ms = (
        int((session.question_deadline - now).total_seconds() * 1000)
        if session.state == State.QUESTION
        else 0
    )
    return {
        "num": session.question_index + 1,
        "total": facts.total,
        "prompt": facts.prompt,
        "texts": list(facts.texts),
        "time_limit": facts.time_limit_s,
        "time_left_ms": max(0, left_ms),
        "correct_idx": correct_idx,
    }


def page_opened(session_pk: int, role: str) -> None:
    """A page of this session is watching: from now on its broadcasts are also rendered as HTML for
    that audience (rendering for nobody would cost every event a render)."""
    flag = "host_on_page" if role == HOST else "players_on_pages"
    GameSession.objects.filter(pk=session_pk, **{flag: False}).update(**{flag: True})


LOBBY_NAMES_SHOWN = 200
HOST_REGIONS_ALL = frozenset({"host_lobby", "host_controls", "host_stage", "histogram", "leaderboard"})


def host_view(
    session: GameSession, now: datetime, regions: frozenset[str] = HOST_REGIONS_ALL, known: dict | None = None
) -> dict:
    """Everything on the host's live page, or only what the given regions need (pushes are frequent).

    `known`: the frame being pushed (a histogram, the host's lobby.update), whose counts and players
    were just read, so they are not read again.
    """
    histogram = known if known and known["type"] == "histogram" else None
    context: dict = {"session": session, "state": session.state, "locked": session.locked}
    if regions & {"host_lobby", "histogram"}:
        players = None
        if "host_lobby" in regions:
            players = (
                known["players"] if known and "players" in known else selectors.lobby_players(session, now)
            )
        if players is not None:
            context["count"] = len(players)
        else:
            context["count"] = histogram["total"] if histogram else selectors.player_count(session)
        # A projected lobby shows the first names; 2,000 chips would only make the page heavy.
        context["players"] = players[:LOBBY_NAMES_SHOWN] if players is not None else None
        context["more_players"] = max(0, context["count"] - LOBBY_NAMES_SHOWN)
    if regions & {"host_stage", "histogram"}:
        question = _question(session, now)
        if histogram and question:
            bins = histogram["bins"]
        elif question:
            bins = selectors.tally(session, session.question_index, selectors.current_facts(session)).bins
        else:
            bins = []
        context["question"] = question
        context["options"] = (
            option_views(question["texts"], bins=bins, correct_idx=question["correct_idx"])
            if question
            else []
        )
        context["answered"] = sum(bins)
    if "leaderboard" in regions:
        context["leaderboard"] = selectors.leaderboard(session, limit=10) if session.revealed_count else []
    if "host_stage" in regions and session.state == State.FINISHED:
        ranking = selectors.leaderboard(session)
        context.update(podium=ranking[:3], ranking=ranking)
    return context


def players_view(session: GameSession, now: datetime, histogram: dict | None = None) -> dict:
    """What every player's page shows alike (pushed once to all of them)."""
    question = _question(session, now) if session.state == State.QUESTION else None
    live = None
    if question and selectors.shows_live_results(session):
        live = histogram or selectors.histogram_payload(session)
    return {
        "session": session,
        "state": session.state,
        "count": selectors.player_count(session),
        "question": question,
        "options": option_views(question["texts"], bins=live["bins"] if live else None) if question else [],
        "live": live,
        "stage": {
            State.LOBBY: "lobby",
            State.QUESTION: "question",
            State.RESULTS: "wait",
            State.FINISHED: "finished",
        }[session.state],
    }


def player_view(session: GameSession, player: Player, now: datetime) -> dict:
    """One player's whole page, as after a reload: their answer, their last result, their rank."""
    context = players_view(session, now)
    context["you"] = {"name": player.name, "score": player.score, "rank": selectors.rank_of(session, player)}
    if session.state == State.QUESTION:
        mine = Answer.objects.filter(player=player, question_index=session.question_index).first()
        if mine is not None:
            context.update(stage="locked", answered_idx=mine.choice_idx)
    elif session.state == State.RESULTS:
        mine = Answer.objects.filter(player=player, question_index=session.question_index).first()
        context.update(
            stage="result",
            result={
                "correct": bool(mine and mine.correct),
                "points": mine.points if mine else 0,
                "score": player.score,
                "rank": context["you"]["rank"],
                "answered": mine is not None,
            },
        )
    elif session.state == State.FINISHED:
        context.update(stage="finished", final=context["you"])
    if player.kicked:
        context["stage"] = "kicked"
    return context
