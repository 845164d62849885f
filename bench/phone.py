"""What a phone's browser does on the pages, for bench/loadgen.py: HTTP requests with cookies, and
reading the HTML regions the page socket pushes (templates/sessions/partials/).

No browser: the join form is fetched and posted as htmx posts it (the form is boosted: CSRF cookie and
field, same-site Origin, htmx's headers), which answers with the play page itself, and the page socket
is opened with the rejoin cookie.
What the page shows is read from the pushed HTML with a few patterns; answers are the JSON that
htmx-ext-ws sends for a `ws-send` button.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    """One phone: one keep-alive HTTP/1.1 connection and a cookie jar, for one site."""

    base: str  # http://host:port
    timeout: float = 60.0
    cookies: dict[str, str] = field(default_factory=dict)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    @property
    def origin(self) -> str:
        return self.base

    async def request(
        self, method: str, path: str, form: dict | None = None, headers: dict | None = None
    ) -> Response:
        return await asyncio.wait_for(self._request(method, path, form, headers or {}), self.timeout)

    async def _request(self, method: str, path: str, form: dict | None, headers: dict) -> Response:
        if self.writer is None:
            url = urlsplit(self.base)
            self.reader, self.writer = await asyncio.open_connection(url.hostname, url.port)
        host = urlsplit(self.base).netloc
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: text/html", "Connection: keep-alive"]
        if self.cookies:
            lines.append("Cookie: " + self.cookie_header())
        if method == "POST":
            lines += [
                f"Origin: {self.origin}",
                f"Referer: {self.base}{path}",
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin1") + body)
        response = await self._read_response()
        for value in (v for k, v in response.headers if k == "set-cookie"):
            jar = SimpleCookie()
            jar.load(value)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        if (response.header("connection") or "").lower() == "close":
            await self.close()
        return response

    async def _read_response(self) -> Response:
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        headers = []
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin1").partition(":")
            headers.append((name.strip().lower(), value.strip()))
        response = Response(status, headers, b"")
        if response.header("transfer-encoding") == "chunked":
            chunks = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()  # the blank line after the last chunk
            response.body = b"".join(chunks)
        elif (length := response.header("content-length")) is not None:
            response.body = await self.reader.readexactly(int(length))
        else:
            response.body = await self.reader.read()
            await self.close()
        return response

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


def boosted(base: str, path: str) -> dict:
    """The headers htmx adds to a boosted form's request (the join form: hx-boost)."""
    return {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": f"{base}{path}"}


CSRF_FIELD_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_field(html: str) -> str | None:
    found = CSRF_FIELD_RE.search(html)
    return found.group(1) if found else None


# --- what a pushed frame shows ------------------------------------------------------------------

STAGE_RE = re.compile(r'<section id="stage"[^>]*class="stage stage-(\w+)')
QUESTION_RE = re.compile(r'<section id="stage"[^>]*data-question-num="(\d+)"')
OPTION_RE = re.compile(r'name="answer_idx" value="(\d+)"')
FIGURE_RE = re.compile(r"<dt>(Points|Score|Rank)</dt><dd>\+?(\d+)</dd>")
FINAL_RE = re.compile(r'class="final-place">#(\d+)<')
TOAST_RE = re.compile(r'<div id="toast"[^>]*>(.*?)</div>', re.S)
COUNT_RE = re.compile(r'id="player-count"[^>]*>\s*(\d+) player')


@dataclass
class Frame:
    """What one pushed frame changes on a player's page."""

    stage: str | None = None  # lobby, question, locked, wait, result, finished, kicked, closed
    question: int | None = None  # the question the stage is about, if it says (question, locked)
    options: list[int] = field(default_factory=list)  # with stage "question": its options' values
    verdict: str | None = None  # with stage "result": "right", "wrong" or "none" (no answer)
    figures: dict[str, int] = field(default_factory=dict)  # Points, Score, Rank of a result
    final_rank: int | None = None
    reveal: bool = False  # the players' shared reveal region (the answer key), pushed to all at once
    toast: str | None = None
    count: int | None = None
    json: dict | None = None  # the server's ping is JSON, not HTML


def read_frame(text: str) -> Frame:
    if text.startswith("{"):
        return Frame(json=json.loads(text))
    frame = Frame()
    if found := STAGE_RE.search(text):
        frame.stage = found.group(1)
    if found := QUESTION_RE.search(text):
        frame.question = int(found.group(1))
    if frame.stage == "question":
        frame.options = [int(v) for v in OPTION_RE.findall(text)]
    elif frame.stage == "result":
        if "verdict-right" in text:
            frame.verdict = "right"
        elif "No answer" in text:
            frame.verdict = "none"
        else:
            frame.verdict = "wrong"
        frame.figures = {name: int(value) for name, value in FIGURE_RE.findall(text)}
    elif frame.stage == "finished" and (found := FINAL_RE.search(text)):
        frame.final_rank = int(found.group(1))
    frame.reveal = 'id="player-reveal"' in text
    if (found := TOAST_RE.search(text)) and found.group(1).strip():
        frame.toast = found.group(1).strip()
    if found := COUNT_RE.search(text):
        frame.count = int(found.group(1))
    return frame


def answer_message(idx: int, page_url: str) -> str:
    """What htmx-ext-ws sends for `<button ws-send name="answer_idx" value="i">` inside
    `hx-vals='{"type": "answer.submit"}'`: the values as strings, plus its HEADERS."""
    return json.dumps(
        {
            "answer_idx": str(idx),
            "type": "answer.submit",
            "HEADERS": {
                "HX-Request": "true",
                "HX-Trigger": None,
                "HX-Trigger-Name": "answer_idx",
                "HX-Target": None,
                "HX-Current-URL": page_url,
            },
        }
    )
