"""Quizzes as authored: a quiz has ordered questions, each with 2 to 6 ordered choices."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

MIN_CHOICES, MAX_CHOICES = 2, 6
MIN_TIME_LIMIT, MAX_TIME_LIMIT = 5, 240
POINTS_CHOICES = [(0, "No points"), (1000, "Standard (1000)"), (2000, "Double (2000)")]


def check_choices(correct_flags: list[bool]) -> None:
    """Raise ValidationError unless there are 2 to 6 choices and exactly one is correct."""
    count = len(correct_flags)
    if not MIN_CHOICES <= count <= MAX_CHOICES:
        raise ValidationError(
            f"A question needs {MIN_CHOICES} to {MAX_CHOICES} choices; this one has {count}.",
            code="choice_count",
        )
    correct = sum(1 for flag in correct_flags if flag)
    if correct != 1:
        raise ValidationError(
            f"Exactly one choice must be marked correct; {correct} are.", code="correct_count"
        )


PROMPT_PREVIEW_CHARS = 40


def question_label(number: int, prompt: str | None) -> str:
    """'Question 3 ("What is...")', so an author can find the question in a long quiz."""
    prompt = " ".join(prompt.split()) if isinstance(prompt, str) else ""
    if not prompt:
        return f"Question {number}"
    if len(prompt) > PROMPT_PREVIEW_CHARS:
        prompt = prompt[:PROMPT_PREVIEW_CHARS].rstrip() + "..."
    return f'Question {number} ("{prompt}")'


def quiz_problems(quiz_id: int) -> list[str]:
    """Why a saved quiz cannot be played, one line per question at fault; empty when it can.

    The admin saves a question before its choices, so a quiz can be left unplayable: this is what
    the admin warns of and what refuses to start a session or a quiz.
    """
    questions = list(
        Question.objects.filter(quiz_id=quiz_id).order_by("order", "pk").values_list("pk", "prompt")
    )
    flags: dict[int, list[bool]] = {}
    for question_pk, is_correct in Choice.objects.filter(question__quiz_id=quiz_id).values_list(
        "question_id", "is_correct"
    ):
        flags.setdefault(question_pk, []).append(is_correct)
    problems = []
    for number, (question_pk, prompt) in enumerate(questions, start=1):
        try:
            check_choices(flags.get(question_pk, []))
        except ValidationError as exc:
            problems.append(f"{question_label(number, prompt)}: {exc.messages[0]}")
    if not questions:
        problems.append("The quiz has no questions.")
    return problems


class Quiz(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quizzes")
    default_time_limit = models.PositiveSmallIntegerField(
        default=20,
        validators=[MinValueValidator(MIN_TIME_LIMIT), MaxValueValidator(MAX_TIME_LIMIT)],
        help_text="Seconds per question unless the question sets its own.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "quizzes"
        ordering = ["-updated_at", "pk"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveIntegerField(default=0, db_index=True)
    prompt = models.TextField()
    time_limit = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_TIME_LIMIT), MaxValueValidator(MAX_TIME_LIMIT)],
        help_text="Seconds; empty uses the quiz default.",
    )
    points = models.PositiveSmallIntegerField(choices=POINTS_CHOICES, default=1000)
    image = models.ImageField(upload_to="questions/", blank=True)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.prompt[:60]

    @property
    def effective_time_limit(self) -> int:
        return self.time_limit or self.quiz.default_time_limit

    def clean(self) -> None:
        if not self.prompt.strip():
            raise ValidationError({"prompt": "The prompt cannot be empty."})
        # Unsaved questions get their choices checked by the admin formset or the importer.
        if self.pk:
            check_choices(list(self.choices.values_list("is_correct", flat=True)))


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=200)
    is_correct = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text
