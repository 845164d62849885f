"""Knewit load generator: one host and N students in one session, speaking docs/PROTOCOL.md, or, for
the students on the pages (--pages), doing what a phone's browser does (bench/phone.py).

The host runs in this process; the students are spread over `--procs` child processes, each an
asyncio loop with one `websockets` client per student. Every process is on the same machine, so
timestamps are `time.time()` everywhere and latencies are differences between processes' clocks.

Standalone, against a server that is already running (bench/run.py starts its own):

    python bench/loadgen.py --url ws://127.0.0.1:8000/ws --token TOKEN --students 200 --questions 3

What a run does:
  1. the children open a socket on /ws for each protocol student (at most --connect-concurrency
     handshakes in flight) and wait for `welcome`; the host saves an inline quiz and creates a session;
  2. every protocol student sends `session.join` at once; every page student GETs /join/<code>/,
     POSTs the form as htmx does (CSRF cookie and field, same-site Origin, htmx's headers), which
     answers with the play page, and opens /ws/page/play/<code>/ with the rejoin cookie, at most
     --connect-concurrency at a time
     (join time: first join started -> last student in: `session.joined`, or the page's first stage);
  3. per question: the host sends `quiz.start` / `question.next`; each student answers at a random
     moment in [0, --window] s after its question (a page sends what htmx sends for the button, if
     the page still shows the question); --dup-fraction of the protocol students send the same
     `answer.submit` twice with the same msg_id and expect `duplicate: true` on the second; when
     every student has its acknowledgement the host sends `question.end`, and --reveal-pause s later
     the next `question.next`, whether every verdict (`answer.result`, a page's result stage) is out
     or not;
  4. after the last question the host sends `question.next` and everyone waits for `quiz.finished`.

Message accounting: every client counts the frames it receives by phase (lobby, qN.open = from
its question to its `question.results` or the page's shared reveal region, qN.reveal = from then
on) and type (a page's frames by the stage they show).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import queue as queue_mod
import random
import resource
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from websockets.asyncio.client import connect

try:
    from bench import phone
except ImportError:  # run as a script: bench/ is on the path, the repository is not
    import phone

CLK_TCK = os.sysconf("SC_CLK_TCK")
# bench/run.py --py-spy sets this: phase_hook(name, start) at the start and end of each phase of a
# run ("join"; "reveal<q>": from just before End to a second after the Next that follows it).
phase_hook = None


def phase(name: str, start: bool) -> None:
    if phase_hook is not None:
        phase_hook(name, start)


# Types that are not "per question" traffic: the answers' acknowledgements (a page's is its "locked"
# stage), and the heartbeat, which comes every 20 s whatever the question does.
NOT_COUNTED = {"answer.recorded", "stage:locked", "ping"}


@dataclass
class Config:
    url: str  # ws://host:port/ws of the host's server
    token: str
    student_urls: list[str] = field(default_factory=list)  # round-robin; default [url]
    students: int = 200
    questions: int = 3
    options: int = 4
    procs: int = 2
    window: float = 3.0  # students answer at random in [0, window] s after question.next
    dup_fraction: float = 0.05  # of the protocol students (a page sends an answer once: live.js)
    pages: float = 0.0  # this share of the students join and play on the pages (bench/phone.py)
    reveal_pause: float = 0.5  # the host presses Next this long after ending a question
    time_limit: int = 60  # the server's own deadline; the host ends each question before it
    max_players: int = 0  # 0: max(students, 2000), capped at 10000
    connect_concurrency: int = 100  # handshakes in flight, over all children
    connect_timeout: float = 180.0
    join_timeout: float = 240.0
    answer_timeout: float = 60.0  # after the window, to wait for every acknowledgement
    reveal_timeout: float = 60.0
    settle: float = 1.0  # pause after the joins and after each reveal
    join_msg_id: bool = False
    seed: int = 1
    server_pids: list[int] = field(default_factory=list)


# --- /proc readings -----------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_status_kb(pid: int, key: str) -> int | None:
    """A `kB` line of /proc/PID/status (VmHWM: peak RSS, VmRSS: current)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def cpu_of(pids: list[int]) -> float:
    return sum(proc_cpu_seconds(pid) or 0.0 for pid in pids)


def box_cpu_seconds() -> float:
    """CPU seconds every process on the box has used (the first line of /proc/stat, busy fields)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLK_TCK  # all but idle and iowait


def raise_nofile_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def peak_rate(times: list[float], window: float = 1.0) -> int:
    """The most timestamps in any sliding window of `window` seconds."""
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def open_socket(url: str, open_s: float, origin: str | None = None, cookie: str | None = None):
    """A client socket; a page's also sends its site's Origin and cookies, as a browser does."""
    return await connect(
        url,
        compression=None,  # browsers negotiate it, but Daphne does not offer it
        ping_interval=None,  # the server pings; the protocol's own ping is answered below
        open_timeout=open_s,
        close_timeout=2,
        max_size=2**22,
        origin=origin,
        additional_headers={"Cookie": cookie} if cookie else None,
    )


# --- students (child processes) ---------------------------------------------------------------


class Student:
    __slots__ = (
        "acks", "answer_err", "chosen", "conn_err", "cur_q", "dead", "done", "dup", "dup_acks", "fin_t",
        "final_rank", "gidx", "join_err", "joined_fut", "name", "page", "phase", "player_id", "recv",
        "result_t", "results_t", "sent", "shown", "steps", "t_conn", "t_join_sent", "t_joined", "url",
        "verdicts", "welcome_fut", "ws",
    )  # fmt: skip

    def __init__(self, gidx: int, url: str, dup: bool, page: bool = False):
        self.gidx, self.url, self.dup, self.page = gidx, url, dup, page
        self.name = f"s{gidx:05d}"
        self.ws = None
        self.player_id = None
        self.t_conn = self.t_join_sent = self.t_joined = self.fin_t = None
        self.conn_err = self.join_err = None
        self.welcome_fut = self.joined_fut = None
        self.phase = "lobby"
        self.dead = False
        self.done: set = set()
        # per question number
        self.recv: dict[int, float] = {}
        self.sent: dict[int, float] = {}
        self.acks: dict[int, list] = defaultdict(list)  # [(t, duplicate)]
        self.dup_acks: dict[int, int] = defaultdict(int)
        self.chosen: dict[int, int] = {}
        self.answer_err: dict[int, str] = {}
        self.result_t: dict[int, float] = {}
        self.results_t: dict[int, float] = {}
        # pages only
        self.steps: dict[str, float] = {}  # seconds of each step of joining: get, post, socket
        self.cur_q = 0  # the last question the page showed
        self.shown: tuple = ("lobby", 0)  # the page's stage now, and the question it belongs to
        self.verdicts: dict[int, list] = defaultdict(list)  # [(t, verdict, figures, after_next)]
        self.final_rank = None

    def summary(self) -> dict:
        return {
            "gidx": self.gidx, "name": self.name, "dup": self.dup, "page": self.page, "t_conn": self.t_conn,
            "conn_err": self.conn_err, "t_join_sent": self.t_join_sent, "t_joined": self.t_joined,
            "join_err": self.join_err, "recv": self.recv, "sent": self.sent, "acks": dict(self.acks),
            "chosen": self.chosen, "answer_err": self.answer_err, "result_t": self.result_t,
            "results_t": self.results_t, "dead": self.dead, "fin_t": self.fin_t, "steps": self.steps,
            "verdicts": dict(self.verdicts), "final_rank": self.final_rank,
        }  # fmt: skip


class Group:
    """The students of one child process."""

    def __init__(self, idx: int, students: list[Student], cfg: Config, cmd_q, report_q):
        self.idx, self.students, self.cfg = idx, students, cfg
        self.cmd_q, self.report_q = cmd_q, report_q
        self.rng = random.Random(cfg.seed * 1000 + idx)
        self.counts: Counter = Counter()  # (phase, type) -> frames received
        self.errors: Counter = Counter()  # (ref type, code)
        self.complete: Counter = Counter()  # key -> students done
        self.reported: set = set()
        self.n_joined = 0
        self.tasks: set = set()
        self.keys = [("answered", q) for q in range(1, cfg.questions + 1)]
        self.keys += [("revealed", q) for q in range(1, cfg.questions + 1)] + [("finished", 0)]

    def report(self, kind: str, *payload) -> None:
        self.report_q.put((kind, self.idx, *payload))

    def spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def mark(self, s: Student, key: tuple) -> None:
        if key in s.done:
            return
        s.done.add(key)
        self.complete[key] += 1
        if key not in self.reported and self.complete[key] >= len(self.students):
            self.reported.add(key)
            self.report(*key)

    def retire(self, s: Student) -> None:
        """A student that will not take part (never joined, or its socket died) counts as done."""
        for key in self.keys:
            self.mark(s, key)

    async def main(self) -> None:
        raise_nofile_limit()
        self.sem = asyncio.Semaphore(max(1, self.cfg.connect_concurrency // self.cfg.procs))
        # Protocol students open their sockets before the join; a phone opens its page socket only
        # after joining over HTTP, so page students wait for the join command.
        await asyncio.gather(*(self.connect(s, self.sem) for s in self.students if not s.page))
        ok = [s for s in self.students if s.ws is not None]
        self.report("connected", len(ok), Counter(s.conn_err for s in self.students if s.conn_err))
        loop = asyncio.get_running_loop()
        stop = False
        while not stop:
            cmd = await loop.run_in_executor(None, self.cmd_q.get)
            if cmd[0] == "join":
                await self.join_all(cmd[1])
            elif cmd[0] == "stop":
                stop = True
        for s in self.students:
            if s.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(s.ws.close(), 2)
        for task in list(self.tasks):
            task.cancel()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.report(
            "stats",
            {
                "students": [s.summary() for s in self.students],
                "counts": dict(self.counts),
                "errors": dict(self.errors),
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "maxrss_kb": usage.ru_maxrss,
            },
        )

    async def connect(self, s: Student, sem: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        s.welcome_fut = loop.create_future()
        async with sem:
            try:
                s.ws = await open_socket(s.url, self.cfg.connect_timeout)
                self.spawn(self.reader(s))
                await asyncio.wait_for(s.welcome_fut, self.cfg.connect_timeout)
                s.t_conn = time.time()
            except Exception as exc:
                s.conn_err = type(exc).__name__
                if s.ws is not None:
                    with contextlib.suppress(Exception):
                        await s.ws.close()
                s.ws = None

    async def join_all(self, session_id: str) -> None:
        loop = asyncio.get_running_loop()
        live = [s for s in self.students if s.ws is not None]
        for s in self.students:
            if s.ws is None and not s.page:
                s.join_err = "not_connected"
                self.retire(s)
        phones = [s for s in self.students if s.page]
        for s in phones:
            s.joined_fut = loop.create_future()
            self.spawn(self.join_page(s, session_id))
        for s in live:
            s.joined_fut = loop.create_future()
            msg = {"type": "session.join", "session_id": session_id, "name": s.name}
            if self.cfg.join_msg_id:
                msg["msg_id"] = f"j{s.gidx}"
            s.t_join_sent = time.time()
            try:
                await s.ws.send(json.dumps(msg))
            except Exception as exc:
                s.join_err = type(exc).__name__
                s.joined_fut.set_result(False)
        live += phones
        await asyncio.wait([s.joined_fut for s in live], timeout=self.cfg.join_timeout)
        for s in live:
            if not (s.joined_fut.done() and s.joined_fut.result()):
                s.join_err = s.join_err or "timeout"
                self.retire(s)
        self.n_joined = sum(1 for s in live if s.t_joined)
        self.report("joined", self.n_joined)

    async def reader(self, s: Student) -> None:
        counts, errors = self.counts, self.errors
        try:
            async for raw in s.ws:
                t = time.time()
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "question.next":
                    q = msg["question_num"]
                    s.phase = f"q{q}.open"
                    s.recv[q] = t
                    if s.t_joined:
                        self.spawn(self.answer(s, q, len(msg["options"])))
                elif kind == "answer.recorded":
                    q = msg["question_num"]
                    s.acks[q].append((t, bool(msg.get("duplicate"))))
                    if len(s.acks[q]) >= (2 if s.dup else 1):
                        self.mark(s, ("answered", q))
                elif kind == "question.results":
                    q = msg["question_num"]
                    s.phase = f"q{q}.reveal"
                    s.results_t[q] = t
                elif kind == "answer.result":
                    q = msg["question_num"]
                    s.result_t[q] = t
                    self.mark(s, ("revealed", q))
                elif kind == "quiz.finished":
                    s.phase = "finished"
                    s.fin_t = t
                    self.mark(s, ("finished", 0))
                elif kind == "welcome":
                    s.player_id = msg.get("player_id")
                    if not s.welcome_fut.done():
                        s.welcome_fut.set_result(True)
                elif kind == "session.joined":
                    s.t_joined = t
                    s.player_id = msg.get("player_id")
                    if s.joined_fut and not s.joined_fut.done():
                        s.joined_fut.set_result(True)
                elif kind == "ping":
                    self.spawn(s.ws.send(json.dumps({"type": "pong", "ts": msg.get("ts")})))
                elif kind == "error":
                    ref = msg.get("ref") or {}
                    errors[(ref.get("type"), msg.get("code"))] += 1
                    if ref.get("type") == "session.join":
                        s.join_err = msg.get("code")
                        if s.joined_fut and not s.joined_fut.done():
                            s.joined_fut.set_result(False)
                    elif ref.get("type") == "answer.submit":
                        q = next(iter(sorted(s.sent, reverse=True)), 0)
                        s.answer_err[q] = msg.get("code")
                        s.acks[q].append((t, None))
                        if len(s.acks[q]) >= (2 if s.dup else 1):
                            self.mark(s, ("answered", q))
                counts[(s.phase, kind)] += 1
        except Exception as exc:
            rcvd = getattr(exc, "rcvd", None)
            s.conn_err = s.conn_err or f"closed:{getattr(rcvd, 'code', type(exc).__name__)}"
        finally:
            s.dead = True
            if s.welcome_fut and not s.welcome_fut.done():
                s.welcome_fut.set_exception(ConnectionError("closed before welcome"))
            if s.joined_fut and not s.joined_fut.done():
                s.join_err = s.join_err or "closed"
                s.joined_fut.set_result(False)
            if s.t_joined:
                self.retire(s)

    async def answer(self, s: Student, q: int, n_options: int) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.cfg.window))
        idx = self.rng.randrange(n_options)
        s.chosen[q] = idx
        text = json.dumps({"type": "answer.submit", "answer_idx": idx, "msg_id": f"a{s.gidx}-{q}"})
        s.sent[q] = time.time()
        try:
            await s.ws.send(text)
            if s.dup:
                await s.ws.send(text)
        except Exception:
            s.answer_err[q] = "send_failed"
            self.mark(s, ("answered", q))

    # --- a student on the pages (bench/phone.py) ---

    async def join_page(self, s: Student, code: str) -> None:
        """GET the join form, POST it as htmx does (the answer is the play page), open the page socket.

        At most --connect-concurrency phones (over all children) are in these steps at once.
        """
        base = "http://" + s.url.split("://", 1)[1].split("/", 1)[0]
        browser = phone.Browser(base, timeout=self.cfg.join_timeout)
        async with self.sem:
            s.t_join_sent = time.time()
            try:
                t = time.time()
                form = await browser.request("GET", f"/join/{code}/")
                s.steps["get"] = time.time() - t
                token = phone.csrf_field(form.text)
                if form.status != 200 or token is None:
                    raise JoinFailed(f"get:{form.status}")
                fields = {"csrfmiddlewaretoken": token, "code": code, "nickname": s.name, "password": ""}
                t = time.time()
                joined = await browser.request("POST", "/", fields, phone.boosted(base, f"/join/{code}/"))
                s.steps["post"] = time.time() - t
                pushed = joined.header("hx-push-url") or ""
                if joined.status != 200 or not pushed.startswith("/play/") or "ws-connect" not in joined.text:
                    raise JoinFailed(f"post:{joined.status}")
                await browser.close()
                t = time.time()
                s.url = f"ws{base[4:]}/ws/page/play/{code}/"
                s.ws = await open_socket(
                    s.url, self.cfg.connect_timeout, origin=browser.origin, cookie=browser.cookie_header()
                )
                self.spawn(self.page_reader(s))
                await asyncio.wait_for(asyncio.shield(s.joined_fut), self.cfg.join_timeout)
                s.steps["socket"] = time.time() - t
            except Exception as exc:
                s.join_err = s.join_err or (str(exc) if isinstance(exc, JoinFailed) else type(exc).__name__)
                if not s.joined_fut.done():
                    s.joined_fut.set_result(False)
            finally:
                await browser.close()

    async def page_reader(self, s: Student) -> None:
        """What the page shows, from each pushed frame; the server's JSON ping gets live.js's pong."""
        counts, errors = self.counts, self.errors
        try:
            async for raw in s.ws:
                t = time.time()
                frame = phone.read_frame(raw)
                if frame.json is not None:
                    kind = frame.json.get("type")
                    if kind == "ping":
                        self.spawn(s.ws.send(json.dumps({"type": "pong", "ts": frame.json.get("ts")})))
                    counts[(s.phase, kind)] += 1
                    continue
                if frame.toast:
                    errors[("page", frame.toast[:60])] += 1
                    if s.cur_q in s.sent and not s.acks.get(s.cur_q):
                        s.answer_err[s.cur_q] = frame.toast[:60]
                        s.acks[s.cur_q].append((t, None))
                        self.mark(s, ("answered", s.cur_q))
                stage = frame.stage
                if stage is not None and s.t_joined is None:
                    s.t_joined = t
                    if not s.joined_fut.done():
                        s.joined_fut.set_result(True)
                if stage == "question" and frame.question:
                    q = s.cur_q = frame.question
                    s.phase, s.recv[q], s.shown = f"q{q}.open", t, ("question", q)
                    self.spawn(self.page_answer(s, q, frame.options))
                elif stage == "locked":
                    q = frame.question or s.cur_q
                    s.acks[q].append((t, False))
                    s.shown = ("locked", q)
                    self.mark(s, ("answered", q))
                elif stage == "result":
                    # The verdict belongs to the first question without one. If the page already shows
                    # a later question, the verdict has just covered it: the student cannot answer.
                    q = next((n for n in sorted(s.recv) if n not in s.verdicts), s.cur_q)
                    s.verdicts[q].append((t, frame.verdict, frame.figures, s.cur_q > q))
                    s.result_t.setdefault(q, t)
                    s.phase, s.shown = f"q{q}.reveal", ("result", q)
                    self.mark(s, ("revealed", q))
                elif stage == "finished":
                    s.phase, s.fin_t, s.final_rank, s.shown = "finished", t, frame.final_rank, ("finished", 0)
                    self.mark(s, ("finished", 0))
                elif stage in ("kicked", "closed"):
                    errors[("page", stage)] += 1
                elif frame.reveal and s.cur_q:  # the shared answer key: a page's question.results
                    s.phase = f"q{s.cur_q}.reveal"
                    s.results_t.setdefault(s.cur_q, t)
                kind = f"stage:{stage}" if stage else ("count" if frame.count is not None else "html")
                kind = "reveal" if frame.reveal and not stage else kind
                counts[(s.phase, kind)] += 1
        except Exception as exc:
            rcvd = getattr(exc, "rcvd", None)
            s.conn_err = s.conn_err or f"closed:{getattr(rcvd, 'code', type(exc).__name__)}"
        finally:
            s.dead = True
            if s.joined_fut and not s.joined_fut.done():
                s.join_err = s.join_err or "closed"
                s.joined_fut.set_result(False)
            if s.t_joined:
                self.retire(s)

    async def page_answer(self, s: Student, q: int, options: list[int]) -> None:
        """Tap an option within the window, if the page still shows this question (a tap is on what
        is on the screen)."""
        await asyncio.sleep(self.rng.uniform(0, self.cfg.window))
        if s.shown != ("question", q) or not options:
            s.answer_err[q] = f"not shown: {s.shown[0]}"
            self.mark(s, ("answered", q))
            return
        idx = self.rng.choice(options)
        s.chosen[q] = idx
        s.sent[q] = time.time()
        try:
            await s.ws.send(phone.answer_message(idx, s.url))
        except Exception:
            s.answer_err[q] = "send_failed"
            self.mark(s, ("answered", q))


class JoinFailed(Exception):
    """A step of a page join that did not answer as the pages do."""


def student_main(
    idx: int, gidx: list[int], urls: list[str], dups: list[bool], pages: list[bool], cfg: Config, cmd_q,
    report_q,
) -> None:  # fmt: skip
    students = [Student(g, u, d, p) for g, u, d, p in zip(gidx, urls, dups, pages, strict=True)]
    try:
        asyncio.run(Group(idx, students, cfg, cmd_q, report_q).main())
    except Exception as exc:  # make the parent stop waiting for us
        report_q.put(("crashed", idx, repr(exc)))
        raise


# --- the host (this process) -----------------------------------------------------------------


class Host:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.ws = None
        self.events: list[tuple[float, str]] = []  # (t, type) of every frame received
        self.counts: Counter = Counter()
        self.phase = "lobby"
        self.histograms: dict[int, list] = defaultdict(list)  # q -> [(t, answered, total, bins)]
        self.results: dict[int, dict] = {}
        self.finished: dict | None = None
        self.errors: list[dict] = []
        self.waiters: list = []
        self.closed: str | None = None

    async def open(self) -> None:
        sep = "&" if "?" in self.cfg.url else "?"
        self.ws = await open_socket(f"{self.cfg.url}{sep}is_host=true&token={self.cfg.token}", 30)
        asyncio.get_running_loop().create_task(self.reader())
        await self.wait(lambda m: m["type"] == "welcome", 10)

    async def reader(self) -> None:
        try:
            await self._read()
        except Exception as exc:
            rcvd = getattr(exc, "rcvd", None)
            self.closed = (
                f"{type(exc).__name__} {getattr(rcvd, 'code', '')} {getattr(rcvd, 'reason', '')}".strip()
            )

    async def _read(self) -> None:
        async for raw in self.ws:
            t = time.time()
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "question.next":
                self.phase = f"q{msg['question_num']}.open"
            elif kind == "question.results":
                self.phase = f"q{msg['question_num']}.reveal"
                self.results[msg["question_num"]] = msg
            elif kind == "quiz.finished":
                self.phase = "finished"
                self.finished = msg
            elif kind == "histogram":
                self.histograms[msg["question_num"]].append((t, msg["answered"], msg["total"], msg["bins"]))
            elif kind == "error":
                self.errors.append(msg)
            elif kind == "ping":
                await self.ws.send(json.dumps({"type": "pong", "ts": msg.get("ts")}))
            self.events.append((t, kind))
            self.counts[(self.phase, kind)] += 1
            for pred, fut in list(self.waiters):
                if not fut.done() and pred(msg):
                    fut.set_result((t, msg))

    async def wait(self, pred, seconds: float):
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append((pred, fut))
        try:
            return await asyncio.wait_for(fut, seconds)
        finally:
            self.waiters.remove((pred, fut))

    async def call(self, msg: dict, reply: str, seconds: float = 30):
        waiter = asyncio.ensure_future(self.wait(lambda m: m["type"] in (reply, "error"), seconds))
        await asyncio.sleep(0)
        await self.ws.send(json.dumps(msg))
        _, answer = await waiter
        if answer["type"] == "error":
            raise RuntimeError(f"{msg['type']} refused: {answer}")
        return answer

    async def send(self, msg: dict) -> float:
        t = time.time()
        await self.ws.send(json.dumps(msg))
        return t


def bench_quiz(cfg: Config) -> dict:
    letters = "ABCDEF"
    return {
        "title": f"Bench {cfg.students}x{cfg.questions}",
        "default_timer": cfg.time_limit,
        "questions": [
            {
                "prompt": f"Bench question {i + 1}?",
                "options": [f"Option {letters[j]}" for j in range(cfg.options)],
                "correct_idx": i % cfg.options,
                "time_limit": cfg.time_limit,
            }
            for i in range(cfg.questions)
        ],
    }


class Reports:
    """Children's reports, waited for by (kind, key) until every child has sent one."""

    def __init__(self, report_q, n_procs: int):
        self.q, self.n = report_q, n_procs
        self.seen: dict[tuple, dict[int, tuple]] = defaultdict(dict)
        self.events: dict[tuple, asyncio.Event] = defaultdict(asyncio.Event)
        self.crashed: dict[int, str] = {}
        self.closing = False

    async def pump(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closing:
            try:
                item = await loop.run_in_executor(None, self.q.get, True, 0.5)
            except queue_mod.Empty:
                continue
            kind, idx, *payload = item
            if kind == "crashed":
                self.crashed[idx] = payload[0]
                for event in self.events.values():
                    event.set()
                continue
            key = (kind, payload[0]) if kind in ("answered", "revealed") else (kind,)
            self.seen[key][idx] = (time.time(), *payload)
            if len(self.seen[key]) >= self.n:
                self.events[key].set()

    async def all(self, key: tuple, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.events[key].wait(), seconds)
        return len(self.seen[key]) >= self.n


async def drive(cfg: Config, cmd_qs, report_q, procs) -> dict:
    """The host's side of a run; returns raw observations."""
    reports = Reports(report_q, cfg.procs)
    pump = asyncio.get_running_loop().create_task(reports.pump())
    host = Host(cfg)
    marks: dict[str, float] = {}
    cpu: dict[str, float] = {
        "start": cpu_of(cfg.server_pids),
        "box_start": box_cpu_seconds(),
        "t0": time.time(),
    }
    notes: list[str] = []
    t_send: dict[int, float] = {}
    t_end: dict[int, float] = {}
    session_id = None
    try:
        await host.open()
        saved = await host.call({"type": "quiz.save", "quiz": bench_quiz(cfg)}, "quiz.saved")
        max_players = cfg.max_players or min(10_000, max(cfg.students, 2000))
        created = await host.call(
            {"type": "session.create", "quiz_id": saved["quiz_id"], "settings": {"max_players": max_players}},
            "session.created",
        )
        session_id = created["session_id"]
        if not await reports.all(("connected",), cfg.connect_timeout + 30):
            notes.append("not every child reported its connections")
        marks["connected"] = time.time()
        cpu["connected"] = cpu_of(cfg.server_pids)
        phase("join", start=True)
        for q in cmd_qs:
            q.put(("join", session_id))
        marks["join_cmd"] = time.time()
        if not await reports.all(("joined",), cfg.join_timeout + 30):
            notes.append("not every child reported its joins")
        marks["joined"] = time.time()
        phase("join", start=False)
        cpu["joined"] = cpu_of(cfg.server_pids)
        n_joined = sum(v[1] for v in reports.seen[("joined",)].values())
        await asyncio.sleep(cfg.settle)
        for qn in range(1, cfg.questions + 1):
            if qn > 1:  # a quick host: Next --reveal-pause s after End, whether the reveal is out or not
                await asyncio.sleep(max(0.0, t_end[qn - 1] + cfg.reveal_pause - time.time()))
                cpu[f"q{qn - 1}.end"] = cpu_of(cfg.server_pids)
            cpu[f"q{qn}.start"] = cpu_of(cfg.server_pids)
            t_send[qn] = await host.send({"type": "quiz.start" if qn == 1 else "question.next"})
            if qn > 1:
                asyncio.get_running_loop().call_later(1.0, phase, f"reveal{qn - 1}", False)
            if not await reports.all(("answered", qn), cfg.window + cfg.answer_timeout):
                notes.append(f"q{qn}: not every student got its acknowledgements in time")
            # the coalesced histogram that shows everyone, or give up after 3 s
            with contextlib.suppress(TimeoutError):
                await host.wait(
                    lambda m, qn=qn: (
                        m["type"] == "histogram" and m["question_num"] == qn and m["answered"] >= n_joined
                    ),
                    3.0,
                )
            phase(f"reveal{qn}", start=True)  # py-spy takes a moment to attach
            await asyncio.sleep(0.5)  # trailing coalesced pushes belong to this question
            t_end[qn] = await host.send({"type": "question.end"})
        await asyncio.sleep(max(0.0, t_end[cfg.questions] + cfg.reveal_pause - time.time()))
        cpu[f"q{cfg.questions}.end"] = cpu_of(cfg.server_pids)
        marks["finish_sent"] = await host.send({"type": "question.next"})
        asyncio.get_running_loop().call_later(1.0, phase, f"reveal{cfg.questions}", False)
        with contextlib.suppress(TimeoutError):
            await host.wait(lambda m: m["type"] == "quiz.finished", 30)
        for qn in range(1, cfg.questions + 1):  # each student's verdict, by now or soon
            if not await reports.all(("revealed", qn), cfg.reveal_timeout):
                notes.append(f"q{qn}: not every student got its verdict in time")
        if not await reports.all(("finished",), 60):
            notes.append("not every student got quiz.finished")
        marks["finished"] = time.time()
    except Exception as exc:  # the host's socket died, or the server refused something: report what we have
        notes.append(f"run aborted: {type(exc).__name__}: {exc}")
    finally:
        cpu["end"] = cpu_of(cfg.server_pids)
        cpu["box_end"], cpu["t_end"] = box_cpu_seconds(), time.time()
        for q in cmd_qs:
            q.put(("stop",))
        if not await reports.all(("stats",), 60):
            notes.append("not every child sent its statistics")
        reports.closing = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(host.ws.close(), 2)
        await pump
    if reports.crashed:
        notes.append(f"children crashed: {reports.crashed}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "session_id": session_id,
        "marks": marks,
        "cpu": cpu,
        "notes": notes,
        "t_send": t_send,
        "t_end": t_end,
        "host": host,
        "children": [v[1] for _, v in sorted(reports.seen[("stats",)].items())],
        "host_cpu_s": usage.ru_utime + usage.ru_stime,
    }


def run_load(cfg: Config) -> dict:
    """Run one load against cfg.url and return the analysed figures (see analyse)."""
    raise_nofile_limit()
    cfg.procs = max(1, min(cfg.procs, cfg.students))
    urls = cfg.student_urls or [cfg.url]
    rng = random.Random(cfg.seed)
    ctx = mp.get_context("spawn")
    report_q = ctx.Queue()
    cmd_qs, procs = [], []
    # Which students are phones on the pages: a sample of their own, so that without pages the
    # duplicates are the same students as before.
    page_set = set(random.Random(cfg.seed + 1).sample(range(cfg.students), round(cfg.students * cfg.pages)))
    protocol = [g for g in range(cfg.students) if g not in page_set]
    n_dup = round(len(protocol) * cfg.dup_fraction)
    dup_set = set(rng.sample(protocol, n_dup))
    for p in range(cfg.procs):
        gidx = list(range(p, cfg.students, cfg.procs))
        cmd_q = ctx.Queue()
        proc = ctx.Process(
            target=student_main,
            args=(
                p,
                gidx,
                [urls[g % len(urls)] for g in gidx],
                [g in dup_set for g in gidx],
                [g in page_set for g in gidx],
                cfg,
                cmd_q,
                report_q,
            ),
            daemon=True,
        )
        proc.start()
        cmd_qs.append(cmd_q)
        procs.append(proc)
    try:
        raw = asyncio.run(drive(cfg, cmd_qs, report_q, procs))
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
    return analyse(cfg, raw)


# --- analysis ------------------------------------------------------------------------------


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def analyse(cfg: Config, raw: dict) -> dict:
    host: Host = raw["host"]
    students = [s for child in raw["children"] for s in child["students"]]
    counts: Counter = Counter()
    errors: Counter = Counter()
    for child in raw["children"]:
        counts.update(child["counts"])
        errors.update(child["errors"])
    out: dict = {"config": {k: v for k, v in asdict(cfg).items() if k not in ("token", "server_pids")}}
    out["session_id"] = raw["session_id"]
    out["notes"] = list(raw["notes"])
    out["students_reported"] = len(students)
    out["host_socket_closed"] = host.closed
    out["sockets_lost"] = dict(
        Counter(
            s["conn_err"] for s in students if s["t_conn"] and (s["conn_err"] or "").startswith("closed:")
        )
    )

    # connections and joins
    conn_times = [s["t_conn"] for s in students if s["t_conn"]]
    joined = [s for s in students if s["t_joined"]]
    sent = [s["t_join_sent"] for s in students if s["t_join_sent"]]
    out["connect"] = {  # the protocol students' sockets, opened before the join (a page's opens after)
        "ok": len(conn_times),
        "failed": sum(1 for s in students if not s["page"]) - len(conn_times),
        "errors": dict(Counter(s["conn_err"] for s in students if s["conn_err"] and not s["t_conn"])),
        "seconds": round(max(conn_times) - min(conn_times), 2) if conn_times else None,
    }
    join_lat = [s["t_joined"] - s["t_join_sent"] for s in joined]
    out["join"] = {
        "ok": len(joined),
        "failed": cfg.students - len(joined),
        "errors": dict(Counter(s["join_err"] for s in students if s["join_err"])),
        "seconds": round(max(s["t_joined"] for s in joined) - min(sent), 2) if joined else None,
        "latency_p50_ms": ms(pct(join_lat, 50)),
        "latency_p99_ms": ms(pct(join_lat, 99)),
    }

    # per question
    questions = []
    all_bcast, all_ack = [], []
    for q in range(1, cfg.questions + 1):
        t0 = raw["t_send"].get(q)
        bcast = [s["recv"][q] - t0 for s in joined if q in s["recv"]] if t0 else []
        all_bcast += bcast
        first_acks, dup_ok, dup_bad, non_dup_extra = [], 0, 0, 0
        expected_bins = [0] * cfg.options
        ack_times = []
        for s in joined:
            acks = s["acks"].get(q, [])
            firsts = [a for a in acks if a[1] is False]
            if firsts:
                first_acks.append(firsts[0][0] - s["sent"][q])
                ack_times.append(firsts[0][0])
                expected_bins[s["chosen"][q]] += 1
            non_dup_extra += max(0, len(firsts) - 1)
            if s["dup"]:
                if any(a[1] is True for a in acks):
                    dup_ok += 1
                else:
                    dup_bad += 1
        all_ack += first_acks
        last_ack = max(ack_times) if ack_times else None
        hist = host.histograms.get(q, [])
        n_acked = len(first_acks)
        full = next((h for h in hist if h[1] >= n_acked), None) if n_acked else None
        results = host.results.get(q)
        results_sum = sum(results["bins"]) if results else None
        open_phase = {k[1]: v for k, v in counts.items() if k[0] == f"q{q}.open"}
        reveal_phase = {k[1]: v for k, v in counts.items() if k[0] == f"q{q}.reveal"}
        host_open = {k[1]: v for k, v in host.counts.items() if k[0] == f"q{q}.open"}
        host_reveal = {k[1]: v for k, v in host.counts.items() if k[0] == f"q{q}.reveal"}
        for k, v in host_open.items():
            open_phase[k] = open_phase.get(k, 0) + v
        for k, v in host_reveal.items():
            reveal_phase[k] = reveal_phase.get(k, 0) + v
        t_end = raw["t_end"].get(q)
        host_times = [t for t, _ in host.events if t0 and t0 <= t <= (t_end or t0) + 0.0]
        questions.append(
            {
                "q": q,
                "received": len(bcast),
                "bcast_p50_ms": ms(pct(bcast, 50)),
                "bcast_p99_ms": ms(pct(bcast, 99)),
                "bcast_max_ms": ms(max(bcast) if bcast else None),
                "acked": n_acked,
                "ack_p50_ms": ms(pct(first_acks, 50)),
                "ack_p99_ms": ms(pct(first_acks, 99)),
                "ack_max_ms": ms(max(first_acks) if first_acks else None),
                "last_ack_after_send_s": round(last_ack - t0, 2) if last_ack and t0 else None,
                "answer_errors": dict(Counter(s["answer_err"][q] for s in joined if q in s["answer_err"])),
                "dup_expected": sum(1 for s in joined if s["dup"]),
                "dup_ok": dup_ok,
                "dup_bad": dup_bad,
                "recorded_twice": non_dup_extra,
                "results_bins": results["bins"] if results else None,
                "expected_bins": expected_bins,
                "results_sum": results_sum,
                "histogram_msgs": len(hist),
                "histogram_final": hist[-1][1] if hist else None,
                "histogram_total": hist[-1][2] if hist else None,
                "histogram_full_after_last_ack_ms": ms(full[0] - last_ack) if full and last_ack else None,
                "host_msgs_open": sum(host_open.values()),
                "host_msgs": sum(host_open.values()) + sum(host_reveal.values()),
                "host_peak_per_s_open": peak_rate(host_times),
                "msgs_open": sum(v for k, v in open_phase.items() if k not in NOT_COUNTED),
                "msgs_open_by_type": dict(sorted(open_phase.items())),
                "msgs_reveal": sum(v for k, v in reveal_phase.items() if k not in NOT_COUNTED),
                "msgs_reveal_by_type": dict(sorted(reveal_phase.items())),
            }
        )
    out["questions"] = questions
    out["bcast_p50_ms"] = ms(pct(all_bcast, 50))
    out["bcast_p99_ms"] = ms(pct(all_bcast, 99))
    out["bcast_max_ms"] = ms(max(all_bcast) if all_bcast else None)
    out["ack_p50_ms"] = ms(pct(all_ack, 50))
    out["ack_p99_ms"] = ms(pct(all_ack, 99))
    out["ack_max_ms"] = ms(max(all_ack) if all_ack else None)
    out["modes"] = {
        mode: mode_figures(cfg, [s for s in students if s["page"] == (mode == "pages")], raw)
        for mode in ("protocol", "pages")
        if any(s["page"] == (mode == "pages") for s in students)
    }
    # What each student's first acknowledged answer chose, for the database check (bench/run.py).
    out["chosen"] = {
        s["name"]: {q: s["chosen"][q] for q, acks in s["acks"].items() if any(a[1] is False for a in acks)}
        for s in joined
    }

    lobby = {k[1]: v for k, v in counts.items() if k[0] == "lobby"}
    for k, v in host.counts.items():
        if k[0] == "lobby":
            lobby[k[1]] = lobby.get(k[1], 0) + v
    out["lobby_msgs_by_type"] = dict(sorted(lobby.items()))
    out["errors"] = {f"{k[0]}:{k[1]}": v for k, v in errors.items()}
    out["host_errors"] = host.errors
    t_first = raw["marks"].get("join_cmd")
    host_all = [t for t, _ in host.events if t_first and t >= t_first]
    out["host_peak_per_s"] = peak_rate(host_all)
    out["host_peak_per_s_lobby"] = peak_rate(
        [t for t in host_all if t < raw["marks"].get("joined", 0) + cfg.settle]
    )
    span = (host_all[-1] - host_all[0]) if len(host_all) > 1 else 0
    out["host_avg_per_s"] = round(len(host_all) / span, 1) if span else None
    out["finished"] = {
        "students": sum(1 for s in joined if s["fin_t"]),
        "leaderboard": len(host.finished["leaderboard"]) if host.finished else None,
    }
    cpu = raw["cpu"]
    # Everything on the box, to tell how much of it was ours: bench/run.py subtracts the rest.
    out["box_cpu_s"] = round(cpu.get("box_end", cpu["box_start"]) - cpu["box_start"], 2)
    out["box_wall_s"] = round(cpu.get("t_end", cpu["t0"]) - cpu["t0"], 1)
    out["server_cpu_s"] = {
        "total": round(cpu.get("end", cpu["start"]) - cpu["start"], 2),
        "connect": round(cpu.get("connected", cpu["start"]) - cpu["start"], 2),
        "join": round(cpu.get("joined", 0) - cpu.get("connected", 0), 2) if "joined" in cpu else None,
        "questions": [
            round(cpu[f"q{q}.end"] - cpu[f"q{q}.start"], 2)
            for q in range(1, cfg.questions + 1)
            if f"q{q}.end" in cpu
        ],
    }
    out["server_peak_rss_mb"] = [
        round((proc_status_kb(pid, "VmHWM") or 0) / 1024, 1) for pid in cfg.server_pids
    ]
    out["loadgen_cpu_s"] = round(raw["host_cpu_s"] + sum(c["cpu_s"] for c in raw["children"]), 2)
    marks = raw["marks"]
    base = marks.get("join_cmd", 0)
    out["timeline"] = {
        "t0": base,  # time.time() of the join command: the times below are relative to it
        "marks": {k: round(v - base, 3) for k, v in marks.items()},
        "question_sent": {q: round(t - base, 3) for q, t in raw["t_send"].items()},
        "question_end_sent": {q: round(t - base, 3) for q, t in raw["t_end"].items()},
        "host": [(round(t - base, 3), kind) for t, kind in host.events],
    }
    out["wall_s"] = round(marks.get("finished", time.time()) - marks.get("join_cmd", time.time()), 1)
    return out


def correct_idx(cfg: Config, q: int) -> int:
    return (q - 1) % cfg.options  # as bench_quiz sets it


def mode_figures(cfg: Config, students: list[dict], raw: dict) -> dict:
    """The figures of one kind of student (protocol or pages), side by side in the report.

    join: first join step started -> last student in (protocol: session.join -> session.joined; pages:
    GET of the join form -> the page socket's first stage). question: the host's send -> the student's
    question (question.next, or the page's question stage). reveal: the host's question.end -> the
    student's own verdict (answer.result, or the page's result stage).
    """
    joined = [s for s in students if s["t_joined"]]
    starts = [s["t_join_sent"] for s in students if s["t_join_sent"]]
    out: dict = {"students": len(students)}
    out["join"] = {
        "ok": len(joined),
        "failed": len(students) - len(joined),
        "errors": dict(Counter(s["join_err"] for s in students if s["join_err"])),
        "seconds": round(max(s["t_joined"] for s in joined) - min(starts), 2) if joined else None,
        "latency_p50_ms": ms(pct([s["t_joined"] - s["t_join_sent"] for s in joined], 50)),
        "latency_p99_ms": ms(pct([s["t_joined"] - s["t_join_sent"] for s in joined], 99)),
    }
    steps = sorted({name for s in joined for name in s["steps"]})
    out["join_steps_ms"] = {
        name: (ms(pct([s["steps"][name] for s in joined if name in s["steps"]], 50)),
               ms(pct([s["steps"][name] for s in joined if name in s["steps"]], 99)))
        for name in steps
    }  # fmt: skip
    questions, after_reveal, reveal_all = [], [], []
    for q in range(1, cfg.questions + 1):
        t0, t_end = raw["t_send"].get(q), raw["t_end"].get(q)
        bcast = [s["recv"][q] - t0 for s in joined if t0 and q in s["recv"]]
        reveal = [s["result_t"][q] - t_end for s in joined if t_end and q in s["result_t"]]
        if q > 1:
            after_reveal += bcast
        reveal_all += reveal
        row = {
            "q": q,
            "received": len(bcast),
            "bcast_p50_ms": ms(pct(bcast, 50)),
            "bcast_p99_ms": ms(pct(bcast, 99)),
            "revealed": len(reveal),
            "reveal_p50_ms": ms(pct(reveal, 50)),
            "reveal_p99_ms": ms(pct(reveal, 99)),
            "reveal_max_ms": ms(max(reveal) if reveal else None),
            "acked": sum(1 for s in joined if any(a[1] is False for a in s["acks"].get(q, []))),
            "answer_errors": dict(Counter(s["answer_err"][q] for s in joined if q in s["answer_err"])),
        }
        if any(s["page"] for s in students):
            row.update(page_verdicts(cfg, joined, q))
        questions.append(row)
    out["questions"] = questions
    q1 = [s["recv"][1] - raw["t_send"][1] for s in joined if 1 in s["recv"] and 1 in raw["t_send"]]
    out["q1_p99_ms"] = ms(pct(q1, 99))
    out["after_reveal_p99_ms"] = ms(pct(after_reveal, 99))
    out["after_reveal_max_ms"] = ms(max(after_reveal) if after_reveal else None)
    out["reveal_p50_ms"] = ms(pct(reveal_all, 50))
    out["reveal_p99_ms"] = ms(pct(reveal_all, 99))
    out["finished"] = sum(1 for s in joined if s["fin_t"])
    return out


def page_verdicts(cfg: Config, joined: list[dict], q: int) -> dict:
    """Did every page that was shown question q get exactly one verdict for it, and the right one?"""
    shown = [s for s in joined if q in s["recv"]]
    counts = Counter(len(s["verdicts"].get(q, [])) for s in shown)
    wrong = 0
    for s in shown:
        for _, verdict, figures, _ in s["verdicts"].get(q, []):
            if q not in s["chosen"]:
                expected = "none"
            else:
                expected = "right" if s["chosen"][q] == correct_idx(cfg, q) else "wrong"
            if verdict != expected or (figures.get("Points", 0) > 0) != (expected == "right"):
                wrong += 1
    return {
        "verdict_missing": counts.get(0, 0),
        "verdict_twice": sum(v for k, v in counts.items() if k > 1),
        "verdict_wrong": wrong,
        # a verdict that came after the page showed the next question covers that question
        "verdict_after_next": sum(1 for s in shown for v in s["verdicts"].get(q, []) if v[3]),
    }


# --- reporting ---------------------------------------------------------------------------------


def fmt(value) -> str:
    return "-" if value is None else str(value)


def summary_lines(res: dict) -> list[str]:
    """A short human-readable table of one run."""
    c = res["config"]
    j, con = res["join"], res["connect"]
    lines = [
        f"students {c['students']}  questions {c['questions']}  procs {c['procs']}  window {c['window']} s",
        f"connect: {con['ok']} ok, {con['failed']} failed in {fmt(con['seconds'])} s {con['errors'] or ''}",
        f"join:    {j['ok']} ok, {j['failed']} failed in {fmt(j['seconds'])} s "
        f"(p50 {fmt(j['latency_p50_ms'])} ms, p99 {fmt(j['latency_p99_ms'])} ms) {j['errors'] or ''}",
        f"broadcast p50/p99/max: {fmt(res['bcast_p50_ms'])} / {fmt(res['bcast_p99_ms'])} / {fmt(res['bcast_max_ms'])} ms",  # noqa: E501
        f"answer ack p50/p99/max: {fmt(res['ack_p50_ms'])} / {fmt(res['ack_p99_ms'])} / {fmt(res['ack_max_ms'])} ms",  # noqa: E501
        f"host msgs/s peak {res['host_peak_per_s']} (lobby {res['host_peak_per_s_lobby']}), avg {fmt(res['host_avg_per_s'])}",  # noqa: E501
        "",
        "  q  recv  bcast p50/p99/max ms   acked  ack p50/p99 ms  last ack s  results  db  dup ok/bad  hist+ms  host msgs  msgs open/reveal",  # noqa: E501
    ]
    for q in res["questions"]:
        lines.append(
            f"{q['q']:>3}  {q['received']:>4}  {fmt(q['bcast_p50_ms']):>6}/{fmt(q['bcast_p99_ms']):>6}/{fmt(q['bcast_max_ms']):>6}"  # noqa: E501
            f"  {q['acked']:>5}  {fmt(q['ack_p50_ms']):>6}/{fmt(q['ack_p99_ms']):>6}  {fmt(q['last_ack_after_send_s']):>9}"  # noqa: E501
            f"  {fmt(q['results_sum']):>7}  {fmt(q.get('db_rows')):>4}  {q['dup_ok']:>4}/{q['dup_bad']:<4}"
            f"  {fmt(q['histogram_full_after_last_ack_ms']):>7}  {q['host_msgs']:>9}  {q['msgs_open']:>6}/{q['msgs_reveal']}"  # noqa: E501
        )
    lines.append("")
    lines += mode_lines(res)
    lines.append("")
    lines.append(
        f"open-phase messages by type (q1): {res['questions'][0]['msgs_open_by_type'] if res['questions'] else '-'}"  # noqa: E501
    )
    lines.append(f"lobby-phase messages by type: {res['lobby_msgs_by_type']}")
    cpu = res["server_cpu_s"]
    lines.append(
        f"server CPU s: total {cpu['total']} (connect {cpu['connect']}, join {fmt(cpu['join'])}, questions {cpu['questions']});"  # noqa: E501
        f" peak RSS MB {res['server_peak_rss_mb']}; loadgen CPU s {res['loadgen_cpu_s']}; wall {res['wall_s']} s"  # noqa: E501
    )
    if res["errors"] or res["host_errors"]:
        lines.append(f"errors: {res['errors']} host: {res['host_errors'][:3]}")
    if res["notes"]:
        lines.append(f"notes: {res['notes']}")
    if res.get("sockets_lost") or res.get("host_socket_closed"):
        lines.append(
            f"sockets closed by the server: students {res['sockets_lost']}, host {res['host_socket_closed']}"
        )
    return lines


def mode_lines(res: dict) -> list[str]:
    """Protocol students and page students side by side."""
    modes = res.get("modes", {})
    if not modes:
        return []

    def pair(a, b) -> str:
        return f"{fmt(a)} / {fmt(b)}"

    def per_q(m: dict, key: str) -> str:
        return ", ".join(fmt(q[key]) for q in m["questions"])

    rows = [
        ("students", lambda m: str(m["students"])),
        ("joined, failed", lambda m: f"{m['join']['ok']}, {m['join']['failed']} {m['join']['errors'] or ''}"),
        ("all joined, s", lambda m: fmt(m["join"]["seconds"])),
        ("join p50 / p99 ms", lambda m: pair(m["join"]["latency_p50_ms"], m["join"]["latency_p99_ms"])),
        ("join steps p50/p99 ms",
         lambda m: " ".join(f"{k} {pair(*v)}" for k, v in m["join_steps_ms"].items()) or "-"),
        ("question p99 ms, q1 / after a reveal", lambda m: pair(m["q1_p99_ms"], m["after_reveal_p99_ms"])),
        ("question p99 ms per question", lambda m: per_q(m, "bcast_p99_ms")),
        ("reveal p50 / p99 ms", lambda m: pair(m["reveal_p50_ms"], m["reveal_p99_ms"])),
        ("reveal p99 ms per question", lambda m: per_q(m, "reveal_p99_ms")),
        ("got the question, per question", lambda m: per_q(m, "received")),
        ("answers acknowledged", lambda m: per_q(m, "acked")),
        ("verdicts received", lambda m: per_q(m, "revealed")),
        ("verdicts missing/twice/wrong/late", lambda m: ", ".join(
            "/".join(str(q.get(k, "-")) for k in ("verdict_missing", "verdict_twice", "verdict_wrong",
                                                  "verdict_after_next"))
            for q in m["questions"]) if "verdict_missing" in m["questions"][0] else "-"),
        ("finished", lambda m: str(m["finished"])),
    ]  # fmt: skip
    names = list(modes)
    lines = [f"{'by kind of student':38}" + "".join(f"{n:34}" for n in names)]
    for label, value in rows:
        lines.append(f"{label:38}" + "".join(f"{value(modes[n]):34}" for n in names))
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="ws://HOST:PORT/ws of the server (the host connects here)")
    p.add_argument(
        "--student-url", action="append", default=[], help="spread students over these (repeatable)"
    )
    p.add_argument("--token", required=True, help="host API token (manage.py host_token USERNAME | tail -1)")
    p.add_argument("--students", type=int, default=200)
    p.add_argument("--questions", type=int, default=3)
    p.add_argument("--procs", type=int, default=2)
    p.add_argument("--window", type=float, default=3.0)
    p.add_argument("--dup-fraction", type=float, default=0.05)
    p.add_argument("--pages", type=float, default=0.0, help="share of students on the pages (0 to 1)")
    p.add_argument("--reveal-pause", type=float, default=0.5, help="seconds between End and Next")
    p.add_argument("--server-pid", type=int, action="append", default=[], help="read CPU and RSS of these")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = Config(
        url=args.url, token=args.token, student_urls=args.student_url, students=args.students,
        questions=args.questions, procs=args.procs, window=args.window, dup_fraction=args.dup_fraction,
        pages=args.pages, reveal_pause=args.reveal_pause, server_pids=args.server_pid,
    )  # fmt: skip
    res = run_load(cfg)
    print(json.dumps(res, indent=1, default=str) if args.json else "\n".join(summary_lines(res)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
