"""Who is who on a socket: host API tokens (for clients with no browser session), and the rejoin cookie."""

from __future__ import annotations

from django.utils import timezone

from quizzes_app.hosts import is_host
from sessions_app.models import HostToken, hash_secret, new_secret


def host_token_create(*, user, label: str = "") -> str:
    """Make a token for this host; only its hash is stored, so this is the one chance to see it."""
    token = new_secret()
    HostToken.objects.create(user=user, token_hash=hash_secret(token), label=label)
    return token


def host_from_token(token: str):
    """The host a live, unrevoked token belongs to, or None."""
    record = (
        HostToken.objects.select_related("user").filter(token_hash=hash_secret(token), revoked=False).first()
    )
    if record is None or not is_host(record.user):
        return None
    HostToken.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
    return record.user


def rejoin_cookie_name(code: str) -> str:
    """The page keeps a student's rejoin token in an HttpOnly cookie per session."""
    return f"knewit_rejoin_{code}"
