"""What the browser pages show, read from the database: the same context serves a page load and a push.

Words put in a context are lazy translations: a push reads its context once and renders it in each
language of the pages open (web/render.py).
"""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext_lazy, ngettext_lazy, pgettext_lazy

from quizzes_app.kinds import ONE_TAP, SHOWS_OPTIONS, TEXT_ANSWER_MAX, Kind, Slider, format_number
from sessions_app import selectors
from sessions_app.audiences import HOST
from sessions_app.engine import judging
from sessions_app.engine.answers import question_facts
from sessions_app.engine.judging import QuestionFacts
from sessions_app.models import Answer, GameSession, Player
from sessions_app.web import teacher_tools

State = GameSession.State

# Every option has a colour AND a shape, so colour-blind students can tell them apart.
OPTION_SHAPES = ["triangle", "diamond", "circle", "square", "star", "hexagon"]
SHAPE_GLYPHS = {"triangle": "▲", "diamond": "◆", "circle": "●", "square": "■", "star": "★", "hexagon": "⬢"}
# A shape's name for people ("option 2 (diamond)"); OPTION_SHAPES are the class names.
SHAPE_NAMES = {
    "triangle": pgettext_lazy("option shape", "triangle"),
    "diamond": pgettext_lazy("option shape", "diamond"),
    "circle": pgettext_lazy("option shape", "circle"),
    "square": pgettext_lazy("option shape", "square"),
    "star": pgettext_lazy("option shape", "star"),
    "hexagon": pgettext_lazy("option shape", "hexagon"),
}
# Kinds whose answer key is a set of options (marked on the options themselves at the reveal).
KEYED_OPTIONS = frozenset({Kind.SINGLE, Kind.TRUEFALSE, Kind.MULTI})
RANGE_DASH = "\N{EN DASH}"  # between the ends of a range ("0 to 9"), the typographic convention


def shape_of(pos: int) -> tuple[str, str]:
    """The shape and glyph of the option shown at this position."""
    shape = OPTION_SHAPES[pos % len(OPTION_SHAPES)]
    return shape, SHAPE_GLYPHS[shape]


def option_views(
    texts: list[str], *, bins: list[int] | None = None, correct: frozenset[int] = frozenset()
) -> list[dict]:
    """Options with their shown position, shape, glyph and, when known, count and correctness."""
    top = max(bins or [0]) or 1
    views = []
    for i, text in enumerate(texts):
        shape, glyph = shape_of(i)
        count = bins[i] if bins and i < len(bins) else 0
        views.append(
            {"idx": i, "text": text, "shape": shape, "glyph": glyph, "count": count,
             "bar": round(100 * count / top), "correct": i in correct}
        )  # fmt: skip
    return views


# --- the question, as the page shows it --------------------------------------------------------


def _question(session: GameSession, now: datetime) -> dict | None:
    """The current question as the page shows it; its answer key (`key`) only once it is revealed."""
    if session.current_question_id is None or session.state not in (State.QUESTION, State.RESULTS):
        return None
    # As it was opened (and as it was scored), read once per opening, not per push.
    facts = question_facts(session.current_question_id, session.question_opened_at)
    order = judging.shown(facts, session.pk, session.current_question_id)
    left_ms = (
        int((session.question_deadline - now).total_seconds() * 1000)
        if session.state == State.QUESTION
        else 0
    )
    question = {
        "num": session.question_index + 1,
        "total": facts.total,
        "prompt": facts.prompt,
        "kind": facts.kind,
        # What players see: none for text (the choices are its accepted answers) and slider.
        "texts": judging.shown_options(facts, order),
        "time_limit": facts.time_limit_s,
        "time_limit_ms": facts.time_limit_s * 1000,
        "time_left_ms": max(0, left_ms),
        "round": session.question_round,
        "image": facts.image_url,
        "image_alt": facts.image_alt,
        "facts": facts,
        "order": order,
        "key": answer_key(facts, order) if session.state == State.RESULTS else None,
    }
    if facts.kind == Kind.SLIDER:
        question["slider"] = slider_view(facts.slider)
    elif facts.kind == Kind.TEXT:
        question["max_length"] = TEXT_ANSWER_MAX
    return question


def slider_view(slider: Slider) -> dict:
    """The range input's bounds, as a teacher wrote them, and where its thumb starts: the middle value."""
    start = slider.min + round((slider.max - slider.min) / 2 / slider.step) * slider.step
    return {
        "min": format_number(slider.min),
        "max": format_number(slider.max),
        "step": format_number(slider.step),
        "start": format_number(min(start, slider.max)),
    }


def answer_key(facts: QuestionFacts, order: tuple[int, ...]) -> dict:
    """The revealed answer for people, per kind; `positions` are the correct options' shown positions."""
    kind = facts.kind
    correct = [order.index(i) for i, ok in enumerate(facts.correct) if ok] if kind in KEYED_OPTIONS else []
    positions = frozenset(correct)
    key: dict = {
        "kind": kind,
        "scored": facts.scored,
        "text": judging.answer_key_text(facts),
        "explanation": facts.explanation,
        "positions": positions,
        # One value (a slider's) or one option: singular; several options: plural.
        "label": ngettext_lazy("Correct answer", "Correct answers", max(1, len(positions))),
    }
    if kind == Kind.ORDER:
        key["label"] = gettext_lazy("Correct order")
        key["order"] = [{"text": text, "pos": order.index(i), "glyph": shape_of(order.index(i))[1]}
                        for i, text in enumerate(facts.texts)]  # fmt: skip
    elif kind == Kind.TEXT:
        key["label"] = ngettext_lazy("Accepted answer", "Accepted answers", len(facts.texts))
        key["accepted"] = list(facts.texts)
    elif kind == Kind.SLIDER:
        key["value"] = format_number(facts.slider.correct)
        key["tolerance"] = format_number(facts.slider.tolerance) if facts.slider.tolerance else ""
    return key


def _revealed(session: GameSession) -> dict | None:
    """The answer key of the question whose results are up, for the players' shared reveal region."""
    if session.state != State.RESULTS or session.current_question_id is None:
        return None
    facts = selectors.current_facts(session)
    return answer_key(facts, judging.shown(facts, session.pk, session.current_question_id))


def _correct_positions(question: dict) -> frozenset[int]:
    """The options to mark right: none until the reveal."""
    return question["key"]["positions"] if question["key"] else frozenset()


# --- the host's histogram, per kind -----------------------------------------------------------


def histogram_rows(question: dict, bins: list[int], top: list[dict] | None) -> list[dict]:
    """The host's bars for this kind: per option, per part of a slider's range, right or not in
    order, or (only once revealed: they would give the answer away) the top typed answers."""
    kind, key = question["kind"], question["key"]
    if kind in SHOWS_OPTIONS and kind != Kind.ORDER:
        options = option_views(question["texts"], bins=bins, correct=_correct_positions(question))
        return [{**opt, "label": opt["text"], "cls": f"opt{opt['idx']}"} for opt in options]
    if kind == Kind.ORDER:
        labels = [
            (gettext_lazy("In the right order"), "bar-right"),
            (gettext_lazy("In another order"), "bar-other"),
        ]
        rows = [{"label": label, "cls": cls, "count": bins[i] if i < len(bins) else 0, "correct": False}
                for i, (label, cls) in enumerate(labels)]  # fmt: skip
    elif kind == Kind.SLIDER:
        slider = question["facts"].slider
        labels = judging.slider_bin_labels(slider)
        right = judging.slider_bin(slider, slider.correct, len(labels)) if key else None
        rows = [{"label": label, "cls": "bar-range", "count": bins[i] if i < len(bins) else 0,
                 "correct": i == right} for i, label in enumerate(labels)]  # fmt: skip
    elif key and top:
        rows = [{"label": row["text"], "cls": "bar-typed", "count": row["count"], "correct": row["correct"]}
                for row in top]  # fmt: skip
    else:
        return []
    most = max([row["count"] for row in rows] + [1])
    for row in rows:
        row["bar"] = round(100 * row["count"] / most)
        row["gap"] = 100 - row["bar"]  # a column grows up from the bottom of its box
    return rows


# --- the pages ---------------------------------------------------------------------------------


def page_opened(
    session_pk: int, role: str, language: str, player_pk: int | None = None, *,
    session: GameSession | None = None, player: Player | None = None,
) -> None:  # fmt: skip
    """A page of this session is watching, in this language: from now on its broadcasts are also
    rendered as HTML for that audience and language (rendering for nobody would cost every event a
    render). A player's own language is kept on their row, for their verdicts (render.personal_pages).

    `session`, `player`: their rows as just read; when they already say so, nothing is written or read
    (a lobby's 2,000 page sockets opening in the same language)."""
    flag, field = (
        ("host_on_page", "host_languages") if role == HOST else ("players_on_pages", "player_languages")
    )
    if player_pk is not None and (player is None or player.language != language):
        Player.objects.filter(pk=player_pk).exclude(language=language).update(language=language)
    if session is not None and language in getattr(session, field) and getattr(session, flag):
        return
    for _ in range(10):  # compare and swap: two pages opening at once must not lose a language
        known = GameSession.objects.filter(pk=session_pk).values_list(field, flag).first()
        if known is None or (language in known[0] and known[1]):
            return
        languages = known[0] if language in known[0] else [*known[0], language]
        if GameSession.objects.filter(pk=session_pk, **{field: known[0]}).update(
            **{field: languages, flag: True}
        ):
            return
    raise RuntimeError(f"the languages of session {session_pk} keep changing")


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
        context.update(question=question, options=[], bars=[], answered=0)
        if question:
            if histogram:
                bins, answered, top = histogram["bins"], histogram["answered"], histogram.get("top")
            else:
                counted = selectors.tally(
                    session, session.question_index, question["facts"], question["round"]
                )
                bins, answered, top = counted.bins, counted.answered, counted.top
            context["options"] = option_views(question["texts"], correct=_correct_positions(question))
            context["bars"] = histogram_rows(question, bins, top)
            context["answered"] = answered
            if question["kind"] == Kind.ORDER:
                context["in_order"] = bins[0] if bins else 0
            tools = teacher_tools.host_tools(
                session, now, question, context["options"], histogram, known, histogram_rows,
                context["bars"], answered,
            )  # fmt: skip
            context.update(tools)
    if "leaderboard" in regions:
        context["leaderboard"] = selectors.leaderboard(session, limit=10) if session.revealed_count else []
    if "host_stage" in regions and session.state == State.FINISHED:
        ranking = selectors.leaderboard(session)
        context.update(
            podium=ranking[:3], ranking=ranking, accuracy_ranking=selectors.accuracy_leaderboard(session)
        )
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
        "options": option_views(question["texts"]) if question else [],
        "live": live,
        "reveal": _revealed(session),
        "stage": {
            State.LOBBY: "lobby",
            State.QUESTION: "question",
            State.RESULTS: "wait",
            State.FINISHED: "finished",
        }[session.state],
    }


def locked_view(recorded: dict, texts: list[str] | None = None) -> dict:
    """What the "Answer locked in" stage shows, from answer.recorded's fields (or a stored answer put
    in that shape). `texts`: the shown options when known (a reload); a reply carries positions only,
    so each is named by its shape and live.js puts the option's text in (data-fill-pos)."""

    def picked(pos: int) -> dict:
        shape, glyph = shape_of(pos)
        text = texts[pos] if texts and 0 <= pos < len(texts) else None
        return {"pos": pos, "shape": shape, "shape_name": SHAPE_NAMES[shape], "glyph": glyph, "text": text}

    if recorded.get("answer_idxs") is not None:
        return {"kind": "multi", "picked": [picked(p) for p in sorted(recorded["answer_idxs"])]}
    if recorded.get("order") is not None:
        return {"kind": "order", "picked": [picked(p) for p in recorded["order"]]}
    if recorded.get("text") is not None:
        return {"kind": "text", "text": recorded["text"]}
    if recorded.get("value") is not None:
        return {"kind": "slider", "value": format_number(recorded["value"])}
    idx = recorded.get("answer_idx")
    return {"kind": "one", "picked": [picked(idx)] if idx is not None else []}


def _recorded(question: dict, mine: Answer) -> dict:
    """A stored answer in answer.recorded's shape: the kind's field as the player sent it."""
    kind = question["kind"]
    if kind in ONE_TAP or mine.response is None:
        return {"answer_idx": mine.choice_idx}
    response = mine.response
    if kind == Kind.ORDER:  # stored as choice indices; sent (and shown) as shown positions
        response = [question["order"].index(i) for i in response]
    return {judging.ANSWER_FIELD[kind]: response}


def player_view(session: GameSession, player: Player, now: datetime) -> dict:
    """One player's whole page, as after a reload: their answer, their last result, their rank."""
    context = players_view(session, now)
    # A rank is a count over the class: asked only where the page shows one (after a reveal), not at
    # each of a lobby's 2,000 joins.
    context["you"] = {"name": player.name, "score": player.score}
    if session.state == State.QUESTION:
        mine = selectors.my_answer(session, player)
        question = context["question"] = teacher_tools.own_time(session, player, context["question"], now)
        if mine is not None and question is not None:
            context.update(stage="locked", locked=locked_view(_recorded(question, mine), question["texts"]))
    elif session.state == State.RESULTS:
        mine = selectors.my_answer(session, player)
        context.update(
            stage="result",
            result={
                "correct": bool(mine and mine.correct),
                "points": mine.points if mine else 0,
                "score": player.score,
                "rank": selectors.rank_of(session, player),
                "answered": mine is not None,
                "round": session.question_round,
                "scored": context["reveal"]["scored"] if context["reveal"] else True,
            },
        )
    elif session.state == State.FINISHED:
        accuracy_rank = selectors.rank_of(session, player, by_accuracy=True)
        final = {**context["you"], "rank": selectors.rank_of(session, player), "accuracy_rank": accuracy_rank}
        context.update(stage="finished", final=final)
    if player.kicked:
        context["stage"] = "kicked"
    return context
