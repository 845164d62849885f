"""Top-level routes; each app owns its own."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from quizzes_app.views import media

urlpatterns = [
    # Question images, in production too: the embedded Daphne has no proxy in front to serve them.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media, name="media"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # POST language=<code>: the language switcher (templates/_language_switcher.html) sets the cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("quizzes_app.urls")),
    path("", include("sessions_app.web.urls")),
]
