"""A small run of the load generator against a real Daphne: correctness only, no timing.

50 students, 2 questions, one Daphne on a fresh SQLite file with the in-memory channel layer,
started and stopped through bench/run.py's own launcher.
"""

from __future__ import annotations

import pytest

from bench import loadgen
from bench import run as bench_run

STUDENTS, QUESTIONS = 50, 2


@pytest.mark.slow
def test_load_generator_small_run_is_correct(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    env = bench_run.server_env(database_url, None, "core")
    bench_run.prepare_database(database_url, env)
    token = bench_run.manage(env, "host_token", "benchhost").strip().splitlines()[-1]
    (port,) = bench_run.free_ports(1)
    url = f"ws://127.0.0.1:{port}/ws"
    with bench_run.Servers([port], env, tmp_path / "logs") as servers:
        cfg = loadgen.Config(
            url=url, token=token, students=STUDENTS, questions=QUESTIONS, procs=2, window=1.0, settle=0.3,
            dup_fraction=0.1, join_timeout=30, answer_timeout=20, reveal_timeout=20, server_pids=servers.pids,
        )  # fmt: skip
        res = loadgen.run_load(cfg)
    db = bench_run.db_check(env, res["session_id"])
    bench_run.attach_db(res, db)

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
        # the host's live histogram reached every answer, out of every player
        assert q["histogram_final"] == STUDENTS, q
        assert q["histogram_total"] == STUDENTS, q
    assert db["players"] == STUDENTS
    assert db["answers_total"] == STUDENTS * QUESTIONS
    assert db["player_question_pairs_recorded_twice"] == 0
    assert res["finished"] == {"students": STUDENTS, "leaderboard": STUDENTS}
    assert res["sockets_lost"] == {}
    assert res["host_socket_closed"] is None
