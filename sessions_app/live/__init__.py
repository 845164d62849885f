"""The live layer: sockets, and how the engine's events reach them.

consumers.py (thin sockets) -> engine commands -> effects.py (events to frames) -> fanout.py (one
channel-layer message per group) -> hub.py (each worker hands the ready text to its sockets).
coalescer.py, timers.py, answer_batch.py and presence.py are a worker's clock; loops.py holds their
per-event-loop state. See docs/ARCHITECTURE.md.
"""
