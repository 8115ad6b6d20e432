"""Who may write and read which topic: Kafka principals (SCRAM-SHA-512) and the ACLs that the
contracts' topic registry implies, applied through the admin API (confluent-kafka).

    python -m devkit.kafka_access NAME    a local secret, for infra.sh

``python -m devkit.namespace create`` applies the principals and ACLs (repeatable).

Each topic is writable only by its producer's principal and readable only by its consumers'
principals and consumer groups; each service consumer writes and reads back its own group's
dead-letter topic of it, and no other (an OA connection's principal writes none). The
broker denies everything else (``allow.everyone.if.no.acl.found=false``). The admin principal,
made when the storage is formatted, is the broker's super user: this script and the tests' own
clients use it. Passwords are made at random once per checkout into ``.local/secrets/kafka.json``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from contracts.topics import OPERATIONS, OaConnection, topics
from devkit.identity import LOCAL_OA_CONNECTIONS
from devkit.secretfile import kept, local_dir
from servicekit.kafka import client_options
from servicekit.settings import PlatformSettings

# The principals that produce or consume: the five services, the operators' tools (a backup
# announced), and one per OA connection.
SERVICES = ("ingest", "archive", "approval", "permission", "audit")
ADMIN = "admin"


def principals(connections: Iterable[str]) -> list[str]:
    return [*SERVICES, OPERATIONS, *(OaConnection(c).principal for c in connections)]


def local_secrets() -> dict[str, str]:
    """This checkout's Kafka secrets (``.local/secrets/kafka.json``)."""

    def make() -> dict[str, str]:
        made = {
            "admin_password": secrets.token_urlsafe(24),
            "store_password": secrets.token_hex(16),
        }
        local = principals(LOCAL_OA_CONNECTIONS)
        return made | {f"user:{p}": secrets.token_urlsafe(24) for p in local}

    return kept("kafka", make)


def ca_file() -> Path:
    return local_dir() / "kafka" / "tls" / "ca.pem"


def client_env(principal: str) -> dict[str, str]:
    """What a process needs to reach the local broker as ``principal`` (AAP_KAFKA_*)."""
    found = local_secrets()
    password = found["admin_password"] if principal == ADMIN else found[f"user:{principal}"]
    return {
        "AAP_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "AAP_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "AAP_KAFKA_USERNAME": principal,
        "AAP_KAFKA_PASSWORD": password,
        "AAP_KAFKA_CA_FILE": str(ca_file()),
    }


def security() -> dict[str, Any]:
    """A devkit client's security options (aiokafka): as AAP_KAFKA_* configure this process."""
    options: dict[str, Any] = client_options(PlatformSettings())
    return options


def use_admin() -> None:
    """A local tool (topics, the demo, the bench, the tests' own clients) works as the broker's
    admin, unless AAP_KAFKA_* name another principal."""
    if "AAP_KAFKA_USERNAME" not in os.environ:
        os.environ.update(client_env(ADMIN))


def _allow(
    kind: ResourceType, name: str, principal: str, op: AclOperation, prefixed: bool = False
) -> AclBinding:
    pattern = ResourcePatternType.PREFIXED if prefixed else ResourcePatternType.LITERAL
    return AclBinding(kind, name, pattern, f"User:{principal}", "*", op, AclPermissionType.ALLOW)


def acls(namespace: str, connections: Iterable[str]) -> list[AclBinding]:
    """The ACLs of a namespace, from the registry's producers and consumers of each topic (the
    OA ``connections``' included)."""
    out: list[AclBinding] = []
    for topic in topics(connections):
        name = topic.name(namespace)
        if not topic.retired:
            out.append(_allow(ResourceType.TOPIC, name, topic.owner, AclOperation.WRITE))
        for consumer in topic.consumers:
            out.append(_allow(ResourceType.TOPIC, name, consumer, AclOperation.READ))
        # Each service's group its own dead letters, which no other principal writes (an OA
        # connection none): it reads them back to re-drive them, and the audit log's verify
        # to tell what it set aside from a gap.
        for consumer, dead in topic.dead_letters(namespace).items():
            out.append(_allow(ResourceType.TOPIC, dead, consumer, AclOperation.WRITE))
            out.append(_allow(ResourceType.TOPIC, dead, consumer, AclOperation.READ))
    for principal in principals(connections):  # its groups: `<ns>.<principal>`, `<ns>.<…>.<…>`
        group = f"{namespace}.{principal}"
        out.append(_allow(ResourceType.GROUP, group, principal, AclOperation.READ, prefixed=True))
    return out


def admin_client(platform: PlatformSettings) -> AdminClient:
    conf: dict[str, str | int | float | bool] = {
        "bootstrap.servers": platform.kafka_bootstrap,
        "log_level": 3,  # errors only: no notice of its own shutdown on stderr
    }
    if platform.kafka_security_protocol != "PLAINTEXT":
        conf |= {
            "security.protocol": platform.kafka_security_protocol,
            "sasl.mechanism": platform.kafka_sasl_mechanism,
            "sasl.username": platform.kafka_username or "",
            "sasl.password": platform.kafka_password.get_secret_value()
            if platform.kafka_password
            else "",
        }
        if platform.kafka_ca_file:
            conf["ssl.ca.location"] = platform.kafka_ca_file
    return AdminClient(conf)


def _wait(futures: Iterable[object]) -> None:
    for future in futures:
        future.result(timeout=30)  # type: ignore[attr-defined]


def apply(platform: PlatformSettings, namespace: str, passwords: dict[str, str]) -> int:
    """Create or update each principal's SCRAM credential and the namespace's ACLs, for the
    services and the OA connections ``platform`` names; repeatable (a principal added later, a
    new OA connection, needs no re-format)."""
    admin = admin_client(platform)
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(p, info, passwords[p].encode())
        for p in principals(platform.oa_connections)
    ]
    _wait(admin.alter_user_scram_credentials(upserts).values())
    bindings = acls(namespace, platform.oa_connections)
    _wait(admin.create_acls(bindings).values())
    _until_in_force(admin, bindings)
    return len(bindings)


def _until_in_force(admin: AdminClient, bindings: list[AclBinding], timeout: float = 30) -> None:
    """The controller has the ACLs when ``create_acls`` answers; the broker authorizes by them
    only once it has replayed them, a moment later (a client that reads at once is refused).
    The broker answers DescribeAcls from what it applied: wait until it lists them all. The
    credentials, written before them to the same metadata log, are applied by then too."""
    any_name: Any = None  # a filter's None matches any name, principal or host (typed as str)
    everything = AclBindingFilter(
        ResourceType.ANY,
        any_name,
        ResourcePatternType.ANY,
        any_name,
        any_name,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    wanted = {str(b) for b in bindings}
    deadline = time.monotonic() + timeout
    while True:
        applied = {str(b) for b in admin.describe_acls(everything).result(timeout=30)}
        if wanted <= applied:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(wanted - applied)} ACLs not in force after {timeout} s")
        time.sleep(0.1)


def apply_local(platform: PlatformSettings, namespace: str) -> int:
    """``apply`` with this checkout's passwords."""
    found = local_secrets()
    wanted = principals(platform.oa_connections)
    if missing := [p for p in wanted if f"user:{p}" not in found]:
        raise ValueError(
            f"no local password for {missing}: local OA connections are {LOCAL_OA_CONNECTIONS}"
        )
    return apply(platform, namespace, {p: found[f"user:{p}"] for p in wanted})


def remove(platform: PlatformSettings, namespace: str) -> None:
    """Delete the ACLs of a namespace (the tests' clean-up of the namespaces they made)."""
    filters = [
        AclBindingFilter(
            b.restype,
            b.name,
            b.resource_pattern_type,
            b.principal,
            b.host,
            b.operation,
            b.permission_type,
        )
        for b in acls(namespace, platform.oa_connections)
    ]
    admin = admin_client(platform)  # kept until the answers are in: its handle serves them
    _wait(admin.delete_acls(filters).values())


def main() -> None:
    """Print one local secret, for infra.sh (``devkit.namespace`` applies what is above)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=["admin_password", "store_password"])
    print(local_secrets()[parser.parse_args().name])


if __name__ == "__main__":
    main()
