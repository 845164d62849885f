"""A real Daphne in a subprocess on its own SQLite file, for the browser test and the screenshots."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.servers import Worker

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

HOST_USERNAME = "demo"  # made by `manage.py seed_demo`
HOST_PASSWORD = "knewit-demo"
QUIZ_TITLE = "Browser test quiz"
# Four options each, so the histogram and the answer grid are full; 30 s so no question closes by itself.
QUIZ = {
    "title": QUIZ_TITLE,
    "default_timer": 30,
    "questions": [
        {"prompt": "What is 5 + 3?", "options": ["6", "7", "8", "9"], "correct_idx": 2},
        {
            "prompt": "Which planet is known as the Red Planet?",
            "options": ["Venus", "Earth", "Mars", "Jupiter"],
            "correct_idx": 2,
        },
        {
            "prompt": "What is the capital of France?",
            "options": ["Rome", "Paris", "Madrid", "Berlin"],
            "correct_idx": 1,
        },
    ],
}


@dataclass
class Server:
    url: str
    worker: Worker

    def log_tail(self, chars: int = 4000) -> str:
        return Path(self.worker.log.name).read_text(errors="replace")[-chars:]


def server_env(db_path: Path) -> dict[str, str]:
    """The embedded defaults (SQLite, in-memory channel layer) whatever CI exports; DEBUG for http cookies."""
    return {
        "DATABASE_URL": f"sqlite:///{db_path}",
        "REDIS_URL": "",  # settings read an empty value as unset
        "DJANGO_DEBUG": "1",
        "DJANGO_SECURE_HTTPS": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SETTINGS_MODULE": "knewit.settings",
    }


@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's Chromium through Playwright (never a downloaded browser); closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def manage(env: dict[str, str], *args: str) -> str:
    """Run manage.py with this environment; its standard output."""
    command = [sys.executable, "manage.py", *args]
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True, text=True, timeout=120
    )
    return done.stdout


@contextlib.contextmanager
def live_server(quiz: dict = QUIZ, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """Migrate a fresh SQLite file, add the demo host and a quiz, run one Daphne; always stop it after."""
    with tempfile.TemporaryDirectory(prefix="knewit-e2e-") as tmp:
        env = {**server_env(Path(tmp) / "db.sqlite3"), **(extra_env or {})}
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        quiz_file = Path(tmp) / "quiz.json"
        quiz_file.write_text(json.dumps(quiz), encoding="utf-8")
        manage(env, "import_quiz", str(quiz_file), "--owner", HOST_USERNAME)
        worker = Worker(env)
        try:
            worker.start()
            yield Server(url=f"http://127.0.0.1:{worker.port}", worker=worker)
        finally:
            worker.stop()


def serve(quiz: dict = QUIZ, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """The body of a browser test module's `server` fixture: skipped without Chromium (CI installs it)."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (CI installs Debian's chromium; `apt-get install chromium` here)")
    with live_server(quiz, extra_env) as running:
        yield running


# --- browser steps shared by the end-to-end test and the screenshot script --------------------


def host_login(page, server: Server) -> None:
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Username").fill(HOST_USERNAME)
    page.get_by_label("Password").fill(HOST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/host/")


def host_start_session(page, server: Server) -> str:
    """From the dashboard, start a session of QUIZ; returns its join code."""
    page.locator(".quiz-item", has_text=QUIZ_TITLE).get_by_role("button", name="Start session").click()
    page.wait_for_url(f"{server.url}/host/session/*/")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def student_join(page, server: Server, code: str, name: str, *, via_form: bool = True) -> None:
    """Type the PIN on the front page (or follow the QR link) and a nickname; lands on the play page."""
    if via_form:
        page.goto(f"{server.url}/")
        page.get_by_label("Game PIN").fill(code)
    else:
        page.goto(f"{server.url}/join/{code}/")
    page.get_by_label("Nickname").fill(name)
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(f"{server.url}/play/{code}/")
