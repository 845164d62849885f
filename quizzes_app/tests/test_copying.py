"""Duplicating a quiz: from the admin's list and from the host dashboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from quizzes_app.io import quiz_to_dict
from quizzes_app.models import Question, Quiz
from quizzes_app.tests.editing import quiz_url, saved_state
from quizzes_app.tests.pictures import picture

QUIZ_LIST = reverse("admin:quizzes_app_quiz_changelist")


@pytest.fixture
def pictured_quiz(host, every_kind_quiz):
    from django.core.files.uploadedfile import SimpleUploadedFile

    quiz = every_kind_quiz(host)
    question = quiz.questions.first()
    question.image = SimpleUploadedFile("jupiter.png", picture(), "image/png")
    question.image_alt = "Jupiter"
    question.save()
    return quiz


def duplicate_url(quiz: Quiz) -> str:
    return reverse("quiz_duplicate", args=[quiz.pk])


def assert_a_copy(copy: Quiz, source: Quiz, owner) -> None:
    assert copy.pk != source.pk
    assert (copy.title, copy.owner, copy.default_time_limit) == (f"{source.title} (copy)", owner, 20)
    original, copied = quiz_to_dict(source), quiz_to_dict(copy)
    assert copied["questions"] == original["questions"]  # images included, as data URLs
    assert saved_state(copy) == saved_state(source)
    assert not set(copy.questions.values_list("pk", flat=True)) & set(
        source.questions.values_list("pk", flat=True)
    )


def test_admin_action_duplicates_with_images(client, host, pictured_quiz, media_root):
    client.force_login(host)
    response = client.post(
        QUIZ_LIST, {"action": "duplicate", "_selected_action": [pictured_quiz.pk]}, follow=True
    )
    copy = Quiz.objects.exclude(pk=pictured_quiz.pk).get()
    assert_a_copy(copy, pictured_quiz, host)
    assert "Made “Every kind (copy)”." in response.content.decode()
    # The copy names the same stored file: nothing deletes it with the original.
    shared = copy.questions.first().image.name
    assert shared == pictured_quiz.questions.first().image.name
    pictured_quiz.delete()
    assert (media_root / shared).exists()
    assert Question.objects.get(quiz=copy, order=0).image.name == shared


def test_a_superuser_duplicates_anyones_quiz_as_their_own(admin_client, admin_user, pictured_quiz):
    admin_client.post(QUIZ_LIST, {"action": "duplicate", "_selected_action": [pictured_quiz.pk]})
    assert Quiz.objects.exclude(pk=pictured_quiz.pk).get().owner == admin_user


def test_another_hosts_quiz_is_not_duplicated(client, make_host, make_quiz):
    theirs = make_quiz(make_host("host_b"))
    mine = make_host("host_a")
    client.force_login(mine)
    client.post(QUIZ_LIST, {"action": "duplicate", "_selected_action": [theirs.pk]})
    assert client.post(duplicate_url(theirs)).status_code == 404
    assert Quiz.objects.count() == 1


def test_dashboard_duplicate_opens_the_copy(client, host, pictured_quiz):
    client.force_login(host)
    dashboard = client.get(reverse("host_dashboard")).content.decode()
    assert f'action="{duplicate_url(pictured_quiz)}"' in dashboard
    response = client.post(duplicate_url(pictured_quiz))
    copy = Quiz.objects.exclude(pk=pictured_quiz.pk).get()
    assert response.url == f"{quiz_url(copy)}?next=%2Fhost%2F"
    assert_a_copy(copy, pictured_quiz, host)


def test_dashboard_duplicate_is_a_post_for_hosts(client, host, django_user_model, pictured_quiz):
    client.force_login(host)
    assert client.get(duplicate_url(pictured_quiz)).status_code == 405
    client.force_login(django_user_model.objects.create_user("student", password="pw"))
    assert client.post(duplicate_url(pictured_quiz)).status_code == 403
    client.logout()
    assert client.post(duplicate_url(pictured_quiz)).status_code == 302  # to the login page
    assert Quiz.objects.count() == 1


def test_a_long_title_still_says_copy(client, host, make_quiz):
    quiz = make_quiz(host, title="T" * 200)
    client.force_login(host)
    client.post(duplicate_url(quiz))
    copy = Quiz.objects.exclude(pk=quiz.pk).get()
    assert len(copy.title) == 200 and copy.title.endswith("T (copy)")
