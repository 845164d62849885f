"""The quiz page: a quiz, its questions and their choices written and checked on one page."""

from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from quizzes_app.kinds import Slider
from quizzes_app.models import Question, Quiz, quiz_problems
from quizzes_app.tests.editing import (
    QUIZ_ADD,
    choice_errors,
    existing,
    question,
    question_forms,
    quiz_post,
    quiz_url,
    saved_state,
)
from quizzes_app.tests.pictures import picture

DASHBOARD = "/host/"


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


@pytest.fixture
def quiz(host, make_quiz):
    return make_quiz(host)


def page_text(response) -> str:
    return html.unescape(response.content.decode())


SLIDER = {"slider_min": 0, "slider_max": 20, "slider_step": 1, "slider_correct": 8, "slider_tolerance": 0}
THREE_KINDS = [
    question("Largest planet?", ["Mars", "*Jupiter", "Venus", "Earth"], time_limit=30, explanation="By far."),
    question("Closest star to Earth?", ["The Sun", "Sun"], kind="text"),
    question("How many planets?", [], kind="slider", points=2000, **SLIDER),
]


def test_new_quiz_opens_with_one_question_of_four_answers(host_client):
    response = host_client.get(QUIZ_ADD)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="questions-0-prompt"' in body
    assert 'name="questions-1-prompt"' not in body
    for j in range(4):
        assert f'name="questions-0-choices-{j}-text"' in body
    assert 'name="questions-0-choices-4-text"' not in body
    assert "nested_admin/dist/nested_admin.min.js" in body
    assert "quizzes_app/quiz_editor.js" in body


def test_a_quiz_is_written_on_one_page(host_client, host):
    response = host_client.post(f"{QUIZ_ADD}?next={DASHBOARD}", quiz_post(THREE_KINDS))
    assert response.status_code == 302
    assert response.url == DASHBOARD
    quiz = Quiz.objects.get(title="Planets")
    assert quiz.owner == host
    assert saved_state(quiz) == [
        (
            "single",
            "Largest planet?",
            [("Mars", False), ("Jupiter", True), ("Venus", False), ("Earth", False)],
        ),
        ("text", "Closest star to Earth?", [("The Sun", False), ("Sun", False)]),
        ("slider", "How many planets?", []),
    ]
    first, _, slider = quiz.questions.all()
    assert (first.time_limit, first.explanation) == (30, "By far.")
    assert (slider.points, slider.slider_correct, slider.slider_max) == (2000, 8.0, 20.0)
    assert quiz_problems(quiz.pk) == []


def test_a_host_owns_what_they_write(host_client, host, make_host):
    other = make_host("host_b")
    assert "owner" not in host_client.get(QUIZ_ADD).context["adminform"].form.fields
    host_client.post(QUIZ_ADD, quiz_post(THREE_KINDS[:1], owner=other.pk))
    assert Quiz.objects.get().owner == host


def test_superuser_picks_the_owner(admin_client, host):
    assert "owner" in admin_client.get(QUIZ_ADD).context["adminform"].form.fields
    assert admin_client.post(QUIZ_ADD, quiz_post(THREE_KINDS[:1], owner=host.pk)).status_code == 302
    assert Quiz.objects.get().owner == host


def test_unsafe_next_is_ignored(host_client):
    response = host_client.post(f"{QUIZ_ADD}?next=https://evil.example/", quiz_post(THREE_KINDS[:1]))
    assert response.url == "/admin/quizzes_app/quiz/"


def test_save_and_continue_keeps_the_way_back(host_client):
    data = quiz_post(THREE_KINDS[:1], _continue="Save and continue editing")
    response = host_client.post(f"{QUIZ_ADD}?next={DASHBOARD}", data)
    quiz = Quiz.objects.get()
    assert response.url == f"{quiz_url(quiz)}?next=%2Fhost%2F"


def test_untouched_rows_are_left_out(host_client):
    """Extra answer rows and a question row the scripts numbered, but nobody typed in, save nothing."""
    spare = {"prompt": "", "kind": "single", "order": 5, "choices": [{"order": 3}, {"order": 4}]}
    item = question("Largest planet?", ["Mars", "*Jupiter"])
    item["choices"] += [{"order": 7}, {"order": 8}]
    response = host_client.post(QUIZ_ADD, quiz_post([item, spare]))
    assert response.status_code == 302
    assert saved_state(Quiz.objects.get()) == [
        ("single", "Largest planet?", [("Mars", False), ("Jupiter", True)])
    ]


# Nothing that cannot be played is saved; each mistake is shown where it is.

ONE_RIGHT = "Exactly one choice must be marked correct"
QUESTION_RULES = [
    (question("One?", ["*Only"]), "A question needs 2 to 6 choices; this one has 1."),
    (question("Seven?", ["*1", "2", "3", "4", "5", "6", "7"]), "needs 2 to 6 choices; this one has 7."),
    (question("None right?", ["a", "b"]), f"{ONE_RIGHT}; 0 are."),
    (question("Two right?", ["*a", "*b"]), f"{ONE_RIGHT}; 2 are."),
    (question("T?", ["*True", "False", "Maybe"], kind="truefalse"), "exactly 2 choices (True, False)"),
    (question("T?", ["True", "False"], kind="truefalse"), f"{ONE_RIGHT}; 0 are."),
    (question("Which?", ["a", "b"], kind="multi"), "At least one choice must be marked correct; none is."),
    (question("Vote?", ["*a", "b"], kind="poll"), "A poll has no correct answer; unmark the 1 marked"),
    (question("Type?", [], kind="text"), "needs 1 to 6 accepted answers; this one has 0."),
    (question("Slide?", ["a"], kind="slider", **SLIDER), "A slider question has no choices; remove them."),
]  # fmt: skip


@pytest.mark.parametrize(("item", "message"), QUESTION_RULES)
def test_choices_are_checked_for_their_kind(host_client, item, message):
    good = question("Largest planet?", ["Mars", "*Jupiter"])
    response = host_client.post(QUIZ_ADD, quiz_post([good, item]))
    assert response.status_code == 200
    assert not Quiz.objects.exists()
    assert any(message in error for error in choice_errors(response, 1)), choice_errors(response, 1)
    assert choice_errors(response, 0) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"slider_max": 0}, "slider_max", "The slider's minimum must be less than its maximum."),
        ({"slider_step": 0}, "slider_step", "The slider's step must be more than 0 and at most max - min."),
        ({"slider_correct": 21}, "slider_correct", "correct value must be between its minimum and maximum."),
        ({"slider_tolerance": -1}, "slider_tolerance", "The slider's tolerance cannot be negative."),
        ({"slider_min": None}, "slider_min", "A slider question needs its minimum, maximum, step"),
        ({"slider_correct": None}, "slider_correct", "A slider question needs its minimum, maximum, step"),
    ],
)
def test_a_slider_mistake_is_shown_at_its_field(host_client, fields, field, message):
    item = question("How many planets?", [], kind="slider", **{**SLIDER, **fields})
    response = host_client.post(QUIZ_ADD, quiz_post([item]))
    assert response.status_code == 200
    assert not Quiz.objects.exists()
    form = question_forms(response)[0]
    assert any(message in error for error in form.errors[field]), form.errors
    assert not form.non_field_errors()


def test_a_sliders_step_and_tolerance_may_be_left_empty(host_client):
    item = question(
        "How many?", [], kind="slider", **{**SLIDER, "slider_step": None, "slider_tolerance": None}
    )
    assert host_client.post(QUIZ_ADD, quiz_post([item])).status_code == 302
    assert Question.objects.get().slider == Slider(min=0, max=20, step=1, correct=8, tolerance=0)


def test_a_quiz_needs_a_question(host_client):
    response = host_client.post(QUIZ_ADD, quiz_post([]))
    assert response.status_code == 200
    assert (
        "A quiz needs at least one question."
        in response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    assert not Quiz.objects.exists()


def test_answers_without_a_question_are_not_dropped(host_client):
    item = {"prompt": "", "choices": [{"text": "Mars"}, {"text": "Venus", "is_correct": True}]}
    response = host_client.post(QUIZ_ADD, quiz_post([question("Largest?", ["*Jupiter", "Mars"]), item]))
    assert response.status_code == 200
    assert choice_errors(response, 1) == ["Type the question above these answers too, or clear them."]


def test_a_deleted_question_is_not_checked(host_client, quiz):
    rows = existing(quiz)
    rows[1]["choices"] = rows[1]["choices"][:1]  # would be one choice short, but is deleted
    rows[1]["DELETE"] = True
    assert host_client.post(quiz_url(quiz), quiz_post(rows, quiz=quiz)).status_code == 302
    assert [p for _, p, _ in saved_state(quiz)] == ["Capital of France?"]


def test_a_quiz_is_saved_whole_or_not_at_all(host_client, quiz):
    before = saved_state(quiz)
    rows = existing(quiz)
    rows[0]["prompt"] = "Changed?"
    rows[0]["choices"][2]["is_correct"] = True  # fine for a multi question...
    rows[0]["kind"] = "multi"
    rows[1]["choices"][1]["is_correct"] = False  # ...but the second is left without a right answer
    response = host_client.post(quiz_url(quiz), quiz_post(rows, quiz=quiz, title="Renamed"))
    assert response.status_code == 200
    assert choice_errors(response, 1) == ["Exactly one choice must be marked correct; 0 are."]
    quiz.refresh_from_db()
    assert (quiz.title, saved_state(quiz)) == ("Capitals", before)


def test_kind_change_is_checked_against_the_edited_kind(host_client, quiz):
    rows = existing(quiz)
    rows[1]["kind"] = "poll"  # its one correct choice is wrong for a poll
    response = host_client.post(quiz_url(quiz), quiz_post(rows, quiz=quiz))
    assert "A poll has no correct answer; unmark the 1 marked correct." in choice_errors(response, 1)
    rows[1]["choices"][1]["is_correct"] = False
    assert host_client.post(quiz_url(quiz), quiz_post(rows, quiz=quiz)).status_code == 302
    assert saved_state(quiz)[1] == ("poll", "Capital of Italy?", [("Paris", False), ("Rome", False)])


def test_a_question_made_a_slider_drops_its_choices_when_told(host_client, quiz):
    rows = existing(quiz)
    rows[1] |= {"kind": "slider", **SLIDER}
    response = host_client.post(quiz_url(quiz), quiz_post(rows, quiz=quiz))
    assert choice_errors(response, 1) == ["A slider question has no choices; remove them."]
    for row in rows[1]["choices"]:
        row["DELETE"] = True
    assert host_client.post(quiz_url(quiz), quiz_post(rows, quiz=quiz)).status_code == 302
    assert saved_state(quiz)[1] == ("slider", "Capital of Italy?", [])


# Reordering, adding and removing on the page.


def test_questions_and_choices_are_reordered_by_their_order_fields(host_client, quiz):
    rows = existing(quiz)
    rows[0]["order"], rows[1]["order"] = 1, 0
    choices = rows[0]["choices"]
    choices[0]["order"], choices[3]["order"] = 3, 0  # Berlin first, Paris last
    assert host_client.post(quiz_url(quiz), quiz_post(rows, quiz=quiz)).status_code == 302
    state = saved_state(quiz)
    assert [prompt for _, prompt, _ in state] == ["Capital of Italy?", "Capital of France?"]
    assert [text for text, _ in state[1][2]] == ["Berlin", "Rome", "Madrid", "Paris"]
    assert list(quiz.questions.values_list("order", flat=True)) == [0, 1]


def test_a_question_and_an_answer_are_added_to_a_saved_quiz(host_client, quiz):
    rows = existing(quiz)
    rows[1]["choices"].append({"text": "Milan", "order": 2})
    rows.append(question("Capital of Spain?", ["*Madrid", "Lisbon"], order=2))
    assert host_client.post(quiz_url(quiz), quiz_post(rows, quiz=quiz)).status_code == 302
    state = saved_state(quiz)
    assert state[1][2] == [("Paris", False), ("Rome", True), ("Milan", False)]
    assert state[2] == ("single", "Capital of Spain?", [("Madrid", True), ("Lisbon", False)])


def test_quiz_page_shows_every_question_with_its_answers(host_client, every_kind_quiz, host):
    quiz = every_kind_quiz(host)
    response = host_client.get(quiz_url(quiz))
    text = page_text(response)
    for prompt in (
        "Largest planet?",
        "Closest star to Earth?",
        "How many planets?",
        "Closest to the Sun first",
    ):
        assert prompt in text
    assert 'value="Jupiter"' in text and 'value="Mercury"' in text
    # What the answers are, by kind: the saved kind's line is marked for browsers without :has().
    assert '<p data-kind="text" class="current">Accepted answers (1 to 6' in text
    assert 'name="questions-5-slider_correct"' in text


def test_an_image_is_uploaded_on_the_quiz_page(host_client, media_root):
    item = question("Which planet is this?", ["*Mars", "Venus"], image_alt="A red planet")
    item["image"] = SimpleUploadedFile("mars.png", picture(), "image/png")
    assert host_client.post(QUIZ_ADD, quiz_post([item])).status_code == 302
    saved = Question.objects.get()
    assert saved.image.name.startswith("questions/") and (media_root / saved.image.name).exists()
    assert saved.image_alt == "A red planet"


def test_another_hosts_quiz_cannot_be_edited(host_client, make_host, make_quiz):
    theirs = make_quiz(make_host("host_b"), title="B's quiz")
    rows = existing(theirs)
    rows[0]["prompt"] = "Hijacked?"
    response = host_client.post(quiz_url(theirs), quiz_post(rows, quiz=theirs, title="Hijacked"))
    assert response.status_code in (302, 403, 404)
    theirs.refresh_from_db()
    assert theirs.title == "B's quiz"
    assert saved_state(theirs)[0][1] == "Capital of France?"
