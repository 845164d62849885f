"""The quiz admin: a question's own page, scoping by host, JSON upload and export (quiz page: test_editor)."""

from __future__ import annotations

import hashlib
import html
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from quizzes_app.io import quiz_to_dict, quiz_to_json
from quizzes_app.models import Choice, Question, Quiz, quiz_problems
from quizzes_app.tests.pictures import data_url, picture

QUIZ_ADD = reverse("admin:quizzes_app_quiz_add")
QUIZ_LIST = reverse("admin:quizzes_app_quiz_changelist")
QUIZ_IMPORT = reverse("admin:quizzes_app_quiz_import")
QUESTION_ADD = reverse("admin:quizzes_app_question_add")


def quiz_url(quiz: Quiz, action: str = "change") -> str:
    return reverse(f"admin:quizzes_app_quiz_{action}", args=[quiz.pk])


def question_url(question: Question, action: str = "change") -> str:
    return reverse(f"admin:quizzes_app_question_{action}", args=[question.pk])


def question_form(question: Question | None, rows: list[dict], **fields) -> dict:
    """POST data for the question change form; rows are choices, existing ones with an "id"."""
    initial = sum(1 for row in rows if row.get("id"))
    data = {
        "quiz": question.quiz_id if question else "",
        "order": question.order if question else 0,
        "prompt": question.prompt if question else "",
        "kind": question.kind if question else "single",
        "time_limit": "",
        "points": 1000,
        "choices-TOTAL_FORMS": len(rows),
        "choices-INITIAL_FORMS": initial,
        "choices-MIN_NUM_FORMS": 0,
        "choices-MAX_NUM_FORMS": 6,
        **fields,
    }
    for i, row in enumerate(rows):
        data[f"choices-{i}-id"] = row.get("id", "")
        data[f"choices-{i}-question"] = question.pk if question and row.get("id") else ""
        data[f"choices-{i}-order"] = row.get("order", i)
        data[f"choices-{i}-text"] = row["text"]
        if row.get("is_correct"):
            data[f"choices-{i}-is_correct"] = "on"
        if row.get("DELETE"):
            data[f"choices-{i}-DELETE"] = "on"
    return data


def existing_rows(question: Question) -> list[dict]:
    return [
        {"id": c.pk, "order": c.order, "text": c.text, "is_correct": c.is_correct}
        for c in question.choices.all()
    ]


def choice_state(question: Question) -> list[tuple[str, bool]]:
    return list(question.choices.values_list("text", "is_correct"))


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """The manifest storage needs collectstatic; admin pages only need URLs."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def quiz(host, make_quiz):
    return make_quiz(host)


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


# Choice validation through the change view.


def _delete_all_but_one(rows):
    for row in rows[1:]:
        row["DELETE"] = True


def _mark_none(rows):
    for row in rows:
        row["is_correct"] = False


def _mark_two(rows):
    rows[1]["is_correct"] = True


def _add_three(rows):
    rows += [{"text": f"extra {i}"} for i in range(3)]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_delete_all_but_one, "A question needs 2 to 6 choices; this one has 1."),
        (_add_three, "A question needs 2 to 6 choices; this one has 7."),
        (_mark_none, "Exactly one choice must be marked correct; 0 are."),
        (_mark_two, "Exactly one choice must be marked correct; 2 are."),
    ],
)
def test_bad_choices_are_rejected(host_client, quiz, edit, message):
    question = quiz.questions.first()
    before = choice_state(question)
    rows = existing_rows(question)
    edit(rows)
    response = host_client.post(question_url(question), question_form(question, rows, prompt="Changed?"))
    assert response.status_code == 200
    assert message in response.content.decode()
    question.refresh_from_db()
    assert question.prompt == "Capital of France?"
    assert choice_state(question) == before


def test_good_choice_edit_is_saved(host_client, quiz):
    question = quiz.questions.first()
    rows = existing_rows(question)
    rows[0]["is_correct"], rows[2]["is_correct"] = False, True
    rows[3]["DELETE"] = True
    rows.append({"text": "Lisbon", "order": 9})
    response = host_client.post(question_url(question), question_form(question, rows))
    assert response.status_code == 302
    assert choice_state(question) == [
        ("Paris", False),
        ("Rome", False),
        ("Madrid", True),
        ("Lisbon", False),
    ]


def test_empty_extra_rows_are_ignored(host_client, quiz):
    question = quiz.questions.last()
    # Untouched extra rows arrive with the default order and no text.
    rows = [*existing_rows(question), {"text": "", "order": 0}, {"text": "", "order": 0}]
    response = host_client.post(question_url(question), question_form(question, rows))
    assert response.status_code == 302
    assert question.choices.count() == 2


def test_question_without_choices_can_be_fixed(host_client, quiz):
    """A question added in the quiz form has no choices yet; its own page must still save."""
    question = Question.objects.create(quiz=quiz, order=5, prompt="Capital of Spain?")
    rows = [{"text": "Madrid", "is_correct": True}, {"text": "Porto"}]
    response = host_client.post(question_url(question), question_form(question, rows))
    assert response.status_code == 302
    assert choice_state(question) == [("Madrid", True), ("Porto", False)]


def test_add_question_with_choices(host_client, quiz):
    rows = [{"text": "Yes"}, {"text": "No", "is_correct": True}, {"text": "", "order": 0}]
    data = question_form(None, rows, quiz=quiz.pk, prompt="Is the sky green?", points=2000)
    response = host_client.post(QUESTION_ADD, data)
    assert response.status_code == 302
    question = Question.objects.get(prompt="Is the sky green?")
    assert (question.quiz, question.points) == (quiz, 2000)
    assert choice_state(question) == [("Yes", False), ("No", True)]


def test_add_question_with_one_choice_saves_nothing(host_client, quiz):
    data = question_form(None, [{"text": "Yes", "is_correct": True}], quiz=quiz.pk, prompt="Lonely?")
    response = host_client.post(QUESTION_ADD, data)
    assert "A question needs 2 to 6 choices; this one has 1." in response.content.decode()
    assert not Question.objects.filter(prompt="Lonely?").exists()


# Scoping: a host sees only their own quizzes.


@pytest.fixture
def other_quiz(make_host, make_quiz):
    return make_quiz(make_host("host_b"), title="B's secret quiz")


def test_changelist_shows_only_own_quizzes(host_client, quiz, other_quiz):
    response = host_client.get(QUIZ_LIST)
    assert list(response.context["cl"].result_list) == [quiz]
    assert "B&#x27;s secret quiz" not in response.content.decode()
    assert response.context["cl"].result_list[0].question_count == 2


def test_superuser_sees_all(admin_client, quiz, other_quiz):
    response = admin_client.get(QUIZ_LIST)
    assert set(response.context["cl"].result_list) == {quiz, other_quiz}
    assert admin_client.get(quiz_url(other_quiz)).status_code == 200


@pytest.mark.parametrize("action", ["change", "delete", "history"])
def test_no_form_for_another_hosts_quiz(host_client, other_quiz, action):
    response = host_client.get(quiz_url(other_quiz, action))
    assert response.status_code in (302, 403, 404)
    assert "<form" not in response.content.decode()


def test_no_post_to_another_hosts_quiz(host_client, other_quiz):
    host_client.post(quiz_url(other_quiz, "delete"), {"post": "yes"})
    host_client.post(quiz_url(other_quiz), {"title": "Hijacked", "default_time_limit": 20})
    other_quiz.refresh_from_db()
    assert other_quiz.title == "B's secret quiz"


@pytest.mark.parametrize("action", ["change", "delete"])
def test_no_form_for_another_hosts_question(host_client, other_quiz, action):
    response = host_client.get(question_url(other_quiz.questions.first(), action))
    assert response.status_code in (302, 403, 404)
    assert "<form" not in response.content.decode()


def test_cannot_add_question_to_another_hosts_quiz(host_client, quiz, other_quiz):
    rows = [{"text": "a", "is_correct": True}, {"text": "b"}]
    response = host_client.post(QUESTION_ADD, question_form(None, rows, quiz=other_quiz.pk, prompt="Sneaky"))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Question.objects.filter(prompt="Sneaky").exists()
    # The dropdown offers only the host's own quizzes.
    assert list(response.context["adminform"].form.fields["quiz"].queryset) == [quiz]


def test_cannot_move_own_question_to_another_hosts_quiz(host_client, quiz, other_quiz):
    question = quiz.questions.first()
    data = question_form(question, existing_rows(question), quiz=other_quiz.pk)
    host_client.post(question_url(question), data)
    question.refresh_from_db()
    assert question.quiz == quiz


def test_question_changelist_is_scoped(host_client, quiz, other_quiz, make_quiz, host):
    url = reverse("admin:quizzes_app_question_changelist")
    one = count_queries(host_client, url)
    more = make_quiz(host, title="More")
    assert count_queries(host_client, url) == one
    response = host_client.get(url)
    assert {q.quiz for q in response.context["cl"].result_list} == {quiz, more}
    assert "B&#x27;s secret quiz" not in response.content.decode()


def test_quiz_changelist_has_no_n_plus_one(admin_client, admin_user, make_quiz):
    make_quiz(admin_user)
    one = count_queries(admin_client, QUIZ_LIST)
    for n in range(5):
        make_quiz(admin_user, title=f"More {n}")
    assert count_queries(admin_client, QUIZ_LIST) == one


# JSON upload and export.


def test_changelist_has_import_button(host_client):
    assert f'href="{QUIZ_IMPORT}"' in host_client.get(QUIZ_LIST).content.decode()


def test_upload_page_imports_and_redirects(host_client, host):
    assert host_client.get(QUIZ_IMPORT).status_code == 200
    payload = {"title": "Uploaded", "questions": [{"prompt": "P?", "options": ["a", "b"], "correct_idx": 1}]}
    upload = SimpleUploadedFile("quiz.json", json.dumps(payload).encode(), "application/json")
    response = host_client.post(QUIZ_IMPORT, {"file": upload}, follow=True)
    quiz = Quiz.objects.get(title="Uploaded")
    assert quiz.owner == host
    assert response.redirect_chain[-1][0] == quiz_url(quiz)
    assert "Imported “Uploaded” with 1 question." in response.content.decode()
    assert Choice.objects.get(question__quiz=quiz, is_correct=True).text == "b"


def test_upload_of_broken_file_shows_error(host_client, quiz):
    payload = {"title": "Broken", "questions": [{"prompt": "Only one?", "options": ["a"], "correct_idx": 0}]}
    upload = SimpleUploadedFile("quiz.json", json.dumps(payload).encode(), "application/json")
    response = host_client.post(QUIZ_IMPORT, {"file": upload})
    assert response.status_code == 200
    assert "Question 1 (&quot;Only one?&quot;) has 1 option; 2 to 6 are needed" in response.content.decode()
    assert Quiz.objects.count() == 1


def test_upload_over_10_mb_is_refused(host_client, quiz):
    upload = SimpleUploadedFile("quiz.json", b" " * (10 * 1024 * 1024 + 1), "application/json")
    response = host_client.post(QUIZ_IMPORT, {"file": upload})
    assert "The file is larger than 10 MB; manage.py import_quiz takes any size." in response.content.decode()
    assert Quiz.objects.count() == 1


def test_upload_needs_add_permission(client, django_user_model):
    staff = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(QUIZ_IMPORT).status_code == 403


def export(client, *quizzes):
    data = {"action": "export_json", "_selected_action": [q.pk for q in quizzes]}
    return client.post(QUIZ_LIST, data)


def test_export_action_one_quiz(host_client, quiz):
    response = export(host_client, quiz)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="quiz-{quiz.pk}-capitals.json"'
    assert json.loads(response.content) == quiz_to_dict(quiz)


def test_export_action_several_quizzes(host_client, host, quiz, make_quiz):
    second = make_quiz(host, title="Second")
    response = export(host_client, quiz, second)
    assert response["Content-Disposition"] == 'attachment; filename="quizzes.json"'
    assert json.loads(response.content) == [quiz_to_dict(quiz), quiz_to_dict(second)]


def test_export_action_skips_another_hosts_quiz(host_client, other_quiz):
    response = export(host_client, other_quiz)
    assert response.status_code == 302
    assert "B's secret quiz" not in response.content.decode()


# A quiz that cannot be played yet is said so on its page.


UNPLAYABLE = (
    'This quiz cannot be played yet: Question 2 ("Capital of Italy?"): '
    "A question needs 2 to 6 choices; this one has 0."
)


@pytest.fixture
def broken_quiz(quiz):
    Choice.objects.filter(question=quiz.questions.get(prompt="Capital of Italy?")).delete()
    return quiz


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_change_page_of_an_unplayable_quiz_warns_naming_the_question(host_client, broken_quiz):
    response = host_client.get(quiz_url(broken_quiz))
    assert response.status_code == 200
    assert page_text(response).count(UNPLAYABLE) == 1
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]


def test_change_page_of_a_playable_quiz_has_no_warning(host_client, quiz):
    response = host_client.get(quiz_url(quiz))
    assert response.status_code == 200
    assert "cannot be played" not in page_text(response)
    assert list(response.context["messages"]) == []


def test_another_hosts_unplayable_quiz_is_not_described(host_client, other_quiz):
    Choice.objects.filter(question__quiz=other_quiz).delete()
    response = host_client.get(quiz_url(other_quiz), follow=True)
    assert "cannot be played" not in page_text(response)
    assert "Capital of Italy" not in page_text(response)


# Question kinds, explanations, images and sliders (issue #14).


def test_question_page_shows_every_field_of_a_kind(host_client, quiz):
    response = host_client.get(question_url(quiz.questions.first()))
    assert response.status_code == 200
    fields = response.context["adminform"].form.fields
    for name in ("kind", "prompt", "time_limit", "points", "explanation", "image", "image_alt"):
        assert name in fields
    for name in ("slider_min", "slider_max", "slider_step", "slider_correct", "slider_tolerance"):
        assert name in fields
    assert [f.name for f in response.context["adminform"]] == [None, "Image", "Slider"]
    text = page_text(response)
    assert "Choices. Options: mark exactly one correct." in text.replace("</strong>", "")
    assert 'type="file" name="image" accept="image/*"' in response.content.decode()


def test_choice_help_follows_the_kind(host_client, quiz):
    question = quiz.questions.first()
    Question.objects.filter(pk=question.pk).update(kind="text")
    assert "Accepted answers (1 to 6" in page_text(host_client.get(question_url(question)))
    # Shown again with errors, the page explains the kind being saved, not the stored one.
    rows = [{"text": "Lima", "is_correct": True}, {"text": "Quito"}, {"text": "Bogotá"}]
    response = host_client.post(question_url(question), question_form(question, rows, kind="truefalse"))
    assert "A true-or-false question has exactly 2 choices (True, False); this one has 3." in page_text(
        response
    )
    assert "Options: exactly two, True and False" in page_text(response)


def test_text_question_saves_its_accepted_answers(host_client, quiz):
    question = quiz.questions.first()
    rows = existing_rows(question)[:2]
    for row in existing_rows(question)[2:]:
        rows.append({**row, "DELETE": True})
    rows[0]["is_correct"] = False
    response = host_client.post(question_url(question), question_form(question, rows, kind="text"))
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.kind == "text"
    assert choice_state(question) == [("Paris", False), ("Rome", False)]


@pytest.mark.parametrize(
    ("kind", "flags", "message"),
    [
        ("multi", [False, False], "At least one choice must be marked correct; none is."),
        ("poll", [True, False], "A poll has no correct answer; unmark the 1 marked correct."),
        ("truefalse", [True, True], "Exactly one choice must be marked correct; 2 are."),
    ],
)
def test_choices_are_checked_for_the_edited_kind(host_client, quiz, kind, flags, message):
    question = quiz.questions.last()  # two choices, one correct: right for single
    rows = [{**row, "is_correct": flag} for row, flag in zip(existing_rows(question), flags, strict=True)]
    response = host_client.post(question_url(question), question_form(question, rows, kind=kind))
    assert response.status_code == 200
    assert message in page_text(response)
    question.refresh_from_db()
    assert question.kind == "single"


SLIDER = {
    "kind": "slider",
    "slider_min": "0",
    "slider_max": "100",
    "slider_step": "5",
    "slider_correct": "25",
    "slider_tolerance": "5",
}


def test_add_slider_question(host_client, quiz):
    data = question_form(None, [], quiz=quiz.pk, prompt="What percent is a quarter?", **SLIDER)
    response = host_client.post(QUESTION_ADD, data)
    assert response.status_code == 302
    question = Question.objects.get(prompt="What percent is a quarter?")
    assert (question.kind, question.slider_min, question.slider_max) == ("slider", 0.0, 100.0)
    assert (question.slider_step, question.slider_correct, question.slider_tolerance) == (5.0, 25.0, 5.0)
    assert not question.choices.exists()
    assert quiz_problems(quiz.pk) == []
    page = host_client.get(question_url(question))
    assert "None: a slider question has no answers to list" in page_text(page)
    assert page.context["inline_admin_formsets"][0].formset.extra == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"slider_max": "0"}, "The slider's minimum must be less than its maximum."),
        ({"slider_step": "0"}, "The slider's step must be more than 0 and at most max - min."),
        ({"slider_correct": "101"}, "The slider's correct value must be between its minimum and maximum."),
        ({"slider_tolerance": "-1"}, "The slider's tolerance cannot be negative."),
        (
            {"slider_correct": ""},
            "A slider question needs its minimum, maximum, step, correct value and tolerance.",
        ),
    ],
)
def test_unplayable_slider_is_not_saved(host_client, quiz, fields, message):
    data = question_form(None, [], quiz=quiz.pk, prompt="Slide?", **{**SLIDER, **fields})
    response = host_client.post(QUESTION_ADD, data)
    assert response.status_code == 200
    assert message in page_text(response)
    assert not Question.objects.filter(prompt="Slide?").exists()


def test_question_made_a_slider_must_lose_its_choices(host_client, quiz):
    question = quiz.questions.last()
    response = host_client.post(
        question_url(question), question_form(question, existing_rows(question), **SLIDER)
    )
    assert "A slider question has no choices; remove them." in page_text(response)
    question.refresh_from_db()
    assert question.kind == "single"
    rows = [{**row, "DELETE": True} for row in existing_rows(question)]
    response = host_client.post(question_url(question), question_form(question, rows, **SLIDER))
    assert response.status_code == 302
    question.refresh_from_db()
    assert (question.kind, question.choices.count(), question.slider_correct) == ("slider", 0, 25.0)


def test_question_list_shows_kind_and_what_is_wrong(host_client, quiz):
    Question.objects.filter(pk=quiz.questions.first().pk).update(kind="poll")
    response = host_client.get(reverse("admin:quizzes_app_question_changelist"))
    text = page_text(response)
    assert "Poll (not scored)" in text
    assert "4 (A poll has no correct answer; unmark the 1 marked correct.)" in text


def test_explanation_is_saved(host_client, quiz):
    question = quiz.questions.first()
    data = question_form(
        question, existing_rows(question), explanation="Paris has been the capital since 987."
    )
    assert host_client.post(question_url(question), data).status_code == 302
    question.refresh_from_db()
    assert question.explanation == "Paris has been the capital since 987."


# Images: checked by their content, stored under MEDIA_ROOT by their hash.

PNG = picture()


def upload(data: bytes, name: str = "map.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type)


def test_image_upload_is_stored_by_its_hash(host_client, quiz, media_root):
    question = quiz.questions.first()
    data = question_form(question, existing_rows(question), image=upload(PNG, "Map of France.PNG"))
    data["image_alt"] = "A map of France with Paris marked"
    assert host_client.post(question_url(question), data).status_code == 302
    question.refresh_from_db()
    assert question.image.name == f"questions/{hashlib.sha256(PNG).hexdigest()}.png"
    assert (media_root / question.image.name).read_bytes() == PNG
    assert question.image_alt == "A map of France with Paris marked"
    page = host_client.get(question_url(question)).content.decode()
    assert (
        f'<img src="/media/{question.image.name}" alt="A map of France with Paris marked" height="120">'
        in page
    )


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"just some text", "notes.png", "Upload a valid image."),
        (b"%PDF-1.4 not an image", "doc.pdf", "Upload a valid image."),
        (picture("BMP"), "old.bmp", "Images must be PNG, JPEG, GIF or WebP."),
        (PNG + bytes(5 * 1024 * 1024), "huge.png", "The image is larger than 5 MB."),
    ],
)
def test_bad_image_upload_is_refused(host_client, quiz, media_root, data, name, message):
    question = quiz.questions.first()
    form = question_form(question, existing_rows(question), image=upload(data, name), prompt="Changed?")
    response = host_client.post(question_url(question), form)
    assert response.status_code == 200
    assert message in page_text(response)
    question.refresh_from_db()
    assert (question.prompt, question.image.name) == ("Capital of France?", "")
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP"])
def test_other_image_formats_are_taken(host_client, quiz, fmt):
    """Named .jpg, stored with the extension of what it is."""
    question = quiz.questions.first()
    form = question_form(question, existing_rows(question), image=upload(picture(fmt), "picture.jpg"))
    assert host_client.post(question_url(question), form).status_code == 302
    question.refresh_from_db()
    assert question.image.name.endswith({"JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}[fmt])


def test_question_whose_image_file_is_gone_can_still_be_saved(host_client, quiz, media_root):
    question = quiz.questions.first()
    form = question_form(question, existing_rows(question), image=upload(PNG))
    host_client.post(question_url(question), form)
    question.refresh_from_db()
    (media_root / question.image.name).unlink()
    response = host_client.post(question_url(question), question_form(question, existing_rows(question)))
    assert response.status_code == 302


def test_upload_page_imports_every_kind_with_an_image(host_client, host, make_quiz):
    source = make_quiz(host, [("Which is blue?", ["Sky", "Grass"], 0)], title="Colours")
    Question.objects.filter(quiz=source).update(kind="multi")
    question = source.questions.get()
    question.image = upload(PNG)
    question.save()
    payload = quiz_to_json(source).replace('"Colours"', '"Colours again"')
    response = host_client.post(
        QUIZ_IMPORT, {"file": upload(payload.encode(), "quiz.json", "application/json")}
    )
    assert response.status_code == 302
    copy = Quiz.objects.get(title="Colours again")
    assert quiz_to_dict(copy)["questions"] == quiz_to_dict(source)["questions"]
    assert "data:image/png;base64," + data_url(PNG).split(",")[1] in payload
