"""Quizzes from spreadsheets, CSV or XLSX: Knewit's own template (COLUMNS) and Kahoot's quiz template.

A sheet is read into the quiz object of io.py (docs/PROTOCOL.md §3.2), checked by io.quiz_check and
saved by io.quiz_from_dict, so what makes a question playable is decided in one place. What is the
sheet's own: finding the header row by its text, reading cells (numbers as typed, "1, 3" as answer
numbers counted from 1), and saying where each mistake is by row and column, every mistake in the
file at once, before anything is saved.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import translation
from django.utils.translation import gettext

from quizzes_app.io import QuizFormatError, quiz_check, quiz_from_dict
from quizzes_app.kinds import MAX_CHOICES, Kind, format_number
from quizzes_app.models import Quiz
from quizzes_app.spreadsheet_template import ANSWERS, NAMES, SLIDER_COLUMNS

MAX_FILE_BYTES = 10 * 1024 * 1024  # refused before any parsing
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # an XLSX is a zip: what it may unpack to
MAX_QUESTIONS = 500
MAX_COLUMNS = 40
MAX_SCANNED_ROWS = 5000  # trailing empty rows (Kahoot's template numbers 100 of them) are read up to this
HEADER_SEARCH_ROWS = 20  # Kahoot's template has a title area above its header row
MAX_LISTED_ERRORS = 100

# Header texts, lower-cased, to column keys; "Kahoot's "Question - max 120 characters" is "question".
HEADERS = [
    ("kind", re.compile(r"(kind|type|question type)\b")),
    ("question", re.compile(r"question\b")),
    ("answer", re.compile(r"(answer|option)\s*(?P<n>[1-6])\b")),
    ("correct", re.compile(r"correct\b")),
    ("time_limit", re.compile(r"time\b")),
    ("points", re.compile(r"points\b")),
    ("explanation", re.compile(r"explanation\b")),
    *[(key, re.compile(key.replace("_", r"\s*") + r"\b")) for key in SLIDER_COLUMNS],
]
# What teachers call the kinds, letters only and lower case; Kahoot calls a question a "quiz".
KIND_NAMES = {
    **{re.sub(r"[^a-z]", "", kind): kind for kind in Kind.values},
    "quiz": Kind.SINGLE, "multiple": Kind.MULTI, "multiplechoice": Kind.MULTI, "tf": Kind.TRUEFALSE,
    "typed": Kind.TEXT, "typeanswer": Kind.TEXT, "puzzle": Kind.ORDER,
}  # fmt: skip


@functools.cache
def kind_names() -> dict[str, str]:
    """KIND_NAMES and the kinds' labels in English ("Single answer"), whatever language is active:
    the labels are lazy translations, read untranslated (override(None)) once the apps are ready."""
    with translation.override(None):
        labels = {re.sub(r"[^a-z]", "", str(label).lower()): kind for kind, label in Kind.choices}
    return {**labels, **KIND_NAMES}


TRUE_FALSE_WORDS = {"true": 1, "false": 2}
SEPARATORS = re.compile(r"[,;\s]+|\band\b")


class SpreadsheetError(QuizFormatError):
    """A sheet that cannot be imported; `errors` lists every mistake, by row and column where it has one."""

    def __init__(self, errors: list[str]) -> None:
        shown = errors[:MAX_LISTED_ERRORS]
        if len(errors) > len(shown):
            shown.append(gettext("... and %(count)s more.") % {"count": len(errors) - len(shown)})
        super().__init__("\n".join(shown))
        self.errors, self.count = shown, len(errors)


@dataclass
class Header:
    row: int  # the header's row number, counted from 1 as spreadsheets do
    columns: dict[str, int]  # key -> column index
    names: dict[str, str]  # key -> the header text in the file

    def name(self, key: str) -> str:
        return self.names.get(key) or NAMES[key]


# --- reading the file into rows of cells -----------------------------------------------------------


def read_rows(data: bytes, filename: str) -> list[list[Any]]:
    """The first sheet's rows (an XLSX) or the CSV's, as lists of cell values; SpreadsheetError if neither."""
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetError([gettext("The file is larger than 10 MB.")])
    suffix = Path(filename).suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return _xlsx_rows(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise SpreadsheetError(
            [gettext("Old Excel .xls workbooks cannot be read: save it as .xlsx or .csv.")]
        )
    if suffix in (".xlsx", ".xlsm"):
        raise SpreadsheetError([gettext("The file is not an XLSX workbook.")])
    return _csv_rows(data)


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    import openpyxl  # only spreadsheets need it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise SpreadsheetError([gettext("The file is not an XLSX workbook.")]) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise SpreadsheetError([gettext("The workbook unpacks to more than 50 MB.")])
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged or foreign zip fails in many ways inside openpyxl
        raise SpreadsheetError([gettext("The file is not an XLSX workbook that can be read.")]) from None
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong size; read what is there
        rows = []
        for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            rows.append(list(row))
            if len(rows) >= MAX_SCANNED_ROWS:
                break
        return rows
    except Exception:
        raise SpreadsheetError([gettext("The workbook's first sheet cannot be read.")]) from None
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError(
            [
                gettext(
                    'The file is neither an XLSX workbook nor CSV text in UTF-8 (Excel: save as "CSV UTF-8").'
                )
            ]
        ) from None
    if "\x00" in text:
        raise SpreadsheetError([gettext("The file is not a spreadsheet (CSV or XLSX).")])
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for row in reader:
            rows.append(row[:MAX_COLUMNS])
            if len(rows) >= MAX_SCANNED_ROWS:
                break
    except csv.Error as exc:
        raise SpreadsheetError(
            [gettext("Row %(row)s: not valid CSV (%(error)s).") % {"row": reader.line_num, "error": exc}]
        ) from None
    return rows


# --- the header row ----------------------------------------------------------------------------------


def _header_key(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    text = " ".join(text.replace("\N{EN DASH}", "-").lower().split())
    for key, pattern in HEADERS:
        if match := pattern.match(text):
            return f"answer{match['n']}" if key == "answer" else key
    return None


def find_header(rows: list[list[Any]]) -> Header:
    """The first row naming a "Question" column and another, among the first HEADER_SEARCH_ROWS."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_header_key(cell) for cell in row]
        if "question" not in keys or len(set(keys) - {None}) < 2:
            continue
        header = Header(row=index + 1, columns={}, names={})
        errors = []
        for column, (key, cell) in enumerate(zip(keys, row, strict=True)):
            if key is None:
                continue  # a column of the teacher's own, or Kahoot's numbers: not read
            if key in header.columns:
                errors.append(
                    gettext('Row %(row)s: there are two "%(column)s" columns.')
                    % {"row": header.row, "column": NAMES[key]}
                )
            header.columns[key] = column
            header.names[key] = " ".join(str(cell).split())
        if errors:
            raise SpreadsheetError(errors)
        return header
    raise SpreadsheetError(
        [
            gettext(
                'No header row: none of the first %(rows)s rows names a "Question" column and an'
                ' "Answer 1" or "Correct" column. Start from the template on the import page.'
            )
            % {"rows": HEADER_SEARCH_ROWS}
        ]
    )


# --- one row into one question of the quiz object -----------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return format_number(value)
    return str(value).strip()


def _number(value: Any, *, decimal_comma: bool = True) -> float | None:
    """A cell's number; None when empty; ValueError when it is not one.

    "2,5" is 2.5: CSV files from Excel in many countries write decimals so (between semicolons).
    """
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return float(value)
    text = _text(value)
    if decimal_comma and text.count(",") == 1:
        text = text.replace(",", ".")
    number = float(text) if text else None
    if number is not None and not math.isfinite(number):
        raise ValueError
    return number


def _whole(value: Any) -> int | None:
    number = _number(value, decimal_comma=False)  # "1,000" is not 1
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError
    return int(number)


def _tokens(text: str) -> list[str]:
    return [token for token in SEPARATORS.split(text.lower()) if token]


class RowReader:
    """The cells of one row by column key, and the mistakes found in them, each naming its column."""

    def __init__(self, header: Header, number: int, cells: list[Any]) -> None:
        self.header, self.row_number = header, number
        self.cells = {key: cells[col] if col < len(cells) else None for key, col in header.columns.items()}
        self.errors: list[str] = []

    def error(self, key: str | None, detail: str) -> None:
        place = {"row": self.row_number, "column": self.header.name(key) if key else "", "detail": detail}
        if key:
            self.errors.append(gettext('Row %(row)s, column "%(column)s": %(detail)s') % place)
        else:
            self.errors.append(gettext("Row %(row)s: %(detail)s") % place)

    def text(self, key: str) -> str:
        return _text(self.cells.get(key))

    def is_empty(self) -> bool:
        return not any(self.text(key) for key in self.cells)

    def number(self, key: str, whole: bool = False) -> float | int | None:
        try:
            return _whole(self.cells.get(key)) if whole else _number(self.cells.get(key))
        except ValueError:
            value = {"value": repr(self.text(key))}
            if whole:
                self.error(key, gettext("must be a whole number, not %(value)s") % value)
            else:
                self.error(key, gettext("must be a number, not %(value)s") % value)
            return None


def _kind(row: RowReader, correct_count: int) -> str:
    value = row.text("kind")
    if not value:  # Kahoot's sheet has no kind: one right answer or several
        return Kind.MULTI if correct_count > 1 else Kind.SINGLE
    kind = kind_names().get(re.sub(r"[^a-z]", "", value.lower()))
    if kind is None:
        row.error(
            "kind",
            gettext("unknown kind %(kind)s; use one of %(kinds)s")
            % {"kind": repr(value), "kinds": ", ".join(Kind.values)},
        )
        return Kind.SINGLE
    return kind


def _answers(row: RowReader) -> list[str]:
    """The answers, left to right; an empty one before a filled one is a mistake, not a gap to close."""
    texts = [row.text(key) for key in ANSWERS]
    last = max((i for i, text in enumerate(texts) if text), default=-1)
    for i in range(last):
        if not texts[i]:
            row.error(
                ANSWERS[i],
                gettext("is empty, but Answer %(number)s is not: fill the answers from Answer 1 on")
                % {"number": last + 1},
            )
    return [text for text in texts[: last + 1] if text]


def _correct_numbers(row: RowReader, kind: str, count: int) -> list[int]:
    """The answers marked correct, counted from 1 ("1, 3"), checked against the answers given."""
    raw = row.cells.get("correct")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        tokens = [format_number(float(raw))]
    else:
        tokens = _tokens(row.text("correct"))
    numbers = []
    for token in tokens:
        if kind == Kind.TRUEFALSE and token in TRUE_FALSE_WORDS:
            numbers.append(TRUE_FALSE_WORDS[token])
        elif token.isdigit() and 1 <= int(token) <= max(count, 1):
            numbers.append(int(token))
        else:
            row.error(
                "correct",
                gettext("%(value)s is not the number of an answer (1 to %(max)s)")
                % {"value": repr(token), "max": max(count, 1)},
            )
    return sorted(set(numbers))


def _question(row: RowReader) -> dict[str, Any]:
    """The row as a question of the quiz object (io.py), or what is wrong in its cells."""
    question: dict[str, Any] = {"prompt": row.text("question")}
    if not question["prompt"]:
        row.error("question", gettext("is empty"))
    answers = _answers(row)
    correct_given = bool(row.text("correct"))
    kind = _kind(row, len(_tokens(row.text("correct"))))
    question["kind"] = kind
    if kind == Kind.SLIDER:
        _slider(row, question, answers)
    else:
        for key in SLIDER_COLUMNS:
            if row.text(key):
                row.error(key, gettext("is only for slider questions; leave it empty"))
        if kind == Kind.TEXT:
            question["accepted"] = answers
        elif answers or kind != Kind.TRUEFALSE:  # a true-or-false question may leave True, False out
            question["options"] = answers
        count = len(answers) or (2 if kind == Kind.TRUEFALSE else 0)
        if kind in (Kind.SINGLE, Kind.TRUEFALSE, Kind.MULTI):
            if not correct_given:
                row.error(
                    "correct",
                    gettext("is empty: give the number of the right answer (1 to %(max)s)")
                    % {"max": max(count, 1)},
                )
            question["correct_idxs"] = [n - 1 for n in _correct_numbers(row, kind, count)]
        elif correct_given:
            if kind == Kind.TEXT:
                why = gettext("must be empty for a %(kind)s question: every answer listed is accepted")
            else:
                why = gettext("must be empty for a %(kind)s question: this kind has no right answer")
            row.error("correct", why % {"kind": kind})
    if (time_limit := row.number("time_limit", whole=True)) is not None:
        question["time_limit"] = time_limit
    if (points := row.number("points", whole=True)) is not None:
        question["points"] = points
    if explanation := row.text("explanation"):
        question["explanation"] = explanation
    return question


def _slider(row: RowReader, question: dict[str, Any], answers: list[str]) -> None:
    if answers:
        row.error(
            "answer1", gettext("must be empty for a slider question: its range is in the Slider columns")
        )
    defaults = {"slider_step": 1.0, "slider_tolerance": 0.0}
    for key, field in (("slider_min", "min"), ("slider_max", "max"), ("correct", "correct"),
                       ("slider_step", "step"), ("slider_tolerance", "tolerance")):  # fmt: skip
        value = row.number(key)
        if value is None and not row.text(key):
            value = defaults.get(key)
            if value is None:
                row.error(
                    key,
                    gettext("is empty: a slider question needs its %(column)s")
                    % {"column": NAMES[key].lower()},
                )
        question[field] = value


def _place(row: RowReader, exc: QuizFormatError) -> None:
    """io.py's verdict on a question, put in the column of the field it names."""
    field = exc.field or ""
    if field in ("options", "accepted"):
        key = ANSWERS[min(exc.index or 0, MAX_CHOICES - 1)]
    else:
        key = {"prompt": "question", "kind": "kind", "correct": "correct", "time_limit": "time_limit",
               "points": "points", "explanation": "explanation", "min": "slider_min", "max": "slider_max",
               "step": "slider_step", "tolerance": "slider_tolerance"}.get(field)  # fmt: skip
    row.error(key, exc.detail)


# --- the whole sheet -----------------------------------------------------------------------------


def quiz_object(rows: list[list[Any]], title: str) -> dict[str, Any]:
    """The quiz object of these rows; SpreadsheetError listing every mistake if any row has one."""
    header = find_header(rows)
    readers = [RowReader(header, header.row + 1 + i, cells) for i, cells in enumerate(rows[header.row :])]
    while readers and readers[-1].is_empty():  # the template's unused rows
        readers.pop()
    if not readers:
        raise SpreadsheetError(
            [gettext("There are no questions under the header row (row %(row)s).") % {"row": header.row}]
        )
    if len(readers) > MAX_QUESTIONS:
        raise SpreadsheetError(
            [
                gettext("The sheet has %(count)s rows of questions; at most %(max)s.")
                % {"count": len(readers), "max": MAX_QUESTIONS}
            ]
        )
    errors, questions = [], []
    for row in readers:
        if row.is_empty():
            row.errors.append(
                gettext("Row %(row)s is empty, between questions: delete it or fill it in.")
                % {"row": row.row_number}
            )
        else:
            question = _question(row)
            if not row.errors:
                try:  # the title is checked once, when the quiz is saved
                    quiz_check({"title": "Quiz", "questions": [question]})
                except QuizFormatError as exc:
                    _place(row, exc)
            questions.append(question)
        errors += row.errors
    if errors:
        raise SpreadsheetError(errors)
    return {"title": title, "questions": questions}


def title_from(filename: str) -> str:
    """A quiz title from a file name: "solar_system.xlsx" -> "solar system"."""
    return " ".join(Path(filename).stem.replace("_", " ").split())[:200] or gettext("Imported quiz")


def quiz_from_spreadsheet(
    data: bytes, filename: str, *, owner: AbstractBaseUser, title: str | None = None
) -> Quiz:
    """Check a whole CSV or XLSX file, then save it for owner; nothing is saved if any row is wrong."""
    rows = read_rows(data, filename)
    return quiz_from_dict(quiz_object(rows, title or title_from(filename)), owner=owner)


def is_spreadsheet(filename: str, data: bytes) -> bool:
    """CSV and XLSX files go here; JSON (the export's format) goes to io.quiz_from_json."""
    if Path(filename).suffix.lower() == ".json":
        return False
    return data.lstrip()[:1] not in (b"{", b"[")
