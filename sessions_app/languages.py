"""Which interface language a person gets: the same rule over HTTP and at a WebSocket handshake.

The django_language cookie (set by the switcher through django.views.i18n.set_language) wins, then
the browser's Accept-Language, then settings.LANGUAGE_CODE; only languages of settings.LANGUAGES.
Quiz content is never translated: this is only the interface around it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, parse_cookie
from django.utils import translation


def from_scope(scope: dict) -> str:
    """The language of a WebSocket handshake, by Django's own rule for a request
    (translation.get_language_from_request) applied to the handshake's Cookie and Accept-Language."""
    request = HttpRequest()
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            request.COOKIES.update(parse_cookie(value.decode("latin1")))
        elif name == b"accept-language":
            request.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin1")
    return translation.get_language_from_request(request)


def supported(language: str | None) -> str:
    """A code of settings.LANGUAGES for any language code (a variant, an unknown one: the default)."""
    try:
        return translation.get_supported_language_variant(language or settings.LANGUAGE_CODE)
    except LookupError:
        return translation.get_supported_language_variant(settings.LANGUAGE_CODE)
