"""Answers that wait for the database thread are recorded together (engine.answers_submit).

Nothing waits to fill a batch: the first answer goes at once, and those that arrive while it is
being written go together next, in one transaction and one INSERT.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from channels.db import database_sync_to_async

from sessions_app import engine, protocol
from sessions_app.live import loops

log = logging.getLogger(__name__)
ANSWER_BATCH_MAX = 200  # answers in one transaction (and one INSERT)


@dataclass
class LoopState:
    answers: list = field(default_factory=list)  # (AnswerAttempt, future) waiting for the database thread
    recording: bool = False  # a task is recording answers


_state = loops.per_loop(LoopState)


async def submit_answer(attempt: engine.AnswerAttempt) -> engine.Outcome:
    """Record an answer with the others waiting for the database thread; raises the EngineError that
    refused it (`internal` when the database failed: nothing was recorded, a retry is safe)."""
    state = _state()
    future = asyncio.get_running_loop().create_future()
    state.answers.append((attempt, future))
    if not state.recording:
        state.recording = True
        loops.spawn(_record_answers(state))
    return await future


async def _record_answers(state: LoopState) -> None:
    try:
        while state.answers:
            batch, state.answers = state.answers[:ANSWER_BATCH_MAX], state.answers[ANSWER_BATCH_MAX:]
            try:
                results = await database_sync_to_async(engine.answers_submit)([a for a, _ in batch])
            except asyncio.CancelledError:  # the worker is stopping: leave no socket waiting for ever
                for _, future in batch:
                    future.cancel()
                raise
            except Exception:
                # One log for the batch; each sender is told it may retry (nothing was recorded).
                log.exception("recording a batch of %d answers failed", len(batch))
                results = [engine.EngineError("internal", protocol.INTERNAL_MESSAGE)] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # the socket went away; its answer counts all the same
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
    finally:
        state.recording = False
