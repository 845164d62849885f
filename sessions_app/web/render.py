"""HTML for the browser pages: each pushed region is one partial, rendered once per event, audience
and language of the pages open (GameSession.host_languages, player_languages)."""

from __future__ import annotations

import re

from django.template.loader import render_to_string
from django.utils import formats, timezone, translation

from sessions_app import selectors
from sessions_app.audiences import ALL, HOST, PLAYERS
from sessions_app.models import GameSession
from sessions_app.web import pages, teacher_tools

# Which page regions an event changes. Each region is templates/sessions/partials/_<name>.html.
HOST_REGIONS = {
    "lobby.update": ("host_lobby", "host_controls"),
    "quiz.loaded": ("host_stage", "host_controls"),
    "question.next": ("host_stage", "histogram", "host_controls"),
    "histogram": ("histogram",),
    "question.results": ("host_stage", "histogram", "leaderboard", "host_controls"),
    "quiz.finished": ("host_stage", "histogram", "leaderboard", "host_controls"),
    "session.closed": ("host_stage", "host_controls"),
}
# Players' pages: their verdict is their own stage (personal_pages); the answer key and explanation
# beside it are the same for all, so they are a region of their own, rendered once per reveal.
PLAYERS_REGIONS = {
    "lobby.update": ("player_count",),
    "question.next": ("player_stage", "player_reveal"),
    "histogram": ("player_live",),
    "question.results": ("player_reveal",),
    "quiz.finished": ("player_stage", "player_reveal"),
    "session.closed": ("player_stage", "player_reveal"),
}


def regions(names: tuple[str, ...], context: dict) -> str:
    """Render page regions for an out-of-band swap."""
    context = {**context, "oob": True}
    return "".join(render_to_string(f"sessions/partials/_{name}.html", context) for name in names)


def push_html(
    code: str, audience: str, payload: dict, session: GameSession | None = None
) -> list[tuple[str, str, str]]:
    """(audience, language, html) for a broadcast: each audience's context is read once and rendered
    in each language of its open pages. Runs in the database thread; reads the session unless given
    it, and a histogram's counts come from its payload."""
    msg_type = payload["type"]
    if msg_type not in HOST_REGIONS and msg_type not in PLAYERS_REGIONS:
        return []
    session = session or selectors.current_session(code)
    if session is None:
        return []
    wanted = []
    if audience in (ALL, HOST) and msg_type in HOST_REGIONS and session.host_on_page:
        wanted.append((HOST, HOST_REGIONS[msg_type]))
    if audience in (ALL, PLAYERS) and msg_type in PLAYERS_REGIONS and session.players_on_pages:
        wanted.append((PLAYERS, PLAYERS_REGIONS[msg_type]))
    now = timezone.now()
    html = []
    for each, names in wanted:
        if each == HOST:
            context = pages.host_view(session, now, frozenset(names), known=payload)
        else:
            context = pages.players_view(session, now, histogram=payload if msg_type == "histogram" else None)
        if msg_type == "session.closed":
            context["stage"] = "closed"
        for language in page_languages(session, each):
            with translation.override(language):
                html.append((each, language, regions(names, context)))
    return html


def page_languages(session: GameSession, audience: str) -> list[str]:
    """The languages the open pages of an audience are in, as the database has them."""
    if audience == HOST:
        return session.host_languages if session.host_on_page else []
    return session.player_languages if session.players_on_pages else []


def personal_pages(code: str, frames: list[tuple[str, dict]]) -> dict[str, dict[str, str]]:
    """{language: {player id: html}} for the players' pages: each one's own frame, or their own row of
    a final leaderboard ("You finished #3"), in their page's language; nothing when no player is on a
    page. Runs in the database thread, so a reveal's 2,000 renders stay off the event loop."""
    session = selectors.current_session(code, with_question=False)
    if session is None or not session.players_on_pages or not session.player_languages:
        return {}
    spoken = session.player_languages
    # One language (most classes): every player in it, as before. Several: each page's own, from the
    # players' rows; a player with no page (a protocol client) gets none.
    language_of = (
        dict(session.players.exclude(language="").values_list("public_id", "language"))
        if len(spoken) > 1
        else None
    )
    # Each player's own: their frame (a payload), or their row of the final leaderboard (a context).
    own: list[tuple[str, dict | None, dict | None]] = []
    for player_id, payload in frames:
        if payload["type"] == "quiz.finished":
            board = payload["leaderboard"]
            own.extend((entry["player_id"], None, {"stage": "finished", "final": entry}) for entry in board)
        else:
            own.append((player_id, payload, None))
    by_language: dict[str, list[tuple[str, dict | None, dict | None]]] = {}
    for mine in own:
        language = spoken[0] if language_of is None else language_of.get(mine[0])
        if language is not None:
            by_language.setdefault(language, []).append(mine)
    items: dict[str, dict[str, str]] = {}
    verdicts = VerdictStamps()
    for language, theirs in by_language.items():
        with translation.override(language):  # once per language, not per player
            for player_id, payload, context in theirs:
                if context is not None:
                    html = regions(("player_stage",), context)
                elif payload["type"] == "answer.result":
                    html = verdicts.html(payload)
                else:
                    html = personal_html(payload)
                if html is not None:
                    items.setdefault(language, {})[player_id] = html
    return items


class VerdictStamps:
    """A reveal's verdicts (answer.result) as their stage, with one template render per shape.

    2,000 verdicts differ in their numbers only, within a few shapes (right, wrong, no answer, a
    poll's vote, a re-vote; per language): each shape is rendered once with stand-in numbers, and
    each player's own numbers replace them, as the template would have written them. A reveal then
    costs a few renders and 2,000 string replacements instead of 2,000 renders (bench/RESULTS.md).
    """

    STAND_INS = {"points": 990_000_001, "score": 990_000_002, "rank": 990_000_003}

    def __init__(self) -> None:
        self.stamps: dict[tuple, tuple] = {}  # shape -> (stamp, its stand-ins, their keys, number)

    def html(self, payload: dict) -> str:
        shape = (
            translation.get_language(),
            *sorted(p for p in payload.items() if p[0] not in self.STAND_INS),
        )
        if shape not in self.stamps:
            keys = {formats.localize(stand_in): key for key, stand_in in self.STAND_INS.items()}
            # One pass over the stamp, so that a player's number is never taken for another stand-in.
            # Where the language writes whole numbers plainly (no thousands separator), str is the
            # template's localize, many times faster.
            number = str if formats.localize(1_234_567) == "1234567" else formats.localize
            self.stamps[shape] = (
                personal_html({**payload, **self.STAND_INS}),
                re.compile("|".join(map(re.escape, keys))),
                keys,
                number,
            )
        stamp, stand_ins, keys, number = self.stamps[shape]
        return stand_ins.sub(lambda found: number(payload[keys[found.group()]]), stamp)


def personal_html(payload: dict) -> str | None:
    """One player's own stage, from the payload alone (no database): results, kicked, replies."""
    msg_type = payload["type"]
    if msg_type == "answer.result":
        context = {"stage": "result", "result": payload}
    elif msg_type == "answer.recorded":
        context = {"stage": "locked", "locked": pages.locked_view(payload), "num": payload["question_num"]}
    elif msg_type == "kicked":
        context = {"stage": "kicked"}
    elif msg_type == "session.closed":
        context = {"stage": "closed"}
    elif msg_type == "error":
        return render_to_string("sessions/partials/_toast.html", {"oob": True, "message": payload["message"]})
    elif msg_type == "question.time":
        return own_countdown_html(payload)
    else:
        return None
    return regions(("player_stage",), context)


def own_countdown_html(payload: dict) -> str:
    """A player's own countdown (question.time: they have extra time), swapped into the question's
    stage in place of the class's countdown."""
    context = {"question": teacher_tools.own_time_view(payload), "countdown_oob": True}
    return render_to_string("sessions/partials/_countdown.html", context)


HOST_PAGE = ("host_lobby", "host_controls", "host_stage", "histogram", "leaderboard")
PLAYER_PAGE = ("player_count", "player_stage", "player_reveal", "player_live")


def host_page_regions(session: GameSession, now) -> str:
    """Every region of the host page, to redraw it after a (re)connect."""
    return regions(HOST_PAGE, pages.host_view(session, now))


def player_page_regions(session: GameSession, player, now) -> str:
    return regions(PLAYER_PAGE, pages.player_view(session, player, now))
