"""The settings gate, headers, PIN-guess throttling and a static scan (issue #7, items 1, 2, 5, 8)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse

from sessions_app import engine
from sessions_app.tests.wsclient import HOST_HEADER, ORIGIN

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECURE_HTTPS": "1",
    "DJANGO_SECRET_KEY": "k" + "x7Q2m9Lp4Vd8Rt1Zc6Hn3Bw5Ys0Fj2Ga8Ke4Ui7Oq1Mr9Ts3Wx6Yz5Av2Bn8Cm4Dl7",
    "DJANGO_ALLOWED_HOSTS": "quiz.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://quiz.example.org",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_development_defaults():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={})
    assert result.returncode != 0
    assert "security.W009" in result.stderr  # the development secret key is flagged


def test_wildcard_allowed_hosts_is_an_error():
    result = manage("check", env={"DJANGO_ALLOWED_HOSTS": "*"})
    assert result.returncode != 0 and "knewit.E001" in result.stderr


def test_production_cookies_are_secure_and_samesite():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_SAMESITE, s.X_FRAME_OPTIONS, s.ALLOWED_HOSTS, s.SECURE_SSL_REDIRECT]))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env = {**clean, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "knewit.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [True, True, "Lax", "Lax", "DENY", ["quiz.example.org"], True]


def test_daphne_is_patched():
    assert tuple(int(p) for p in version("daphne").split(".")[:3]) >= (4, 2, 3)


@pytest.mark.django_db
def test_pages_send_a_strict_content_security_policy(client):
    response = client.get(reverse("join"))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in policy
    assert set(directives["connect-src"].split()) <= {"'self'", "ws:", "wss:"}
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_bandit_finds_nothing_medium_or_high():
    bandit = shutil.which("bandit") or str(Path(sys.executable).parent / "bandit")
    if not Path(bandit).exists():
        pytest.fail("bandit is in requirements-dev.txt; install it")
    result = subprocess.run(
        [bandit, "-r", "knewit", "quizzes_app", "sessions_app", "-ll", "-q", "-x", "*/tests/*", "-f", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    findings = json.loads(result.stdout)["results"]
    assert findings == [], findings


@pytest.mark.django_db(transaction=True)
async def test_the_pin_throttle_fails_open_when_the_cache_is_away(connect, host, make_quiz, monkeypatch):
    """With Redis (the cache) down, joins still work, and a wrong PIN still gets exactly one reply."""
    from sessions_app import throttle

    class CacheAway:
        def __getattr__(self, name):
            raise ConnectionError("cache down")

    monkeypatch.setattr(throttle, "cache", CacheAway())
    quiz = await database_sync_to_async(make_quiz)(host)
    session = await database_sync_to_async(
        lambda: (
            engine.session_create(host=host, quiz_id=quiz.pk, raw_settings={}, site_url="http://x").session
        )
    )()
    client = await connect(headers=[ORIGIN, HOST_HEADER])
    await client.send(type="session.join", session_id="000000", name="g")
    await client.error("not_found")
    await client.send(type="ping", ts=1)
    assert (await client.recv())["type"] == "pong"  # nothing else came between: one reply to the join
    await client.send(type="session.join", session_id=session.code, name="Ada")
    assert (await client.recv())["type"] == "session.joined"
