"""Prometheus metrics of this worker (scrape every worker); database figures are the whole site's."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

from sessions_app.models import Answer, GameSession

ANSWER_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Counters:
    sockets: int = 0
    messages_in: int = 0
    messages_out: int = 0
    answer_buckets: list[int] = field(default_factory=lambda: [0] * (len(ANSWER_BUCKETS_S) + 1))
    answer_seconds: float = 0.0
    answers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def observe_answer(self, seconds: float) -> None:
        """Time from an answer's arrival to its acknowledgement."""
        with self.lock:
            self.answer_buckets[bisect.bisect_left(ANSWER_BUCKETS_S, seconds)] += 1
            self.answer_seconds += seconds
            self.answers += 1


counters = Counters()


def render() -> str:
    """The Prometheus text exposition of the worker's counters and the site's open sessions and answers."""
    open_sessions = GameSession.objects.exclude(state=GameSession.State.FINISHED).count()
    answers_recorded = Answer.objects.count()
    lines = [
        "# HELP knewit_open_sessions Sessions not finished (whole site).",
        "# TYPE knewit_open_sessions gauge",
        f"knewit_open_sessions {open_sessions}",
        "# HELP knewit_answers_recorded_total Answers stored (whole site).",
        "# TYPE knewit_answers_recorded_total counter",
        f"knewit_answers_recorded_total {answers_recorded}",
        "# HELP knewit_connected_sockets WebSockets open on this worker.",
        "# TYPE knewit_connected_sockets gauge",
        f"knewit_connected_sockets {counters.sockets}",
        "# HELP knewit_messages_in_total Frames received by this worker.",
        "# TYPE knewit_messages_in_total counter",
        f"knewit_messages_in_total {counters.messages_in}",
        "# HELP knewit_messages_out_total Frames sent by this worker.",
        "# TYPE knewit_messages_out_total counter",
        f"knewit_messages_out_total {counters.messages_out}",
        "# HELP knewit_answer_seconds From an answer's arrival to its acknowledgement, on this worker.",
        "# TYPE knewit_answer_seconds histogram",
    ]
    cumulative = 0
    for bound, count in zip((*ANSWER_BUCKETS_S, "+Inf"), counters.answer_buckets, strict=True):
        cumulative += count
        lines.append(f'knewit_answer_seconds_bucket{{le="{bound}"}} {cumulative}')
    lines += [
        f"knewit_answer_seconds_sum {counters.answer_seconds:.6f}",
        f"knewit_answer_seconds_count {counters.answers}",
    ]
    return "\n".join(lines) + "\n"
