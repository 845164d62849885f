"""Slow down PIN guessing: wrong PINs are counted per client address in the (shared) cache."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)
WINDOW_S = 60
# Unknown, finished and locked PINs all count, and look alike to a guesser on the join page.
WRONG_PIN_CODES = frozenset({"not_found", "wrong_state", "locked"})


def _key(address: str) -> str:
    return f"wrong-pin:{address}"


def pin_guessing_blocked(address: str) -> bool:
    """Fails open: with the cache (Redis) away, students can still join; guessers are only slowed."""
    try:
        return cache.get(_key(address), 0) >= settings.KNEWIT["JOIN_ATTEMPTS_PER_MINUTE"]
    except Exception:
        log.warning("the PIN throttle cannot read the cache; letting the join through", exc_info=True)
        return False


def record_wrong_pin(address: str) -> None:
    """Count one wrong PIN; the count expires a minute after the first."""
    try:
        cache.add(_key(address), 0, timeout=WINDOW_S)
        try:
            cache.incr(_key(address))
        except ValueError:  # expired between add and incr
            cache.set(_key(address), 1, timeout=WINDOW_S)
    except Exception:  # the join has had its answer; a lost count only lets a guesser try once more
        log.warning("the PIN throttle cannot write the cache", exc_info=True)
