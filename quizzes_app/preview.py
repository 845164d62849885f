"""The quiz page's preview: a saved question as the phones and the projector will show it, no session.

The preview page holds two frames, a phone's width and a projector's, each rendering the live
pages' own partials (templates/sessions/partials/) with the context sessions_app/web/preview.py
builds from the question. That import is the one place quizzes_app reaches into sessions_app
(docs/ARCHITECTURE.md has quizzes_app import nothing from it): the partials and the shape of their
context are the live pages', so only they can say how a question looks. It is made inside the view,
so loading quizzes_app never loads sessions_app.
"""

from __future__ import annotations

from csp.decorators import csp_replace
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from quizzes_app.models import Question, Quiz

SCREENS = {"phone": "admin/quizzes_app/quiz/preview_phone.html",
           "projector": "admin/quizzes_app/quiz/preview_projector.html"}  # fmt: skip
MOMENTS = {"open": _("As it opens"), "reveal": _("At the reveal")}


def preview_url(question: Question, moment: str = "open") -> str:
    url = reverse("admin:quizzes_app_quiz_preview", args=[question.quiz_id, question.pk])
    return url if moment == "open" else f"{url}?at={moment}"


class QuizPreviewMixin:
    """QuizAdmin's preview pages: /admin/quizzes_app/quiz/<quiz>/preview/<question>/[phone|projector]/."""

    def get_urls(self) -> list[URLPattern]:
        # Before the defaults, whose "<path:object_id>/" would swallow these.
        name = f"{self.opts.app_label}_{self.opts.model_name}_"
        wrap = self.admin_site.admin_view
        # Only the frames may be framed, and only by this site's own preview page.
        frame = csp_replace({"frame-ancestors": ["'self'"]})(
            xframe_options_sameorigin(self.preview_screen_view)
        )
        return [
            path("<int:quiz_id>/preview/<int:question_id>/", wrap(self.preview_view), name=name + "preview"),
            path(
                "<int:quiz_id>/preview/<int:question_id>/<str:screen>/",
                wrap(frame),
                name=name + "preview_screen",
            ),
            *super().get_urls(),
        ]

    def _previewed(self, request: HttpRequest, quiz_id: int, question_id: int) -> tuple[Quiz, list, int]:
        """The quiz (if this user may see it), its questions in order, and the asked one's index."""
        quiz = self.get_object(request, str(quiz_id))
        if quiz is None or not self.has_view_permission(request, quiz):
            raise Http404(gettext("No such quiz."))
        questions = list(quiz.questions.all())
        index = next((i for i, q in enumerate(questions) if q.pk == question_id), None)
        if index is None:
            raise Http404(gettext("No such question in this quiz."))
        return quiz, questions, index

    def preview_view(self, request: HttpRequest, quiz_id: int, question_id: int) -> HttpResponse:
        quiz, questions, index = self._previewed(request, quiz_id, question_id)
        question = questions[index]
        moment = "reveal" if request.GET.get("at") == "reveal" else "open"
        screen_url = reverse("admin:quizzes_app_quiz_preview_screen", args=[quiz.pk, question.pk, "-"])
        suffix = "?at=reveal" if moment == "reveal" else ""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "quiz": quiz,
            "question": question,
            "number": index + 1,
            "total": len(questions),
            "previous": preview_url(questions[index - 1], moment) if index else None,
            "next": preview_url(questions[index + 1], moment) if index + 1 < len(questions) else None,
            "moment": moment,
            "moments": [(key, label, preview_url(question, key)) for key, label in MOMENTS.items()],
            "phone_url": screen_url.replace("/-/", "/phone/") + suffix,
            "projector_url": screen_url.replace("/-/", "/projector/") + suffix,
            "quiz_url": reverse("admin:quizzes_app_quiz_change", args=[quiz.pk]),
            "title": gettext("Preview: question %(number)s of %(total)s")
            % {"number": index + 1, "total": len(questions)},
        }
        return TemplateResponse(request, "admin/quizzes_app/quiz/preview.html", context)

    def preview_screen_view(
        self, request: HttpRequest, quiz_id: int, question_id: int, screen: str
    ) -> HttpResponse:
        from sessions_app.web.preview import question_preview  # see the module's docstring

        if screen not in SCREENS:
            raise Http404(gettext("No such screen."))
        _, questions, index = self._previewed(request, quiz_id, question_id)
        revealed = request.GET.get("at") == "reveal"
        host, player = question_preview(questions[index], index + 1, len(questions), revealed=revealed)
        context = host if screen == "projector" else player
        return TemplateResponse(request, SCREENS[screen], {**context, "preview": True})
