"""What the audit service has consumed, read back from the broker: the consumer group's
committed offsets (which a database writer cannot edit) and the messages below them, so that
verify can tell an entry deleted after the last checkpoint from one never written."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import Topic
from servicekit.kafka import client_options, subscriber_group
from servicekit.kafka_reading import dead_letters, read_window, reader
from servicekit.settings import PlatformSettings

Consumed = tuple[str, int, int, str | None]  # topic, partition, offset, event id


class ConsumedFromBroker:
    def __init__(self, platform: PlatformSettings, service: str, read: list[Topic]) -> None:
        """``service``: whose consumer group (and own dead letters) these are."""
        self._platform = platform
        self._service = service
        self._group = subscriber_group(platform, service)
        self._topics = {t.name(platform.namespace): t for t in read}

    async def after(self, positions: Mapping[tuple[str, int], int]) -> list[Consumed]:
        """Each message the group has committed past, after the given offset of its partition
        (exclusive; from the start where none is given), its own dead letters left out."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._platform.kafka_bootstrap, **client_options(self._platform)
        )
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(self._group)
        finally:
            await admin.close()
        window = {
            tp: (positions.get((tp.topic, tp.partition), -1) + 1, meta.offset)
            for tp, meta in committed.items()
            if tp.topic in self._topics
        }
        window = {tp: w for tp, w in window.items() if w[0] < w[1]}
        if not window:
            return []
        set_aside = {
            (d.topic, d.partition, d.offset)
            for d in await dead_letters(
                self._platform, self._service, {self._topics[tp.topic] for tp in window}
            )
        }
        out: list[Consumed] = []
        async with reader(self._platform) as consumer:
            for record in await read_window(consumer, window):
                try:
                    event_id = str(json.loads(record.value)["id"])
                except (ValueError, KeyError, TypeError):
                    event_id = None  # not an event at all: nothing the log could hold
                position = (record.topic, record.partition, record.offset)
                if position not in set_aside:
                    out.append((*position, event_id))
        return out
