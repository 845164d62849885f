"""Settings parsing (knewit.config) and the /ping health check."""

from __future__ import annotations

from pathlib import Path

import pytest

from knewit.config import channel_layers_from_url, database_from_url, env_bool, env_list


def test_database_default_is_tuned_sqlite(tmp_path: Path):
    config = database_from_url(None, tmp_path)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "db.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] >= 5
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_empty_string_is_default(tmp_path: Path):
    assert database_from_url("", tmp_path) == database_from_url(None, tmp_path)


def test_database_postgres_url(tmp_path: Path):
    config = database_from_url("postgres://quiz:secret@db.example.com:5433/knewit", tmp_path)
    assert config["ENGINE"] == "knewit.postgresql"  # Django's, with a cheaper health check
    assert (config["NAME"], config["HOST"], config["PORT"]) == ("knewit", "db.example.com", 5433)
    assert (config["USER"], config["PASSWORD"]) == ("quiz", "secret")
    assert "init_command" not in config.get("OPTIONS", {})


@pytest.mark.parametrize("url", [None, ""])
def test_channel_layer_default_is_in_memory(url):
    assert channel_layers_from_url(url) == {"default": {"BACKEND": "knewit.layers.LocalChannelLayer"}}


def test_channel_layer_redis_core():
    layer = channel_layers_from_url("redis://127.0.0.1:6379/1")["default"]
    assert layer["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    (host,) = layer["CONFIG"]["hosts"]
    assert host["address"] == "redis://127.0.0.1:6379/1"
    # Blocking receives must not time out, and a reveal's fan-out needs more than 100 connections.
    assert host["socket_timeout"] is None and host["max_connections"] >= 1000


def test_channel_layer_redis_pubsub():
    layer = channel_layers_from_url("redis://localhost:6379", "pubsub")["default"]
    assert layer["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert [h["address"] for h in layer["CONFIG"]["hosts"]] == ["redis://localhost:6379"]


def test_channel_layer_bad_name():
    with pytest.raises(ValueError, match="KNEWIT_CHANNEL_LAYER"):
        channel_layers_from_url("redis://localhost:6379", "rabbit")


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [
        (None, False, False),
        (None, True, True),
        ("", True, True),
        ("1", False, True),
        (" TRUE ", False, True),
        ("yes", False, True),
        ("on", False, True),
        ("0", True, False),
        ("false", True, False),
        ("nope", True, False),
    ],
)
def test_env_bool(value, default, expected):
    assert env_bool(value, default=default) is expected


def test_env_list():
    assert env_list(None, ["a"]) == ["a"]
    assert env_list(" x.example.com, ,y.example.com ,", []) == ["x.example.com", "y.example.com"]


def test_ping(client):
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert client.post("/ping").status_code == 405


def test_an_old_sqlite_is_refused_by_the_checks():
    from knewit.checks import sqlite_problems

    sqlite = "django.db.backends.sqlite3"
    assert [e.id for e in sqlite_problems(sqlite, (3, 34, 1))] == ["knewit.E003"]
    assert sqlite_problems(sqlite, (3, 35, 0)) == []
    assert sqlite_problems("knewit.postgresql", (3, 34, 1)) == []
