"""Create the topics of the contracts' registry (and each consumer group's dead-letter topic of
each) in a namespace
(``python -m devkit.namespace create`` does it, with the rest a namespace needs)."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.topics import topics
from devkit.kafka_access import security


async def create_topics(
    bootstrap: str, namespace: str, connections: Iterable[str] = ()
) -> list[str]:
    """Create what is missing (the platform's topics, and those of the OA ``connections``);
    return the names created. Safe to run again."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=topic.partitions, replication_factor=1)
            for topic in topics(connections)
            for name in (topic.name(namespace), *topic.dead_letters(namespace).values())
            if name not in existing
        ]
        if wanted:
            await admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        await admin.close()
