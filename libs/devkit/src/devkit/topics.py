"""Create the topics of the contracts' registry (and their dead-letter topics) in a namespace.

python -m devkit.topics create [--namespace NS]
"""

from __future__ import annotations

import argparse
import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from contracts.topics import ALL_TOPICS
from devkit.kafka_access import security, use_admin
from servicekit.settings import PlatformSettings


async def create_topics(bootstrap: str, namespace: str) -> list[str]:
    """Create what is missing; return the names created. Safe to run again."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **security())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=topic.partitions, replication_factor=1)
            for topic in ALL_TOPICS
            for name in (topic.name(namespace), topic.dead_letter(namespace))
            if name not in existing
        ]
        if wanted:
            await admin.create_topics(wanted)
        return [t.name for t in wanted]
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["create"])
    parser.add_argument("--namespace", default=None)
    args = parser.parse_args()
    use_admin()
    platform = PlatformSettings()
    namespace = args.namespace or platform.namespace
    created = asyncio.run(create_topics(platform.kafka_bootstrap, namespace))
    print(f"topics for namespace {namespace!r}: {len(created)} created, the rest already existed")


if __name__ == "__main__":
    main()
