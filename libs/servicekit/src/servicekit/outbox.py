"""The transactional outbox: an event is published in the transaction of the state it describes.

A use case publishes through ``Outbox.publish``, which writes the event as a row of the service's
own ``outbox`` table on the connection of the current unit of work (``servicekit.database``):
the state and the event are committed together, or neither is. The relay, a task of the
service, sends the rows to Kafka in their order and deletes them once the broker has taken
them: at least once, under the event's own id, which every consumer de-duplicates. A broker
that is down delays the relay, never the use case.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from contracts.envelope import Envelope
from contracts.topics import Topic
from servicekit.database import Connection, Pool, after_commit, transaction
from servicekit.failures import is_transient
from servicekit.kafka import EventPublisher, Message

log = structlog.get_logger()

BATCH = 500  # rows sent per transaction of the relay
IDLE_SECONDS = 1.0  # how often an idle relay looks anyway (a commit of another replica)
RELAY_LOCK = 20_260_001  # pg advisory lock: one relay of a database at a time, in order


class Outbox:
    """Publishes a use case's events with its state (``publish``), and relays them (``run``)."""

    def __init__(self, db: Pool, kafka: EventPublisher, wait_cap_seconds: float = 30) -> None:
        self._db = db
        self._kafka = kafka
        self._wait_cap = wait_cap_seconds
        self._due = asyncio.Event()

    async def publish(self, event: Envelope[Any], to: Topic | None = None) -> None:
        """Add ``event`` to the outbox, on its registry topic or on ``to`` (a routed one): in the
        current unit of work if one is open, else committed at once."""
        message = Message.of(event, self._kafka.topic_of(event, to))
        async with self._db.connection() as conn:
            await conn.execute(
                "INSERT INTO outbox (event_id, event_type, topic, key, body, correlation_id) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (event.id, event.type, message.topic, message.key, message.body,
                 message.correlation_id),
            )  # fmt: skip
        after_commit(self._due.set)

    async def relay_once(self) -> int:
        """Send the oldest events to Kafka and delete them once taken: how many were sent.
        Another replica relaying at the moment: none (it keeps the order)."""
        async with transaction(self._db) as conn:
            turn = await conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS mine", (RELAY_LOCK,))
            if not (await turn.fetchone() or {}).get("mine"):
                return 0
            found = await conn.execute(
                "SELECT position, event_id, event_type, topic, key, body, correlation_id "
                "FROM outbox ORDER BY position LIMIT %s",
                (BATCH,),
            )
            rows = await found.fetchall()
            if not rows:
                return 0
            messages = [Message(r["topic"], r["key"], r["body"], r["correlation_id"]) for r in rows]
            try:
                await self._kafka.send(messages)
            except Exception as error:
                if is_transient(error):
                    raise
                await self._one_by_one(conn, rows, messages)
            sent = [r["position"] for r in rows]
            await conn.execute(  # the range lets the primary key serve it, however long the list
                "DELETE FROM outbox WHERE position BETWEEN %s AND %s AND position = ANY(%s)",
                (sent[0], sent[-1], sent),
            )
        for r in rows:
            log.info("event published", event_type=r["event_type"], event_id=str(r["event_id"]))
        return len(rows)

    async def _one_by_one(
        self, conn: Connection, rows: list[dict[str, Any]], messages: list[Message]
    ) -> None:
        """A batch the broker refused: each event sent alone, and one it refuses for itself
        (too large, say) set aside in ``outbox_refused`` with the reason, so that it never holds
        up the events after it. A broker down meanwhile: all of it again later."""
        for row, message in zip(rows, messages, strict=True):
            try:
                await self._kafka.send([message])
            except Exception as error:
                if is_transient(error):
                    raise
                log.error(
                    "event refused by the broker, set aside",
                    event_type=row["event_type"], event_id=str(row["event_id"]), error=str(error),
                )  # fmt: skip
                await conn.execute(
                    "INSERT INTO outbox_refused (position, event_id, event_type, topic, key, body, "
                    "correlation_id, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (row["position"], row["event_id"], row["event_type"], row["topic"], row["key"],
                     row["body"], row["correlation_id"], f"{type(error).__name__}: {error}"),
                )  # fmt: skip

    async def refused(self) -> int:
        """How many events the relay set aside (shown in /readyz, a metric at /metrics)."""
        async with self._db.connection() as conn:
            found = await conn.execute("SELECT count(*) AS n FROM outbox_refused")
            row = await found.fetchone()
        return int(row["n"]) if row else 0

    async def run(self) -> None:
        """Relay until cancelled: at once after a commit that added events, every
        ``IDLE_SECONDS`` anyway; a database or broker down is waited out, backing off."""
        wait = 1.0
        while True:
            self._due.clear()
            try:
                sent = await self.relay_once()
            except Exception as error:
                if not is_transient(error):
                    log.exception("relaying events failed", error_type=type(error).__name__)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self._wait_cap)
                continue
            wait = 1.0
            if sent < BATCH:
                # Not wait_for: on 3.11 it swallows a cancel that comes as the event is set,
                # and the relay then outlives its service's stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_SECONDS):
                        await self._due.wait()

    async def drain(self, within: float) -> None:
        """Send what is left (at a clean stop), giving up after ``within`` seconds: what is
        not sent is sent by the next start."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(within):
                while await self.relay_once() == BATCH:
                    pass
