"""The admin's import page and `manage.py import_quiz` for spreadsheets, and the template downloads."""

from __future__ import annotations

import html
import io
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from quizzes_app.models import Quiz
from quizzes_app.spreadsheet_template import HEADER
from quizzes_app.tests.editing import quiz_url, saved_state
from quizzes_app.tests.test_spreadsheets import FIXTURES, HEAD, csv_text, xlsx

IMPORT = reverse("admin:quizzes_app_quiz_import")
GOOD_ROWS = [HEAD, ["Largest planet?", "", "Mars", "Jupiter", "", "2", "", "", ""]]
BAD_ROWS = [
    HEAD,
    ["Red planet?", "", "Mars", "Venus", "", "", "", "", ""],
    ["", "", "", "", "", "", "", "", ""],
    ["Blue planet?", "", "Earth", "Mars", "", "1", "forty", "", ""],
]


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "application/octet-stream")


def test_the_import_page_documents_the_columns_and_offers_the_templates(host_client):
    text = html.unescape(host_client.get(IMPORT).content.decode())
    for name in HEADER:
        assert f'<th scope="row">{name}</th>' in text
    assert reverse("admin:quizzes_app_quiz_template_xlsx") in text
    assert reverse("admin:quizzes_app_quiz_template_csv") in text
    assert "Kahoot" in text


def test_template_downloads(host_client):
    response = host_client.get(reverse("admin:quizzes_app_quiz_template_xlsx"))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="knewit-quiz-template.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER and len(rows) == 8
    response = host_client.get(reverse("admin:quizzes_app_quiz_template_csv"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().splitlines()[0] == ",".join(HEADER)


def test_templates_need_add_permission(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("clerk", password="pw", is_staff=True))
    assert client.get(reverse("admin:quizzes_app_quiz_template_xlsx")).status_code == 403


@pytest.mark.parametrize(("maker", "name"), [(xlsx, "planets.xlsx"), (csv_text, "planets.csv")])
def test_a_good_spreadsheet_is_imported(host_client, host, maker, name):
    response = host_client.post(IMPORT, {"file": upload(maker(GOOD_ROWS), name), "title": ""}, follow=True)
    quiz = Quiz.objects.get()
    assert (quiz.title, quiz.owner) == ("planets", host)
    assert response.redirect_chain[-1][0] == quiz_url(quiz)
    assert "Imported “planets” with 1 question." in response.content.decode()
    assert saved_state(quiz) == [("single", "Largest planet?", [("Mars", False), ("Jupiter", True)])]


def test_the_title_can_be_given(host_client):
    host_client.post(IMPORT, {"file": upload(xlsx(GOOD_ROWS), "x.xlsx"), "title": "Space, week 3"})
    assert Quiz.objects.get().title == "Space, week 3"


def test_every_mistake_is_listed_and_nothing_saved(host_client):
    response = host_client.post(IMPORT, {"file": upload(xlsx(BAD_ROWS), "bad.xlsx")})
    assert response.status_code == 200
    assert not Quiz.objects.exists()
    assert response.context["form"].errors["file"] == [
        "Nothing was imported. Fix these 3 problems and upload the file again:",
        'Row 2, column "Correct": is empty: give the number of the right answer (1 to 2)',
        "Row 3 is empty, between questions: delete it or fill it in.",
        "Row 4, column \"Time limit\": must be a whole number, not 'forty'",
    ]


def test_a_file_that_is_not_a_spreadsheet_is_refused(host_client):
    response = host_client.post(IMPORT, {"file": upload(b"\x89PNG\r\n\x1a\n" + bytes(50), "quiz.xlsx")})
    assert response.context["form"].errors["file"] == [
        "Nothing was imported. Fix this and upload the file again:",
        "The file is not an XLSX workbook.",
    ]
    assert not Quiz.objects.exists()


def test_a_file_over_10_mb_is_refused_before_it_is_read(host_client):
    response = host_client.post(IMPORT, {"file": upload(b"," * (10 * 1024 * 1024 + 1), "big.csv")})
    assert "The file is larger than 10 MB" in response.context["form"].errors["file"][0]
    assert not Quiz.objects.exists()


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_command_imports_csv_and_xlsx(host, tmp_path):
    sheet = tmp_path / "planets.xlsx"
    sheet.write_bytes(xlsx(GOOD_ROWS))
    output = run("import_quiz", str(FIXTURES / "every_kind.csv"), str(sheet), "--owner", host.username)
    first, second = Quiz.objects.order_by("pk")
    assert output.splitlines() == [
        f"Imported quiz {first.pk}: every kind (7 questions) from {FIXTURES / 'every_kind.csv'}",
        f"Imported quiz {second.pk}: planets (1 questions) from {sheet}",
    ]
    run("import_quiz", str(sheet), "--owner", host.username, "--title", "Planets again")
    assert Quiz.objects.order_by("pk").last().title == "Planets again"


def test_command_lists_every_mistake(host, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_text(BAD_ROWS))
    with pytest.raises(CommandError) as excinfo:
        run("import_quiz", str(bad), "--owner", host.username)
    lines = str(excinfo.value).splitlines()
    assert lines[0] == f"{bad}: 3 problems, nothing imported:"
    assert lines[1:] == [
        'Row 2, column "Correct": is empty: give the number of the right answer (1 to 2)',
        "Row 3 is empty, between questions: delete it or fill it in.",
        "Row 4, column \"Time limit\": must be a whole number, not 'forty'",
    ]
    assert not Quiz.objects.exists()
