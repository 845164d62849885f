"""Routes of the results report, included at the site root by sessions_app.web.urls."""

from __future__ import annotations

from django.urls import path

from sessions_app.web import results_views as views

urlpatterns = [
    path("host/session/<str:code>/results/", views.session_results, name="session_results"),
    path("host/session/<str:code>/results.csv", views.session_results_csv, name="session_results_csv"),
    path("host/session/<str:code>/players.csv", views.session_players_csv, name="session_players_csv"),
    path(
        "host/session/<str:code>/results/player/<str:public_id>/",
        views.session_player_detail,
        name="session_player_detail",
    ),
    path("host/session/<str:code>/delete/", views.session_delete, name="session_delete"),
    path(
        "host/session/<str:code>/results/question/<int:question_pk>/regrade/",
        views.session_regrade,
        name="session_regrade",
    ),
]
