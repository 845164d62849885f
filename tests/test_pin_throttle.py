"""The PIN throttle slows someone walking through PINs, never a class typing one PIN (issue #12, item 5).

A school's students share one public address. Only *different unknown* PINs count; a valid PIN
that is locked, full or finished is not a guess. Both front doors are covered: the join form and
the protocol's `session.join`.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from django.utils import timezone

from sessions_app import engine, throttle
from sessions_app.models import GameSession
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN

CLASS_SIZE, TYPOS = 300, 60


@pytest.fixture
def own_cache(settings, request):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.node.name}
    }


def typos_of(pin: str, taken: set[str], count: int) -> list[str]:
    """Different mistypes of a PIN (one digit wrong, two swapped, then two wrong), none a live PIN."""
    singles = [pin[:i] + d + pin[i + 1 :] for i in range(len(pin)) for d in "0123456789"]
    swaps = [pin[:i] + pin[i + 1] + pin[i] + pin[i + 2 :] for i in range(len(pin) - 1)]
    doubles = [s[:5] + d for s in singles for d in "0123456789"]
    typos = []
    for typo in singles + swaps + doubles:
        if typo != pin and typo not in taken and typo not in typos:
            typos.append(typo)
    return typos[:count]


def unknown_pins(taken: set[str], count: int) -> list[str]:
    return [pin for pin in (f"{n:06d}" for n in range(count + len(taken) + 1)) if pin not in taken][:count]


def new_session(host, quiz) -> GameSession:
    return engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="").session


@pytest.mark.django_db
def test_a_class_behind_one_address_gets_in_despite_typos(client, host, make_quiz, own_cache):
    session = new_session(host, make_quiz(host))
    typos = typos_of(session.code, {session.code}, TYPOS)
    assert len(set(typos)) == TYPOS  # the worst case: every typo is a different wrong PIN
    for n in range(CLASS_SIZE):
        if n < TYPOS:
            mistyped = client.post(reverse("join"), {"code": typos[n], "nickname": f"S{n}"})
            assert mistyped.status_code == 400
        response = client.post(reverse("join"), {"code": session.code, "nickname": f"S{n}"})
        assert response.status_code == 302, (n, response.content[:300])
    assert session.players.count() == CLASS_SIZE


@pytest.mark.django_db
def test_many_different_pins_are_slowed_with_a_clear_message(client, host, make_quiz, own_cache, settings):
    session = new_session(host, make_quiz(host))
    limit = settings.KNEWIT["JOIN_WRONG_PINS"]
    statuses = [
        client.post(reverse("join"), {"code": pin, "nickname": "Guesser"}).status_code
        for pin in unknown_pins({session.code}, 200)
    ]
    assert statuses[:limit] == [400] * limit
    assert set(statuses[limit:]) == {429}
    blocked = client.post(reverse("join"), {"code": session.code, "nickname": "Guesser"})
    assert blocked.status_code == 429  # even the right PIN waits out the window
    assert str(throttle.BLOCKED_MESSAGE) in blocked.content.decode()
    assert not session.players.exists()


@pytest.mark.django_db
def test_locked_full_and_finished_pins_are_not_guesses(client, host, make_quiz, own_cache, settings):
    quiz = make_quiz(host)
    locked, full, finished = new_session(host, quiz), new_session(host, quiz), new_session(host, quiz)
    engine.session_lock(session_pk=locked.pk, host=host, locked=True)
    GameSession.objects.filter(pk=full.pk).update(settings={**full.settings, "max_players": 1})
    client.post(reverse("join"), {"code": full.code, "nickname": "First"})
    engine.session_close(session_pk=finished.pk, host=host, now=timezone.now())
    bounces = settings.KNEWIT["JOIN_WRONG_PINS"] + 10
    for n in range(bounces):
        for session in (locked, full, finished):
            response = client.post(reverse("join"), {"code": session.code, "nickname": f"B{n}"})
            assert response.status_code == 400
    assert not throttle.pin_guessing_blocked("127.0.0.1")
    open_one = new_session(host, quiz)
    assert client.post(reverse("join"), {"code": open_one.code, "nickname": "Late"}).status_code == 302


@pytest.mark.django_db
def test_the_same_wrong_pin_counts_once(client, host, make_quiz, own_cache, settings):
    session = new_session(host, make_quiz(host))
    (typo,) = typos_of(session.code, {session.code}, 1)
    for _ in range(settings.KNEWIT["JOIN_WRONG_PINS"] + 10):
        client.post(reverse("join"), {"code": typo, "nickname": "Clumsy"})
    assert client.post(reverse("join"), {"code": session.code, "nickname": "Clumsy"}).status_code == 302


async def protocol_join(connect, pin: str, name: str) -> dict:
    client = await connect(headers=[ORIGIN, HOST_HEADER])
    await client.send(type="session.join", session_id=pin, name=name)
    reply = await client.expect_any(("session.joined", "error"))
    await client.close()
    return reply


@pytest.mark.django_db(transaction=True)
async def test_protocol_a_class_gets_in_despite_typos(connect, host, make_quiz, own_cache):
    session = await database_sync_to_async(lambda: new_session(host, make_quiz(host)))()
    typos = typos_of(session.code, {session.code}, TYPOS)
    for n in range(CLASS_SIZE):
        if n < TYPOS:
            assert (await protocol_join(connect, typos[n], f"S{n}"))["code"] == "not_found"
        assert (await protocol_join(connect, session.code, f"S{n}"))["type"] == "session.joined", n
    assert await database_sync_to_async(session.players.count)() == CLASS_SIZE


@pytest.mark.django_db(transaction=True)
async def test_protocol_many_pins_are_slowed(connect, host, make_quiz, own_cache, settings):
    session = await database_sync_to_async(lambda: new_session(host, make_quiz(host)))()
    settings.KNEWIT = {**settings.KNEWIT, "RATE_PER_S": 10**6, "RATE_BURST": 10**6}  # the socket's own limit
    limit = settings.KNEWIT["JOIN_WRONG_PINS"]
    client = await connect(headers=[ORIGIN, HOST_HEADER])
    codes = []
    for pin in unknown_pins({session.code}, 200):
        await client.send(type="session.join", session_id=pin, name="g")
        codes.append((await client.expect_any(("error",)))["code"])
    assert codes[:limit] == ["not_found"] * limit
    assert set(codes[limit:]) == {"rate_limited"}
    await client.send(type="session.join", session_id=session.code, name="g")
    refused = await client.error("rate_limited")
    assert refused["message"] == throttle.BLOCKED_MESSAGE
