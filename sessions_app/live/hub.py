"""This worker's sockets by group, fed by one channel-layer subscription per group.

A broadcast to 2,000 students is one channel-layer message per worker, not one per socket: the
worker's listener receives it and hands the finished text to each of its sockets in that group.
Sockets take no channel of their own.

The memberships the layer holds (in Redis, with several workers) mirror the registry here and are
re-made from it: after a group_add that failed, and after the listener lost the layer, since Redis
comes back from a restart empty. Then, because what was broadcast meanwhile is lost, the sockets
catch up: protocol clients are closed (4012) and resume from a snapshot; pages are redrawn.
Nothing here is a fact of the game: it is only which sockets this process holds.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

from sessions_app.live import loops

log = logging.getLogger(__name__)
RETRY_S = 0.5  # between attempts to reach a layer that failed
PRUNE_INTERVAL_S = 60.0
MARKER_TTL_S = 3600  # refreshed every PRUNE_INTERVAL_S
DELIVER_BYTES = 4_000_000  # of frames written to sockets before the reactor runs


class Hub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.members: dict[str, weakref.WeakSet] = {}  # group -> this worker's sockets in it
        self.subscribed: set[str] = set()  # groups the layer is known to hold our channel in
        self.resync = asyncio.Event()
        self.layer_lost = False  # set when the listener fails, cleared once resubscribed
        self.behind = weakref.WeakSet()  # sockets that were in a group while the layer was lost
        self.tasks: set[asyncio.Task] = set()
        self.redis = None  # with REDIS_URL: the marker key here, push claims in the coalescer

    async def start(self) -> None:
        if self.channel is not None:
            return
        channel = await self.layer.new_channel()
        if self.channel is not None:  # another socket started the hub while we waited
            return
        self.channel = channel
        await self._mark_alive()
        for coro in (self._listen(), self._keep_subscribed()):
            # A fresh context: the first socket may arrive from a sync view's async_to_sync call,
            # whose thread executor must not be inherited by the worker's lifelong tasks.
            task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
            self.tasks.add(task)

    async def join(self, group: str, socket) -> None:
        """Put a socket in a group; never fails: an unsubscribed group is retried in the background."""
        await self.start()
        self.members.setdefault(group, weakref.WeakSet()).add(socket)
        if group in self.subscribed:
            return
        for attempt in (1, 2):  # a pooled connection that a Redis restart closed fails once
            try:
                await self.layer.group_add(group, self.channel)
            except Exception:
                log.warning("group_add %s failed (attempt %d)", group, attempt, exc_info=attempt == 2)
                continue
            self.subscribed.add(group)
            return
        self.behind.add(socket)
        self._lost_layer()

    async def leave(self, group: str, socket) -> None:
        members = self.members.get(group)
        if members is None:
            return
        members.discard(socket)
        if not members:
            await self._drop(group)

    async def _drop(self, group: str) -> None:
        """A group with no sockets here: stop receiving it."""
        self.members.pop(group, None)
        if group not in self.subscribed:
            return
        self.subscribed.discard(group)
        try:
            await self.layer.group_discard(group, self.channel)
        except Exception:
            log.debug("group_discard %s failed; the layer expires it", group, exc_info=True)
        if self.members.get(group):  # a socket joined while we left: make sure the layer has it
            self.subscribed.discard(group)
            self.resync.set()

    async def deliver(self, message: dict) -> None:
        """The same text for every socket in the group, or, with `items`, each player's own (and its
        close); a socket with none of its own gets the message's text, if any, and no close."""
        items, shared = message.get("items"), message.get("text")
        alone = {"type": message["type"], "group": message["group"], "text": shared}  # no close
        size, queued = len(shared or ""), 0  # queued: bytes handed to sockets since the reactor ran
        for socket in list(self.members.get(message["group"], ())):
            if items is None:
                socket_message = message
            elif (own := items.get(socket.player_id)) is not None:
                socket_message, size = {**message, "text": own}, len(own)
            elif shared is not None:
                socket_message, size = alone, len(shared)
            else:
                continue
            try:
                await socket.session_push(socket_message)
            except Exception:
                log.exception("delivering to a socket failed")
            queued += size
            if queued >= DELIVER_BYTES:
                # Every socket's frame is its own copy until the reactor writes it: a final
                # leaderboard of 2,000 players is 170 kB a copy, 340 MB for all at once. Small frames
                # (a question) go out in one pass, so answers arriving meanwhile do not delay them.
                queued = 0
                await asyncio.sleep(0)

    async def _listen(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not await self._redis_kept_our_state():
                    if not self.layer_lost:
                        log.warning("the channel layer is unreachable; will resubscribe", exc_info=True)
                    self._lost_layer()
                await asyncio.sleep(RETRY_S)
                continue
            await self.deliver(message)

    def _lost_layer(self) -> None:
        """The layer may come back without our memberships (Redis keeps nothing on disk here).

        Every socket in a group when the outage began may miss broadcasts; sockets that join during
        it are added when their group_add fails, and those that join once it is back miss nothing.
        """
        if not self.layer_lost:
            self.behind.update(socket for members in self.members.values() for socket in members)
        self.layer_lost = True
        self.subscribed.clear()
        self.resync.set()

    async def _redis_kept_our_state(self) -> bool:
        """After a failed receive: only a broken connection, or a Redis that lost its data?

        A pooled connection that an earlier restart closed fails once even when Redis is well; with
        our marker key still there, the messages sent to us meanwhile wait in Redis, nothing is lost.
        """
        if not settings.REDIS_URL or self.layer_lost:
            return False
        for _ in range(2):  # our own pooled connection may have been closed the same way
            try:
                return bool(await self.redis_client().exists(self._marker_key()))
            except Exception:
                log.debug("reading the marker key failed", exc_info=True)
        return False

    async def _mark_alive(self) -> None:
        """Leave the key that a Redis which lost its data lacks."""
        if not settings.REDIS_URL:
            return
        try:
            await self.redis_client().set(self._marker_key(), 1, ex=MARKER_TTL_S)
        except Exception:
            log.debug("could not leave the marker key", exc_info=True)

    def _marker_key(self) -> str:
        return f"knewit:hub:{self.channel}"

    def redis_client(self):
        """This worker's Redis client beside the channel layer's (the coalescer uses it too)."""
        if self.redis is None:
            import redis.asyncio

            self.redis = redis.asyncio.from_url(settings.REDIS_URL, health_check_interval=10)
        return self.redis

    async def _keep_subscribed(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.resync.wait(), timeout=PRUNE_INTERVAL_S)
            except TimeoutError:
                await self._prune()
                await self._mark_alive()
                continue
            self.resync.clear()
            for group in [g for g, members in self.members.items() if members and g not in self.subscribed]:
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:
                    self.resync.set()
                    break
                self.subscribed.add(group)
            if self.resync.is_set():
                await asyncio.sleep(RETRY_S)
            elif self.layer_lost:
                await self._mark_alive()
                self.layer_lost = False
                await self._catch_up()

    async def _prune(self) -> None:
        """Forget groups whose sockets are gone without leaving (Daphne does not always disconnect)."""
        for group in [g for g, members in self.members.items() if not members]:
            if group in self.members and not self.members[group]:  # still empty after our awaits
                await self._drop(group)

    async def _catch_up(self) -> None:
        """Broadcasts sent while the layer was away are lost: each socket that may have missed one
        catches up (a protocol client resumes from a snapshot, a page is redrawn). A socket that
        joined after the layer came back missed nothing."""
        sockets, self.behind = list(self.behind), weakref.WeakSet()
        log.warning("the channel layer is back; %d sockets catch up", len(sockets))
        for socket in sockets:
            try:
                await socket.catch_up()
            except Exception:
                log.exception("a socket could not catch up")

    async def shutdown(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.redis is not None:
            await self.redis.aclose()


get = loops.per_loop(Hub, close=Hub.shutdown)  # this event loop's hub: one per worker
