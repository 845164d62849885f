"""A small Knewit player written against docs/PROTOCOL.md in the Knewit repository only (no project imports).

    python examples/knewit_client.py --url ws://127.0.0.1:8000/ws --code 123456 --name Robo --answer random

It joins, answers every question, and when its socket drops it reconnects (to the next URL given,
if several: any worker behind a load balancer will do) and resumes with its rejoin token.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import websockets

# question.next payload -> the answer's field, e.g. {"answer_idx": 2} (an int i is short for that), or None
Chooser = Callable[[dict], dict | int | None]
ANSWER_FIELDS = ("answer_idx", "answer_idxs", "order", "text", "value")


def random_answer(question: dict) -> dict:
    """Any answer of the right shape for the question's kind (PROTOCOL.md §2.1)."""
    kind, options = question.get("kind", "single"), question["options"]
    if kind == "multi":
        return {"answer_idxs": sorted(random.sample(range(len(options)), random.randint(1, len(options))))}
    if kind == "order":
        return {"order": random.sample(range(len(options)), len(options))}
    if kind == "text":
        return {"text": random.choice(["Paris", "I don't know", "42"])}
    if kind == "slider":
        steps = round((question["max"] - question["min"]) / question["step"])
        return {"value": question["min"] + random.randint(0, steps) * question["step"]}
    return {"answer_idx": random.randrange(len(options))}


def recorded(message: dict):
    """What an answer.recorded (or a snapshot's question) says this player answered."""
    return next((message[name] for name in ANSWER_FIELDS if message.get(name) is not None), None)


@dataclass
class Bot:
    urls: list[str]
    code: str
    name: str
    choose: Chooser = random_answer
    answer_delay: float = 0.0
    player_id: str | None = None
    rejoin_token: str | None = None
    acknowledged: dict[int, object] = field(default_factory=dict)  # question_num -> what was recorded
    # The same for the questions the host re-voted (round 2, docs/PROTOCOL.md §2.2).
    revote_acknowledged: dict[int, object] = field(default_factory=dict)
    results: dict[int, dict] = field(default_factory=dict)  # question_num -> answer.result
    final: list[dict] | None = None
    reconnects: int = 0
    resumed_after: list[float] = field(default_factory=list)
    closed_reason: str | None = None
    _url_index: int = 0

    async def run(self) -> None:
        """Play until the quiz finishes or the session closes, reconnecting as needed."""
        while self.final is None and self.closed_reason is None:
            url = self.urls[self._url_index % len(self.urls)]
            started = asyncio.get_running_loop().time()
            try:
                async with websockets.connect(url, open_timeout=5, close_timeout=1) as ws:
                    await self._enter(ws)
                    if self.reconnects:
                        self.resumed_after.append(asyncio.get_running_loop().time() - started)
                    await self._play(ws)
            except (TimeoutError, OSError, websockets.ConnectionClosed):
                pass
            if self.final is None and self.closed_reason is None:
                self.reconnects += 1
                self._url_index += 1
                await asyncio.sleep(0.2)

    async def _enter(self, ws) -> None:
        await _expect(ws, "welcome")
        if self.rejoin_token:
            await ws.send(
                json.dumps(
                    {"type": "session.resume", "session_id": self.code, "rejoin_token": self.rejoin_token}
                )
            )
            snapshot = await _expect(ws, "session.snapshot")
            question = snapshot.get("question")
            if question and question.get("answered"):
                self._acknowledged(question.get("round", 1))[question["question_num"]] = recorded(
                    {**question, "answer_idx": question["answered_idx"]}
                )
            elif question:
                asyncio.get_running_loop().create_task(
                    self._answer(ws, {**question, "type": "question.next"})
                )
            return
        await ws.send(
            json.dumps(
                {
                    "type": "session.join",
                    "session_id": self.code,
                    "name": self.name,
                    "msg_id": f"join-{self.name}",
                }
            )
        )
        joined = await _expect(ws, "session.joined")
        self.player_id, self.rejoin_token = joined["player_id"], joined["rejoin_token"]

    async def _play(self, ws) -> None:
        async for text in ws:
            message = json.loads(text)
            kind = message["type"]
            if kind == "question.next":
                asyncio.get_running_loop().create_task(self._answer(ws, message))
            elif kind == "answer.recorded":
                self._acknowledged(message.get("round", 1))[message["question_num"]] = recorded(message)
            elif kind == "answer.result":
                self.results[message["question_num"]] = message
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong", "ts": message["ts"]}))
            elif kind == "quiz.finished":
                self.final = message["leaderboard"]
                return
            elif kind in ("session.closed", "kicked"):
                self.closed_reason = message.get("reason", kind)
                return

    def _acknowledged(self, round_: int) -> dict[int, object]:
        return self.acknowledged if round_ == 1 else self.revote_acknowledged

    async def _answer(self, ws, question: dict) -> None:
        # A bot answers after answer_delay, well within any time; a player the host gave extra time
        # also gets question.time with their own time left, which a person's countdown would show.
        round_ = question.get("round", 1)
        choice = self.choose(question)
        if choice is None or question["question_num"] in self._acknowledged(round_):
            return
        answer = {"answer_idx": choice} if isinstance(choice, int) else choice
        await asyncio.sleep(self.answer_delay)
        # The same id on a retry: counted once; a re-vote is another answer, so another id.
        msg_id = f"{self.name}-q{question['question_num']}" + ("" if round_ == 1 else f"-r{round_}")
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(json.dumps({"type": "answer.submit", **answer, "msg_id": msg_id}))


async def _expect(ws, kind: str, timeout: float = 10) -> dict:
    """The next message of this type; an error instead raises."""
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message
            if message["type"] == "error":
                raise RuntimeError(f"{message['code']}: {message['message']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", action="append", required=True, help="ws://host:port/ws (repeat for several workers)"
    )
    parser.add_argument("--code", required=True, help="the 6-digit Game PIN")
    parser.add_argument("--name", default=f"bot-{uuid.uuid4().hex[:6]}")
    parser.add_argument(
        "--answer", default="random", help="'random' (any kind) or a fixed option index (one-tap kinds)"
    )
    args = parser.parse_args()
    choose = None if args.answer == "random" else (lambda q, i=int(args.answer): i)
    bot = Bot(urls=args.url, code=args.code, name=args.name, **({"choose": choose} if choose else {}))
    asyncio.run(bot.run())
    print(json.dumps({"player_id": bot.player_id, "answers": bot.acknowledged, "final": bot.final}, indent=2))


if __name__ == "__main__":
    main()
