"""The host's results pages: the report, its CSV exports, one player's answers, and deletion."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from quizzes_app.kinds import Kind
from sessions_app import engine
from sessions_app.engine.regrade import played_question
from sessions_app.reports import RIGHT, WRONG, session_report
from sessions_app.selectors import session_for_host

# Spreadsheets run a cell that starts with these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """The value as CSV text, with an apostrophe in front if a spreadsheet would evaluate it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_response(filename: str, header: list[str], rows: Iterable[list[object]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # A byte-order mark makes Excel read the file as UTF-8 rather than the local code page.
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([csv_cell(cell) for cell in row] for row in rows)
    return response


@login_required
@require_GET
def session_results(request: HttpRequest, code: str) -> HttpResponse:
    """The report: questions with their answer bars, and the players by score or by accuracy."""
    session = session_for_host(request.user, code)
    report = session_report(session)
    sort = "hardest" if request.GET.get("sort") == "hardest" else "order"
    view = "accuracy" if request.GET.get("view") == "accuracy" else "score"
    questions = report.questions
    if sort == "hardest":
        # Questions nobody reached, and polls (no right answer), say nothing about difficulty: last.
        questions = sorted(
            questions, key=lambda q: (not q.tells_difficulty, q.percent_correct or 0.0, q.number)
        )
    context = {"report": report, "session": session, "questions": questions, "sort": sort, "view": view}
    return render(request, "sessions/results.html", context)


@login_required
@require_GET
def session_results_csv(request: HttpRequest, code: str) -> HttpResponse:
    """One row per player per question, for a spreadsheet.

    `chosen` is the answer in words whatever the kind, `correct` is yes, no or empty (no answer, or
    a poll); the columns after `points` came with question kinds, and those after
    `question_percent_correct` with the teacher's tools (the re-vote's answer, the extra time the
    answer had, when the question was regraded), so they go last, where they break no spreadsheet
    that reads the first ones by position.
    """
    session = session_for_host(request.user, code)
    report = session_report(session)
    header = [
        "session", "quiz", "question", "prompt", "player", "chosen", "correct", "response_ms", "points",
        "kind", "correct_answer", "outcome", "question_percent_correct",
        "revote_chosen", "revote_correct", "revote_response_ms", "revote_points", "time_factor",
        "regraded_at",
    ]  # fmt: skip
    correct_cell = {RIGHT: "yes", WRONG: "no"}
    questions = report.questions

    def row(player, answer) -> list:
        second, question = answer.second, questions[answer.number - 1]
        regraded = question.regraded_at.isoformat(timespec="seconds") if question.regraded_at else ""
        return [
            report.code, report.quiz_title, answer.number, answer.prompt, player.name, answer.answer_text,
            correct_cell.get(answer.outcome, ""), answer.response_ms, answer.points, answer.kind,
            answer.correct_text, answer.outcome, question.percent_correct,
            second.answer_text if second else "", correct_cell.get(second.outcome, "") if second else "",
            second.response_ms if second else "", second.points if second else "",
            answer.time_factor if answer.outcome != "none" else "", regraded,
        ]  # fmt: skip

    rows = (row(player, answer) for player in report.players for answer in player.answers)
    return _csv_response(f"knewit-{report.code}-answers.csv", header, rows)


@login_required
@require_GET
def session_players_csv(request: HttpRequest, code: str) -> HttpResponse:
    """One row per player: rank, score, and accuracy (over the scored questions: polls left out); then
    the rank by accuracy, the tie-break time (ranking.py) and the extra time the host gave."""
    session = session_for_host(request.user, code)
    report = session_report(session)
    header = [
        "rank", "name", "score", "correct", "accuracy_percent", "median_ms",
        "accuracy_rank", "total_answer_ms", "time_factor",
    ]  # fmt: skip
    rows = (
        [p.rank, p.name, p.score, p.correct_count, p.accuracy, p.median_ms, p.accuracy_rank, p.total_ms,
         p.time_factor]
        for p in report.players
    )  # fmt: skip
    return _csv_response(f"knewit-{report.code}-players.csv", header, rows)


@login_required
@require_GET
def session_player_detail(request: HttpRequest, code: str, public_id: str) -> HttpResponse:
    """One player's answer to each question."""
    session = session_for_host(request.user, code)
    report = session_report(session)
    player = report.player(public_id)
    if player is None:
        raise Http404(gettext("No such player in this session."))
    return render(request, "sessions/results_player.html", {"report": report, "player": player})


@login_required
@require_http_methods(["GET", "POST"])
def session_delete(request: HttpRequest, code: str) -> HttpResponse:
    """GET asks for confirmation; only a POST deletes the session with its players and answers."""
    session = session_for_host(request.user, code)
    if request.method == "POST":
        # Codes are reused once a session finishes: delete only the session the host confirmed.
        if request.POST.get("session_id") != str(session.pk):
            messages.error(
                request, gettext("That session has changed since you confirmed; please check again.")
            )
            return redirect("session_delete", code=code)
        label = f"{session.code} ({session.quiz.title if session.quiz else gettext('deleted quiz')})"
        session.delete()
        messages.success(request, gettext("Session %(session)s deleted.") % {"session": label})
        return redirect("host_dashboard")
    players = session.players.filter(kicked=False).count()
    return render(request, "sessions/results_delete.html", {"session": session, "player_count": players})


@login_required
@require_POST
def session_regrade(request: HttpRequest, code: str, question_pk: int) -> HttpResponse:
    """Set a played question's answer key again, for this session, and recompute everything from the
    stored answers (engine/regrade.py). The session's own host only, once the game is over."""
    session = session_for_host(request.user, code)
    results = reverse("session_results", args=[code])
    try:
        _, facts = played_question(session, question_pk)
        key = key_from_form(facts.kind, request.POST)
        engine.regrade_question(
            session_pk=session.pk, host=request.user, question_pk=question_pk, key=key, now=timezone.now()
        )
    except engine.EngineError as exc:
        if exc.code == "forbidden":
            raise PermissionDenied(exc.message) from None
        messages.error(request, gettext("Not regraded: %(reason)s") % {"reason": exc.message})
        return redirect(results)
    messages.success(
        request, gettext("Regraded. Scores, ranks and both rankings are recomputed from the answers.")
    )
    return redirect(f"{results}#q-{question_pk}")


def key_from_form(kind: str, form) -> dict:
    """A regrade form's fields as an answer key of engine/answer_keys.py (checked there)."""
    if kind == Kind.TEXT:
        return {"accepted": form.get("accepted", "").splitlines()}
    if kind == Kind.SLIDER:
        return {"correct": _number(form.get("correct")), "tolerance": _number(form.get("tolerance", "0"))}
    if kind == Kind.ORDER:
        places = {
            key.removeprefix("place-"): value for key, value in form.items() if key.startswith("place-")
        }
        try:
            ranked = sorted((int(place), int(idx)) for idx, place in places.items())
        except ValueError:
            return {"correct_order": None}
        return {
            "correct_order": [idx for _, idx in ranked]
            if len({p for p, _ in ranked}) == len(ranked)
            else None
        }
    try:
        return {"correct_idxs": [int(value) for value in form.getlist("correct")]}
    except ValueError:
        return {"correct_idxs": None}


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None
