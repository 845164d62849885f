"""JSON import and export of quizzes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from quizzes_app.io import QuizFormatError, quiz_from_dict, quiz_from_json, quiz_to_dict, quiz_to_json
from quizzes_app.models import Choice, Question, Quiz

# Quizzes in the original Knewit JSON format, written for these tests.
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_FILES = ["solar_system.json", "mixed_bag.json"]

VALID = {
    "title": "Mixed bag",
    "default_timer": 30,
    "questions": [
        {"prompt": "Pick yes", "options": ["yes", "no"], "correct_idx": 0, "points": 1000},
        {
            "prompt": "What is 2 + 2?",
            "options": ["3", "4", "5", "22", "Fish", "Ünïcödé 🐟"],
            "correct_idx": 1,
            "time_limit": 10,
            "points": 2000,
        },
        {"prompt": "No points here", "options": ["a", "b", "c"], "correct_idx": 2, "points": 0},
    ],
}


def broken(edit) -> dict:
    data = copy.deepcopy(VALID)
    edit(data)
    return data


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_import_sample(host, name):
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    quiz = quiz_from_dict(data, owner=host)
    quiz.refresh_from_db()
    assert quiz.title == data["title"]
    assert quiz.owner == host
    questions = list(quiz.questions.all())
    assert len(questions) == len(data["questions"])
    for question, raw in zip(questions, data["questions"], strict=True):
        assert question.prompt == raw["prompt"]
        assert [c.text for c in question.choices.all()] == raw["options"]
        assert question.choices.get(is_correct=True).text == raw["options"][raw["correct_idx"]]
        question.full_clean()


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_export_of_sample_matches_the_file(host, name):
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    exported = quiz_to_dict(quiz_from_dict(data, owner=host))
    assert exported["title"] == data["title"]
    assert [(q["prompt"], q["options"], q["correct_idx"]) for q in exported["questions"]] == [
        (q["prompt"], q["options"], q["correct_idx"]) for q in data["questions"]
    ]


def test_defaults_on_import(host):
    data = {"title": "T", "questions": [{"prompt": "P", "options": ["a", "b"], "correct_idx": 1}]}
    quiz = quiz_from_dict(data, owner=host)
    question = quiz.questions.get()
    assert quiz.default_time_limit == 20
    assert question.time_limit is None
    assert question.points == 1000
    assert quiz_to_dict(quiz) == {
        "title": "T",
        "default_timer": 20,
        "questions": [{"prompt": "P", "options": ["a", "b"], "correct_idx": 1, "points": 1000}],
    }


def test_export_is_lossless_for_the_format(host):
    assert quiz_to_dict(quiz_from_dict(VALID, owner=host)) == VALID


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_round_trip(host, name):
    first = quiz_to_dict(quiz_from_json((FIXTURES / name).read_bytes(), owner=host))
    second = quiz_to_dict(quiz_from_json(json.dumps(first), owner=host))
    assert first == second
    assert Quiz.objects.count() == 2


def test_ids_are_ignored(host):
    data = broken(lambda d: d.update(quiz_id="abc"))
    data["questions"][0]["id"] = "q001"
    assert quiz_to_dict(quiz_from_dict(data, owner=host)) == VALID


def test_quiz_to_json_is_pretty_utf8(host):
    text = quiz_to_json(quiz_from_dict(VALID, owner=host))
    assert "Ünïcödé 🐟" in text
    assert text.startswith('{\n  "title"')
    assert json.loads(text) == VALID


def _set_question(index, **fields):
    return lambda d: d["questions"][index].update(fields)


BROKEN_CASES = [
    ("bool correct_idx", _set_question(1, correct_idx=True), 'Question 2 ("What is 2 + 2?"): "correct_idx"'),
    ("one option", _set_question(1, options=["4"], correct_idx=0), None),
    (
        "seven options",
        _set_question(2, options=list("abcdefg")),
        'Question 3 ("No points here") has 7 options',
    ),
    ("index too big", _set_question(0, correct_idx=2), 'Question 1 ("Pick yes"): "correct_idx" must be'),
    ("negative index", _set_question(0, correct_idx=-1), 'Question 1 ("Pick yes"): "correct_idx"'),
    ("string index", _set_question(0, correct_idx="0"), 'Question 1 ("Pick yes"): "correct_idx"'),
    ("empty prompt", _set_question(2, prompt="  "), "Question 3 has an empty prompt"),
    ("missing prompt", lambda d: d["questions"][2].pop("prompt"), "Question 3 has an empty prompt"),
    ("empty option", _set_question(0, options=["yes", ""]), 'Question 1 ("Pick yes"): option 2'),
    ("long option", _set_question(0, options=["yes", "n" * 201]), "longer than 200 characters"),
    ("options not a list", _set_question(0, options="yes,no"), 'Question 1 ("Pick yes") needs "options"'),
    ("time too short", _set_question(1, time_limit=4), '"time_limit" must be a whole number of seconds'),
    ("time too long", _set_question(1, time_limit=241), "from 5 to 240, not 241"),
    ("odd points", _set_question(1, points=500), '"points" must be one of 0, 1000, 2000, not 500'),
    ("bool points", _set_question(1, points=True), '"points" must be one of'),
    ("question not object", lambda d: d["questions"].append("Q?"), "Question 4 must be an object"),
    ("empty title", lambda d: d.update(title=" "), 'non-empty "title"'),
    ("no questions", lambda d: d.update(questions=[]), 'needs "questions": a non-empty list'),
    ("bad default timer", lambda d: d.update(default_timer=1000), '"default_timer" must be'),
]


@pytest.mark.parametrize(("case", "edit", "expected"), BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES])
def test_broken_quiz_is_refused_whole(host, make_quiz, case, edit, expected):
    make_quiz(host)
    counts = (Quiz.objects.count(), Question.objects.count(), Choice.objects.count())
    with pytest.raises(QuizFormatError) as excinfo:
        quiz_from_dict(broken(edit), owner=host)
    if expected:
        assert expected in str(excinfo.value)
    assert (Quiz.objects.count(), Question.objects.count(), Choice.objects.count()) == counts


def test_one_option_message_names_question():
    with pytest.raises(QuizFormatError) as excinfo:
        quiz_from_dict(broken(_set_question(1, options=["4"], correct_idx=0)), owner=None)
    assert str(excinfo.value) == 'Question 2 ("What is 2 + 2?") has 1 option; 2 to 6 are needed'


def test_long_prompt_is_shortened_in_messages():
    data = broken(_set_question(0, prompt="Which of these " + "very " * 20 + "long things?", options=["a"]))
    with pytest.raises(QuizFormatError, match=r'^Question 1 \("Which of these very very .*\.\.\."\) has 1'):
        quiz_from_dict(data, owner=None)


@pytest.mark.parametrize("data", [[VALID], "quiz", 3, None])
def test_non_object_is_refused(data):
    with pytest.raises(QuizFormatError, match="must be a JSON object"):
        quiz_from_dict(data, owner=None)


@pytest.mark.parametrize("text", ["{", '{"title": "x",}', "", b"\xff\xfe\x00"])
def test_bad_json_is_a_format_error(db, host, text):
    with pytest.raises(QuizFormatError):
        quiz_from_json(text, owner=host)
    assert Quiz.objects.count() == 0


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("title", "Bad\x00title"),
        ("prompt", "Nul\x00?"),
        ("option", "a\x00"),
        ("prompt", "lone \ud800 surrogate"),
    ],
)
def test_text_a_database_cannot_store_is_refused(where, text, host):
    data = {"title": "T", "questions": [{"prompt": "P?", "options": ["a", "b"], "correct_idx": 0}]}
    if where == "title":
        data["title"] = text
    elif where == "prompt":
        data["questions"][0]["prompt"] = text
    else:
        data["questions"][0]["options"][0] = text
    with pytest.raises(QuizFormatError):
        quiz_from_dict(data, owner=host)
    assert not Quiz.objects.exists()
