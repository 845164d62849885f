"""host_token and seed_demo."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from quizzes_app.hosts import is_host
from quizzes_app.kinds import Kind, check_question
from quizzes_app.models import Quiz, quiz_problems
from sessions_app.models import HostToken, hash_secret


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_host_token_creates_host_and_prints_token_last(db):
    output = run("host_token", "bot", "--label", "load test")
    user = get_user_model().objects.get(username="bot")
    assert user.is_staff and is_host(user)
    assert not user.has_usable_password()
    lines = output.strip().splitlines()
    assert len(lines) >= 2
    token = lines[-1]
    assert len(token) >= 40 and " " not in token
    record = HostToken.objects.get()
    assert (record.user, record.label, record.revoked) == (user, "load test", False)
    assert record.token_hash == hash_secret(token)
    assert token not in record.token_hash


def test_host_token_twice_makes_two_tokens_for_one_user(host):
    first = run("host_token", "host_a").strip().splitlines()[-1]
    second = run("host_token", "host_a").strip().splitlines()[-1]
    assert first != second
    assert set(HostToken.objects.values_list("token_hash", flat=True)) == {
        hash_secret(first),
        hash_secret(second),
    }
    assert set(HostToken.objects.values_list("user", flat=True)) == {host.pk}
    # An existing host keeps its password.
    host.refresh_from_db()
    assert host.check_password("pw-for-tests-123")


def test_seed_demo_creates_host_and_quiz(db):
    output = run("seed_demo")
    demo = get_user_model().objects.get(username="demo")
    assert is_host(demo)
    assert demo.check_password("knewit-demo")
    assert "demo" in output and "knewit-demo" in output and "/accounts/login/" in output
    quiz = Quiz.objects.get(owner=demo, title="Knewit demo quiz")
    questions = list(quiz.questions.prefetch_related("choices"))
    # One question of each kind, every one playable.
    assert sorted(q.kind for q in questions) == sorted(Kind.values)
    assert quiz_problems(quiz.pk) == []
    assert [q.points for q in questions].count(2000) == 1
    assert sum(1 for q in questions if q.explanation) >= 1
    for question in questions:
        check_question(question.kind, [c.is_correct for c in question.choices.all()], question.slider)
        question.full_clean()


def test_seed_demo_is_idempotent_and_keeps_a_changed_password(db):
    run("seed_demo")
    demo = get_user_model().objects.get(username="demo")
    demo.set_password("changed-by-admin")
    demo.save()
    output = run("seed_demo")
    assert "already exists" in output
    assert get_user_model().objects.filter(username="demo").count() == 1
    assert Quiz.objects.filter(title="Knewit demo quiz").count() == 1
    demo.refresh_from_db()
    assert demo.check_password("changed-by-admin")


def test_seed_demo_recreates_a_deleted_demo_quiz(db):
    run("seed_demo")
    Quiz.objects.all().delete()
    run("seed_demo")
    assert Quiz.objects.filter(title="Knewit demo quiz").count() == 1
