"""The one-page quiz editor: a quiz's questions and their choices as nested inlines (django-nested-admin).

A quiz is saved whole or not at all (the admin saves in one transaction): every question is checked
with kinds.check_question against its edited kind and its edited choices, and each error is put where
the teacher can fix it: choice counts and correct marks above that question's choices, a slider's
mistakes on the slider field at fault, "no questions" above the questions.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from nested_admin import NestedInlineFormSet, NestedStackedInline, NestedTabularInline

from quizzes_app.kinds import MAX_CHOICES, TEXT_ANSWER_MAX, Kind, check_question, slider_error_field
from quizzes_app.models import Choice, Question
from quizzes_app.preview import preview_url

# check_question's error codes for the choices: Question.clean raises them from the saved choices.
CHOICE_ERROR_CODES = {"choice_count", "correct_count"}
SLIDER_FIELDS = ("slider_min", "slider_max", "slider_step", "slider_correct", "slider_tolerance")
NEW_QUESTION_CHOICES = 4  # most questions have four options
# What a question's choices are, by its kind (the table in quizzes_app/kinds.py), above the choice rows.
CHOICE_HELP = {
    Kind.SINGLE: _("Options: mark exactly one correct."),
    Kind.MULTI: _("Options: mark every correct one (at least one). Players must pick exactly those."),
    Kind.TRUEFALSE: _("Options: exactly two, True and False, in that order; mark the right one."),
    Kind.POLL: _("Options: mark none, a poll is not scored."),
    Kind.TEXT: format_lazy(
        _(
            "Accepted answers (1 to {max}, up to {chars} characters): a typed answer matching any of"
            " them counts, ignoring case, accents and spaces. “Correct” is not used."
        ),
        max=MAX_CHOICES,
        chars=TEXT_ANSWER_MAX,
    ),
    Kind.SLIDER: _("None: a slider question has no answers to list (delete any); fill in its Slider fields."),
    Kind.ORDER: _("Items, in the correct order: players see them shuffled. “Correct” is not used."),
}
NO_QUESTIONS = _("A quiz needs at least one question.")
NO_PROMPT = _("Type the question above these answers too, or clear them.")


class NewRowsByContent:
    """A new row whose only change is its place is still an empty row: the scripts number every row."""

    def has_changed(self) -> bool:
        if self.instance.pk is None:
            return any(name != "order" for name in self.changed_data)
        return super().has_changed()


class QuestionForm(NewRowsByContent, forms.ModelForm):
    """Question.clean checks the saved choices; the choice formset checks the edited ones instead.

    Without that, a question saved with bad choices could never be fixed. A slider's error goes to
    the slider field it is about.
    """

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("kind") == Kind.SLIDER:
            # Most sliders count in ones and want the exact value, as in the spreadsheet's template.
            for name, default in (("slider_step", 1.0), ("slider_tolerance", 0.0)):
                if name in self.fields and cleaned.get(name) is None and name not in self.errors:
                    cleaned[name] = default
        return cleaned

    def full_clean(self) -> None:
        super().full_clean()
        errors = self._errors.get(NON_FIELD_ERRORS) if self._errors else None
        if not errors:
            return
        kept, moved = [], []
        for error in errors.as_data():
            field = slider_error_field(error)
            if error.code in CHOICE_ERROR_CODES:
                continue
            if field and f"slider_{field}" in self.fields:
                moved.append((f"slider_{field}", error))
            else:
                kept.append(error)
        if kept:
            self._errors[NON_FIELD_ERRORS] = self.error_class(
                kept, error_class="nonfield", renderer=self.renderer
            )
        else:
            del self._errors[NON_FIELD_ERRORS]
        for name, error in moved:
            self.add_error(name, error)


class ChoiceChecks(BaseInlineFormSet):
    """What the question's edited kind needs of its choices, counting only rows that will be kept."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]
        parent = getattr(self, "parent_form", None)  # the question's form, on the quiz page
        if parent is not None and _left_out(parent):
            if any(form.has_changed() for form in kept):
                raise ValidationError(NO_PROMPT, code="no_prompt")
            return
        if parent is not None:
            parent.is_valid()  # cleaning the question puts its edited kind and slider on the instance
        question = self.instance
        try:
            check_question(
                question.kind, [bool(form.cleaned_data.get("is_correct")) for form in kept], question.slider
            )
        except ValidationError as exc:
            if exc.error_list[0].code in CHOICE_ERROR_CODES:
                raise
            # The slider's own fields are the question form's to report (QuestionForm).


def _deleted(form: forms.ModelForm) -> bool:
    """Marked for deletion, read from the data: the form may not have been cleaned yet."""
    field = form.fields.get("DELETE")
    if field is None:
        return False
    raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix("DELETE"))
    return bool(field.clean(raw))


def _left_out(form: forms.ModelForm) -> bool:
    """A question row that will not be saved: marked for deletion, or an extra row left untouched."""
    return _deleted(form) or (form.instance.pk is None and not form.has_changed())


class ChoiceFormSet(ChoiceChecks, NestedInlineFormSet):
    """New rows are numbered after the saved ones, so a row typed into the last place stays last."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        start = self.initial_form_count()
        self.initial_extra = [{"order": start + i} for i in range(self.extra)]

    def _should_delete_form(self, form: forms.Form) -> bool:
        # A deleted question's choices go with it, whether or not the page marked them too.
        parent = getattr(self, "parent_form", None)
        return super()._should_delete_form(form) or (parent is not None and _deleted(parent))


class QuestionFormSet(NestedInlineFormSet):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        start = self.initial_form_count()
        self.initial_extra = [{"order": start + i} for i in range(self.extra)]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if all(_left_out(form) for form in self.forms):
            raise ValidationError(NO_QUESTIONS, code="no_questions")


class ChoiceForm(NewRowsByContent, forms.ModelForm):
    class Meta:
        model = Choice
        fields = ("order", "text", "is_correct")
        labels = {"text": _("Answer"), "is_correct": _("Correct")}
        widgets = {
            "order": forms.NumberInput(attrs={"class": "order-input", "min": 0}),
            "text": forms.TextInput(attrs={"class": "answer-input"}),
        }


class ChoiceInline(NestedTabularInline):
    model = Choice
    form = ChoiceForm
    formset = ChoiceFormSet
    fields = ("order", "text", "is_correct")
    sortable_field_name = "order"
    max_num = MAX_CHOICES
    verbose_name = _("answer")
    verbose_name_plural = _("answers")
    template = "admin/quizzes_app/quiz/choices_inline.html"  # nested_admin's table under CHOICE_HELP

    def get_extra(self, request: HttpRequest, obj: Question | None = None, **kwargs) -> int:
        # A new question gets four rows to type into; a saved one room for one more, a slider none.
        if obj is None or obj.pk is None:
            return NEW_QUESTION_CHOICES
        if obj.kind == Kind.SLIDER:
            return 0
        return 1 if obj.choices.count() < MAX_CHOICES else 0


class QuestionInline(NestedStackedInline):
    model = Question
    form = QuestionForm
    formset = QuestionFormSet
    inlines = [ChoiceInline]
    sortable_field_name = "order"
    fieldsets = [
        (None, {"fields": [("order", "kind"), "prompt", ("time_limit", "points"), "preview_link"]}),
        (
            pgettext_lazy("question kind", "Slider"),
            {
                "fields": [SLIDER_FIELDS[:3], SLIDER_FIELDS[3:]],
                "classes": ["slider-fields"],
                "description": _("The range players pick from, the answer, and how far off still counts."),
            },
        ),
        (
            _("Explanation and image"),
            {"fields": ["explanation", ("image", "image_alt"), "image_preview"], "classes": ["collapse"]},
        ),
    ]
    readonly_fields = ("preview_link", "image_preview")
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})},
        models.FloatField: {"widget": forms.NumberInput(attrs={"step": "any", "class": "slider-input"})},
    }

    def get_extra(self, request: HttpRequest, obj=None, **kwargs) -> int:
        # "New quiz" opens with one question ready to type; a saved quiz adds them with "Add another".
        return 1 if obj is None else 0

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "order":
            field.widget = forms.NumberInput(attrs={"class": "order-input", "min": 0})
            field.help_text = _("Type a number to move the question, or drag its bar.")
        elif db_field.name == "prompt":
            field.label = _("Question")
        elif db_field.name == "slider_step":
            field.help_text = _("Empty: 1.")
        elif db_field.name == "slider_tolerance":
            field.help_text = format_lazy("{} {}", field.help_text, _("Empty: 0."))
        return field

    @admin.display(description=_("Preview"))
    def preview_link(self, question: Question) -> str:
        if question.pk is None:
            return gettext("Once the quiz is saved.")
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a> {}',
            preview_url(question),
            gettext("See it on a phone and on the projector"),
            gettext("(what is saved)"),
        )

    @admin.display(description=_("Current image"))
    def image_preview(self, question: Question) -> str:
        if not question.image:
            return gettext("No image")
        return format_html('<img src="{}" alt="{}" height="80">', question.image.url, question.image_alt)
