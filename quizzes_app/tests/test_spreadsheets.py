"""Quizzes from spreadsheets: Knewit's template and Kahoot's, CSV and XLSX, refused whole when wrong."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from quizzes_app.io import quiz_to_dict
from quizzes_app.models import Quiz
from quizzes_app.spreadsheet_template import HEADER, template_csv, template_xlsx
from quizzes_app.spreadsheets import SpreadsheetError, quiz_from_spreadsheet
from quizzes_app.tests.editing import saved_state
from quizzes_app.tests.pictures import picture

FIXTURES = Path(__file__).parent / "fixtures"


def xlsx(rows: list[list]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def refused(data: bytes, name: str = "quiz.csv") -> list[str]:
    """The errors a file is refused with; nothing may be saved."""
    with pytest.raises(SpreadsheetError) as excinfo:
        quiz_from_spreadsheet(data, name, owner=None)
    assert not Quiz.objects.exists()
    return excinfo.value.errors


EVERY_KIND = [
    ("single", "Largest planet?", [("Mars", False), ("Jupiter", True), ("Venus", False)]),
    ("multi", "Rocky planets?", [("Mars", True), ("Jupiter", False), ("Venus", True), ("Saturn", False)]),
    ("truefalse", "The Sun is a star.", [("True", True), ("False", False)]),
    ("poll", "Favourite planet?", [("Mars", False), ("Saturn", False), ("Earth", False)]),
    ("text", "Closest star to Earth?", [("The Sun", False), ("Sun", False)]),
    ("slider", "How many planets?", []),
    ("order", "Closest to the Sun first", [(p, False) for p in ("Mercury", "Vénus", "Earth", "Mars")]),
]  # fmt: skip


def test_a_good_csv_of_every_kind(host):
    quiz = quiz_from_spreadsheet((FIXTURES / "every_kind.csv").read_bytes(), "every_kind.csv", owner=host)
    assert (quiz.title, quiz.owner) == ("every kind", host)
    assert saved_state(quiz) == EVERY_KIND
    first, *_, slider, _ = quiz.questions.all()
    assert (first.time_limit, first.points, first.explanation) == (30, 2000, "Jupiter, by far.")
    assert (slider.slider_min, slider.slider_max, slider.slider_step, slider.slider_correct) == (0, 20, 1, 8)
    assert slider.slider_tolerance == 0


def test_a_good_xlsx_with_columns_in_any_order(host):
    rows = [
        ["Correct", "Question", "Answer 2", "Answer 1", "Time limit", "Kind", "Slider min", "Slider max"],
        [2, "What is 5 + 3?", 8, 7, 20, None, None, None],
        [1.0, "Water boils at 100 °C at sea level.", None, None, None, "True or false", None, None],
        [2.5, "Pick 2.5", None, None, None, "slider", 0, 5],
    ]
    quiz = quiz_from_spreadsheet(xlsx(rows), "arithmetic.xlsx", owner=host, title="Numbers")
    assert quiz.title == "Numbers"
    assert saved_state(quiz) == [
        ("single", "What is 5 + 3?", [("7", False), ("8", True)]),
        ("truefalse", "Water boils at 100 °C at sea level.", [("True", True), ("False", False)]),
        ("slider", "Pick 2.5", []),
    ]
    assert quiz.questions.first().time_limit == 20
    assert quiz.questions.last().slider_correct == 2.5


def kahoot(questions: list[list]) -> bytes:
    """Kahoot's quiz template: a title area, the header in row 8, rows numbered 1 to 100 in column A."""
    rows = [
        [],
        [None, "Quiz template"],
        [None, "Add questions, at least two answer alternatives, time limit and choose correct answers"
               " (at least one). Have fun creating your awesome quiz!"],
        [None, "Remember: questions have a limit of 120 characters and answers can have 75 characters max."
               " If several answers are correct, separate them with a comma."],
        [None, "See an example question below (don't forget to overwrite this with your first question!)"],
        [None, "And remember, if you're not using Excel you need to export to .xlsx format before you upload"
               " to Kahoot!"],
        [],
        [None, "Question - max 120 characters", *[f"Answer {n} - max 75 characters" for n in range(1, 5)],
         "Time limit (sec) \N{EN DASH} 5, 10, 20, 30, 60, 90, 120, or 240 secs",
         "Correct answer(s) - choose at least one"],
    ]  # fmt: skip
    rows += [[number, *question] for number, question in enumerate(questions, start=1)]
    rows += [[number] for number in range(len(questions) + 1, 101)]
    return xlsx(rows)


def test_kahoots_template(host):
    data = kahoot(
        [
            ["Which planet is known as the Red Planet?", "Venus", "Earth", "Mars", "Jupiter", 20, 3],
            ["Which are prime numbers?", 2, 4, 5, 9, 30, "1,3"],
            ["Is the Moon a planet?", "Yes", "No", None, None, 10, "2"],
        ]
    )
    quiz = quiz_from_spreadsheet(data, "KahootQuizTemplate.xlsx", owner=host, title="From Kahoot")
    assert saved_state(quiz) == [
        ("single", "Which planet is known as the Red Planet?",
         [("Venus", False), ("Earth", False), ("Mars", True), ("Jupiter", False)]),
        ("multi", "Which are prime numbers?", [("2", True), ("4", False), ("5", True), ("9", False)]),
        ("single", "Is the Moon a planet?", [("Yes", False), ("No", True)]),
    ]  # fmt: skip
    assert list(quiz.questions.values_list("time_limit", flat=True)) == [20, 30, 10]


def test_kahoots_template_errors_name_its_rows_and_columns(db):
    data = kahoot([["Which planet is red?", "Venus", "Mars", None, None, 20, None]])
    assert refused(data, "kahoot.xlsx") == [
        'Row 9, column "Correct answer(s) - choose at least one": is empty: give the number of the right'
        " answer (1 to 2)"
    ]


def test_the_downloaded_templates_import_as_they_are(host):
    from_xlsx = quiz_from_spreadsheet(template_xlsx(), "knewit-quiz-template.xlsx", owner=host)
    from_csv = quiz_from_spreadsheet(template_csv().encode(), "knewit-quiz-template.csv", owner=host)
    assert [kind for kind, _, _ in saved_state(from_xlsx)] == [
        "single", "multi", "truefalse", "poll", "text", "slider", "order"
    ]  # fmt: skip
    assert quiz_to_dict(from_xlsx)["questions"] == quiz_to_dict(from_csv)["questions"]
    sheet = load_workbook(io.BytesIO(template_xlsx()), read_only=True).worksheets[0]
    assert list(next(sheet.iter_rows(values_only=True))) == HEADER


def test_semicolons_and_decimal_commas(host):
    data = b"Question;Kind;Correct;Slider min;Slider max;Slider step\nHow far?;slider;2,5;0;5;0,5\n"
    quiz = quiz_from_spreadsheet(data, "far.csv", owner=host)
    question = quiz.questions.get()
    assert (question.slider_correct, question.slider_step) == (2.5, 0.5)


# Broken files: refused whole, every mistake by row and column.

HEAD = [
    "Question",
    "Kind",
    "Answer 1",
    "Answer 2",
    "Answer 3",
    "Correct",
    "Time limit",
    "Slider min",
    "Slider max",
]
GOOD = ["Largest planet?", "", "Mars", "Jupiter", "", "2", "", "", ""]


@pytest.mark.parametrize(
    ("row", "error"),
    [
        (["Red planet?", "", "Mars", "Venus", "", "", "", "", ""],
         'Row 3, column "Correct": is empty: give the number of the right answer (1 to 2)'),
        (["Red planet?", "", "Mars", "", "", "1", "", "", ""],
         'Row 3, column "Answer 2": the question has 1 option; 2 to 6 are needed'),
        (["Red planet?", "essay", "Mars", "Venus", "", "1", "", "", ""],
         "Row 3, column \"Kind\": unknown kind 'essay'; use one of single, multi, truefalse, poll, text,"
         " slider, order"),
        (["Red planet?", "", "Mars", "Venus", "", "1", "soon", "", ""],
         "Row 3, column \"Time limit\": must be a whole number, not 'soon'"),
        (["Red planet?", "", "Mars", "Venus", "", "1", "300", "", ""],
         'Row 3, column "Time limit": must be a whole number of seconds from 5 to 240, not 300'),
        (["Red planet?", "", "Mars", "Venus", "", "3", "", "", ""],
         "Row 3, column \"Correct\": '3' is not the number of an answer (1 to 2)"),
        # Several right answers and no kind: a several-answers question, as in Kahoot's sheets.
        (["Red planet?", "", "Mars", "Venus", "", "1, 2", "", "", ""], None),
        (["Red planet?", "single", "Mars", "Venus", "", "1, 2", "", "", ""],
         'Row 3, column "Correct": Exactly one choice must be marked correct; 2 are.'),
        (["Red planet?", "", "Mars", "", "Venus", "1", "", "", ""],
         'Row 3, column "Answer 2": is empty, but Answer 3 is not: fill the answers from Answer 1 on'),
        (["Red planet?", "poll", "Mars", "Venus", "", "1", "", "", ""],
         'Row 3, column "Correct": must be empty for a poll question: this kind has no right answer'),
        (["How many?", "slider", "", "", "", "8", "", "10", "low"],
         "Row 3, column \"Slider max\": must be a number, not 'low'"),
        (["How many?", "slider", "", "", "", "8", "", "10", "5"],
         'Row 3, column "Slider max": The slider\'s minimum must be less than its maximum.'),
        (["How many?", "slider", "", "", "", "", "", "0", "10"],
         'Row 3, column "Correct": is empty: a slider question needs its correct'),
        (["T?", "truefalse", "True", "False", "Maybe", "1", "", "", ""],
         'Row 3, column "Answer 1": A true-or-false question has exactly 2 choices (True, False);'
         " this one has 3."),
        (["", "", "Mars", "Venus", "", "1", "", "", ""], 'Row 3, column "Question": is empty'),
        (["Red planet?", "", "Mars", "V" * 201, "", "1", "", "", ""],
         'Row 3, column "Answer 2": option 2 is longer than 200 characters'),
    ],
)  # fmt: skip
def test_a_bad_row_is_refused_naming_its_row_and_column(host, row, error):
    rows = [HEAD, GOOD, row]
    if error is None:
        assert saved_state(quiz_from_spreadsheet(csv_text(rows), "q.csv", owner=host))[1][0] == "multi"
        return
    assert refused(csv_text(rows)) == [error]
    assert refused(xlsx(rows), "quiz.xlsx") == [error]


def test_every_mistake_is_listed_at_once(db):
    rows = [
        HEAD,
        ["Red planet?", "", "Mars", "Venus", "", "", "soon", "", ""],
        GOOD,
        ["", "", "", "", "", "", "", "", ""],
        ["Blue planet?", "planetary", "Earth", "", "", "1", "", "", ""],
        GOOD,
        ["", "", "", "", "", "", "", "", ""],  # empty rows at the end are the template's spare rows
    ]
    assert refused(xlsx(rows), "quiz.xlsx") == [
        'Row 2, column "Correct": is empty: give the number of the right answer (1 to 2)',
        "Row 2, column \"Time limit\": must be a whole number, not 'soon'",
        "Row 4 is empty, between questions: delete it or fill it in.",
        "Row 5, column \"Kind\": unknown kind 'planetary'; use one of single, multi, truefalse, poll, text,"
        " slider, order",
    ]


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (b"x" * (10 * 1024 * 1024 + 1), "big.csv", "The file is larger than 10 MB."),
        (picture(), "quiz.xlsx", "The file is not an XLSX workbook."),
        (picture(), "quiz.csv", "The file is neither an XLSX workbook nor CSV text in UTF-8"),
        (b"%PDF-1.4\x00\x01binary", "quiz.csv", "The file is not a spreadsheet (CSV or XLSX)."),
        (zip_of("notes.txt", b"hello"), "quiz.xlsx", "The file is not an XLSX workbook that can be read."),
        (zip_of("big.bin", bytes(51 * 1024 * 1024)), "quiz.xlsx", "The workbook unpacks to more than 50 MB."),
        (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(99), "quiz.xls", "Old Excel .xls workbooks cannot be"),
        (b"Dear class,\nthe quiz is on Friday.\n", "letter.csv", "No header row: none of the first 20 rows"),
        (csv_text([HEAD]), "empty.csv", "There are no questions under the header row (row 1)."),
        (csv_text([HEAD, *[GOOD] * 501]), "long.csv", "The sheet has 501 rows of questions; at most 500."),
        (csv_text([[*HEAD, "Correct"], GOOD]), "twice.csv", 'Row 1: there are two "Correct" columns.'),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_good_spreadsheet_is_refused(db, data, name, error):
    errors = refused(data, name)
    assert len(errors) == 1
    assert errors[0].startswith(error), errors
