"""JSON import and export of quizzes."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from quizzes_app.images import IMAGE_MIME_TYPES
from quizzes_app.io import QuizFormatError, quiz_from_dict, quiz_from_json, quiz_to_dict, quiz_to_json
from quizzes_app.models import Choice, Question, Quiz, quiz_problems
from quizzes_app.tests.pictures import data_url, picture

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


HUGE_INT = '{"title": ' + "9" * 5000 + "}"  # more digits than Python converts


@pytest.mark.parametrize("text", ["{", '{"title": "x",}', "", b"\xff\xfe\x00", HUGE_INT])
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


# Question kinds (issue #14): each kind's fields, written back as they were read.

PNG = picture()

EVERY_KIND = {
    "title": "Every kind",
    "default_timer": 20,
    "questions": [
        {
            "prompt": "Capital of Peru?",
            "options": ["Lima", "Quito", "Bogotá"],
            "correct_idx": 0,
            "points": 1000,
        },
        {
            "prompt": "Which are planets?",
            "kind": "multi",
            "options": ["Mars", "the Moon", "Venus"],
            "correct_idxs": [0, 2],
            "points": 1000,
            "explanation": "The Moon is Earth's satellite, not a planet.",
        },
        {
            "prompt": "Water boils at 100 °C at sea level.",
            "kind": "truefalse",
            "options": ["True", "False"],
            "correct_idx": 0,
            "points": 1000,
            "time_limit": 10,
        },
        {
            "prompt": "Favourite season?",
            "kind": "poll",
            "options": ["Spring", "Summer", "Autumn"],
            "points": 0,
        },
        {"prompt": "Chemical symbol of gold?", "kind": "text", "accepted": ["Au", "AU."], "points": 1000},
        {
            "prompt": "pH of pure water?",
            "kind": "slider",
            "min": 0,
            "max": 14,
            "step": 0.5,
            "correct": 7,
            "tolerance": 0.5,
            "points": 2000,
        },
        {
            "prompt": "Smallest to largest",
            "kind": "order",
            "options": ["Mercury", "Earth", "Jupiter"],
            "points": 1000,
            "image": data_url(PNG),
            "image_alt": "The three planets side by side",
        },
    ],
}
KIND_INDEX = {q.get("kind", "single"): i for i, q in enumerate(EVERY_KIND["questions"])}


def every_kind(edit=None) -> dict:
    data = copy.deepcopy(EVERY_KIND)
    if edit:
        edit(data)
    return data


def _kind(which, /, **fields):
    """Change the question of that kind: fields set, or removed when None."""

    def edit(data):
        question = data["questions"][KIND_INDEX[which]]
        question.update(fields)
        for field in [f for f, value in fields.items() if value is None]:
            del question[field]

    return edit


def test_every_kind_round_trips_exactly(host, media_root):
    quiz = quiz_from_dict(every_kind(), owner=host)
    assert quiz_to_dict(quiz) == EVERY_KIND
    again = quiz_from_json(quiz_to_json(quiz), owner=host)
    assert quiz_to_dict(again) == EVERY_KIND
    assert quiz_problems(quiz.pk) == []


def test_every_kind_is_stored_as_its_kind_says(host, media_root):
    quiz = quiz_from_dict(every_kind(), owner=host)
    questions = {q.kind: q for q in quiz.questions.all()}
    assert list(questions) == ["single", "multi", "truefalse", "poll", "text", "slider", "order"]
    flags = {kind: list(q.choices.values_list("text", "is_correct")) for kind, q in questions.items()}
    assert flags["multi"] == [("Mars", True), ("the Moon", False), ("Venus", True)]
    assert flags["poll"] == [("Spring", False), ("Summer", False), ("Autumn", False)]
    assert flags["text"] == [("Au", False), ("AU.", False)]
    assert flags["order"] == [("Mercury", False), ("Earth", False), ("Jupiter", False)]
    assert flags["slider"] == []
    slider = questions["slider"]
    assert (slider.slider_min, slider.slider_max, slider.slider_step) == (0.0, 14.0, 0.5)
    assert (slider.slider_correct, slider.slider_tolerance) == (7.0, 0.5)
    assert questions["multi"].explanation == "The Moon is Earth's satellite, not a planet."
    image = questions["order"].image
    assert image.name == f"questions/{hashlib.sha256(PNG).hexdigest()}.png"
    assert (media_root / image.name).read_bytes() == PNG
    assert questions["order"].image_alt == "The three planets side by side"
    for question in questions.values():
        question.full_clean()


def test_original_format_imports_as_single(host):
    quiz = quiz_from_dict(VALID, owner=host)
    assert set(quiz.questions.values_list("kind", flat=True)) == {"single"}
    assert all("kind" not in q for q in quiz_to_dict(quiz)["questions"])


def test_shorthands_read_as_their_full_form(host):
    data = every_kind(_kind("truefalse", options=None, correct_idx=1))
    _kind("single", correct_idx=None, correct_idxs=[2])(data)
    _kind("slider", tolerance=None)(data)
    exported = quiz_to_dict(quiz_from_dict(data, owner=host))["questions"]
    assert exported[KIND_INDEX["truefalse"]]["options"] == ["True", "False"]
    assert exported[KIND_INDEX["truefalse"]]["correct_idx"] == 1
    assert exported[KIND_INDEX["single"]]["correct_idx"] == 2
    assert exported[KIND_INDEX["slider"]]["tolerance"] == 0


@pytest.mark.parametrize(("fmt", "mime", "ext"), [("JPEG", "image/jpeg", "jpg"), ("GIF", "image/png", "gif")])
def test_image_is_stored_by_its_content(host, fmt, mime, ext):
    data = picture(fmt)
    quiz = quiz_from_dict(every_kind(_kind("order", image=data_url(data, mime))), owner=host)
    question = quiz.questions.get(kind="order")
    assert question.image.name.endswith(f".{ext}")
    exported = quiz_to_dict(quiz)["questions"][KIND_INDEX["order"]]["image"]
    assert exported.startswith(f"data:{IMAGE_MIME_TYPES[ext]};base64,")


def test_wrapped_base64_is_read(host):
    encoded = data_url(PNG)
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    quiz = quiz_from_dict(every_kind(_kind("order", image=wrapped)), owner=host)
    assert quiz.questions.get(kind="order").image.read() == PNG


def test_export_skips_an_image_missing_from_storage(host, media_root):
    quiz = quiz_from_dict(every_kind(), owner=host)
    (media_root / quiz.questions.get(kind="order").image.name).unlink()
    exported = quiz_to_dict(quiz)["questions"][KIND_INDEX["order"]]
    assert "image" not in exported
    assert exported["image_alt"] == "The three planets side by side"


BMP = picture("BMP")
KIND_CASES = [
    # Unknown kinds, and fields of another kind.
    (
        "unknown kind",
        _kind("single", kind="essay"),
        'Question 1 ("Capital of Peru?"): unknown "kind" \'essay\'',
    ),
    ("kind not a string", _kind("single", kind=3), 'unknown "kind" 3; one of single, multi'),
    ("slider with options", _kind("slider", options=["a", "b"]), 'slider questions do not take "options"'),
    (
        "text with options",
        _kind("text", options=["a", "b"]),
        'Question 5 ("Chemical symbol of gold?"): text questions do not',
    ),
    ("single with accepted", _kind("single", accepted=["Lima"]), 'single questions do not take "accepted"'),
    ("poll with correct_idx", _kind("poll", correct_idx=0), 'poll questions do not take "correct_idx"'),
    ("multi with correct_idx", _kind("multi", correct_idx=0), 'multi questions do not take "correct_idx"'),
    (
        "order with correct_idxs",
        _kind("order", correct_idxs=[0]),
        'order questions do not take "correct_idxs"',
    ),
    # Indices.
    (
        "multi index too big",
        _kind("multi", correct_idxs=[0, 3]),
        '"correct_idxs" must be a list of whole numbers',
    ),
    ("multi bool index", _kind("multi", correct_idxs=[True]), '"correct_idxs" must be a list'),
    ("multi index twice", _kind("multi", correct_idxs=[0, 0]), '"correct_idxs" names an option twice'),
    ("multi without correct", _kind("multi", correct_idxs=None), '"correct_idxs" must be a list'),
    ("multi none correct", _kind("multi", correct_idxs=[]), "At least one choice must be marked correct"),
    ("single two correct", _kind("single", correct_idx=None, correct_idxs=[0, 1]), "Exactly one choice"),
    (
        "single both fields",
        _kind("single", correct_idxs=[0]),
        'give "correct_idx" or "correct_idxs", not both',
    ),
    (
        "truefalse index 2",
        _kind("truefalse", correct_idx=2),
        '"correct_idx" must be a whole number from 0 to 1',
    ),
    ("truefalse 3 options", _kind("truefalse", options=["T", "F", "?"]), "exactly 2 choices (True, False)"),
    ("order one item", _kind("order", options=["Mercury"]), "has 1 option; 2 to 6 are needed"),
    # Typed answers.
    ("accepted empty", _kind("text", accepted=[]), "needs 1 to 6 accepted answers; this one has 0."),
    ("accepted seven", _kind("text", accepted=list("abcdefg")), "this one has 7."),
    (
        "accepted missing",
        _kind("text", accepted=None),
        'Question 5 ("Chemical symbol of gold?") needs "accepted"',
    ),
    ("accepted blank", _kind("text", accepted=["Au", " "]), "accepted answer 2 must be a non-empty string"),
    (
        "accepted too long",
        _kind("text", accepted=["x" * 81]),
        "accepted answer 1 is longer than 80 characters",
    ),
    # Sliders.
    ("slider min = max", _kind("slider", min=14), "The slider's minimum must be less than its maximum."),
    ("slider min > max", _kind("slider", min=20), "The slider's minimum must be less than its maximum."),
    ("slider step 0", _kind("slider", step=0), "The slider's step must be more than 0"),
    ("slider correct above", _kind("slider", correct=14.5), "correct value must be between"),
    ("slider correct below", _kind("slider", correct=-1), "correct value must be between"),
    ("slider negative tolerance", _kind("slider", tolerance=-0.5), "tolerance cannot be negative"),
    ("slider without max", _kind("slider", max=None), '"max" must be a number, not None'),
    ("slider string min", _kind("slider", min="0"), '"min" must be a number'),
    ("slider bool step", _kind("slider", step=True), '"step" must be a number'),
    ("slider NaN", _kind("slider", correct=float("nan")), '"correct" must be a number'),
    ("slider huge int", _kind("slider", max=10**400), '"max" must be a number'),
    # The rest of a question.
    ("explanation too long", _kind("multi", explanation="x" * 1001), '"explanation" is longer than 1000'),
    ("explanation not text", _kind("multi", explanation=["x"]), '"explanation" must be a string'),
    ("image_alt too long", _kind("order", image_alt="x" * 201), '"image_alt" is longer than 200'),
    ("image not a data URL", _kind("order", image="https://example.com/a.png"), '"image" must be a data URL'),
    ("image not text", _kind("order", image=42), '"image" must be a data URL'),
    ("image bad base64", _kind("order", image="data:image/png;base64,@@@@"), '"image" is not valid base64'),
    (
        "image not an image",
        _kind("order", image=data_url(b"hello")),
        "The file is not an image that can be read.",
    ),
    (
        "image a BMP",
        _kind("order", image=data_url(BMP, "image/bmp")),
        "Images must be PNG, JPEG, GIF or WebP.",
    ),
    ("image too large", _kind("order", image="data:image/png;base64," + "A" * 7_000_000), "larger than 5 MB"),
    ("image 5 MB + 1", _kind("order", image=data_url(PNG + bytes(5 * 1024 * 1024))), "larger than 5 MB"),
]


@pytest.mark.parametrize(("case", "edit", "expected"), KIND_CASES, ids=[c[0] for c in KIND_CASES])
def test_bad_question_of_a_kind_is_refused_whole(host, make_quiz, media_root, case, edit, expected):
    make_quiz(host)
    counts = (Quiz.objects.count(), Question.objects.count(), Choice.objects.count())
    data = every_kind(edit)
    with pytest.raises(QuizFormatError) as excinfo:
        quiz_from_dict(data, owner=host)
    assert expected in str(excinfo.value)
    assert str(excinfo.value).startswith("Question ")
    assert (Quiz.objects.count(), Question.objects.count(), Choice.objects.count()) == counts


def test_no_image_is_stored_when_a_later_question_is_bad(host, media_root):
    data = every_kind(_kind("slider", step=0))
    data["questions"].insert(0, data["questions"].pop(KIND_INDEX["order"]))
    with pytest.raises(QuizFormatError, match=r'^Question 7 \("pH of pure water\?"\): The slider'):
        quiz_from_dict(data, owner=host)
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def protocol_example() -> dict:
    """The quiz object shown in docs/PROTOCOL.md §3.2."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
    section = text.split("### 3.2 Quiz object", 1)[1].split("\n## ", 1)[0]
    return json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])


def test_the_protocol_example_imports_and_its_error_is_the_one_shown(host):
    data = protocol_example()
    quiz = quiz_from_dict(data, owner=host)
    assert [q.kind for q in quiz.questions.all()] == ["single", "multi", "text", "slider"]
    data["questions"][3]["min"] = 14
    with pytest.raises(QuizFormatError) as excinfo:
        quiz_from_dict(data, owner=host)
    assert str(excinfo.value) == (
        'Question 4 ("pH of pure water?"): The slider\'s minimum must be less than its maximum.'
    )
