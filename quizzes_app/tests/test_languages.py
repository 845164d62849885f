"""The quiz-writing side speaks the teacher's language: the import page, the quiz page, the kinds' errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from quizzes_app.kinds import Kind, Slider, check_question, check_slider
from quizzes_app.spreadsheets import SpreadsheetError, quiz_object

Q = "\N{RIGHT SINGLE QUOTATION MARK}"  # French's apostrophe
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-FR,fr;q=0.9"}


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


def test_the_import_page_is_in_french(host_client):
    page = host_client.get(reverse("admin:quizzes_app_quiz_import"), **FRENCH).content.decode()
    for text in ("Importer un quiz", "Fichier du quiz", "Les colonnes du tableur", "téléchargez-le en XLSX",
                 'value="Importer"', "La question (obligatoire)."):  # fmt: skip
        assert text in page, text
    # The headers the importer reads stay as the template writes them.
    assert '<th scope="row">Answer 1</th>' in page
    assert "Write your questions" not in page


def test_the_quiz_page_is_in_french(host_client, host, make_quiz):
    quiz = make_quiz(host)
    url = reverse("admin:quizzes_app_quiz_change", args=[quiz.pk])
    page = host_client.get(url, **FRENCH).content.decode()
    for text in ("Aperçu", "Options : cochez exactement une bonne réponse.", "Réponse unique",
                 "Explication et image", "Curseur", "Temps limite par défaut"):  # fmt: skip
        assert text in page, text
    assert "Capital of France?" in page  # the quiz's own words are never translated
    assert "Single answer" not in page


def test_the_change_list_and_a_refused_upload_are_in_french(host_client, host, make_quiz):
    make_quiz(host)  # the actions show once there is a quiz to act on
    page = host_client.get(reverse("admin:quizzes_app_quiz_changelist"), **FRENCH).content.decode()
    assert "Importer un tableur ou du JSON" in page and "Dupliquer les quiz sélectionnés" in page
    upload = SimpleUploadedFile("quiz.csv", b"Question,Answer 1,Answer 2,Correct\nP?,a,b,7\n", "text/csv")
    response = host_client.post(reverse("admin:quizzes_app_quiz_import"), {"file": upload}, **FRENCH)
    page = response.content.decode()
    assert f"Rien n{Q}a été importé." in page
    assert (
        f"Ligne 2, colonne &quot;Correct&quot; : &#x27;7&#x27; n{Q}est pas le numéro"
        f" d{Q}une réponse (de 1 à 2)" in page
    )


def test_the_kinds_errors_are_in_french():
    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        check_question(Kind.SINGLE, [True, True, False])
    with translation.override("fr"):
        assert caught.value.messages == ["Exactement un choix doit être coché comme correct ; il y en a 2."]
    with translation.override("fr"), pytest.raises(ValidationError) as caught:
        check_slider(Slider(min=5, max=1, step=1, correct=3, tolerance=0))
    with translation.override("fr"):
        assert caught.value.messages == ["Le minimum du curseur doit être inférieur à son maximum."]
    # Lazy: the same error reads in the language of whoever reads it.
    with translation.override("de"):
        assert caught.value.messages == ["Das Minimum des Schiebereglers muss kleiner als sein Maximum sein."]
    with translation.override("en"):
        assert caught.value.messages == ["The slider's minimum must be less than its maximum."]


def test_a_spreadsheet_reads_the_english_kind_labels_in_any_language():
    rows = [["Question", "Kind", "Answer 1", "Answer 2", "Correct"], ["P?", "Single answer", "a", "b", "1"]]
    with translation.override("fr"):
        assert quiz_object(rows, "T")["questions"][0]["kind"] == "single"
        rows[1][1] = "Réponse unique"
        with pytest.raises(SpreadsheetError) as caught:
            quiz_object(rows, "T")
    assert caught.value.errors[0].startswith('Ligne 2, colonne "Kind" : type inconnu')
