"""The object store keeps what is archived whoever holds a service's keys: each service has its
own S3 user, limited to what it does, and none may delete, bypass retention or unlock a bucket.
Every object is encrypted at rest (SSE with the server's KMS key)."""

from __future__ import annotations

import asyncio
import io
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from minio import Minio
from minio.commonconfig import COMPLIANCE, CopySource
from minio.error import S3Error
from minio.retention import Retention
from pydantic import SecretStr

from devkit import s3_access
from devkit.s3_access import client_env
from servicekit import s3
from servicekit.settings import PlatformSettings


def as_user(platform: PlatformSettings, service: str) -> Minio:
    env = client_env(service, platform.namespace)
    return s3.connect(
        platform.model_copy(
            update={
                "s3_access_key": env["AAP_S3_ACCESS_KEY"],
                "s3_secret_key": SecretStr(env["AAP_S3_SECRET_KEY"]),
            }
        )
    )


async def refused(call: object) -> str:
    with pytest.raises(S3Error) as refusal:
        await asyncio.to_thread(call)  # type: ignore[arg-type]
    return str(refusal.value.code)


async def test_each_service_writes_only_where_it_must_and_deletes_nothing(
    platform: PlatformSettings,
) -> None:
    ingest, archive = as_user(platform, "ingest"), as_user(platform, "archive")
    ingested = platform.bucket_name("ingest-originals")
    archived = platform.bucket_name("archive-originals")

    def put(client: Minio, bucket: str, key: str) -> str:
        return str(client.put_object(bucket, key, io.BytesIO(b"%PDF-1.7"), 8).version_id)

    await asyncio.to_thread(put, ingest, ingested, "acl/a.pdf")
    # Ingest cannot write into the archive's bucket, and the archive not into ingest's.
    assert await refused(lambda: put(ingest, archived, "acl/forged.pdf")) == "AccessDenied"
    assert await refused(lambda: put(archive, ingested, "acl/b.pdf")) == "AccessDenied"

    until = datetime.now(UTC) + timedelta(days=1)
    copied = await asyncio.to_thread(
        archive.copy_object,
        archived,
        "acl/a.pdf",
        CopySource(ingested, "acl/a.pdf"),
        retention=Retention(COMPLIANCE, until),
        legal_hold=True,
    )
    kept = await asyncio.to_thread(archive.stat_object, archived, "acl/a.pdf")
    assert kept.metadata is not None
    assert kept.metadata.get("x-amz-server-side-encryption") == "AES256"
    # Nothing archived can be removed, hidden behind a delete marker or unlocked by a service.
    version = copied.version_id
    for attempt in (
        lambda: archive.remove_object(archived, "acl/a.pdf", version_id=version),
        lambda: archive.remove_object(archived, "acl/a.pdf"),
        lambda: ingest.remove_object(ingested, "acl/a.pdf"),
        lambda: archive.make_bucket(platform.bucket_name("unlocked"), object_lock=False),
    ):
        assert await refused(attempt) == "AccessDenied"


async def test_one_namespaces_users_reach_no_other_namespaces_buckets(
    platform: PlatformSettings,
) -> None:
    """Once, the policies named buckets by their suffix (``*-archive-originals``): on a shared
    store, a test run's or another environment's archive user could write production's."""
    other = platform.model_copy(update={"namespace": "ns" + secrets.token_hex(3)})
    await asyncio.to_thread(s3_access.apply, platform, other.namespace)
    try:
        for service, purpose in (("archive", "archive-originals"), ("ingest", "ingest-originals"),
                                 ("audit", "audit-checkpoints")):  # fmt: skip
            mine = as_user(platform, service)
            theirs = other.bucket_name(purpose)
            data = io.BytesIO(b"%PDF-1.7")
            put = lambda: mine.put_object(theirs, "x/forged.pdf", data, 8)  # noqa: B023,E731
            assert await refused(put) == "AccessDenied", service
            # …while the other namespace's own user writes there.
            own = as_user(other, service)
            await asyncio.to_thread(own.put_object, theirs, "x/own.pdf", io.BytesIO(b"%PDF"), 4)
    finally:
        await asyncio.to_thread(s3_access.remove, platform, other.namespace)
