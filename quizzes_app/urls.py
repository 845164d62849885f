from django.urls import path

from quizzes_app import views

urlpatterns = [
    path("ping", views.ping, name="ping"),
    path("quizzes/<int:quiz_id>/duplicate/", views.quiz_duplicate, name="quiz_duplicate"),
]
