"""The host's results pages: the report, its CSV exports, one player's answers, and deletion."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

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
    a poll); the columns after `points` came with question kinds, so they go last, where they break
    no spreadsheet that reads the first nine by position.
    """
    session = session_for_host(request.user, code)
    report = session_report(session)
    header = [
        "session", "quiz", "question", "prompt", "player", "chosen", "correct", "response_ms", "points",
        "kind", "correct_answer", "outcome", "question_percent_correct",
    ]  # fmt: skip
    correct_cell = {RIGHT: "yes", WRONG: "no"}
    questions = report.questions
    rows = (
        [
            report.code,
            report.quiz_title,
            answer.number,
            answer.prompt,
            player.name,
            answer.answer_text,
            correct_cell.get(answer.outcome, ""),
            answer.response_ms,
            answer.points,
            answer.kind,
            answer.correct_text,
            answer.outcome,
            questions[answer.number - 1].percent_correct,
        ]
        for player in report.players
        for answer in player.answers
    )
    return _csv_response(f"knewit-{report.code}-answers.csv", header, rows)


@login_required
@require_GET
def session_players_csv(request: HttpRequest, code: str) -> HttpResponse:
    """One row per player: rank, score, and accuracy (over the scored questions: polls left out)."""
    session = session_for_host(request.user, code)
    report = session_report(session)
    header = ["rank", "name", "score", "correct", "accuracy_percent", "median_ms"]
    rows = ([p.rank, p.name, p.score, p.correct_count, p.accuracy, p.median_ms] for p in report.players)
    return _csv_response(f"knewit-{report.code}-players.csv", header, rows)


@login_required
@require_GET
def session_player_detail(request: HttpRequest, code: str, public_id: str) -> HttpResponse:
    """One player's answer to each question."""
    session = session_for_host(request.user, code)
    report = session_report(session)
    player = report.player(public_id)
    if player is None:
        raise Http404("No such player in this session.")
    return render(request, "sessions/results_player.html", {"report": report, "player": player})


@login_required
@require_http_methods(["GET", "POST"])
def session_delete(request: HttpRequest, code: str) -> HttpResponse:
    """GET asks for confirmation; only a POST deletes the session with its players and answers."""
    session = session_for_host(request.user, code)
    if request.method == "POST":
        # Codes are reused once a session finishes: delete only the session the host confirmed.
        if request.POST.get("session_id") != str(session.pk):
            messages.error(request, "That session has changed since you confirmed; please check again.")
            return redirect("session_delete", code=code)
        label = f"{session.code} ({session.quiz.title if session.quiz else 'deleted quiz'})"
        session.delete()
        messages.success(request, f"Session {label} deleted.")
        return redirect("host_dashboard")
    players = session.players.filter(kicked=False).count()
    return render(request, "sessions/results_delete.html", {"session": session, "player_count": players})
