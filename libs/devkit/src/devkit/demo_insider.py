"""`make demo`, part three: what one stolen credential, or a shell on the broker's host, can no
longer do (Trust II), each refused with its reason.

- The archive service's Kafka password writes an approved decision into the permission
  service's dead letters, for a re-drive to grant: each group's dead letters are its own, and
  the broker refuses the write.
- A process on the broker's host asks the KRaft controller listener to change ACLs, with no
  credentials: the listener is mutual TLS, and it is refused before a request is read.
- The offline verifier is handed an export with no checkpoint: a hash chain anyone can make
  proves nothing, and it says "unproven".
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.errors import TopicAuthorizationFailedError
from pydantic import SecretStr

from contracts.envelope import new_event
from contracts.events import ApprovalDecided
from contracts.topics import APPROVALS_DECIDED, source_of
from devkit.kafka_access import ca_file, client_env
from servicekit.kafka import client_options
from servicekit.settings import PlatformSettings

CONTROLLER = ("127.0.0.1", int(os.environ.get("AAP_LOCAL_KAFKA_CONTROLLER_PORT", "19093")))


def say(text: str = "") -> None:
    print(text, flush=True)


async def forge_dead_letter(platform: PlatformSettings, record_id: str) -> str:
    """As the archive's principal, an approved borrowing for ``outsider`` written where the
    permission service's re-drive would take it from."""
    mine = client_env("archive")
    as_archive = platform.model_copy(
        update={
            "kafka_username": mine["AAP_KAFKA_USERNAME"],
            "kafka_password": SecretStr(mine["AAP_KAFKA_PASSWORD"]),
        }
    )
    now = datetime.now(UTC)
    forged = ApprovalDecided(
        request_id=uuid.uuid4(),
        kind="borrowing",
        applicant="outsider",
        fonds_code="Q001",
        record_ids=(uuid.UUID(record_id),),
        decision="approved",
        approver="wangqiang",
        comment="",
        oa_instance_id="OA-FORGED",
        decided_at=now,
        access_until=now + timedelta(days=30),
    )
    event = new_event(forged, source=source_of("approval"), subject="x", correlation_id="x")
    headers = [("x-dlt-group", f"{platform.namespace}.permission".encode())]
    producer = AIOKafkaProducer(
        bootstrap_servers=platform.kafka_bootstrap, acks="all", **client_options(as_archive)
    )
    try:
        await producer.start()
        await producer.send_and_wait(
            APPROVALS_DECIDED.dead_letter(platform.namespace, "permission"),
            event.model_dump_json().encode(),
            headers=headers,
        )
        return "WRITTEN"
    except TopicAuthorizationFailedError:
        return (
            "refused by the broker (TOPIC_AUTHORIZATION_FAILED): the dead letters are the group's"
        )
    finally:
        await producer.stop()


def controller_without_certificate() -> str:
    """What the controller listener answers a client that has no certificate (TLS with the
    local CA, as the broker's own clients; its first request never read)."""
    context = ssl.create_default_context(cafile=str(ca_file()))
    try:
        with (
            socket.create_connection(CONTROLLER, timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=CONTROLLER[0]) as tls,
        ):
            tls.sendall(b"\x00\x00\x00\x00")  # anything: a refusal comes as TLS's alert
            if tls.recv(1) == b"":
                return "refused: the connection was closed"
    except ssl.SSLError as error:
        return f"refused by TLS, it asks for a client certificate: {error.reason or error}"
    except OSError as error:
        return f"refused: {error}"
    return "ANSWERED"


def unproven(folder: Path) -> tuple[int, list[str]]:
    """The offline verifier on the export it was given, with the log's key and no checkpoint."""
    command = [
        sys.executable,
        "-m",
        "contracts.verify_trail",
        str(folder / "trail.jsonl"),
        "--key",
        str(folder / "log.key"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    return done.returncode, done.stdout.splitlines()


@dataclass
class InsiderOutcome:
    """How each attempt was answered."""

    dead_letter: str = ""
    controller: str = ""
    unproven_exit: int = -1
    said_unproven: bool = False

    @property
    def as_expected(self) -> bool:
        return (
            self.dead_letter.startswith("refused by the broker")
            and self.controller.startswith("refused")
            and (self.unproven_exit, self.said_unproven) == (1, True)
        )


async def story(platform: PlatformSettings, record_id: str, exported: Path) -> InsiderOutcome:
    """``exported``: the folder of the auditor's export and the log's key (``verify_offline``)."""
    say("\n⑨ 内部人员 — what one stolen credential, or a shell on the broker's host, cannot do")
    out = InsiderOutcome()
    out.dead_letter = await forge_dead_letter(platform, record_id)
    say(f"   the archive's Kafka password writes a letter for permission: {out.dead_letter}")
    out.controller = await asyncio.to_thread(controller_without_certificate)
    say(f"   an AdminClient on the controller listener, no certificate: {out.controller}")
    say("   $ python -m contracts.verify_trail trail.jsonl --key log.key   (no checkpoint)")
    out.unproven_exit, lines = await asyncio.to_thread(unproven, exported)
    for line in lines:
        say(f"     {line}")
    out.said_unproven = any("UNPROVEN" in line for line in lines)
    return out
