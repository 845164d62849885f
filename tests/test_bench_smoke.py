"""Small runs of the load generator against a real Daphne: correctness only, no timing.

One Daphne on a fresh SQLite file with the in-memory channel layer, started and stopped through
bench/run.py's own launcher: 50 protocol students, then 24 students of whom half join and play on
the pages (HTTP join form, page socket, HTML out).
"""

from __future__ import annotations

import pytest

from bench import loadgen
from bench import run as bench_run

STUDENTS, QUESTIONS = 50, 2


def small_run(tmp_path, **config) -> tuple[dict, dict]:
    """One load against a fresh server; returns the figures, with the database's count attached."""
    database_url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    env = bench_run.server_env(database_url, None, "core")
    env["DJANGO_STATIC_ROOT"] = str(tmp_path / "static")  # collectstatic's, of this test alone
    bench_run.prepare_database(database_url, env)
    token = bench_run.manage(env, "host_token", "benchhost").strip().splitlines()[-1]
    (port,) = bench_run.free_ports(1)
    url = f"ws://127.0.0.1:{port}/ws"
    with bench_run.Servers([port], env, tmp_path / "logs") as servers:
        cfg = loadgen.Config(
            url=url, token=token, questions=QUESTIONS, procs=2, window=1.0, settle=0.3, join_timeout=30,
            answer_timeout=20, reveal_timeout=20, server_pids=servers.pids, **config,
        )  # fmt: skip
        res = loadgen.run_load(cfg)
    db = bench_run.db_check(env, res["session_id"])
    bench_run.attach_db(res, db)
    return res, db


@pytest.mark.slow
def test_load_generator_small_run_is_correct(tmp_path):
    res, db = small_run(tmp_path, students=STUDENTS, dup_fraction=0.1)

    assert res["notes"] == []
    assert res["join"]["ok"] == STUDENTS
    assert res["join"]["failed"] == 0
    assert res["errors"] == {}
    assert res["host_errors"] == []
    assert len(res["questions"]) == QUESTIONS
    for q in res["questions"]:
        assert q["received"] == STUDENTS, q
        assert q["acked"] == STUDENTS, q
        assert q["recorded_twice"] == 0, q
        # the students that sent their answer twice got `duplicate: true` for the second copy
        assert q["dup_expected"] == 5, q
        assert q["dup_ok"] == q["dup_expected"], q
        assert q["dup_bad"] == 0, q
        # what the server counted is what the students chose, once each
        assert q["results_sum"] == STUDENTS, q
        assert q["results_bins"] == q["expected_bins"], q
        assert q["db_rows"] == STUDENTS, q
        assert q["db_choice_mismatch"] == 0, q  # each student's row holds the option it sent
        # the host's live histogram reached every answer, out of every player
        assert q["histogram_final"] == STUDENTS, q
        assert q["histogram_total"] == STUDENTS, q
    assert db["players"] == STUDENTS
    assert db["answers_total"] == STUDENTS * QUESTIONS
    assert db["player_question_pairs_recorded_twice"] == 0
    assert res["finished"] == {"students": STUDENTS, "leaderboard": STUDENTS}
    assert res["sockets_lost"] == {}
    assert res["host_socket_closed"] is None


@pytest.mark.slow
def test_load_generator_drives_the_pages_too(tmp_path):
    students, phones = 24, 12
    res, db = small_run(tmp_path, students=students, pages=0.5, dup_fraction=0.1, reveal_pause=0.3)

    assert res["notes"] == []
    assert res["errors"] == {}
    assert res["host_errors"] == []
    pages, protocol = res["modes"]["pages"], res["modes"]["protocol"]
    assert (pages["students"], protocol["students"]) == (phones, students - phones)
    # every phone got the join form, posted it as htmx does (answered with the play page), opened its
    # page socket
    assert pages["join"]["ok"] == phones and pages["join"]["failed"] == 0, pages["join"]
    assert set(pages["join_steps_ms"]) == {"get", "post", "socket"}
    for q in pages["questions"]:
        assert q["received"] == phones, q  # the question stage
        assert q["acked"] == phones, q  # "Answer locked in", the page's acknowledgement
        assert q["answer_errors"] == {}, q
        assert q["revealed"] == phones, q
        # one verdict each, the one its choice earned, and never over the next question
        assert (q["verdict_missing"], q["verdict_twice"], q["verdict_wrong"], q["verdict_after_next"]) == (
            0, 0, 0, 0,
        ), q  # fmt: skip
    for q in protocol["questions"]:
        assert (q["received"], q["acked"], q["revealed"]) == (students - phones,) * 3, q
    for q in res["questions"]:
        assert q["dup_expected"] == 1 and q["dup_ok"] == 1, q  # 10% of the twelve protocol students
        assert q["results_sum"] == students and q["results_bins"] == q["expected_bins"], q
        assert q["db_rows"] == students and q["db_choice_mismatch"] == 0, q
    assert db["answers_total"] == students * QUESTIONS
    assert db["player_question_pairs_recorded_twice"] == 0
    assert pages["finished"] == phones and protocol["finished"] == students - phones
    assert res["sockets_lost"] == {}
