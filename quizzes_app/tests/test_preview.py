"""The quiz page's preview: a saved question on a phone and on the projector, with no session."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from quizzes_app.models import Quiz
from quizzes_app.preview import preview_url
from quizzes_app.tests.editing import quiz_url
from sessions_app.models import GameSession

KINDS = ("single", "multi", "truefalse", "poll", "text", "slider", "order")


@pytest.fixture
def quiz(host, every_kind_quiz) -> Quiz:
    return every_kind_quiz(host)


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


def screen(client, question, name: str, at: str = "open") -> str:
    url = reverse("admin:quizzes_app_quiz_preview_screen", args=[question.quiz_id, question.pk, name])
    response = client.get(url + ("?at=reveal" if at == "reveal" else ""))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_preview_page_frames_both_screens(host_client, quiz):
    question = quiz.questions.get(kind="multi")
    response = host_client.get(preview_url(question))
    assert response.status_code == 200
    text = response.content.decode()
    base = f"/admin/quizzes_app/quiz/{quiz.pk}/preview/{question.pk}"
    assert f'<iframe class="preview-phone" src="{base}/phone/"' in text
    assert f'<iframe class="preview-projector" src="{base}/projector/"' in text
    assert "Preview: question 2 of 7" in text
    first, third = quiz.questions.get(kind="single"), quiz.questions.get(kind="truefalse")
    assert f'href="{preview_url(first)}"' in text and f'href="{preview_url(third)}"' in text
    assert response["X-Frame-Options"] == "DENY"
    # Only the frames may be framed, and only by this site.
    frame = host_client.get(f"{base}/phone/")
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in frame["Content-Security-Policy"]
    assert "script-src 'self'" in frame["Content-Security-Policy"]


def test_a_question_as_it_opens(host_client, quiz):
    question = quiz.questions.get(kind="single")
    phone = screen(host_client, question, "phone")
    assert '<h2 id="stage-title" class="prompt" hx-disable>Largest planet?</h2>' in phone
    assert phone.count('class="answer opt') == 3 and "Jupiter" in phone
    assert '<span class="countdown-seconds">20</span> s left' in phone
    projector = screen(host_client, question, "projector")
    assert 'id="host-stage"' in projector and 'id="histogram"' in projector
    assert "0 of 0 answered" in projector
    assert "is-correct" not in projector  # nothing given away before the reveal
    assert not GameSession.objects.exists()


def test_a_question_at_its_reveal(host_client, quiz):
    question = quiz.questions.get(kind="single")
    phone = screen(host_client, question, "phone", "reveal")
    assert "Correct!" in phone and "+1000" in phone
    assert 'id="player-reveal"' in phone and "Jupiter" in phone
    projector = screen(host_client, question, "projector", "reveal")
    assert "option opt1 shape-diamond is-correct" in projector
    poll = screen(host_client, quiz.questions.get(kind="poll"), "phone", "reveal")
    assert "Vote counted" in poll and "Correct!" not in poll


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("at", ["open", "reveal"])
def test_every_kind_on_both_screens(host_client, quiz, kind, at):
    question = quiz.questions.get(kind=kind)
    phone, projector = (
        screen(host_client, question, "phone", at),
        screen(host_client, question, "projector", at),
    )
    assert question.prompt in projector and f"kind-{kind}" in projector
    if at == "reveal":  # the phone shows its verdict and the answer key, as after a real reveal
        assert 'class="reveal-label"' in phone and 'id="player-reveal"' in phone
        return
    assert question.prompt in phone
    slider = 'type="range" id="answer-value" name="value" min="0" max="20"'
    markers = {
        "multi": 'type="checkbox"',
        "text": 'name="text"',
        "slider": slider,
        "order": "data-order-list",
    }
    assert markers.get(kind, 'class="answer opt') in phone


def test_the_quiz_page_links_each_saved_question_to_its_preview(host_client, quiz):
    text = host_client.get(quiz_url(quiz)).content.decode()
    for question in quiz.questions.all():
        assert f'href="{preview_url(question)}"' in text
    assert (
        "<p>Once the quiz is saved.</p>"
        in host_client.get(reverse("admin:quizzes_app_quiz_add")).content.decode()
    )


def test_another_hosts_question_is_not_previewed(client, make_host, quiz, every_kind_quiz):
    client.force_login(make_host("host_b"))
    question = quiz.questions.first()
    assert client.get(preview_url(question)).status_code == 404
    url = reverse("admin:quizzes_app_quiz_preview_screen", args=[quiz.pk, question.pk, "phone"])
    assert client.get(url).status_code == 404
    theirs = every_kind_quiz(make_host("host_b"), title="B's")
    wrong_quiz = reverse("admin:quizzes_app_quiz_preview", args=[theirs.pk, question.pk])
    assert client.get(wrong_quiz).status_code == 404  # a question of another quiz
    client.logout()
    assert client.get(preview_url(question)).status_code == 302  # to the admin's login


def test_unknown_screen(host_client, quiz):
    question = quiz.questions.first()
    url = reverse("admin:quizzes_app_quiz_preview_screen", args=[quiz.pk, question.pk, "watch"])
    assert host_client.get(url).status_code == 404
