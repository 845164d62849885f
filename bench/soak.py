"""Soak test for issue #6: does one Daphne's memory stay flat over a long session?

    python bench/soak.py                                   # 300 students, 20 questions, about 30 minutes
    python bench/soak.py --minutes 2 --questions 4 --no-write

It starts one Daphne on 127.0.0.1 with a fresh SQLite database and the in-memory channel layer, the
way `bench/run.py` does for one worker, and drives one session with `bench/loadgen.py`: every
student answers each question within --window seconds, and the pause after each reveal (loadgen's
`settle`) is stretched so that the whole session lasts about --minutes. All sockets stay open
through the pauses, so the server's pings, pongs and timers run all the time.

A background thread reads the Daphne process's VmRSS from /proc every --interval seconds, together
with the number of established TCP connections to its port (/proc/net/tcp). It does not ask the
server anything: an HTTP request per reading (e.g. /metrics) grows the server's RSS by itself. Each
reading is later placed in the phase that was running: connect, lobby, qN (from question N being
sent until the next one), finished, closed.

- warm-up: connecting, joining and questions 1 and 2 with their reveals. Warm-up RSS is the last
  reading before question 3 is sent, in the pause after question 2's reveal;
- end RSS: the last reading before the host ends the quiz, in the pause after the last question's
  reveal, every socket still open: the same state as the warm-up reading;
- max RSS: the highest reading after the warm-up one, until the server is stopped.

It passes if end and max are both less than 10% above the warm-up RSS, every answer was recorded
exactly once (bench/run.py's checks: acknowledgements, results, database rows, duplicates flagged)
and every student is still connected at the end. The run's log is appended to
bench/runs/<UTC date>.md (--no-write to skip). Everything listens on and talks to 127.0.0.1 only; the
server is stopped at the end, on errors, on Ctrl-C or SIGTERM and after a hard limit of
minutes*60 + 300 s (when interrupted, the load generator can take a minute or so to wind down first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench import run  # noqa: E402  (imported first: it re-runs this script with the venv's python)

loadgen = run.loadgen

WARMUP_QUESTIONS = 2
LIMIT_PCT = 10.0
# Durations of the busy parts of a 300-student session on our 2-core box, to size the pauses
# (measured: connect and join 2 s, a question 3.9 s with a 3 s window, the finish 0.2 s): opening
# and joining the sockets, per question --window plus the wait for the last acks, end and reveal,
# and the quiz's finish. The real duration is printed beside the planned one.
SETUP_S = 3.0
QUESTION_BUSY_S = 1.0
FINISH_S = 1.0


def pause_after_reveal(minutes: float, questions: int, window: float) -> float:
    """The `settle` that makes the session last about `minutes`; loadgen waits it once after the
    joins and once after each reveal."""
    busy = SETUP_S + questions * (window + QUESTION_BUSY_S) + FINISH_S
    return max(1.0, (minutes * 60 - busy) / (questions + 1))


def established(port: int) -> int:
    """TCP connections to 127.0.0.1:port that are established (the server's side of each socket)."""
    count = 0
    with open("/proc/net/tcp") as fh:
        next(fh)
        for line in fh:
            local, _, state = line.split()[1:4]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


class Sampler(threading.Thread):
    """Reads the server's VmRSS and its established connections every `interval` seconds until stopped."""

    def __init__(self, pid: int, port: int, interval: float):
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.port, self.interval = pid, port, interval
        self.samples: list[dict] = []
        self.halt = threading.Event()

    def run(self) -> None:
        started = next_at = time.time()
        next_progress = started + 60
        while not self.halt.is_set():
            sample = self.sample()
            # a 30-minute run should show it is alive; the question is only known afterwards
            if sample and sample["t"] >= next_progress:
                next_progress += 60
                print(
                    f"  [{(sample['t'] - started) / 60:4.1f} min] RSS {sample['rss_kb'] / 1024:.1f} MB, "
                    f"connections {sample['sockets']}",
                    flush=True,
                )
            # a fixed cadence, so that a slow reading does not stretch the series
            next_at = max(next_at + self.interval, time.time())
            self.halt.wait(max(0.0, next_at - time.time()))

    def sample(self) -> dict | None:
        t = time.time()
        rss = loadgen.proc_status_kb(self.pid, "VmRSS")
        if rss is None:  # the server is gone
            return None
        sample = {"t": t, "rss_kb": rss, "sockets": established(self.port)}
        self.samples.append(sample)
        return sample

    def stop(self) -> None:
        self.halt.set()
        self.join(30)


# --- analysis -----------------------------------------------------------------------------------


def label_phases(samples: list[dict], timeline: dict, t_closed: float) -> None:
    """Put each sample in the phase that was running when it was taken."""
    t0, marks = timeline["t0"], timeline["marks"]
    sent = sorted(timeline["question_sent"].items())
    for s in samples:
        t = s["t"]
        if t >= t_closed:
            phase = "closed"
        elif "finish_sent" in marks and t >= t0 + marks["finish_sent"]:
            phase = "finished"
        else:
            phase = "lobby" if "connected" in marks and t >= t0 + marks["connected"] else "connect"
            for q, t_q in sent:
                if t >= t0 + t_q:
                    phase = f"q{q}"
        s["phase"] = phase


def rss_verdict(samples: list[dict], timeline: dict) -> dict:
    """Warm-up, end and max RSS (see the module docstring) and the growth of end and max over warm-up."""
    t0, marks = timeline["t0"], timeline["marks"]
    t_q3 = timeline["question_sent"].get(WARMUP_QUESTIONS + 1)
    t_finish = marks.get("finish_sent")
    if t_q3 is None or t_finish is None:
        return {"error": "the session did not get past the warm-up and to the end of the quiz"}
    before_q3 = [s for s in samples if s["t"] < t0 + t_q3]
    before_finish = [s for s in samples if s["t"] < t0 + t_finish]
    if not before_q3 or not before_finish:
        return {"error": "no RSS readings in the warm-up"}
    warm, end = before_q3[-1], before_finish[-1]
    after = [s for s in samples if s["t"] > warm["t"]] or [warm]
    peak = max(after, key=lambda s: s["rss_kb"])
    return {
        "warmup": warm,
        "end": end,
        "max": peak,
        "end_growth_pct": round((end["rss_kb"] - warm["rss_kb"]) / warm["rss_kb"] * 100, 1),
        "max_growth_pct": round((peak["rss_kb"] - warm["rss_kb"]) / warm["rss_kb"] * 100, 1),
    }


def series(samples: list[dict]) -> str:
    """One value per phase: the last reading in it, and the highest in brackets when different (MB)."""
    by_phase: dict[str, list[int]] = {}
    for s in samples:
        by_phase.setdefault(s["phase"], []).append(s["rss_kb"])
    parts = []
    for phase, values in by_phase.items():
        last, top = values[-1] / 1024, max(values) / 1024
        parts.append(f"{phase} {last:.1f}" + (f" ({top:.1f})" if top - last >= 0.05 else ""))
    return " | ".join(parts)


def mb(sample: dict) -> str:
    return f"{sample['rss_kb'] / 1024:.1f} MB"


def checks(res: dict, rss: dict, samples: list[dict]) -> list[tuple[str, str, bool]]:
    """(check, measured, passed) rows."""
    n = res["config"]["students"]
    qs = res["questions"]
    rows = []
    if "error" in rss:
        rows.append(("RSS growth after warm-up", rss["error"], False))
    else:
        warm, end, peak = rss["warmup"], rss["end"], rss["max"]
        rows.append(
            (
                f"RSS at the end < {LIMIT_PCT:.0f}% above warm-up",
                f"warm-up {mb(warm)} ({warm['phase']}), end {mb(end)} ({end['phase']}): "
                f"{rss['end_growth_pct']:+.1f}%",
                rss["end_growth_pct"] < LIMIT_PCT,
            )
        )
        rows.append(
            (
                f"max RSS after warm-up < {LIMIT_PCT:.0f}% above warm-up",
                f"max {mb(peak)} ({peak['phase']}): {rss['max_growth_pct']:+.1f}%",
                rss["max_growth_pct"] < LIMIT_PCT,
            )
        )
    wrong = [
        f"q{q['q']} acked {q['acked']} results {q['results_sum']} db {q.get('db_rows')}"
        for q in qs
        if not run.recorded_exactly_once(q, n)
    ]
    rows.append(
        (
            "every answer recorded exactly once, duplicates flagged",
            f"{len(qs) - len(wrong)}/{res['config']['questions']} questions with acks = results = db rows "
            f"= {n} and bins as chosen; duplicates flagged {sum(q['dup_ok'] for q in qs)}/"
            f"{sum(q['dup_expected'] for q in qs)}" + (f"; wrong: {', '.join(wrong)}" if wrong else ""),
            not wrong and len(qs) == res["config"]["questions"],
        )
    )
    finished = res["finished"]["students"]
    end_sockets = rss["end"]["sockets"] if "end" in rss else None
    rows.append(
        (
            "every student connected at the end",
            f"{res['join']['ok']}/{n} joined, {finished} got quiz.finished; connections to the server "
            f"before the finish {end_sockets} (students + host); "
            f"closed by the server {res['sockets_lost'] or 0}",
            res["join"]["ok"] == n and finished == n and end_sockets in (None, n + 1),
        )
    )
    return rows


# --- report -------------------------------------------------------------------------------------


def render(res: dict, info: dict, setup: dict, rows: list, rss: dict, samples: list[dict]) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    c = res["config"]
    lines = [
        f"## {now}: soak, {c['students']} students, {c['questions']} questions, {setup['minutes']:g} min, "
        "1 worker, SQLite, in-memory layer",
        "",
        f"- command: `{setup['command']}`",
        f"- machine: {run.machine_line(info)}",
        f"- app at {info['git']}; load generator on the same box: {c['procs']} student processes + 1 host process",  # noqa: E501
        f"- settings: window {c['window']} s, duplicates {c['dup_fraction']:.0%}, pause after each reveal "
        f"{c['settle']:.1f} s, VmRSS of the Daphne process read every {setup['interval']:g} s; "
        f"planned {setup['minutes']:g} min, session took {res['wall_s'] / 60:.1f} min",
        f"- warm-up: connect, join and questions 1-{WARMUP_QUESTIONS} with their reveals; warm-up RSS = last "
        f"reading before question {WARMUP_QUESTIONS + 1} is sent; end RSS = last reading before the quiz "
        "is ended (after the last reveal, sockets open); max = highest reading after the warm-up one",
        "",
        "| check | measured | result |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {value} | {run.mark(ok)} |" for name, value, ok in rows]
    lines.append("")
    lines.append(f"RSS MB by phase (last reading, highest in brackets): {series(samples)}")
    lines.append("")
    cpu = res["server_cpu_s"]
    lines.append(
        f"Server CPU {cpu['total']} s; {len(samples)} readings; VmHWM {res['server_peak_rss_mb'][0]} MB "
        "(the peak between readings, e.g. while a reveal is sent to every socket); "
        f"server logs: {setup['log_problems']}; database check: {setup['db']}."
    )
    lines += ["", "```", *loadgen.summary_lines(res), "```", ""]
    return "\n".join(lines)


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=300)
    p.add_argument("--questions", type=int, default=20)
    p.add_argument("--minutes", type=float, default=30.0, help="about how long the session lasts")
    p.add_argument(
        "--window", type=float, default=3.0, help="students answer at random within this many seconds"
    )
    p.add_argument("--interval", type=float, default=5.0, help="seconds between RSS readings")
    p.add_argument("--procs", type=int, default=2, help="student processes of the load generator")
    p.add_argument("--no-write", action="store_true", help="do not append the run to bench/runs/")
    p.add_argument("--json", metavar="FILE", help="also write the readings and figures as JSON")
    args = p.parse_args(argv)
    if args.questions <= WARMUP_QUESTIONS:
        p.error(f"--questions must be more than the {WARMUP_QUESTIONS} warm-up questions")
    return args


def execute(args: argparse.Namespace, work: Path) -> tuple[dict, dict, dict, list, dict, list]:
    info = run.machine()  # before the run: other people commit to the app while it runs
    settle = pause_after_reveal(args.minutes, args.questions, args.window)
    # at least a few readings in every pause, so the warm-up and end readings are taken at rest
    interval = min(args.interval, max(1.0, settle / 3))
    database_url = f"sqlite:///{work / 'soak.sqlite3'}"  # not run.py's file: other runs may be using it
    env = run.server_env(database_url, None, "core")
    run.prepare_database(database_url, env)
    token = run.host_token(env)
    (port,) = run.free_ports(1)
    print(
        f"soak: {args.students} students, {args.questions} questions, about {args.minutes:g} min "
        f"(pause after each reveal {settle:.1f} s), RSS every {interval:g} s; logs and database in {work}",
        flush=True,
    )
    with run.Servers([port], env, work) as servers:
        sampler = Sampler(servers.pids[0], port, interval)
        sampler.start()
        try:
            cfg = loadgen.Config(
                url=f"ws://127.0.0.1:{port}/ws",
                token=token,
                students=args.students,
                questions=args.questions,
                procs=args.procs,
                window=args.window,
                settle=settle,
                server_pids=servers.pids,
            )
            res = loadgen.run_load(cfg)
        finally:
            sampler.stop()
        t_closed = time.time()
        # one more reading once every socket is closed, just before the server stops
        time.sleep(min(interval, 2.0))
        sampler.sample()
        log_problems = servers.log_problems()
    db = run.db_check(env, res["session_id"])
    run.attach_db(res, db)
    samples = sampler.samples
    label_phases(samples, res["timeline"], t_closed)
    rss = rss_verdict(samples, res["timeline"])
    setup = {
        "command": " ".join(["python bench/soak.py", *sys.argv[1:]]),
        "minutes": args.minutes,
        "interval": interval,
        "log_problems": log_problems,
        "db": db,
    }
    return res, info, setup, checks(res, rss, samples), rss, samples


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    max_seconds = int(args.minutes * 60 + 300)

    class HardTimeout(BaseException):
        """Not an Exception: the load generator's `except Exception` must not swallow it."""

    def timeout(*_):
        raise HardTimeout(f"bench/soak.py stopped after {max_seconds} s")

    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(max_seconds)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = Path(tempfile.mkdtemp(prefix="knewit-soak-"))
    try:
        res, info, setup, rows, rss, samples = execute(args, work)
    finally:
        signal.alarm(0)
    print()
    print("\n".join(loadgen.summary_lines(res)))
    print()
    print(
        f"warm-up = connect, join and questions 1-{WARMUP_QUESTIONS} with their reveals: the last reading "
        f"before question {WARMUP_QUESTIONS + 1} is sent; end = the last reading before the quiz is ended"
    )
    print(f"RSS MB by phase (last reading, highest in brackets): {series(samples)}")
    for name, value, ok in rows:
        print(f"{run.mark(ok):4}  {name}: {value}")
    passed = all(ok for _, _, ok in rows)
    print(f"soak {'PASS' if passed else 'FAIL'}; session {res['wall_s'] / 60:.1f} min")
    if args.json:
        raw = {"figures": res, "rss": rss, "samples": samples, "setup": setup}
        Path(args.json).write_text(json.dumps(raw, indent=1, default=str))
    if not args.no_write:
        path = run.write_results(render(res, info, setup, rows, rss, samples))
        print(f"\nwritten to {path.relative_to(REPO)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
