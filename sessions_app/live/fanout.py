"""Frames to the channel layer: each serialised (JSON) and rendered (HTML) once, sent to a group.

Protocol sockets are in the groups session.<code>.host, session.<code>.players and
session.<code>.player.<id>; browser pages are in the same groups with an `.html` suffix, and for the
host's and the players' groups their language after it (session.<code>.players.html.fr), since each
broadcast's HTML is rendered once per language in use. The layer carries each message once per
worker, to that worker's hub (live/hub.py). Nothing here knows the rules: it sends what it is given.
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from sessions_app import protocol
from sessions_app.audiences import ALL, HOST, PLAYER, PLAYERS
from sessions_app.web import render

log = logging.getLogger(__name__)
HTML = "html"


def group_name(
    code: str, audience: str, player_id: str | None = None, fmt: str = "json", language: str | None = None
) -> str:
    name = f"session.{code}.player.{player_id}" if audience == PLAYER else f"session.{code}.{audience}"
    if fmt != HTML:
        return name
    return f"{name}.html.{language}" if language and audience != PLAYER else f"{name}.html"


def frame(group: str, text: str | None, close_code: int | None = None, items: dict | None = None) -> dict:
    """The channel-layer message for a group's sockets to forward as is: finished text, maybe a close.

    With `items`: each socket's own text, by player id (live/hub.py deliver), and the close is theirs;
    a socket with none gets `text` if there is one.
    """
    message = {"type": "session.push", "group": group}
    if items is not None:
        message["items"] = items
    if text is not None or items is None:
        message["text"] = text
    if close_code is not None:
        message["close"] = close_code
    return message


async def group_send(group: str, message: dict) -> None:
    """group_send, tried twice: after a Redis restart a pooled connection fails once, then reconnects."""
    layer = get_channel_layer()
    try:
        await layer.group_send(group, message)
    except (ConnectionError, OSError, RedisError):
        log.warning("group_send to %s failed; retrying once", group, exc_info=True)
        await layer.group_send(group, message)


async def send_json(
    code: str, audience: str, payload: dict, player_id: str | None = None, close_code: int | None = None
) -> None:
    """One frame for protocol sockets: serialised once, one message per audience group."""
    text = protocol.dumps(payload)
    for each in (HOST, PLAYERS) if audience == ALL else (audience,):
        group = group_name(code, each, player_id)
        await group_send(group, frame(group, text, close_code))


async def send_personal_json(code: str, frames: list[tuple[str, dict, int | None]]) -> None:
    """Frames for one player each, (player id, payload, close code), to the protocol players' group
    in as few messages as can carry them: each player's own text by id (live/hub.py deliver).

    A reveal's 2,000 verdicts are then one channel-layer message per worker, not 2,000 that the hub
    takes one at a time while the next question waits behind them. A player with two frames, or
    frames with different close codes, take further messages, in order.
    """
    batches: list[tuple[int | None, dict[str, str]]] = []  # (close code, {player id: text})
    for player_id, payload, close_code in frames:
        if not batches or batches[-1][0] != close_code or player_id in batches[-1][1]:
            batches.append((close_code, {}))
        batches[-1][1][player_id] = protocol.dumps(payload)
    group = group_name(code, PLAYERS)
    for close_code, items in batches:
        await group_send(group, frame(group, None, close_code, items=items))


async def send_html(
    code: str, audience: str, html: str, player_id: str | None = None, close_code: int | None = None,
    language: str | None = None,
) -> None:  # fmt: skip
    """Rendered page regions for the pages of one audience (host, players or one player) in one language."""
    group = group_name(code, audience, player_id, fmt=HTML, language=language)
    await group_send(group, frame(group, html, close_code))


async def send_personal_html(
    code: str, items: dict[str, dict[str, str]], close_code: int | None = None,
    shared: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """Each player's own page region, by language and player id: one message per language to the
    players' pages in it; each worker hands every page socket of its own the text for its player
    (live/hub.py).

    `shared`: the regions every player's page gets from the same event, by language (the answer key
    beside a verdict), held back by publish: each page gets them and its own in one frame, and a page
    with no region of its own gets them alone.
    """
    shared = shared or {}
    for language in dict.fromkeys([*shared, *items]):
        texts, common = items.get(language) or {}, shared.get(language)
        if common is not None:
            texts = {player_id: common + text for player_id, text in texts.items()}
        if texts or common is not None:
            group = group_name(code, PLAYERS, fmt=HTML, language=language)
            await group_send(group, frame(group, common, close_code if texts else None, items=texts or None))


async def publish(
    code: str, audience: str, payload: dict, close_code: int | None = None, html: list | None = None,
    held: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """A frame for the host, the players or all: JSON once for protocol sockets, HTML once per audience
    and language for pages: `html` ((audience, language, text) as render.push_html makes them) if the
    caller rendered it already, else rendered in the database thread.

    `held`: the players' pages' HTML is added to it, by language, instead of sent: the caller sends it
    with each player's own region (send_personal_html).
    """
    await send_json(code, audience, payload, close_code=close_code)
    if html is None:
        html = await database_sync_to_async(render.push_html)(code, audience, payload)
    for each, language, text in html:
        if held is not None and each == PLAYERS:
            held[language] = held.get(language, "") + text
        else:
            await send_html(code, each, text, close_code=close_code, language=language)
