"""Where a phone's join costs the server: its CPU for each step of joining on the pages, alone.

bench/run.py --pages measures a join burst as a classroom makes it, every step of every phone
interleaved with the others and with the lobby's pushes. This runs the steps one at a time for N
phones (every GET of the join form, then every POST, which htmx sends and the play page answers, then
every page socket) against one
Daphne with the embedded defaults (SQLite, in-memory layer), and prints the server's CPU per step:

    python bench/joinsteps.py --students 600 [--concurrency 50]

The sum is the least a join costs; a burst costs more (bench/RESULTS.md, issue #16).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import phone, run
from bench.loadgen import Config, bench_quiz, open_socket, proc_cpu_seconds

# "ping" is not a join step: the floor, one request on a new connection to a view that does nothing.
STEPS = ("ping", "get", "post", "socket")


async def create_session(port: int, token: str, students: int) -> str:
    """A session of the bench's quiz, created as the bench's host does (quiz.save, session.create)."""
    ws = await open_socket(f"ws://127.0.0.1:{port}/ws?is_host=true&token={token}", 30)

    async def call(message: dict, reply: str) -> dict:
        await ws.send(json.dumps(message))
        while (got := json.loads(await ws.recv()))["type"] not in (reply, "error"):
            pass
        if got["type"] == "error":
            raise RuntimeError(f"{message['type']} refused: {got}")
        return got

    quiz = bench_quiz(Config(url="", token="", students=students, questions=1))
    saved = await call({"type": "quiz.save", "quiz": quiz}, "quiz.saved")
    settings = {"max_players": max(students, 2000)}
    created = await call(
        {"type": "session.create", "quiz_id": saved["quiz_id"], "settings": settings}, "session.created"
    )
    await ws.close()
    return created["session_id"]


async def measure(
    port: int, code: str, pid: int, students: int, concurrency: int, profiler: run.Profiler
) -> dict[str, dict]:
    base = f"http://127.0.0.1:{port}"
    browsers = [phone.Browser(base, timeout=120) for _ in range(students)]
    carried: dict[int, str] = {}  # what the POST needs: the CSRF field
    sockets = []
    limit = asyncio.Semaphore(concurrency)

    async def step(i: int, name: str) -> None:
        browser = browsers[i]
        async with limit:
            if name == "ping":
                pinger = phone.Browser(base, timeout=120)
                await pinger.request("GET", "/ping")
                await pinger.close()
            elif name == "get":
                form = await browser.request("GET", f"/join/{code}/")
                carried[i] = phone.csrf_field(form.text) or ""
            elif name == "post":
                fields = {
                    "csrfmiddlewaretoken": carried[i],
                    "code": code,
                    "nickname": f"Steps {i}",
                    "password": "",
                }
                joined = await browser.request("POST", "/", fields, phone.boosted(base, f"/join/{code}/"))
                if joined.status != 200 or "ws-connect" not in joined.text:
                    raise RuntimeError(f"POST: {joined.status}")
                await browser.close()
            else:
                url = f"ws://127.0.0.1:{port}/ws/page/play/{code}/"
                ws = await open_socket(url, 60, origin=base, cookie=browser.cookie_header())
                await ws.recv()  # the page's regions: the resume is done
                sockets.append(ws)

    figures = {}
    for name in STEPS:
        profiler.phase(name, start=True)
        cpu, started = proc_cpu_seconds(pid), time.monotonic()
        await asyncio.gather(*(step(i, name) for i in range(students)))
        wall = time.monotonic() - started
        profiler.phase(name, start=False)
        await asyncio.sleep(1.0)  # the lobby's coalesced pushes of this step go out, and are counted
        spent = proc_cpu_seconds(pid) - cpu
        figures[name] = {"wall_s": wall, "cpu_s": spent, "cpu_ms_each": 1000 * spent / students}
        print(
            f"{name:7s} {students} in {wall:6.2f} s   server CPU {spent:6.2f} s"
            f" = {figures[name]['cpu_ms_each']:.1f} ms each",
            flush=True,
        )
    total = sum(f["cpu_ms_each"] for name, f in figures.items() if name != "ping")
    print(f"a join, all steps: {total:.1f} ms of server CPU: at most {1000 / total:.0f} joins/s on one core")
    await asyncio.gather(*(ws.close() for ws in sockets))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=50, help="phones in one step at once")
    parser.add_argument("--py-spy", metavar="DIR", help="profile the server during each step into DIR")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="knewit-joinsteps-"))
    database_url = f"sqlite:///{workdir / 'db.sqlite3'}"
    env = run.server_env(database_url, None, "core")
    run.prepare_database(database_url, env)
    token = run.host_token(env)
    port = run.free_ports(1)[0]
    with run.Servers([port], env, workdir / "logs") as servers:
        code = asyncio.run(create_session(port, token, args.students))
        pid = servers.procs[0].pid
        with run.Profiler(args.py_spy, [pid]) as profiler:
            asyncio.run(measure(port, code, pid, args.students, args.concurrency, profiler))
        if args.py_spy:
            print("\n".join(profiler.report()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
