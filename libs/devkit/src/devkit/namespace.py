"""A namespace made ready on a stack: its topics, the Kafka principals and the ACLs the topic
registry implies, the S3 users and policies, its buckets (object lock, default encryption), and
each service's database with its roles and tables (``devkit.pg_access``).

    python -m devkit.namespace create [--namespace NS]

Repeatable. Run as the administrator of the broker, of the object store and of the database server:
locally, the secrets in ``.local/secrets/`` (unless ``AAP_KAFKA_*``, ``AAP_S3_*`` and
``AAP_DATABASE_ADMIN_PASSWORD`` name others).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets

from aiokafka.admin import AIOKafkaAdminClient

from contracts.topics import all_topic_names
from devkit import kafka_access, pg_access, s3_access
from devkit.identity import ISSUER, LOCAL_OA_CONNECTIONS
from devkit.topics import create_topics
from servicekit.kafka import client_options
from servicekit.settings import PlatformSettings


def as_local_administrator() -> None:
    """A local tool (the demo, the benches, the tests) works as the administrator of the local
    broker and object store, and trusts the local IdP, unless AAP_* say otherwise."""
    kafka_access.use_admin()
    s3_access.use_root()
    os.environ.setdefault("AAP_OIDC_ISSUER", ISSUER)
    os.environ.setdefault("AAP_OA_CONNECTIONS", json.dumps(LOCAL_OA_CONNECTIONS))


def fresh(prefix: str) -> PlatformSettings:
    """A namespace of its own for a local run (a bench, the demo), made ready, as this
    process's settings (``AAP_NAMESPACE``)."""
    os.environ["AAP_NAMESPACE"] = prefix + secrets.token_hex(3)
    as_local_administrator()
    platform = PlatformSettings()
    asyncio.run(provision(platform, platform.namespace))
    return platform


async def provision(platform: PlatformSettings, namespace: str) -> list[str]:
    """Make ``namespace`` ready; the topics created (the others existed)."""
    created = await create_topics(platform.kafka_bootstrap, namespace, platform.oa_connections)
    kafka_access.apply_local(platform, namespace)
    s3_access.apply(platform, namespace)
    pg_access.apply(platform, namespace)
    return created


async def discard(platform: PlatformSettings, namespace: str) -> None:
    """Undo a test's ``provision``: the namespace's ACLs and S3 users removed and its topics
    deleted (its locked objects stay: nobody deletes those). Left
    behind, every partition of every test run stays open in the local broker until it runs out
    of file handles."""
    kafka_access.remove(platform, namespace)
    s3_access.remove(platform, namespace)
    pg_access.remove(platform, namespace)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=platform.kafka_bootstrap, **client_options(platform)
    )
    await admin.start()
    try:
        await admin.delete_topics(all_topic_names(namespace, platform.oa_connections))
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["create"])
    parser.add_argument("--namespace", default=None)
    args = parser.parse_args()
    as_local_administrator()
    platform = PlatformSettings()
    namespace = args.namespace or platform.namespace
    created = asyncio.run(provision(platform, namespace))
    print(
        f"namespace {namespace!r}: {len(created)} topics created (the rest existed); Kafka "
        f"principals and ACLs; S3 users, policies and buckets; databases, roles and tables"
    )


if __name__ == "__main__":
    main()
