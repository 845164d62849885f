"""Slow down PIN guessing: wrong PINs are counted per client address in the (shared) cache."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

WINDOW_S = 60
# Unknown, finished and locked PINs all count, and look alike to a guesser on the join page.
WRONG_PIN_CODES = frozenset({"not_found", "wrong_state", "locked"})


def _key(address: str) -> str:
    return f"wrong-pin:{address}"


def pin_guessing_blocked(address: str) -> bool:
    return cache.get(_key(address), 0) >= settings.KNEWIT["JOIN_ATTEMPTS_PER_MINUTE"]


def record_wrong_pin(address: str) -> None:
    """Count one wrong PIN; the count expires a minute after the first."""
    cache.add(_key(address), 0, timeout=WINDOW_S)
    try:
        cache.incr(_key(address))
    except ValueError:  # expired between add and incr
        cache.set(_key(address), 1, timeout=WINDOW_S)
