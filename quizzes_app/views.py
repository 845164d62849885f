"""Plain HTTP endpoints of the quizzes app."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST, require_safe

from quizzes_app.copying import quiz_copy
from quizzes_app.hosts import is_host
from quizzes_app.images import IMAGE_MIME_TYPES
from quizzes_app.models import Quiz

# What question_image_path names a file (the storage may add "_" and 7 letters to a taken name):
# one flat name under questions/, so no path from a URL can leave that folder.
QUESTION_IMAGE = re.compile(r"questions/(?P<stem>[A-Za-z0-9_-]{1,100})\.(?P<ext>png|jpg|gif|webp)")
# A file's name is its content's hash: what is at a URL never changes.
IMMUTABLE = "public, max-age=31536000, immutable"


@require_GET
def ping(request: HttpRequest) -> JsonResponse:
    """Health check for load balancers: no database, no session."""
    return JsonResponse({"ok": True})


@require_safe
def media(request: HttpRequest, path: str) -> HttpResponse:
    """A question image from MEDIA_ROOT/questions/, served by the app itself (no proxy needed)."""
    match = QUESTION_IMAGE.fullmatch(path)
    file = Path(settings.MEDIA_ROOT, path) if match else None
    if file is None or not file.is_file():
        raise Http404(gettext("No such image."))
    stat = file.stat()
    mtime = int(stat.st_mtime)
    etag = f'"{match["stem"]}"'
    response = get_conditional_response(request, etag=etag, last_modified=mtime)
    if response is None:
        # At most 5 MB (images.py): read whole, as Daphne would buffer a streamed file anyway.
        body = file.read_bytes() if request.method == "GET" else b""
        response = HttpResponse(body, content_type=IMAGE_MIME_TYPES[match["ext"]])
        response["Content-Length"] = str(stat.st_size)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(mtime)
    response["Cache-Control"] = IMMUTABLE
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def quiz_duplicate(request: HttpRequest, quiz_id: int) -> HttpResponse:
    """The dashboard's "Duplicate": a copy of one of my quizzes, opened on its page to be changed."""
    if not is_host(request.user) or not request.user.has_perm("quizzes_app.add_quiz"):
        raise PermissionDenied(gettext("Only hosts can duplicate quizzes."))
    mine = Quiz.objects.all() if request.user.is_superuser else Quiz.objects.filter(owner=request.user)
    copy = quiz_copy(get_object_or_404(mine, pk=quiz_id), owner=request.user)
    messages.success(
        request, gettext("Made “%(title)s”: change what you like and save it.") % {"title": copy.title}
    )
    url = reverse("admin:quizzes_app_quiz_change", args=[copy.pk])
    return HttpResponseRedirect(f"{url}?{urlencode({'next': reverse('host_dashboard')})}")
