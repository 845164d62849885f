"""Turn environment variables into settings values; kept apart so tests can call them."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

SQLITE_BUSY_TIMEOUT_S = 20


def env_bool(value: str | None, default: bool = False) -> bool:
    """'1', 'true', 'yes', 'on' (any case) are true; unset gives the default."""
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(value: str | None, default: list[str]) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str | None, base_dir: Path) -> dict:
    """DATABASES['default'] from DATABASE_URL, or a SQLite file tuned for concurrent writers."""
    if not url:
        url = f"sqlite:///{base_dir / 'db.sqlite3'}"
    # Persistent connections: Channels runs every database call of a worker on one thread, and
    # reconnecting on each call would cost more than the query.
    config = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config["ENGINE"] = "knewit.postgresql"  # the same, with a health check that costs no round trip
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on the busy timeout instead of deadlocking.
        config["OPTIONS"] = {
            "timeout": SQLITE_BUSY_TIMEOUT_S,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # A file (not memory) so a Daphne started by a test can share it; one per process.
        config["TEST"] = {"NAME": str(base_dir / f"test_db_{os.getpid()}.sqlite3")}
    return config


def channel_layers_from_url(url: str | None, layer: str = "core") -> dict:
    """CHANNEL_LAYERS: in-memory without REDIS_URL, channels-redis with it."""
    if not url:
        return {"default": {"BACKEND": "knewit.layers.LocalChannelLayer"}}
    backends = {
        "core": "channels_redis.core.RedisChannelLayer",
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    }
    if layer not in backends:
        raise ValueError(f"KNEWIT_CHANNEL_LAYER must be one of {sorted(backends)}, not {layer!r}")
    # redis-py 8 times reads out after 5 s, as long as channels-redis' blocking receive waits, and
    # caps a pool at 100 connections, fewer than a reveal's concurrent sends (channels_redis#422).
    # A health check re-opens pooled connections that a Redis restart closed.
    host = {"address": url, "socket_timeout": None, "max_connections": 2000, "health_check_interval": 10}
    config: dict = {"hosts": [host]}
    if layer == "core":
        # Capacity is per worker's queue, which carries every socket's messages: the stock 100
        # (or 500) silently drops a reveal's personal results at a few hundred players a worker.
        config.update(capacity=20_000, expiry=30)
    return {"default": {"BACKEND": backends[layer], "CONFIG": config}}
