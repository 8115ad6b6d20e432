"""The platform backed up, and brought back into an empty stack (会计档案管理办法 第八条 (五)).

    python -m devkit.backup take DIR [--namespace NS]
    python -m devkit.backup restore DIR [--namespace NS]

``take`` writes to DIR: each service's database (``pg_dump``, its custom format), every version of
every object of the namespace's buckets (originals, approval records, the audit log's signed
checkpoints) with its key, version id, retention mode and date and legal hold, and
``manifest.json``, which lists every file with its SHA-256 and every object with its SHA-256 and
SM3. Each file but the manifest is encrypted (AES-256-GCM, the file's name bound in) with the
backup key (``AAP_BACKUP_KEY``, 32 bytes in base64; locally ``.local/secrets/backup.json``).

``restore`` brings a backup into a stack whose databases and buckets are empty (the same
namespace: the records name their buckets): the databases made by the migrations, each dump's
data put back into them; every object written again, oldest version first, and locked to its
original retention date and hold. S3 gives the objects new version ids: the archive's records
are told each one (they read the version locked at archiving), and the answer lists each
object's old and new id. Each object's SHA-256 and SM3 are checked against the manifest before
it is written. The recovery point is the backup: what happened after it comes back only from
Kafka topics that survived (docs/operations.md).

Each is announced on the operations topic, as the operations principal (``AAP_OPERATIONS_KAFKA_
PASSWORD``; locally this checkout's), and the audit log keeps it: ``BackupTaken`` with the
manifest's SHA-256 once the backup is written, ``RecordsRestored`` with every object's old and
new version id once a restore is done.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import io
import json
import os
import secrets
import subprocess
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from minio import Minio
from minio.retention import Retention
from psycopg.types.json import Jsonb
from pydantic import SecretStr

from contracts.envelope import EventData, new_event
from contracts.events import BackupTaken, RecordsRestored, RestoredObject
from contracts.fixity import digest
from contracts.topics import OPERATIONS, source_of, topics
from devkit import kafka_access, pg_access
from devkit.namespace import as_local_administrator
from devkit.s3_access import BUCKETS
from devkit.secretfile import kept
from devkit.send import EventSender
from servicekit import s3
from servicekit.kafka import client_options, subscriber_group
from servicekit.kafka_reading import reader
from servicekit.settings import PlatformSettings

PG_BIN = Path(os.environ.get("AAP_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
# yoyo's own bookkeeping: made by the migrations of the stack restored into, not restored.
MIGRATION_TABLES = ("_yoyo_log", "_yoyo_migration", "_yoyo_version", "yoyo_lock")


@dataclass(frozen=True)
class KeptObject:
    """One object version as backed up."""

    bucket: str  # its purpose (``BUCKETS``): the bucket of whichever namespace it goes back to
    key: str
    version_id: str
    retention_mode: str | None
    retain_until: str | None
    legal_hold: bool
    sha256: str
    sm3: str
    file: str


def backup_key() -> bytes:
    """The key backups are encrypted with: ``AAP_BACKUP_KEY``, else this checkout's."""
    given = (
        os.environ.get("AAP_BACKUP_KEY")
        or kept("backup", lambda: {"key": base64.b64encode(secrets.token_bytes(32)).decode()})[
            "key"
        ]
    )
    key = base64.b64decode(given)
    if len(key) != 32:
        raise ValueError("AAP_BACKUP_KEY: 32 bytes in base64 (AES-256)")
    return key


class Sealed:
    """Files of one backup, each encrypted on its way in and checked on its way out."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder, self._aead = folder, AESGCM(key)
        self.files: dict[str, str] = {}  # name → SHA-256 of what is stored

    def write(self, name: str, data: bytes) -> None:
        nonce = secrets.token_bytes(12)
        stored = nonce + self._aead.encrypt(nonce, data, name.encode())
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(stored)
        self.files[name] = hashlib.sha256(stored).hexdigest()

    def read(self, name: str, sha256: str) -> bytes:
        stored = (self.folder / name).read_bytes()
        if hashlib.sha256(stored).hexdigest() != sha256:
            raise ValueError(f"{name}: not the file the manifest lists (SHA-256 differs)")
        return self._aead.decrypt(stored[:12], stored[12:], name.encode())


def _superuser_env() -> dict[str, str]:
    return {**os.environ, "PGPASSWORD": pg_access.superuser_password()}


def _connection_args(platform: PlatformSettings, database: str) -> list[str]:
    return ["-h", platform.database_host, "-p", str(platform.database_port),
            "-U", pg_access.SUPERUSER, "-d", database]  # fmt: skip


def take(platform: PlatformSettings, folder: Path) -> dict[str, Any]:
    """Back up ``platform``'s namespace into ``folder``, and announce it (BackupTaken); the
    manifest."""
    sealed = Sealed(folder, backup_key())
    backup_id = uuid.uuid4()
    taken_at = datetime.now(UTC)
    # Before the dumps: a consumer commits after its transaction, so each database holds at
    # least what its group had committed; replaying from there repeats, never skips.
    positions = asyncio.run(_positions(platform))
    databases = {}
    for service in pg_access.SERVICES:
        dump = subprocess.run(  # noqa: S603 - our own binary, arguments of our own
            [str(PG_BIN / "pg_dump"), "--format=custom",
             *_connection_args(platform, platform.database_name(service))],
            env=_superuser_env(), capture_output=True, check=True,
        ).stdout  # fmt: skip
        sealed.write(f"databases/{service}.dump", dump)
        databases[service] = f"databases/{service}.dump"
    client = s3.connect(platform)
    objects = [
        asdict(o)
        for purpose in BUCKETS
        for o in asyncio.run(_objects(client, platform, purpose, sealed))
    ]
    manifest = {
        "backup_id": str(backup_id),
        "taken_at": taken_at.isoformat(),
        "namespace": platform.namespace,
        "databases": databases,
        "positions": positions,
        "objects": objects,
        "files": sealed.files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    taken = BackupTaken(
        backup_id=backup_id,
        namespace=platform.namespace,
        manifest_sha256=_manifest_sha256(folder),
        databases=tuple(databases),
        objects=len(objects),
        files=len(sealed.files),
        target=str(folder.resolve()),
        taken_at=taken_at,
    )
    asyncio.run(_announce(platform, [taken], backup_id))
    return manifest


def _manifest_sha256(folder: Path) -> str:
    return hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()


def _operations(platform: PlatformSettings) -> PlatformSettings:
    """``platform`` as the operations principal, the one that writes the operations topic."""
    password = os.environ.get("AAP_OPERATIONS_KAFKA_PASSWORD")
    if password is None:  # locally, this checkout's
        password = kafka_access.local_secrets()[f"user:{OPERATIONS}"]
    update = {"kafka_username": OPERATIONS, "kafka_password": SecretStr(password)}
    return platform.model_copy(update=update)


async def _announce(
    platform: PlatformSettings, facts: list[EventData], backup_id: uuid.UUID
) -> None:
    """Each fact on the operations topic, in order, as the operations principal: the audit log
    keeps them (a broker that does not take them fails the command, saying so)."""
    announcer = _operations(platform)
    options = client_options(announcer)
    async with EventSender(announcer.kafka_bootstrap, platform.namespace, options) as out:
        for fact in facts:  # on their topic (BACKUPS), keyed by the backup
            await out.send(
                new_event(
                    fact,
                    source=source_of(OPERATIONS),
                    subject=str(backup_id),
                    correlation_id=str(backup_id),
                    actor=OPERATIONS,
                )
            )


async def _objects(
    client: Minio, platform: PlatformSettings, purpose: str, sealed: Sealed
) -> list[KeptObject]:
    """Every version of every object of one bucket, oldest first per key, into ``sealed``."""
    bucket = platform.bucket_name(purpose)
    store = s3.ObjectStore(client, bucket)
    kept_objects: list[KeptObject] = []
    for key, versions in (await store.versions("")).items():
        for version_id in versions:
            data = await store.get(key, version_id)
            retention = client.get_object_retention(bucket, key, version_id)
            d = digest(data)
            name = f"objects/{purpose}/{len(kept_objects):08d}"
            sealed.write(name, data)
            kept_objects.append(
                KeptObject(
                    bucket=purpose, key=key, version_id=version_id,
                    retention_mode=retention.mode if retention else None,
                    retain_until=retention.retain_until_date.isoformat() if retention else None,
                    legal_hold=client.is_object_legal_hold_enabled(bucket, key, version_id),
                    sha256=d.sha256, sm3=d.sm3, file=name,
                )
            )  # fmt: skip
    return kept_objects


def restore(platform: PlatformSettings, folder: Path) -> list[RestoredObject]:
    """Bring the backup in ``folder`` into ``platform``'s namespace, whose databases and buckets
    are empty, and announce it (RecordsRestored); each object's old and new version id."""
    manifest = json.loads((folder / "manifest.json").read_text())
    sealed = Sealed(folder, backup_key())
    pg_access.apply(platform, platform.namespace)  # the databases, roles and tables
    for service, name in manifest["databases"].items():
        dump = folder / f"{name}.plain"
        dump.write_bytes(sealed.read(name, manifest["files"][name]))
        try:
            _restore_data(platform, service, dump)
        finally:
            dump.unlink()
    client = s3.connect(platform)
    restored = []
    for entry in manifest["objects"]:
        o = KeptObject(**entry)
        data = sealed.read(o.file, manifest["files"][o.file])
        d = digest(data)
        if (d.sha256, d.sm3) != (o.sha256, o.sm3):
            raise ValueError(f"{o.bucket}/{o.key}: its bytes are not those backed up")
        retention = None
        if o.retention_mode and o.retain_until:
            retention = Retention(o.retention_mode, datetime.fromisoformat(o.retain_until))
        written = client.put_object(
            platform.bucket_name(o.bucket), o.key, io.BytesIO(data), len(data),
            retention=retention, legal_hold=o.legal_hold,
        )  # fmt: skip
        assert written.version_id is not None
        restored.append(
            RestoredObject(
                bucket=o.bucket, key=o.key, old_version_id=o.version_id,
                new_version_id=written.version_id, sha256=d.sha256, sm3=d.sm3,
            )
        )  # fmt: skip
    _tell_the_archive(platform, restored)
    asyncio.run(_rewind_the_services(platform, manifest["positions"]))
    asyncio.run(_rewind_the_trail(platform))
    # After the trail's rewind: the log reads this after what it kept, as it happened.
    backup_id = _id_of(manifest, folder)
    announced = _restored(platform, backup_id, _manifest_sha256(folder), restored)
    asyncio.run(_announce(platform, announced, backup_id))
    return restored


RESTORED_PER_EVENT = 500  # objects in one RecordsRestored: well under a message's largest size


def _id_of(manifest: dict[str, Any], folder: Path) -> uuid.UUID:
    """The backup's id (one taken before ids were kept: named by its manifest's digest)."""
    if "backup_id" in manifest:
        return uuid.UUID(manifest["backup_id"])
    return uuid.uuid5(uuid.NAMESPACE_OID, _manifest_sha256(folder))


def _restored(
    platform: PlatformSettings,
    backup_id: uuid.UUID,
    manifest_sha256: str,
    restored: list[RestoredObject],
) -> list[EventData]:
    each = RESTORED_PER_EVENT
    chunks = [restored[i : i + each] for i in range(0, len(restored), each)] or [[]]
    now = datetime.now(UTC)
    return [
        RecordsRestored(
            backup_id=backup_id,
            namespace=platform.namespace,
            manifest_sha256=manifest_sha256,
            part=n,
            parts=len(chunks),
            objects=tuple(chunk),
            restored_at=now,
        )
        for n, chunk in enumerate(chunks, 1)
    ]


# The consumer groups a restore sets back to the positions in the backup; the audit log keeps
# its own position with each entry (``_rewind_the_trail``).
REWOUND = [s for s in pg_access.SERVICES if s != "audit"]


def _partitions(platform: PlatformSettings, service: str) -> list[TopicPartition]:
    read = [t for t in topics(platform.oa_connections) if service in t.consumers]
    return [
        TopicPartition(t.name(platform.namespace), p) for t in read for p in range(t.partitions)
    ]


async def _positions(platform: PlatformSettings) -> dict[str, list[tuple[str, int, int | None]]]:
    """Where each service's consumer group had committed, on every partition it reads (None:
    nothing committed yet)."""
    positions = {}
    for service in REWOUND:
        async with reader(platform, subscriber_group(platform, service)) as consumer:
            positions[service] = [
                (tp.topic, tp.partition, await consumer.committed(tp))
                for tp in _partitions(platform, service)
            ]
    return positions


async def _rewind_the_services(
    platform: PlatformSettings, positions: dict[str, list[tuple[str, int, int | None]]]
) -> None:
    """Each service's group set back to where it was at the backup: started, the services
    handle again what they handled after it, from the topics that survived (every consumer is
    idempotent), and what they did then is done again."""
    for service, committed in positions.items():
        async with reader(platform, subscriber_group(platform, service)) as consumer:
            offsets = {TopicPartition(t, p): offset or 0 for t, p, offset in committed}
            consumer.assign(list(offsets))
            await consumer.commit(offsets)


def _restore_data(platform: PlatformSettings, service: str, dump: Path) -> None:
    """The dump's rows into the migrated tables, as the superuser with triggers off (the audit
    log's refuse nothing here: it is being written, not changed)."""
    listed = subprocess.run(  # noqa: S603
        [str(PG_BIN / "pg_restore"), "--list", str(dump)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    wanted = [
        line for line in listed.splitlines()
        if " TABLE DATA " in line or " SEQUENCE SET " in line
        if not any(f" {t} " in line for t in MIGRATION_TABLES)
    ]  # fmt: skip
    items = dump.with_suffix(".list")
    items.write_text("\n".join(wanted) + "\n")
    try:
        subprocess.run(  # noqa: S603
            [str(PG_BIN / "pg_restore"), "--data-only", "--disable-triggers", "--exit-on-error",
             "--single-transaction", f"--use-list={items}",
             *_connection_args(platform, platform.database_name(service)), str(dump)],
            env=_superuser_env(), capture_output=True, check=True,
        )  # fmt: skip
    finally:
        items.unlink()


def _tell_the_archive(platform: PlatformSettings, restored: list[RestoredObject]) -> None:
    """Each record reads the version it locked at archiving: now the version written again."""
    renamed = {(r.key, r.old_version_id): r.new_version_id for r in restored
               if r.bucket == "archive-originals"}  # fmt: skip
    with pg_access.superuser(platform, platform.database_name("archive")) as conn:
        rows = conn.execute("SELECT record_id, versions FROM records").fetchall()
        for record_id, versions in rows:
            moved = [v | {"version": renamed.get((v["key"], v["version"]), v["version"])}
                     for v in versions]  # fmt: skip
            if moved != versions:
                conn.execute(
                    "UPDATE records SET versions = %s WHERE record_id = %s",
                    (Jsonb(moved), record_id),
                )


async def _rewind_the_trail(platform: PlatformSettings) -> None:
    """The audit log keeps where each entry was read (topic, partition, offset): its consumer
    group is set back to just after the last entry restored, so the events published since the
    backup are read again from the topics that survived, and the log grows back as it was."""
    with pg_access.superuser(platform, platform.database_name("audit")) as conn:
        found = conn.execute(
            "SELECT p ->> 0 AS topic, (p ->> 1)::int AS part, max((p ->> 2)::bigint) AS last "
            "FROM (SELECT entry::jsonb -> 'position' AS p FROM entries) AS read "
            "WHERE jsonb_typeof(p) = 'array' GROUP BY 1, 2"
        ).fetchall()
    last = {(topic, part): offset for topic, part, offset in found}
    read = [t for t in topics(platform.oa_connections) if "audit" in t.consumers]
    parts = [
        TopicPartition(t.name(platform.namespace), p) for t in read for p in range(t.partitions)
    ]
    async with reader(platform, subscriber_group(platform, "audit")) as consumer:
        consumer.assign(parts)
        await consumer.commit({tp: last.get((tp.topic, tp.partition), -1) + 1 for tp in parts})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["take", "restore"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--namespace", default=None)
    args = parser.parse_args()
    as_local_administrator()
    platform = PlatformSettings()
    if args.namespace:
        platform = platform.model_copy(update={"namespace": args.namespace})
    if args.command == "take":
        args.folder.mkdir(parents=True, exist_ok=True)
        manifest = take(platform, args.folder)
        print(
            f"backup of {platform.namespace!r} in {args.folder}: {len(manifest['databases'])} "
            f"databases, {len(manifest['objects'])} objects; manifest SHA-256 "
            f"{_manifest_sha256(args.folder)}"
        )
    else:
        restored = restore(platform, args.folder)
        print(f"restored into {platform.namespace!r}: {len(restored)} objects written again")
        for r in restored:
            print(f"  {r.bucket}/{r.key}: version {r.old_version_id} → {r.new_version_id}")


if __name__ == "__main__":
    main()
