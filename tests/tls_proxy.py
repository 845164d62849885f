"""The production profile on this machine: Debian's nginx, a self-signed certificate, two Daphne workers.

nginx runs deploy/nginx/snippets/knewit.conf, the file an operator installs, inside a server for 127.0.0.1
(the names, ports and certificate are all that deploy/nginx/sites-available/knewit adds). The workers read
deploy/knewit.env with only this machine's values replaced, and run with --proxy-headers as the systemd
units do. tests/test_tls_proxy.py plays against it; `make tls-demo` (`python -m tests.tls_proxy`) runs it
until Ctrl-C. Everything listens on 127.0.0.1 and everything started here is stopped on the way out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.live_server import manage
from tests.servers import LoggedWorker, RedisServer, free_port, logged_workers

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NGINX = Path("/usr/sbin/nginx")
DAPHNE_ARGS = ("--proxy-headers",)  # as in deploy/systemd/knewit@.service

# %-formatted, since nginx's own syntax is full of braces and dollars.
NGINX_CONF = """\
daemon off;
worker_processes 1;  # one round-robin over the workers, so students spread evenly
%(user)s
pid %(folder)s/nginx.pid;
error_log %(folder)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log %(folder)s/nginx-access.log;
    client_body_temp_path %(folder)s/nginx-body;
    proxy_temp_path %(folder)s/nginx-proxy;
    fastcgi_temp_path %(folder)s/nginx-fastcgi;
    uwsgi_temp_path %(folder)s/nginx-uwsgi;
    scgi_temp_path %(folder)s/nginx-scgi;

    upstream knewit {
%(upstreams)s
        keepalive 16;
    }
    server {
        listen 127.0.0.1:%(http_port)d;
        return 301 https://$host:%(https_port)d$request_uri;
    }
    server {
        listen 127.0.0.1:%(https_port)d ssl;
        server_name 127.0.0.1;
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
        root %(public)s;
        include %(snippet)s;
    }
}
"""


def require_nginx() -> None:
    """For tests: skip without Debian's nginx, or fail when KNEWIT_REQUIRE_SERVICES=1 (CI installs it)."""
    import pytest

    if not NGINX.exists():
        message = f"{NGINX} is missing (CI installs Debian's nginx; `apt-get install nginx` here)"
        if os.environ.get("KNEWIT_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines of a systemd EnvironmentFile (no quotes, # comments), as deploy/knewit.env is."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.lstrip().startswith("#")}


def deploy_env(folder: Path, https_port: int, **overrides: str) -> dict[str, str]:
    """deploy/knewit.env with what differs on this machine: a fresh secret, 127.0.0.1, files in `folder`."""
    return {
        **read_env_file(DEPLOY / "knewit.env"),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{https_port}",
        "DJANGO_STATIC_ROOT": str(folder / "public" / "static"),
        "DJANGO_MEDIA_ROOT": str(folder / "public" / "media"),
        "DJANGO_SETTINGS_MODULE": "knewit.settings",
        **overrides,
    }


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for IP 127.0.0.1, valid two days; (certificate, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    return cert, key


class Nginx:
    """Debian's nginx in the foreground, with its configuration, pid, logs and temp files in `folder`."""

    def __init__(
        self, folder: Path, cert: Path, key: Path, upstreams: list[int], https_port: int, http_port: int
    ):
        self.folder, self.https_port, self.http_port = folder, https_port, http_port
        self.conf = folder / "nginx.conf"
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in upstreams
        )
        values = {
            # As root, nginx's workers would drop to nobody, who cannot read the temp folder.
            "user": "user root;" if os.geteuid() == 0 else "",
            "folder": folder, "http_port": http_port, "https_port": https_port,
            "upstreams": servers,
            "cert": cert, "key": key, "public": folder / "public",
            "snippet": DEPLOY / "nginx" / "snippets" / "knewit.conf",
        }  # fmt: skip
        self.conf.write_text(NGINX_CONF % values)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> Nginx:
        command = [NGINX, "-p", self.folder, "-c", self.conf, "-e", self.folder / "nginx-error.log"]
        with open(self.folder / "nginx-stderr.log", "ab") as log:
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.errors()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.https_port), 0.5):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen in time: {self.errors()}")

    def errors(self) -> str:
        return "".join(
            path.read_text(errors="replace")[-2000:]
            for path in (self.folder / "nginx-stderr.log", self.folder / "nginx-error.log")
            if path.exists()
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # fast shutdown: workers go with the master
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Stack:
    nginx: Nginx
    workers: list[LoggedWorker]
    cert: Path

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.nginx.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx.http_port}"

    @property
    def wss_url(self) -> str:
        return f"wss://127.0.0.1:{self.nginx.https_port}/ws"

    def logs(self) -> str:
        """The tails of every log, for a failing test."""
        parts = [f"--- nginx ---\n{self.nginx.errors()}"]
        parts += [f"--- worker {w.port} ---\n{w.output()[-3000:]}" for w in self.workers]
        return "\n".join(parts)


@contextlib.contextmanager
def tls_stack(
    folder: Path,
    database_url: str,
    redis_url: str,
    https_port: int | None = None,
    http_port: int | None = None,
    **env_overrides: str,
) -> Iterator[Stack]:
    """collectstatic, a certificate, two workers and nginx in front of them; all stopped afterwards."""
    https_port, http_port = https_port or free_port(), http_port or free_port()
    env = deploy_env(folder, https_port, DATABASE_URL=database_url, REDIS_URL=redis_url, **env_overrides)
    manage(env, "collectstatic", "--noinput")
    (folder / "public" / "media").mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(folder)
    with logged_workers(2, env, folder, args=DAPHNE_ARGS) as workers:
        nginx = Nginx(folder, cert, key, [w.port for w in workers], https_port, http_port)
        try:
            yield Stack(nginx.start(), workers, cert)
        finally:
            nginx.stop()


# --- make tls-demo ----------------------------------------------------------------------------------


def demo_database(folder: Path) -> str:
    """DATABASE_URL if set; else the knewit_demo database of a PostgreSQL at 127.0.0.1 if one lets us in
    (created if missing); else a SQLite file in the temp folder."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    import psycopg

    try:
        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=2
        ) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'knewit_demo'").fetchone():
                conn.execute("CREATE DATABASE knewit_demo")
        return "postgres://postgres@127.0.0.1:5432/knewit_demo"
    except psycopg.OperationalError:
        return f"sqlite:///{folder / 'db.sqlite3'}"


def demo_redis(cleanup: contextlib.ExitStack) -> str:
    """REDIS_URL if set; else the Redis at 127.0.0.1:6379 if it answers; else a private redis-server."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if RedisServer(port=6379).answers():
        return "redis://127.0.0.1:6379/0"
    redis = RedisServer().start()  # two workers need a shared channel layer
    cleanup.callback(redis.stop)
    return redis.url


def main() -> None:
    parser = argparse.ArgumentParser(description="nginx (TLS) in front of two Daphne workers, until Ctrl-C")
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--http-port", type=int, default=8080)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "knewit.settings")  # tests.servers asks the vendor
    for sig in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, even if started with SIGINT ignored, or a kill
        signal.signal(sig, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="knewit-tls-demo-") as tmp, contextlib.ExitStack() as cleanup:
        folder = Path(tmp)
        database_url, redis_url = demo_database(folder), demo_redis(cleanup)
        env = deploy_env(folder, args.https_port, DATABASE_URL=database_url, REDIS_URL=redis_url)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo")
        token = manage(env, "host_token", "demo").strip().splitlines()[-1]
        with tls_stack(folder, database_url, redis_url, args.https_port, args.http_port) as stack:
            ports = " and :".join(str(w.port) for w in stack.workers)
            print(
                f"Knewit behind nginx at {stack.https_url}/ (self-signed: the browser warns once);\n"
                f"{stack.http_url}/ redirects there. Workers on 127.0.0.1:{ports}; "
                f"database {database_url}; redis {redis_url}.\n"
                f"Host login: demo / knewit-demo. Files and logs: {folder}\n"
                f"A protocol client: SSL_CERT_FILE={stack.cert} .venv/bin/python examples/knewit_client.py "
                f"--url {stack.wss_url} --code PIN\n"
                f"A host socket: {stack.wss_url}?is_host=true&token={token}\n"
                "Ctrl-C stops everything.",
                flush=True,
            )
            try:
                while stack.nginx.proc.poll() is None and all(w.alive() for w in stack.workers):
                    time.sleep(0.5)
                print(f"something stopped by itself:\n{stack.logs()}")
            except KeyboardInterrupt:
                print("\nstopping")


if __name__ == "__main__":
    main()
