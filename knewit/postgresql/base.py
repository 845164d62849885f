"""Django's PostgreSQL backend, with its connection health check made cheap.

Channels wraps every database call of a worker in `close_old_connections()`, so with
CONN_HEALTH_CHECKS Django sends a `SELECT 1` before each call: one round trip of the five an
answer takes. With four workers and 4,000 students it cost a fifth of the server's CPU and
doubled the answers' acknowledgement time (bench/RESULTS.md).

A connection the server has closed (a restart, `pg_terminate_backend`, an idle timeout) has
something to read while it is idle: the server's FATAL message, or the end of the stream. So the
`SELECT 1` is sent only then; an idle connection with nothing to read is taken as usable, as it
was when it last answered.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed:
            return False
        if conn.info.transaction_status == pq.TransactionStatus.IDLE and not _has_input(conn.fileno()):
            return True
        return super().is_usable()


def _has_input(fd: int) -> bool:
    poller = select.poll()  # not select.select: a worker with 2,000 sockets has descriptors past 1024
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
