"""Quiz editing in the admin: hosts see and edit only their own quizzes; superusers see all."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.text import slugify

from quizzes_app.io import QuizFormatError, quiz_from_json, quiz_to_dict, quiz_to_json
from quizzes_app.kinds import TEXT_ANSWER_MAX, Kind, check_question
from quizzes_app.models import MAX_CHOICES, Choice, Question, Quiz, quiz_problems

# A quiz file carries its images as base64 (a third more than their size); larger quizzes go in
# with `manage.py import_quiz`.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# check_question's error codes for the choices: Question.clean raises them from the saved choices.
CHOICE_ERROR_CODES = {"choice_count", "correct_count"}
SLIDER_FIELDS = ("slider_min", "slider_max", "slider_step", "slider_correct", "slider_tolerance")
# What a question's choices are, by its kind (the table in quizzes_app/kinds.py), above the choice rows.
CHOICE_HELP = {
    Kind.SINGLE: "The options; mark exactly one correct.",
    Kind.MULTI: "The options; mark every correct one (at least one). Players must pick exactly those.",
    Kind.TRUEFALSE: "Exactly two: True and False, in that order; mark the right one.",
    Kind.POLL: "The options; mark none: a poll is not scored.",
    Kind.TEXT: (
        f"The accepted answers (1 to {MAX_CHOICES}, up to {TEXT_ANSWER_MAX} characters); a typed answer"
        " matching any of them counts, ignoring case, accents and spaces. “Correct” is not used."
    ),
    Kind.SLIDER: "None: a slider question has no choices (delete any); fill in the Slider section.",
    Kind.ORDER: (
        "The items, in the correct order (by “Order”); players see them shuffled. “Correct” is not used."
    ),
}


def _owns(request: HttpRequest, owner_id: int | None) -> bool:
    return request.user.is_superuser or owner_id == request.user.pk


UNPLAYABLE = "This quiz cannot be played yet: {}"


def _warn_if_unplayable(request: HttpRequest, quiz_id: int) -> None:
    """Say what keeps a quiz from being played (the sessions refuse it), unless that is already said."""
    problems = quiz_problems(quiz_id)
    if not problems:
        return
    text = UNPLAYABLE.format(" ".join(problems))
    queued = messages.get_messages(request)
    already = any(str(message) == text for message in queued)
    queued.used = False  # reading them above must not drop them from the page
    if not already:  # e.g. "Save and continue editing" warned on the save, then shows this page
        messages.warning(request, text)


class QuestionForm(forms.ModelForm):
    """Question.clean checks the saved choices; the admin checks the edited ones in the choice formset.

    A form without the slider fields (the quiz page's rows) cannot ask for them: there a slider question
    is saved like one without its choices yet, and the quiz page warns that it cannot be played.
    """

    def ignored_codes(self) -> set[str]:
        return CHOICE_ERROR_CODES if "slider_min" in self.fields else {*CHOICE_ERROR_CODES, "slider"}

    def full_clean(self) -> None:
        super().full_clean()
        # Without this, a question saved with bad choices could never be fixed in the admin.
        errors = self._errors.get(NON_FIELD_ERRORS) if self._errors else None
        if not errors:
            return
        ignored = self.ignored_codes()
        kept = [error for error in errors.as_data() if error.code not in ignored]
        if kept:
            self._errors[NON_FIELD_ERRORS] = self.error_class(
                kept, error_class="nonfield", renderer=self.renderer
            )
        else:
            del self._errors[NON_FIELD_ERRORS]


class ChoiceInlineFormSet(BaseInlineFormSet):
    """Enforce what the question's kind needs of its choices, counting only rows that will be kept."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        flags = [
            bool(form.cleaned_data.get("is_correct"))
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]
        question = self.instance
        check_question(question.kind, flags, question.slider)


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    fields = ("order", "text", "is_correct")
    max_num = MAX_CHOICES
    template = "admin/quizzes_app/question/choice_inline.html"  # the tabular rows under CHOICE_HELP

    def get_extra(self, request: HttpRequest, obj: Question | None = None, **kwargs) -> int:
        # Most questions have four options; an existing one only needs room for one more, a slider none.
        if obj is None:
            return 4
        return 0 if obj.kind == Kind.SLIDER else 1


class QuestionInline(admin.TabularInline):
    model = Question
    form = QuestionForm
    fields = ("order", "kind", "prompt", "time_limit", "points", "choices_link")
    readonly_fields = ("choices_link",)
    extra = 1
    show_change_link = False
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Question]:
        return super().get_queryset(request).annotate(choice_count=Count("choices"))

    @admin.display(description="Choices")
    def choices_link(self, question: Question) -> str:
        if question.pk is None:
            return "Save first, then add choices"
        url = reverse("admin:quizzes_app_question_change", args=[question.pk])
        if question.kind == Kind.SLIDER:
            return format_html('<a href="{}">Edit slider</a>', url)
        return format_html('<a href="{}">Edit choices</a> ({})', url, question.choice_count)


class QuizImportForm(forms.Form):
    file = forms.FileField(
        label="Quiz JSON file",
        help_text='{"title": ..., "questions": [{"prompt", "kind", ...}, ...]}, as exported; up to 10 MB.',
        widget=forms.FileInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("The file is larger than 10 MB; manage.py import_quiz takes any size.")
        return upload


@admin.action(description="Export selected quizzes as JSON", permissions=["view"])
def export_json(modeladmin: QuizAdmin, request: HttpRequest, queryset: QuerySet[Quiz]) -> HttpResponse | None:
    """One quiz downloads as a quiz object; several as a JSON array of them."""
    quizzes = list(queryset.order_by("pk"))
    if not quizzes:
        modeladmin.message_user(request, "None of the selected quizzes is yours to export.", messages.WARNING)
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


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    change_list_template = "admin/quizzes_app/quiz/change_list.html"
    inlines = [QuestionInline]
    actions = [export_json]
    search_fields = ("title", "description")
    ordering = ("-updated_at", "pk")

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

    def get_exclude(self, request: HttpRequest, obj: Quiz | None = None) -> tuple[str, ...]:
        # A host's quizzes are always their own; only superusers pick an owner.
        return () if request.user.is_superuser else ("owner",)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {**super().get_changeform_initial_data(request), "owner": request.user.pk}

    def save_model(self, request: HttpRequest, obj: Quiz, form: forms.ModelForm, change: bool) -> None:
        if not request.user.is_superuser:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Questions are saved before their choices, so a saved quiz may not be playable yet.
        _warn_if_unplayable(request, form.instance.pk)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if request.method == "GET":
            quiz = self.get_object(request, unquote(object_id))
            if quiz is not None and self.has_view_permission(request, quiz):
                _warn_if_unplayable(request, quiz.pk)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Questions", ordering="question_count")
    def question_count(self, quiz: Quiz) -> int:
        return quiz.question_count

    def has_view_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or _owns(request, obj.owner_id))

    def has_change_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or _owns(request, obj.owner_id))

    def has_delete_permission(self, request: HttpRequest, obj: Quiz | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or _owns(request, obj.owner_id))

    def get_urls(self) -> list[URLPattern]:
        # Before the defaults: their "<path:object_id>/" would swallow "import/".
        info = (self.opts.app_label, self.opts.model_name)
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="{}_{}_import".format(*info)), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a quiz JSON file; the new quiz belongs to the uploader."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = QuizImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                quiz = quiz_from_json(form.cleaned_data["file"].read(), owner=request.user)
            except QuizFormatError as exc:
                form.add_error("file", str(exc))
            else:
                self.log_addition(request, quiz, [{"added": {}}])
                count = quiz.questions.count()
                messages.success(request, f"Imported “{quiz.title}” with {count} questions.")
                return HttpResponseRedirect(reverse("admin:quizzes_app_quiz_change", args=[quiz.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": "Import a quiz from JSON",
        }
        return TemplateResponse(request, "admin/quizzes_app/quiz/import.html", context)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    form = QuestionForm
    inlines = [ChoiceInline]
    fieldsets = [
        (None, {"fields": ["quiz", "order", "kind", "prompt", "time_limit", "points", "explanation"]}),
        ("Image", {"fields": ["image", "image_alt", "image_preview"]}),
        (
            "Slider",
            {
                "fields": [SLIDER_FIELDS[:3], SLIDER_FIELDS[3:]],
                "description": "Slider questions only: the range players pick from, the answer, and how"
                " far off still counts. Leave empty for the other kinds.",
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

    @admin.display(description="Prompt", ordering="prompt")
    def short_prompt(self, question: Question) -> str:
        return str(question)

    @admin.display(description="Choices", ordering="choice_count")
    def choice_count(self, question: Question) -> str:
        count, correct = question.choice_count, question.correct_count
        try:  # check_question counts the flags, so their order does not matter here
            check_question(question.kind, [True] * correct + [False] * (count - correct), question.slider)
        except ValidationError as exc:
            return f"{count} ({exc.messages[0]})"
        return str(count)

    @admin.display(description="Preview")
    def image_preview(self, question: Question) -> str:
        if not question.image:
            return "No image"
        return format_html('<img src="{}" alt="{}" height="120">', question.image.url, question.image_alt)

    def _is_own(self, request: HttpRequest, obj: Question | None) -> bool:
        return obj is None or _owns(request, obj.quiz.owner_id)

    def has_view_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_view_permission(request, obj) and self._is_own(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._is_own(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._is_own(request, obj)
