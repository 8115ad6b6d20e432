"""The S3 store (MinIO or any S3). The SDK is synchronous, so calls run in worker threads."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from minio import Minio
from minio.commonconfig import COMPLIANCE, CopySource
from minio.error import S3Error
from minio.retention import Retention

from contracts.fixity import Digests, digest_of
from servicekit.settings import PlatformSettings

# What an S3 server answers for a key or version that is not there.
MISSING = {"NoSuchKey", "NoSuchVersion", "NoSuchObject"}


def connect(platform: PlatformSettings) -> Minio:
    if not (platform.s3_access_key and platform.s3_secret_key):
        raise ValueError("set AAP_S3_ACCESS_KEY and AAP_S3_SECRET_KEY: this service's S3 user")
    return Minio(
        platform.s3_endpoint,
        access_key=platform.s3_access_key,
        secret_key=platform.s3_secret_key.get_secret_value(),
        secure=platform.s3_secure,
        region=platform.s3_region,
    )


@dataclass(frozen=True)
class ObjectStore:
    """One bucket of one service, created with object locking enabled."""

    client: Minio
    bucket: str

    async def ensure_bucket(self) -> None:
        def make() -> None:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket, object_lock=True)

        await asyncio.to_thread(make)

    async def ready(self) -> None:
        if not await asyncio.to_thread(self.client.bucket_exists, self.bucket):
            raise RuntimeError(f"bucket {self.bucket} is missing")

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        await asyncio.to_thread(
            self.client.put_object, self.bucket, key, io.BytesIO(data), len(data), media_type
        )

    async def put_file(self, key: str, path: Path, media_type: str) -> None:
        """Put a file spooled to disk, streamed: never whole in memory."""
        await asyncio.to_thread(self.client.fput_object, self.bucket, key, str(path), media_type)

    async def put_locked(
        self, key: str, data: bytes, media_type: str, *, until: datetime | None, legal_hold: bool
    ) -> str | None:
        """Write under the same locks as ``copy_locked_from``; the version written."""
        retention = Retention(COMPLIANCE, until) if until else None
        written = await asyncio.to_thread(
            self.client.put_object,
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            media_type,
            retention=retention,
            legal_hold=legal_hold,
        )
        return written.version_id

    async def exists(self, key: str) -> bool:
        """Whether the key holds an object; an object store that does not answer raises (it
        is not an answer that the object is missing)."""

        def stat() -> bool:
            try:
                self.client.stat_object(self.bucket, key)
            except S3Error as error:
                if error.code in MISSING:
                    return False
                raise
            return True

        return await asyncio.to_thread(stat)

    async def copy_locked_from(
        self,
        source_bucket: str,
        source_key: str,
        key: str,
        *,
        until: datetime | None,
        legal_hold: bool,
        source_version: str | None = None,
    ) -> str | None:
        """Server-side copy into this bucket, under a COMPLIANCE retention lock until ``until``
        (if given) and a legal hold (if asked); returns the version that was locked. With
        ``source_version``, exactly that version is copied, whatever was written since."""
        retention = Retention(COMPLIANCE, until) if until else None
        result = await asyncio.to_thread(
            self.client.copy_object,
            self.bucket,
            key,
            CopySource(source_bucket, source_key, version_id=source_version),
            retention=retention,
            legal_hold=legal_hold,
        )
        return result.version_id  # the locked version: later writes to the key make new ones

    async def digest_from(self, bucket: str, key: str) -> tuple[Digests, str | None]:
        """SHA-256 and SM3 of an object (of any bucket this client may read) as stored now,
        read as a stream, and the version that was read."""

        def read() -> tuple[Digests, str | None]:
            response = self.client.get_object(bucket, key)
            try:
                digests = digest_of(response.stream(1024 * 1024))
                return digests, response.headers.get("x-amz-version-id")
            finally:
                response.close()
                response.release_conn()

        return await asyncio.to_thread(read)

    async def set_retention(self, key: str, version_id: str | None, until: datetime) -> None:
        """COMPLIANCE retention of a version until ``until``: no credential shortens it after."""
        await asyncio.to_thread(
            self.client.set_object_retention,
            self.bucket,
            key,
            Retention(COMPLIANCE, until),
            version_id,
        )

    async def set_legal_hold(self, key: str, version_id: str | None, on: bool) -> None:
        """S3 legal hold: while on, no retention date lets the version be deleted."""
        change = (
            self.client.enable_object_legal_hold if on else self.client.disable_object_legal_hold
        )
        await asyncio.to_thread(change, self.bucket, key, version_id)

    async def lock(self, key: str, version_id: str | None) -> tuple[datetime | None, bool]:
        """How a version is locked now: its COMPLIANCE retention date (None: none) and whether
        a legal hold is on."""

        def read() -> tuple[datetime | None, bool]:
            try:
                retention = self.client.get_object_retention(self.bucket, key, version_id)
            except S3Error as error:
                if error.code != "NoSuchObjectLockConfiguration":
                    raise
                retention = None
            held = self.client.is_object_legal_hold_enabled(self.bucket, key, version_id)
            return (retention.retain_until_date if retention else None), bool(held)

        return await asyncio.to_thread(read)

    async def keys(self, prefix: str) -> list[str]:
        """The keys under ``prefix``, in the store's (lexicographic) order."""

        def names() -> list[str]:
            found = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return [o.object_name for o in found if o.object_name is not None]

        return await asyncio.to_thread(names)

    async def versions(self, prefix: str) -> dict[str, list[str]]:
        """Each key under ``prefix`` (in the store's lexicographic order) and its versions,
        oldest first. A write-once object is its first version: whoever may put can add a
        version over it, never change or remove the first (COMPLIANCE)."""

        def listed() -> dict[str, list[str]]:
            found: dict[str, list[tuple[datetime, int, str]]] = {}
            objects = self.client.list_objects(
                self.bucket, prefix=prefix, recursive=True, include_version=True
            )
            for n, o in enumerate(objects):
                if o.object_name is None or o.is_delete_marker or o.version_id is None:
                    continue
                at = o.last_modified or datetime.min.replace(tzinfo=UTC)
                # Listed newest first: of two written within one clock tick, the later listed
                # is the older.
                found.setdefault(o.object_name, []).append((at, -n, o.version_id))
            return {k: [v for *_, v in sorted(found[k])] for k in sorted(found)}

        return await asyncio.to_thread(listed)

    async def get(self, key: str, version_id: str | None = None) -> bytes:
        def read() -> bytes:
            response = self.client.get_object(self.bucket, key, version_id=version_id)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return await asyncio.to_thread(read)
