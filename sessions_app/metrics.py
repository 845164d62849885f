"""Prometheus metrics of this worker (scrape every worker); only knewit_open_sessions is the whole site's.

Everything is registered on REGISTRY, this app's own registry rather than prometheus_client's global
default, so a test or a second import cannot register a name twice and what /metrics shows is listed
here: the worker's figures below, its process (memory, CPU, open files), its garbage collector, and
Python's version.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE_LATEST  # for the view
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from sessions_app.models import GameSession

ANSWER_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

sockets = Gauge("knewit_connected_sockets", "WebSockets open on this worker.", registry=REGISTRY)
messages_in = Counter("knewit_messages_in", "Frames received by this worker.", registry=REGISTRY)
messages_out = Counter("knewit_messages_out", "Frames sent by this worker.", registry=REGISTRY)
answer_seconds = Histogram(
    "knewit_answer_seconds",
    "From an answer's arrival to its acknowledgement, on this worker.",
    buckets=ANSWER_BUCKETS_S,
    registry=REGISTRY,
)
answers_recorded = Counter(
    "knewit_answers_recorded", "Answers this worker stored (since it started).", registry=REGISTRY
)


def answers_inserted(n: int) -> None:
    """Count n answers just inserted, once their transaction commits (a rolled-back batch is retried)."""
    if n:
        transaction.on_commit(lambda: answers_recorded.inc(n))


class OpenSessions(Collector):
    """Sessions not finished, whole site: one small indexed COUNT, run by the scrape in its own thread."""

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [self._family()]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = self._family()
        family.add_metric([], GameSession.objects.exclude(state=GameSession.State.FINISHED).count())
        return [family]

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("knewit_open_sessions", "Sessions not finished (whole site).")


REGISTRY.register(OpenSessions())


def render() -> bytes:
    """The Prometheus text exposition of REGISTRY; serve it as prometheus_client.CONTENT_TYPE_LATEST."""
    return generate_latest(REGISTRY)
