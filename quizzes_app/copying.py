"""Duplicating a quiz: its questions, their choices and images, for the host who asks."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext

from quizzes_app.models import Choice, Question, Quiz

MAX_TITLE = Quiz._meta.get_field("title").max_length


def copy_title(title: str) -> str:
    """'<title> (copy)' in the language of whoever duplicates it, cut to fit the title's length."""
    pattern = gettext("%(title)s (copy)")
    room = MAX_TITLE - len(pattern % {"title": ""})
    return pattern % {"title": title[:room]}


def quiz_copy(quiz: Quiz, *, owner: AbstractBaseUser) -> Quiz:
    """A new quiz titled "... (copy)", owned by owner, with copies of the questions and their choices.

    A copied question points at the same stored image file as its original rather than a copy of it.
    That is safe because an image file never changes (it is named by its content, see images.py) and
    nothing deletes one when its question or quiz is deleted, so either quiz can go without the other
    losing its pictures. Whoever adds a clean-up of unused images must look for every question that
    names the file, not just one.
    """
    questions = list(quiz.questions.prefetch_related("choices").order_by("order", "pk"))
    with transaction.atomic():
        copy = Quiz.objects.create(
            title=copy_title(quiz.title),
            description=quiz.description,
            owner=owner,
            default_time_limit=quiz.default_time_limit,
        )
        choices = {question.pk: list(question.choices.all()) for question in questions}
        originals = [question.pk for question in questions]
        for question in questions:
            question.pk = None  # saved as a new row; its image keeps the stored file's name
            question._state.adding = True
            question.quiz = copy
        Question.objects.bulk_create(questions)
        Choice.objects.bulk_create(
            Choice(question=new, order=choice.order, text=choice.text, is_correct=choice.is_correct)
            for original, new in zip(originals, questions, strict=True)
            for choice in choices[original]
        )
    return copy
