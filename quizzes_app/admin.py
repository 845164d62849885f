"""Quiz editing in the admin: hosts see and edit only their own quizzes; superusers see all.

A quiz is written on one page (quizzes_app/editor.py): its questions and their choices are nested
inlines, checked together on save. A question also has a page of its own.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from nested_admin import NestedModelAdmin

from quizzes_app.copying import quiz_copy
from quizzes_app.editor import CHOICE_HELP, SLIDER_FIELDS, ChoiceChecks, QuestionForm, QuestionInline
from quizzes_app.importing import QuizImportMixin
from quizzes_app.io import quiz_to_dict, quiz_to_json
from quizzes_app.kinds import Kind, check_question
from quizzes_app.models import MAX_CHOICES, Choice, Question, Quiz, quiz_problems
from quizzes_app.preview import QuizPreviewMixin, preview_url

UNPLAYABLE = _("This quiz cannot be played yet: %(problems)s")


def _owns(request: HttpRequest, owner_id: int | None) -> bool:
    return request.user.is_superuser or owner_id == request.user.pk


def _warn_if_unplayable(request: HttpRequest, quiz_id: int) -> None:
    """Say what keeps a quiz from being played (the sessions refuse it), unless that is already said.

    The quiz page cannot save such a quiz; one can still come from a question's own page (deleting
    the last question) or from before the quiz page checked its questions.
    """
    problems = quiz_problems(quiz_id)
    if not problems:
        return
    text = UNPLAYABLE % {"problems": " ".join(problems)}
    queued = messages.get_messages(request)
    already = any(str(message) == text for message in queued)
    queued.used = False  # reading them above must not drop them from the page
    if not already:
        messages.warning(request, text)


@admin.action(description=_("Export selected quizzes as JSON"), permissions=["view"])
def export_json(modeladmin: QuizAdmin, request: HttpRequest, queryset: QuerySet[Quiz]) -> HttpResponse | None:
    """One quiz downloads as a quiz object; several as a JSON array of them."""
    quizzes = list(queryset.order_by("pk"))
    if not quizzes:
        modeladmin.message_user(
            request, gettext("None of the selected quizzes is yours to export."), messages.WARNING
        )
        return None
    if len(quizzes) == 1:
        quiz = quizzes[0]
        text = quiz_to_json(quiz)
        filename = f"quiz-{quiz.pk}-{slugify(quiz.title)[:40] or 'untitled'}.json"
    else:
        text = json.dumps([quiz_to_dict(quiz) for quiz in quizzes], ensure_ascii=False, indent=2) + "\n"
        filename = "quizzes.json"
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.action(description=_("Duplicate selected quizzes"), permissions=["add"])
def duplicate(modeladmin: QuizAdmin, request: HttpRequest, queryset: QuerySet[Quiz]) -> None:
    """Copies with their questions, choices and images, owned by whoever duplicates them."""
    copies = [quiz_copy(quiz, owner=request.user) for quiz in queryset.order_by("pk")]
    for copy in copies:
        modeladmin.log_addition(request, copy, [{"added": {}}])
    names = ", ".join(gettext("“%(title)s”") % {"title": copy.title} for copy in copies)
    text = gettext("Made %(names)s.") % {"names": names} if copies else gettext("No quiz was selected.")
    modeladmin.message_user(request, text, messages.SUCCESS)


@admin.register(Quiz)
class QuizAdmin(QuizPreviewMixin, QuizImportMixin, NestedModelAdmin):
    change_list_template = "admin/quizzes_app/quiz/change_list.html"
    change_form_template = "admin/quizzes_app/quiz/change_form.html"
    inlines = [QuestionInline]
    actions = [export_json, duplicate]
    search_fields = ("title", "description")
    ordering = ("-updated_at", "pk")
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}

    class Media:
        css = {"all": ["quizzes_app/quiz_editor.css"]}
        js = ["quizzes_app/quiz_editor.js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Quiz]:
        queryset = super().get_queryset(request).select_related("owner")
        queryset = queryset.annotate(question_count=Count("questions"))
        if request.user.is_superuser:
            return queryset
        return queryset.filter(owner=request.user)

    def get_list_display(self, request: HttpRequest) -> tuple[str, ...]:
        if request.user.is_superuser:
            return ("title", "owner", "question_count", "default_time_limit", "updated_at")
        return ("title", "question_count", "default_time_limit", "updated_at")

    def get_list_filter(self, request: HttpRequest) -> tuple:
        return ("owner", "updated_at") if request.user.is_superuser else ("updated_at",)

    def get_fields(self, request: HttpRequest, obj: Quiz | None = None) -> list[str]:
        # A host's quizzes are always their own; only superusers pick an owner.
        fields = ["title", "description", "default_time_limit"]
        return [*fields, "owner"] if request.user.is_superuser else fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {**super().get_changeform_initial_data(request), "owner": request.user.pk}

    def save_model(self, request: HttpRequest, obj: Quiz, form: forms.ModelForm, change: bool) -> None:
        if not request.user.is_superuser:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        _warn_if_unplayable(request, form.instance.pk)

    def render_change_form(self, request: HttpRequest, context: dict, *args, obj=None, **kwargs):
        context["choice_help"] = CHOICE_HELP
        first = obj.questions.first() if obj is not None and obj.pk else None
        context["preview_url"] = preview_url(first) if first else None
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            quiz = self.get_object(request, unquote(object_id))
            if quiz is not None and self.has_view_permission(request, quiz):
                _warn_if_unplayable(request, quiz.pk)
        return super().change_view(request, object_id, form_url, extra_context)

    # Opened from the host dashboard with ?next=, the page goes back there once the quiz is saved.

    def _next_url(self, request: HttpRequest) -> str | None:
        url = request.GET.get("next")
        safe = url and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        return url if safe else None

    def response_add(self, request: HttpRequest, obj: Quiz, post_url_continue: str | None = None):
        response = super().response_add(request, obj, post_url_continue)
        return self._keep_next(request, response)

    def response_change(self, request: HttpRequest, obj: Quiz):
        return self._keep_next(request, super().response_change(request, obj))

    def _keep_next(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        # "Save and continue editing" stays on the quiz page, and must still know the way back.
        next_url = self._next_url(request)
        staying = "_continue" in request.POST or "_addanother" in request.POST
        if (
            next_url
            and staying
            and isinstance(response, HttpResponseRedirect)
            and "next=" not in response.url
        ):
            joiner = "&" if "?" in response.url else "?"
            response["Location"] = response.url + joiner + urlencode({"next": next_url})
        return response

    def response_post_save_add(self, request: HttpRequest, obj: Quiz) -> HttpResponse:
        next_url = self._next_url(request)
        return HttpResponseRedirect(next_url) if next_url else super().response_post_save_add(request, obj)

    def response_post_save_change(self, request: HttpRequest, obj: Quiz) -> HttpResponse:
        next_url = self._next_url(request)
        return HttpResponseRedirect(next_url) if next_url else super().response_post_save_change(request, obj)

    @admin.display(description=_("Questions"), ordering="question_count")
    def question_count(self, quiz: Quiz) -> int:
        return quiz.question_count

    def has_view_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or _owns(request, obj.owner_id))

    def has_change_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or _owns(request, obj.owner_id))

    def has_delete_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or _owns(request, obj.owner_id))


class ChoiceInline(admin.TabularInline):
    """A question's own page: its choices, under a line saying what they are for its kind."""

    model = Choice
    formset = ChoiceChecks
    fields = ("order", "text", "is_correct")
    max_num = MAX_CHOICES
    template = "admin/quizzes_app/question/choice_inline.html"

    def get_extra(self, request: HttpRequest, obj: Question | None = None, **kwargs) -> int:
        # Most questions have four options; an existing one only needs room for one more, a slider none.
        if obj is None:
            return 4
        return 0 if obj.kind == Kind.SLIDER else 1


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionForm
    inlines = [ChoiceInline]
    fieldsets = [
        (None, {"fields": ["quiz", "order", "kind", "prompt", "time_limit", "points", "explanation"]}),
        (_("Image"), {"fields": ["image", "image_alt", "image_preview"]}),
        (
            pgettext_lazy("question kind", "Slider"),
            {
                "fields": [SLIDER_FIELDS[:3], SLIDER_FIELDS[3:]],
                "description": _(
                    "Slider questions only: the range players pick from, the answer, and how"
                    " far off still counts. Leave empty for the other kinds."
                ),
            },
        ),
    ]
    readonly_fields = ("image_preview",)
    list_display = ("short_prompt", "quiz", "order", "kind", "points", "time_limit", "choice_count")
    list_filter = (("quiz", admin.RelatedOnlyFieldListFilter), "kind", "points")
    search_fields = ("prompt", "quiz__title")
    ordering = ("quiz", "order", "pk")

    def render_change_form(self, request: HttpRequest, context: dict, *args, obj=None, **kwargs):
        # The edited kind, so a page shown again with errors explains the kind being saved.
        form = context["adminform"].form
        kind = form["kind"].value() if "kind" in form.fields else getattr(obj, "kind", Kind.SINGLE)
        context["choice_help"] = CHOICE_HELP.get(kind, CHOICE_HELP[Kind.SINGLE])
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        queryset = super().get_queryset(request).select_related("quiz")
        queryset = queryset.annotate(
            choice_count=Count("choices"),
            correct_count=Count("choices", filter=Q(choices__is_correct=True)),
        )
        if request.user.is_superuser:
            return queryset
        return queryset.filter(quiz__owner=request.user)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        # The dropdown is also the validation: another host's quiz is "not a valid choice".
        if db_field.name == "quiz" and not request.user.is_superuser:
            kwargs["queryset"] = Quiz.objects.filter(owner=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("Prompt"), ordering="prompt")
    def short_prompt(self, question: Question) -> str:
        return str(question)

    @admin.display(description=_("Choices"), ordering="choice_count")
    def choice_count(self, question: Question) -> str:
        count, correct = question.choice_count, question.correct_count
        try:  # check_question counts the flags, so their order does not matter here
            check_question(question.kind, [True] * correct + [False] * (count - correct), question.slider)
        except ValidationError as exc:
            return gettext("%(count)s (%(problem)s)") % {"count": count, "problem": exc.messages[0]}
        return str(count)

    @admin.display(description=_("Preview"))
    def image_preview(self, question: Question) -> str:
        if not question.image:
            return gettext("No image")
        return format_html('<img src="{}" alt="{}" height="120">', question.image.url, question.image_alt)

    def _is_own(self, request: HttpRequest, obj: Question | None) -> bool:
        return obj is None or _owns(request, obj.quiz.owner_id)

    def has_view_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_view_permission(request, obj) and self._is_own(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._is_own(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._is_own(request, obj)
