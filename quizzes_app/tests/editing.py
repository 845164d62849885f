"""POST data for the quiz page (quizzes_app/editor.py): a quiz, its questions and their nested choices."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from quizzes_app.models import Question, Quiz

QUIZ_ADD = reverse("admin:quizzes_app_quiz_add")
QUESTION_FIELDS = ("order", "kind", "prompt", "time_limit", "points", "explanation", "image_alt")
SLIDER_FIELDS = ("slider_min", "slider_max", "slider_step", "slider_correct", "slider_tolerance")


def quiz_url(quiz: Quiz, action: str = "change") -> str:
    return reverse(f"admin:quizzes_app_quiz_{action}", args=[quiz.pk])


def question(prompt: str, choices: list, kind: str = "single", **fields: Any) -> dict:
    """A new question; choices are texts, with "*" in front of the correct ones ("*Paris")."""
    rows = [{"text": text.removeprefix("*"), "is_correct": text.startswith("*")} for text in choices]
    return {"prompt": prompt, "kind": kind, "choices": rows, **fields}


def existing(quiz: Quiz) -> list[dict]:
    """The quiz's questions as they are saved, with their ids, ready to edit and post back."""
    out = []
    for saved in quiz.questions.prefetch_related("choices"):
        item = {"id": saved.pk, **{name: getattr(saved, name) for name in QUESTION_FIELDS + SLIDER_FIELDS}}
        item["choices"] = [
            {"id": c.pk, "order": c.order, "text": c.text, "is_correct": c.is_correct}
            for c in saved.choices.all()
        ]
        out.append(item)
    return out


def _value(value: Any) -> Any:
    return "" if value is None else value


def quiz_post(
    questions: list[dict], *, quiz: Quiz | None = None, title: str = "Planets", **fields: Any
) -> dict[str, Any]:
    """What the quiz page's form sends: rows without "id" are new; "DELETE": True deletes a row."""
    data: dict[str, Any] = {
        "title": quiz.title if quiz else title,
        "description": quiz.description if quiz else "",
        "default_time_limit": quiz.default_time_limit if quiz else 20,
        **_management("questions", questions),
        **fields,
    }
    for i, item in enumerate(questions):
        prefix = f"questions-{i}"
        data[f"{prefix}-id"] = item.get("id", "")
        data[f"{prefix}-quiz"] = quiz.pk if quiz and item.get("id") else ""
        for name in QUESTION_FIELDS + SLIDER_FIELDS:
            default = {"order": i, "kind": "single", "points": 1000}.get(name)
            data[f"{prefix}-{name}"] = _value(item.get(name, default))
        if item.get("image") is not None:
            data[f"{prefix}-image"] = item["image"]
        if item.get("DELETE"):
            data[f"{prefix}-DELETE"] = "on"
        rows = item.get("choices", [])
        data |= _management(f"{prefix}-choices", rows)
        for j, row in enumerate(rows):
            data[f"{prefix}-choices-{j}-id"] = row.get("id", "")
            data[f"{prefix}-choices-{j}-question"] = item.get("id", "") if row.get("id") else ""
            data[f"{prefix}-choices-{j}-order"] = row.get("order", j)
            data[f"{prefix}-choices-{j}-text"] = row.get("text", "")
            if row.get("is_correct"):
                data[f"{prefix}-choices-{j}-is_correct"] = "on"
            if row.get("DELETE"):
                data[f"{prefix}-choices-{j}-DELETE"] = "on"
    return data


def _management(prefix: str, rows: list[dict]) -> dict[str, Any]:
    return {
        f"{prefix}-TOTAL_FORMS": len(rows),
        f"{prefix}-INITIAL_FORMS": sum(1 for row in rows if row.get("id")),
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def question_forms(response) -> list:
    """The question forms of a quiz page shown again with its errors."""
    return list(response.context["inline_admin_formsets"][0].formset.forms)


def choice_errors(response, index: int) -> list[str]:
    """The errors above question `index`'s choices (its nested formset's own errors)."""
    form = question_forms(response)[index]
    return list(form.nested_formsets[0].non_form_errors())


def saved_state(quiz: Quiz) -> list[tuple]:
    """(kind, prompt, [(text, is_correct), ...]) of each question, in order."""
    return [
        (q.kind, q.prompt, list(q.choices.values_list("text", "is_correct")))
        for q in Question.objects.filter(quiz=quiz).order_by("order", "pk")
    ]
