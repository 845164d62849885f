"""A reveal's frames (issue #16): few channel-layer messages, and each socket gets them in order.

A Next with the question still open closes it and opens the next one in one event: every verdict must
reach its socket before the next question does, or a page shows last question's verdict over the new
one. A page gets its verdict and the players' answer key in one frame; a protocol player gets
question.results, then its answer.result, then the next question.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from knewit.asgi import application
from sessions_app import engine
from sessions_app.live import effects, fanout
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN


async def open_page(code: str, token: str) -> WebsocketCommunicator:
    cookie = (b"cookie", f"knewit_rejoin_{code}={token}".encode())
    page = WebsocketCommunicator(application, f"/ws/page/play/{code}/", headers=[ORIGIN, HOST_HEADER, cookie])
    connected, _ = await page.connect()
    assert connected
    await page.receive_from(timeout=3)  # every region of the page
    return page


async def frames_of(comm: WebsocketCommunicator, quiet: float = 0.5) -> list[str]:
    frames = []
    while not await comm.receive_nothing(timeout=quiet):
        frames.append(await comm.receive_from())
    return frames


def join(code: str, name: str):
    return engine.player_join(
        code=code, raw_name=name, password=None, requested_id=None, msg_id=None, now=timezone.now()
    )


@pytest.mark.django_db(transaction=True)
async def test_next_with_the_question_open_sends_every_verdict_before_the_next_question(
    connect, host, make_quiz, monkeypatch
):
    def setup():
        session = engine.session_create(
            host=host, quiz_id=make_quiz(host).pk, raw_settings={}, site_url=""
        ).session
        return session, [join(session.code, name).reply["rejoin_token"] for name in ("Ada", "Cy")]

    session, tokens = await database_sync_to_async(setup)()
    pages = [await open_page(session.code, token) for token in tokens]
    bob = await connect()
    await bob.call("session.joined", type="session.join", session_id=session.code, name="Bob")
    try:
        started = await database_sync_to_async(engine.quiz_start)(
            session_pk=session.pk, host=host, now=timezone.now()
        )
        await effects.dispatch(started.events)
        for page in pages:
            await frames_of(page)
        await bob.expect("question.next", question_num=1)

        sent: list[tuple[str, dict]] = []
        real_send = fanout.group_send

        async def recording(group: str, message: dict) -> None:
            sent.append((group, message))
            await real_send(group, message)

        monkeypatch.setattr(fanout, "group_send", recording)
        moved_on = await database_sync_to_async(engine.question_next)(
            session_pk=session.pk, host=host, now=timezone.now()
        )
        await effects.dispatch(moved_on.events)
        got = [await frames_of(page) for page in pages]
        bob_types = [(m["type"], m.get("question_num")) for m in [await bob.recv() for _ in range(3)]]
    finally:
        for page in pages:
            await page.disconnect()

    assert bob_types == [("question.results", 1), ("answer.result", 1), ("question.next", 2)]
    for frames in got:
        stages = [f for f in frames if 'id="stage"' in f]
        verdict = next(i for i, f in enumerate(stages) if "stage-result" in f)
        question = next(
            i for i, f in enumerate(stages) if "stage-question" in f and 'data-question-num="2"' in f
        )
        assert verdict < question, [f[:120] for f in stages]
        # the answer key shared by all pages comes in the verdict's own frame
        assert 'id="player-reveal"' in stages[verdict]
        assert not any('id="player-reveal"' in f and 'id="stage"' not in f for f in frames[: verdict + 1])
    # the verdicts were one message for the protocol players, one for the pages: not one per player
    verdicts = [m for _, m in sent if "items" in m]
    assert len(verdicts) == 2, [g for g, _ in sent]
    protocol_verdicts = next(m for g, m in sent if "items" in m and ".html" not in g)
    assert [json.loads(t)["type"] for t in protocol_verdicts["items"].values()] == ["answer.result"] * 3


async def test_players_frames_go_in_few_messages_and_in_order(monkeypatch):
    sent: list[tuple[str, dict]] = []

    async def recording(group: str, message: dict) -> None:
        sent.append((group, message))

    monkeypatch.setattr(fanout, "group_send", recording)
    frames = [
        ("p1", {"type": "answer.result", "n": 1}, None),
        ("p2", {"type": "answer.result", "n": 1}, None),
        ("p1", {"type": "kicked"}, 4403),  # a second frame for p1, with a close: a message after
        ("p2", {"type": "answer.result", "n": 2}, None),
    ]
    await fanout.send_personal_json("123456", frames)
    batches = [(m.get("close"), {k: json.loads(v) for k, v in m["items"].items()}) for _, m in sent]
    assert [g for g, _ in sent] == ["session.123456.players"] * 3
    assert batches == [
        (None, {"p1": {"type": "answer.result", "n": 1}, "p2": {"type": "answer.result", "n": 1}}),
        (4403, {"p1": {"type": "kicked"}}),
        (None, {"p2": {"type": "answer.result", "n": 2}}),
    ]
    assert all("text" not in m for _, m in sent)  # a socket without a frame of its own gets nothing


@pytest.mark.parametrize("thousands", [False, True])
@pytest.mark.parametrize("language", ["en", "es", "fr", "de"])
def test_stamped_verdicts_are_the_verdicts_the_template_writes(language, thousands, settings):
    """A reveal renders each shape of verdict once and fills in each player's numbers: the page must
    get exactly what rendering that player's verdict would give, for every shape and in every language
    (numbers as the language writes them, including ones that look like the stand-ins' digits)."""
    from django.utils import translation

    from sessions_app import protocol
    from sessions_app.web import render

    settings.USE_THOUSAND_SEPARATOR = thousands  # 12,345 or 12.345 or 12 345, as the language writes it
    numbers = [
        (0, 0, 1),
        (1000, 1000, 1),
        (731, 12_345, 7),
        (990_000_002, 990_000_003, 2_000),
        (5, 1_000_000, 990),
    ]
    payloads = [
        protocol.answer_result(
            question_num=3,
            answered=answered,
            correct=correct and answered,
            points=points,
            score=score,
            rank=rank,
            scored=scored,
            round=round_,
        )
        for answered in (True, False)
        for correct in (True, False)
        for scored in (True, False)
        for round_ in (1, 2)
        for points, score, rank in numbers
    ]
    stamps = render.VerdictStamps()
    with translation.override(language):
        for payload in payloads:
            assert stamps.html(payload) == render.personal_html(payload), payload
    assert len(stamps.stamps) == 3 * 2 * 2  # right, wrong, none; scored or not; round: a render each
