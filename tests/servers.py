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

    def __init__(self, env: dict[str, str], port: int | None = None, args: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.env = env
        self.args = args  # more Daphne options, e.g. ("--proxy-headers",)
        self.proc: subprocess.Popen | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
            "--websocket-max-message-size", "65536", "--websocket-max-frame-size", "65536",
            *self.args, "knewit.asgi:application",
        ]  # fmt: skip

    def start(self, timeout: float = 20) -> Worker:
        # A file, not a pipe: an undrained pipe would block a chatty server.
        self.log = tempfile.NamedTemporaryFile(prefix=f"daphne-{self.port}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            self.command, cwd=ROOT, env={**os.environ, **self.env}, stdout=subprocess.DEVNULL, stderr=self.log
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


def workers(count: int, env: dict[str, str]):
    """`count` Daphne workers sharing the test database and the given channel layer."""
    return _running([Worker(env) for _ in range(count)])


@contextlib.contextmanager
def _running(started: list):
    try:
        for worker in started:
            worker.start()
        yield started
    finally:
        for worker in started:
            worker.stop()
        _wait_for_other_connections_to_close()


def _wait_for_other_connections_to_close(timeout: float = 10) -> None:
    """A killed worker's PostgreSQL backend lingers; the test database cannot be dropped until it goes."""
    if connection.vendor != "postgresql":
        return
    import psycopg  # a connection of its own: this may run inside the test's event loop

    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"] or "postgres", dbname="postgres"
    ) as conn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            count = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [s["NAME"]]
            ).fetchone()[0]
            if count <= 1:  # the test's own connection
                return
            time.sleep(0.1)


# --- helpers for the fault tests (tests/fault/) ---------------------------------------------


class LoggedWorker(Worker):
    """A Worker whose stderr goes to a file in log_dir (pytest's tmp_path, say), kept across restarts on the
    same port; read it with output()."""

    def __init__(
        self,
        env: dict[str, str],
        port: int | None = None,
        log_dir: Path | None = None,
        args: tuple[str, ...] = (),
    ):
        super().__init__(env, port, args)
        import tempfile

        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="knewit-worker-"))
        self.log_path = self.log_dir / f"daphne-{self.port}.log"
        self.starts = 0

    def start(self, timeout: float = 20) -> LoggedWorker:
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {self.starts} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command, cwd=ROOT, env={**os.environ, **self.env}, stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.output()[-2000:]}")
            if self.ping(timeout=1):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"daphne did not answer /ping in time: {self.output()[-2000:]}")

    def ping(self, timeout: float = 2) -> bool:
        """True when the worker answers GET /ping with 200."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=timeout) as response:
                return response.status == 200
        except OSError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        """Everything the worker wrote to stderr, over all its starts."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def logged_workers(count: int, env: dict[str, str], log_dir: Path | None = None, args: tuple[str, ...] = ()):
    """Like workers(), with LoggedWorker (logs in log_dir, e.g. pytest's tmp_path); each keeps its port, so it
    can be started again after a stop."""
    return _running([LoggedWorker(env, log_dir=log_dir, args=args) for _ in range(count)])


class RedisServer:
    """A private redis-server on a free port of 127.0.0.1, without persistence; stop and start it at will."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self, timeout: float = 0.5) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout: float = 10) -> RedisServer:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--daemonize", "no",
        ]  # fmt: skip
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with {self.proc.returncode}")
            if self.answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer PING in time")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # no persistence to flush: kill it like a crash
            self.proc.wait(timeout=10)
