"""Slow down PIN guessing: the *different* unknown PINs tried from one client address, in the shared cache.

A school's students usually share one public address, so a room typing the same PIN (some of them
badly) must never trip this; someone walking through many PINs must. A valid PIN that is locked,
full or finished is not a guess, and a mistyped PIN tried twice counts once.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy

log = logging.getLogger(__name__)
GUESS_CODES = frozenset({"not_found"})  # engine error codes that mean "no such PIN"
BLOCKED_MESSAGE = gettext_lazy(
    "Too many different wrong PINs from your network. Wait a few minutes, then try again."
)


def _count_key(address: str) -> str:
    return f"wrong-pins:{address}"


def _pin_key(address: str, pin: str) -> str:
    # Hashed: cache keys stay short and free of whatever a client typed.
    digest = hashlib.blake2s(f"{address}|{pin}".encode(), digest_size=12).hexdigest()
    return f"wrong-pin:{digest}"


def pin_guessing_blocked(address: str) -> bool:
    """Fails open: with the cache (Redis) away, students can still join; guessers are only slowed."""
    try:
        return cache.get(_count_key(address), 0) >= settings.KNEWIT["JOIN_WRONG_PINS"]
    except Exception:
        log.warning("the PIN throttle cannot read the cache; letting the join through", exc_info=True)
        return False


def record_wrong_pin(address: str, pin: str) -> None:
    """Count an unknown PIN once per address and window; the count expires a window after its first."""
    window = settings.KNEWIT["JOIN_WRONG_PIN_WINDOW_S"]
    try:
        if not cache.add(_pin_key(address, pin), 1, timeout=window):
            return  # this address already tried this PIN
        cache.add(_count_key(address), 0, timeout=window)
        try:
            cache.incr(_count_key(address))
        except ValueError:  # expired between add and incr
            cache.set(_count_key(address), 1, timeout=window)
    except Exception:  # the join has had its answer; a lost count only lets a guesser try once more
        log.warning("the PIN throttle cannot write the cache", exc_info=True)
