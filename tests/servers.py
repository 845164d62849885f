"""Real Daphne workers for tests: started on free ports against the test database, always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for_subprocess() -> str:
    """DATABASE_URL of the database pytest-django made, so a subprocess sees the test's rows."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        user = s.get("USER") or "postgres"
        return f"postgres://{user}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"
    return f"sqlite:///{s['NAME']}"


class Worker:
    """One Daphne process serving knewit.asgi on 127.0.0.1."""

    def __init__(self, env: dict[str, str], port: int | None = None):
        self.port = port or free_port()
        self.env = env
        self.proc: subprocess.Popen | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 20) -> Worker:
        daphne = [
            sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
            "--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536", "knewit.asgi:application",
        ]  # fmt: skip
        # A file, not a pipe: an undrained pipe would block a chatty server.
        self.log = tempfile.NamedTemporaryFile(prefix=f"daphne-{self.port}-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen(
            daphne, cwd=ROOT, env={**os.environ, **self.env}, stdout=subprocess.DEVNULL, stderr=self.log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited: {Path(self.log.name).read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=1).read()
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("daphne did not answer /ping in time")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def workers(count: int, env: dict[str, str]):
    """`count` Daphne workers sharing the test database and the given channel layer."""
    started = [Worker(env) for _ in range(count)]
    try:
        for worker in started:
            worker.start()
        yield started
    finally:
        for worker in started:
            worker.stop()
        _wait_for_other_connections_to_close()


def _wait_for_other_connections_to_close(timeout: float = 10) -> None:
    """A killed worker's PostgreSQL backend lingers a moment; the test database can't be dropped until it goes."""
    if connection.vendor != "postgresql":
        return
    import psycopg  # a connection of its own: this may run inside the test's event loop

    s = connection.settings_dict
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"] or "postgres", dbname="postgres") as conn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [s["NAME"]]).fetchone()[0]
            if count <= 1:  # the test's own connection
                return
            time.sleep(0.1)
