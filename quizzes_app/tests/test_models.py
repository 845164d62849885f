"""Model-level validation of questions and their choices."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from quizzes_app.kinds import MAX_SLIDER_STEPS, Slider, check_question
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


# check_question, kind by kind, at the edges of what each accepts.

T, F = True, False


def slider(**fields) -> Slider:
    return Slider(**{"min": 0, "max": 10, "step": 1, "correct": 5, "tolerance": 0, **fields})


@pytest.mark.parametrize(
    ("kind", "flags", "slider_"),
    [
        ("single", [T, F], None),
        ("single", [F] * 5 + [T], None),
        ("multi", [T, F], None),
        ("multi", [T] * 6, None),
        ("truefalse", [T, F], None),
        ("truefalse", [F, T], None),
        ("poll", [F, F], None),
        ("poll", [F] * 6, None),
        ("order", [F, F], None),
        ("order", [T, F, T, F, T, F], None),  # is_correct is not used
        ("text", [F], None),
        ("text", [T] * 6, None),  # neither here
        ("slider", [], slider()),
        ("slider", [], slider(correct=0, tolerance=10)),  # the correct value at an end
        ("slider", [], slider(correct=10)),
        ("slider", [], slider(step=10)),  # one step from min to max
        ("slider", [], slider(min=-1.5, max=1.5, step=0.25, correct=-0.25, tolerance=0.1)),
        ("slider", [], slider(max=MAX_SLIDER_STEPS, step=1)),
    ],
)
def test_check_question_accepts(kind, flags, slider_):
    check_question(kind, flags, slider_)


@pytest.mark.parametrize(
    ("kind", "flags", "slider_", "message"),
    [
        (
            "truefalse",
            [T, F, F],
            None,
            "A true-or-false question has exactly 2 choices (True, False); this one has 3.",
        ),
        (
            "truefalse",
            [T],
            None,
            "A true-or-false question has exactly 2 choices (True, False); this one has 1.",
        ),
        ("truefalse", [T, T], None, "Exactly one choice must be marked correct; 2 are."),
        ("truefalse", [F, F], None, "Exactly one choice must be marked correct; 0 are."),
        ("multi", [F, F, F], None, "At least one choice must be marked correct; none is."),
        ("multi", [T], None, "A question needs 2 to 6 choices; this one has 1."),
        ("multi", [T] * 7, None, "A question needs 2 to 6 choices; this one has 7."),
        ("poll", [T, F], None, "A poll has no correct answer; unmark the 1 marked correct."),
        ("poll", [F], None, "A question needs 2 to 6 choices; this one has 1."),
        ("order", [F], None, "A question needs 2 to 6 choices; this one has 1."),
        ("order", [F] * 7, None, "A question needs 2 to 6 choices; this one has 7."),
        ("text", [], None, "A typed-answer question needs 1 to 6 accepted answers; this one has 0."),
        ("text", [F] * 7, None, "A typed-answer question needs 1 to 6 accepted answers; this one has 7."),
        ("slider", [F], slider(), "A slider question has no choices; remove them."),
        (
            "slider",
            [],
            None,
            "A slider question needs its minimum, maximum, step, correct value and tolerance.",
        ),
        ("slider", [], slider(step=None), "A slider question needs its minimum, maximum, step, correct"),
        ("slider", [], slider(max=float("inf")), "A slider question needs its minimum, maximum, step"),
        ("slider", [], slider(max=0, correct=0), "The slider's minimum must be less than its maximum."),
        ("slider", [], slider(min=3, max=2), "The slider's minimum must be less than its maximum."),
        ("slider", [], slider(step=0), "The slider's step must be more than 0 and at most max - min."),
        ("slider", [], slider(step=-1), "The slider's step must be more than 0 and at most max - min."),
        ("slider", [], slider(step=10.5), "The slider's step must be more than 0 and at most max - min."),
        (
            "slider",
            [],
            slider(max=MAX_SLIDER_STEPS + 1),
            f"The slider has more than {MAX_SLIDER_STEPS} steps.",
        ),
        ("slider", [], slider(correct=10.01), "The slider's correct value must be between its minimum and"),
        ("slider", [], slider(correct=-0.01), "The slider's correct value must be between its minimum and"),
        ("slider", [], slider(tolerance=-0.1), "The slider's tolerance cannot be negative."),
        ("essay", [T, F], None, "Unknown question kind 'essay'."),
    ],
)
def test_check_question_refuses(kind, flags, slider_, message):
    with pytest.raises(ValidationError) as excinfo:
        check_question(kind, flags, slider_)
    assert excinfo.value.messages[0].startswith(message)


def test_slider_question_is_checked_before_it_is_saved(host, make_quiz):
    quiz = make_quiz(host)
    question = Question(quiz=quiz, prompt="How many?", kind="slider", slider_min=0, slider_max=0)
    with pytest.raises(ValidationError, match="A slider question needs its minimum"):
        question.full_clean()
    question.slider_step, question.slider_correct, question.slider_max = 1, 0, 0
    with pytest.raises(ValidationError, match="minimum must be less than its maximum"):
        question.full_clean()
    question.slider_max = 5
    question.full_clean()  # tolerance left empty counts as 0
