"""Quizzes as authored: ordered questions of a kind (quizzes_app/kinds.py), each with ordered choices."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from quizzes_app.images import question_image_path, validate_question_image
from quizzes_app.kinds import MAX_CHOICES, MIN_CHOICES, Kind, Slider, check_question

__all__ = ["MAX_CHOICES", "MIN_CHOICES", "Choice", "Kind", "Question", "Quiz", "quiz_problems"]

MIN_TIME_LIMIT, MAX_TIME_LIMIT = 5, 240
POINTS_CHOICES = [(0, _("No points")), (1000, _("Standard (1000)")), (2000, _("Double (2000)"))]
EXPLANATION_MAX = 1000


PROMPT_PREVIEW_CHARS = 40


def question_label(number: int, prompt: str | None) -> str:
    """'Question 3 ("What is...")', so an author can find the question in a long quiz."""
    prompt = " ".join(prompt.split()) if isinstance(prompt, str) else ""
    if not prompt:
        return gettext("Question %(number)s") % {"number": number}
    if len(prompt) > PROMPT_PREVIEW_CHARS:
        prompt = prompt[:PROMPT_PREVIEW_CHARS].rstrip() + "..."
    return gettext('Question %(number)s ("%(prompt)s")') % {"number": number, "prompt": prompt}


def quiz_problems(quiz_id: int) -> list[str]:
    """Why a saved quiz cannot be played, one line per question at fault; empty when it can.

    The admin saves a question before its choices, so a quiz can be left unplayable: this is what
    the admin warns of and what refuses to start a session or a quiz.
    """
    questions = list(Question.objects.filter(quiz_id=quiz_id).order_by("order", "pk"))
    flags: dict[int, list[bool]] = {}
    for question_pk, is_correct in (
        Choice.objects.filter(question__quiz_id=quiz_id)
        .order_by("order", "pk")
        .values_list("question_id", "is_correct")
    ):
        flags.setdefault(question_pk, []).append(is_correct)
    problems = []
    for number, question in enumerate(questions, start=1):
        try:
            check_question(question.kind, flags.get(question.pk, []), question.slider)
        except ValidationError as exc:
            problems.append(f"{question_label(number, question.prompt)}: {exc.messages[0]}")
    if not questions:
        problems.append(gettext("The quiz has no questions."))
    return problems


class Quiz(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quizzes", verbose_name=_("owner")
    )
    default_time_limit = models.PositiveSmallIntegerField(
        _("default time limit"),
        default=20,
        validators=[MinValueValidator(MIN_TIME_LIMIT), MaxValueValidator(MAX_TIME_LIMIT)],
        help_text=_("Seconds per question unless the question sets its own."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")
        ordering = ["-updated_at", "pk"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions", verbose_name=_("quiz"))
    order = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    prompt = models.TextField(_("prompt"))
    time_limit = models.PositiveSmallIntegerField(
        _("time limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TIME_LIMIT), MaxValueValidator(MAX_TIME_LIMIT)],
        help_text=_("Seconds; empty uses the quiz default."),
    )
    points = models.PositiveSmallIntegerField(_("points"), choices=POINTS_CHOICES, default=1000)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    explanation = models.TextField(
        _("explanation"),
        blank=True,
        max_length=EXPLANATION_MAX,
        help_text=_("Optional; shown to everyone when the answer is revealed."),
    )
    image = models.ImageField(
        _("image"), upload_to=question_image_path, blank=True, validators=[validate_question_image],
        help_text=_("Optional; PNG, JPEG, GIF or WebP, up to 5 MB. Shown on the big screen and on phones."),
    )  # fmt: skip
    image_alt = models.CharField(
        _("image description"),
        max_length=200,
        blank=True,
        help_text=_("What the image shows, for screen readers."),
    )
    # Slider questions only: the range a student picks from, the answer, and how far off still counts.
    slider_min = models.FloatField(_("minimum"), null=True, blank=True)
    slider_max = models.FloatField(_("maximum"), null=True, blank=True)
    slider_step = models.FloatField(_("step"), null=True, blank=True)
    slider_correct = models.FloatField(_("correct value"), null=True, blank=True)
    slider_tolerance = models.FloatField(
        _("tolerance"),
        null=True,
        blank=True,
        help_text=_("An answer this close to the correct value counts."),
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.prompt[:60]

    @property
    def effective_time_limit(self) -> int:
        return self.time_limit or self.quiz.default_time_limit

    @property
    def slider(self) -> Slider | None:
        if self.kind != Kind.SLIDER:
            return None
        return Slider(
            min=self.slider_min, max=self.slider_max, step=self.slider_step,
            correct=self.slider_correct, tolerance=self.slider_tolerance or 0.0,
        )  # fmt: skip

    def clean(self) -> None:
        if not self.prompt.strip():
            raise ValidationError({"prompt": _("The prompt cannot be empty.")})
        if self.kind == Kind.SLIDER:
            check_question(self.kind, [], self.slider)
        # Unsaved questions get their choices checked by the admin formset or the importer.
        if self.pk:
            check_question(self.kind, list(self.choices.values_list("is_correct", flat=True)), self.slider)


class Choice(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("text"), max_length=200)
    is_correct = models.BooleanField(_("is correct"), default=False)

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text
