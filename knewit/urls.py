"""Top-level routes; each app owns its own."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("quizzes_app.urls")),
    path("", include("sessions_app.web.urls")),
]
