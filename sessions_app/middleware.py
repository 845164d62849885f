"""WebSocket handshake checks: a foreign Origin is refused; cookies count only with our own Origin."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser


class SameSiteOriginValidator(OriginValidator):
    """Like AllowedHostsOriginValidator, but a handshake without Origin (bots, terminals) is let in.

    Browsers always send Origin, so a missing one is not a foreign page riding a cookie; such
    clients are simply not cookie-authenticated (see CookieAuthOnlyWithOrigin).
    """

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


class CookieAuthOnlyWithOrigin:
    """Honour the Django session cookie only when the handshake carried an (already checked) Origin."""

    def __init__(self, inner):
        self.inner = inner
        self.with_auth = AuthMiddlewareStack(inner)

    async def __call__(self, scope, receive, send):
        has_origin = any(name == b"origin" for name, _ in scope.get("headers", []))
        if has_origin:
            return await self.with_auth(scope, receive, send)
        return await self.inner(dict(scope, user=AnonymousUser()), receive, send)


def websocket_stack(inner):
    """The handshake pipeline for every WebSocket route."""
    return SameSiteOriginValidator(CookieAuthOnlyWithOrigin(inner), settings.ALLOWED_HOSTS)
