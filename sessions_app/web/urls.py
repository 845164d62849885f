from django.urls import include, path

from sessions_app.web import views

urlpatterns = [
    path("", views.join, name="join"),
    path("join/<str:code>/", views.join, name="join_code"),
    path("play/<str:code>/", views.play, name="play"),
    path("host/", views.host_dashboard, name="host_dashboard"),
    path("host/start/", views.session_start, name="session_start"),
    path("host/session/<str:code>/", views.host_session, name="host_session"),
    path("metrics", views.metrics_view, name="metrics"),
    path("", include("sessions_app.web.results_urls")),
]
