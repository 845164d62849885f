"""Knewit's quiz spreadsheet: its columns (what the import page and README document) and the template.

The template a teacher downloads from the import page is made here, as XLSX and as CSV: the header
row, then one example question of each kind, to overwrite.
"""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from quizzes_app.kinds import MAX_CHOICES

ANSWERS = tuple(f"answer{n}" for n in range(1, MAX_CHOICES + 1))
SLIDER_COLUMNS = ("slider_min", "slider_max", "slider_step", "slider_tolerance")
# Knewit's template, in order: (key, header, what goes in it). The import page and README show this.
# The headers are what the importer reads (spreadsheets.HEADERS), so they stay English in every
# language; what goes in each column is explained in the teacher's.
COLUMNS = [
    ("question", "Question", _("The question (required).")),
    ("kind", "Kind", _("single (the default), multi, truefalse, poll, text, slider or order.")),
    *[
        (key, f"Answer {n}", _("Options; for text the accepted answers; for order the items, in order."))
        for n, key in enumerate(ANSWERS, start=1)
    ],
    ("correct", "Correct", _("The right answer's number (1-6); for multi several: 1, 3. Empty for poll,"
     " text and order; for slider the right value.")),
    ("time_limit", "Time limit", _("Seconds, 5 to 240; empty: the quiz's default.")),
    ("points", "Points", _("0, 1000 (the default) or 2000.")),
    ("explanation", "Explanation", _("Optional; shown when the answer is revealed.")),
    ("slider_min", "Slider min", _("Slider only: the lowest value.")),
    ("slider_max", "Slider max", _("Slider only: the highest value.")),
    ("slider_step", "Slider step", _("Slider only; empty: 1.")),
    ("slider_tolerance", "Slider tolerance", _("Slider only: how far off still counts; empty: 0.")),
]  # fmt: skip
NAMES = {key: name for key, name, _ in COLUMNS}
EXAMPLES = [
    {"question": "What is the capital of France?", "answer1": "Rome", "answer2": "Paris",
     "answer3": "Madrid", "answer4": "Berlin", "correct": 2, "time_limit": 20,
     "explanation": "Paris has been the capital since 987."},
    {"question": "Which of these are planets?", "kind": "multi", "answer1": "Mars", "answer2": "The Moon",
     "answer3": "Venus", "answer4": "The Sun", "correct": "1, 3"},
    {"question": "The Sun is a star.", "kind": "truefalse", "answer1": "True", "answer2": "False",
     "correct": 1},
    {"question": "Which subject do you like best?", "kind": "poll", "answer1": "Maths", "answer2": "Art",
     "answer3": "Music", "points": 0},
    {"question": "Which star is closest to Earth?", "kind": "text", "answer1": "The Sun", "answer2": "Sun"},
    {"question": "How many planets orbit the Sun?", "kind": "slider", "correct": 8, "slider_min": 0,
     "slider_max": 20, "slider_step": 1, "slider_tolerance": 0},
    {"question": "Closest to the Sun first", "kind": "order", "answer1": "Mercury", "answer2": "Venus",
     "answer3": "Earth", "answer4": "Mars"},
]  # fmt: skip
HEADER = [name for _, name, _ in COLUMNS]
KEYS = [key for key, _, _ in COLUMNS]


def _example_rows() -> list[list]:
    return [[example.get(key, "") for key in KEYS] for example in EXAMPLES]


def template_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(_example_rows())
    return buffer.getvalue()


def template_xlsx() -> bytes:
    """The template workbook: the questions sheet first (the one imported), then what each column takes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Questions"
    sheet.append(HEADER)
    for row in _example_rows():
        sheet.append([None if value == "" else value for value in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = {"question": 44, "explanation": 40, "kind": 10, "correct": 10, "points": 8, "time_limit": 10}
    for number, key in enumerate(KEYS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = widths.get(key, 16)
    help_sheet = workbook.create_sheet("Columns")  # not imported: in the teacher's language
    help_sheet.append([gettext("Column"), gettext("What goes in it")])
    for _key, name, text in COLUMNS:
        help_sheet.append([name, str(text)])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    help_sheet.column_dimensions["A"].width = 18
    help_sheet.column_dimensions["B"].width = 100
    for row in help_sheet.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
