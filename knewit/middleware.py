"""Middleware of the project itself."""

from __future__ import annotations


class SyncChain:
    """Last in MIDDLEWARE, and synchronous only: so the whole stack above it runs synchronously.

    Under ASGI, Django runs each middleware in the mode of the one inside it. With the async-capable
    ones innermost and WhiteNoise (synchronous only) near the top, a request to a synchronous view
    went back and forth between the event loop and its thread about a dozen times (every
    MiddlewareMixin's process_request and process_response through sync_to_async). Our views are
    synchronous: with this innermost, the stack switches three times (into the request's thread, back
    for Django's async core, into the view's thread). Measured with bench/joinsteps.py (issue #16).
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
