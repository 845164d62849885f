"""Plain HTTP endpoints of the quizzes app."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def ping(request: HttpRequest) -> JsonResponse:
    """Health check for load balancers: no database, no session."""
    return JsonResponse({"ok": True})
