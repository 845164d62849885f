from django.apps import AppConfig


class QuizzesAppConfig(AppConfig):
    name = "quizzes_app"
    verbose_name = "Quizzes"
