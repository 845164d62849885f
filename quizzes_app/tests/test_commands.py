"""import_quiz and export_quiz."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from quizzes_app.hosts import is_host
from quizzes_app.io import quiz_to_dict
from quizzes_app.models import Quiz

# Quizzes in the original Knewit JSON format, written for these tests.
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = [FIXTURES / "solar_system.json", FIXTURES / "mixed_bag.json"]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_with_new_owner_creates_host(db):
    output = run("import_quiz", *map(str, SAMPLES), "--owner", "teacher")
    teacher = get_user_model().objects.get(username="teacher")
    assert is_host(teacher)
    quizzes = list(Quiz.objects.order_by("pk"))
    assert [q.owner for q in quizzes] == [teacher, teacher]
    lines = output.splitlines()
    assert len(lines) == 2
    for line, quiz, path in zip(lines, quizzes, SAMPLES, strict=True):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert line.startswith(f"Imported quiz {quiz.pk}: {data['title']}")
        assert f"({len(data['questions'])} questions)" in line


def test_import_defaults_to_first_superuser(django_user_model, host):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    run("import_quiz", str(SAMPLES[0]))
    assert Quiz.objects.get().owner == admin


def test_import_without_superuser_or_owner_fails(host):
    with pytest.raises(CommandError, match="--owner"):
        run("import_quiz", str(SAMPLES[0]))
    assert Quiz.objects.count() == 0


def test_broken_file_names_file_and_question_and_stops(host, tmp_path):
    bad = tmp_path / "bad.json"
    data = json.loads(SAMPLES[0].read_text(encoding="utf-8"))
    data["questions"][2]["options"] = ["only one"]
    data["questions"][2]["correct_idx"] = 0
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        run("import_quiz", str(SAMPLES[0]), str(bad), str(SAMPLES[1]), "--owner", "host_a")
    message = str(excinfo.value)
    assert message.startswith(f"{bad}: Question 3 (")
    assert "has 1 option" in message
    # The file before it is in; the broken one and the one after are not.
    assert list(Quiz.objects.values_list("title", flat=True)) == ["The Solar System"]


def test_bad_json_and_missing_file(host, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad\.json: Not valid JSON"):
        run("import_quiz", str(bad), "--owner", "host_a")
    with pytest.raises(CommandError, match=r"missing\.json"):
        run("import_quiz", str(tmp_path / "missing.json"), "--owner", "host_a")
    assert Quiz.objects.count() == 0


def test_export_to_stdout(host, make_quiz):
    quiz = make_quiz(host, title="Ünïcödé quiz")
    output = run("export_quiz", str(quiz.pk))
    assert "Ünïcödé quiz" in output
    assert json.loads(output) == quiz_to_dict(quiz)


def test_export_to_file_and_reimport(host, make_quiz, tmp_path):
    quiz = make_quiz(host, title="Café ☕")
    target = tmp_path / "out.json"
    assert run("export_quiz", str(quiz.pk), "-o", str(target)) == ""
    text = target.read_text(encoding="utf-8")
    assert "Café ☕" in text
    assert text.startswith("{\n  ")
    run("import_quiz", str(target), "--owner", "host_a")
    copy = Quiz.objects.exclude(pk=quiz.pk).get()
    assert quiz_to_dict(copy) == quiz_to_dict(quiz)


def test_export_unknown_quiz(db):
    with pytest.raises(CommandError, match="No quiz with id 999"):
        run("export_quiz", "999")
