from django.apps import AppConfig


class QuizzesAppConfig(AppConfig):
    name = "quizzes_app"
    verbose_name = "Quizzes"

    def ready(self) -> None:
        from knewit import checks  # noqa: F401  (registers the project's system checks)
