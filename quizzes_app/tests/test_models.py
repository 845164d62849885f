"""Model-level validation of questions and their choices."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from quizzes_app.kinds import check_question
from quizzes_app.models import Choice, Question


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ([True], "A question needs 2 to 6 choices; this one has 1."),
        ([True] + [False] * 6, "A question needs 2 to 6 choices; this one has 7."),
        ([False, False, False], "Exactly one choice must be marked correct; 0 are."),
        ([True, True, False], "Exactly one choice must be marked correct; 2 are."),
    ],
)
def test_check_choices_refuses(flags, message):
    with pytest.raises(ValidationError) as excinfo:
        check_question("single", flags)
    assert excinfo.value.messages == [message]


@pytest.mark.parametrize("flags", [[True, False], [False, False, True, False, False, False]])
def test_check_choices_accepts(flags):
    check_question("single", flags)


def test_full_clean_of_saved_question_checks_its_choices(host, make_quiz):
    question = make_quiz(host).questions.first()
    question.full_clean()
    Choice.objects.filter(question=question).update(is_correct=True)
    with pytest.raises(ValidationError, match="Exactly one choice"):
        question.full_clean()
    Choice.objects.filter(question=question).exclude(order=0).delete()
    with pytest.raises(ValidationError, match="this one has 1"):
        question.full_clean()


def test_empty_prompt_is_refused(host, make_quiz):
    quiz = make_quiz(host)
    with pytest.raises(ValidationError) as excinfo:
        Question(quiz=quiz, prompt="   ").full_clean()
    assert "prompt" in excinfo.value.message_dict


def test_effective_time_limit_falls_back_to_quiz_default(host, make_quiz):
    quiz = make_quiz(host, default_time_limit=30)
    question = quiz.questions.first()
    assert question.effective_time_limit == 30
    question.time_limit = 12
    assert question.effective_time_limit == 12
