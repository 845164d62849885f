"""What a worker runs in the background, started by its first socket: the sweeper, pings, heartbeats."""

from __future__ import annotations

from django.conf import settings

from sessions_app.live import effects, loops, presence, timers


class _Started:
    done = False


_started = loops.per_loop(_Started)


def register_socket(consumer) -> None:
    """Track a live socket for pings, and start this worker's background loops once."""
    presence.track(consumer)
    started = _started()
    if not started.done:
        started.done = True
        loops.spawn(timers.every(settings.KNEWIT["SWEEP_INTERVAL_S"], effects.sweep))
        loops.spawn(presence.ping_forever())
        loops.spawn(presence.write_heartbeats_forever())
