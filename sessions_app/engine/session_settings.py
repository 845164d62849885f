"""A session's settings (docs/PROTOCOL.md §3.1): checked once at `session.create`, with defaults."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from sessions_app.engine.events import EngineError

DEFAULT_MAX_PLAYERS = 2000
# A misconception alert when at least this share (percent) of the answers is the same wrong answer.
DEFAULT_MISCONCEPTION_THRESHOLD = 30

KNOWN = {
    "show_live_results": bool,
    "auto_advance": bool,
    "max_players": int,
    "password": str,
    "score_by_accuracy": bool,
    "misconception_threshold": int,
    "revote_scores": bool,
}


def _int(raw: dict, key: str, default: int, low: int, high: int) -> int:
    value = raw[key] if raw.get(key) is not None else default
    if not low <= value <= high:
        raise EngineError(
            "invalid",
            gettext_lazy("`%(key)s` must be between %(low)s and %(high)s."),
            key=key,
            low=low,
            high=high,
        )
    return value


def clean_settings(raw: dict) -> dict:
    """Session settings of docs/PROTOCOL.md, with defaults; anything else is refused."""
    for key, value in raw.items():
        if key not in KNOWN:
            raise EngineError("invalid", gettext_lazy("Unknown setting `%(key)s`."), key=key)
        if value is not None and (type(value) is not KNOWN[key]):
            raise EngineError(
                "invalid",
                gettext_lazy("Setting `%(key)s` must be a %(type)s."),
                key=key,
                type=KNOWN[key].__name__,
            )
    password = raw.get("password") or ""
    if len(password) > 128:
        raise EngineError("invalid", gettext_lazy("The password is too long."))
    return {
        "show_live_results": bool(raw.get("show_live_results")),
        "auto_advance": bool(raw.get("auto_advance")),
        "max_players": _int(raw, "max_players", DEFAULT_MAX_PLAYERS, 1, 10_000),
        "password": password,
        "score_by_accuracy": bool(raw.get("score_by_accuracy")),
        "misconception_threshold": _int(
            raw, "misconception_threshold", DEFAULT_MISCONCEPTION_THRESHOLD, 1, 100
        ),
        "revote_scores": bool(raw.get("revote_scores")),
    }
