from django.urls import path

from quizzes_app import views

urlpatterns = [
    path("ping", views.ping, name="ping"),
]
