"""Who may do what in the object store: one S3 user per service that stores originals, each with
a policy limited to what it does, and the buckets of a namespace made by the administrator.

    python -m devkit.s3_access NAME    a local secret, for infra.sh

``python -m devkit.namespace create`` applies the users, policies and buckets (repeatable).

Ingest writes its own bucket; the archive reads ingest's and writes its own, under retention and
legal holds; the audit service writes its published checkpoints. None may delete an object or a
version, bypass governance retention, or change a bucket's object-lock configuration: what is
kept stays, whoever holds a service's keys (the destruction flow will get its own break-glass
identity). Buckets are made by the administrator
with object lock and default encryption (SSE with the server's KMS key), so no service needs the
right to make or reconfigure one.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
from typing import Any

from minio import MinioAdmin
from minio.credentials.providers import StaticProvider
from minio.error import MinioAdminException
from minio.sseconfig import Rule, SSEConfig

from devkit.secretfile import kept
from servicekit import s3
from servicekit.settings import PlatformSettings

ROOT_USER = "aap-root"
BUCKETS = ("ingest-originals", "archive-originals", "audit-checkpoints")  # <ns>-<purpose>
NEVER = [  # for every service, on every bucket: what is kept stays kept
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketObjectLockConfiguration",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
]
READ = ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention", "s3:GetObjectLegalHold"]
BUCKET = ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketObjectLockConfiguration"]


def _arns(purpose: str) -> list[str]:
    return [f"arn:aws:s3:::*-{purpose}", f"arn:aws:s3:::*-{purpose}/*"]


POLICIES: dict[str, dict[str, Any]] = {
    "ingest": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [*BUCKET, *READ, "s3:PutObject"],
                "Resource": _arns("ingest-originals"),
            },
            {"Effect": "Deny", "Action": NEVER, "Resource": ["arn:aws:s3:::*"]},
        ],
    },
    "archive": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": [*BUCKET, *READ], "Resource": _arns("ingest-originals")},
            {
                "Effect": "Allow",
                "Action": [
                    *BUCKET,
                    *READ,
                    "s3:PutObject",
                    "s3:PutObjectRetention",
                    "s3:PutObjectLegalHold",
                ],
                "Resource": _arns("archive-originals"),
            },
            {"Effect": "Deny", "Action": NEVER, "Resource": ["arn:aws:s3:::*"]},
        ],
    },
    # The audit log's checkpoints: written once, under COMPLIANCE retention, never deleted.
    "audit": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [*BUCKET, *READ, "s3:PutObject", "s3:PutObjectRetention"],
                "Resource": _arns("audit-checkpoints"),
            },
            {"Effect": "Deny", "Action": NEVER, "Resource": ["arn:aws:s3:::*"]},
        ],
    },
}


def local_secrets() -> dict[str, str]:
    """This checkout's object-store secrets (``.local/secrets/minio.json``). The KMS key is made
    once and kept: MinIO encrypts its users and every object with it."""

    def make() -> dict[str, str]:
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        made = {"root_password": secrets.token_urlsafe(24), "kms_secret_key": f"aap-local:{key}"}
        return made | {f"user:{s}": secrets.token_urlsafe(24) for s in POLICIES}

    return kept("minio", make)


def client_env(service: str) -> dict[str, str]:
    """What a process needs to reach the local object store as ``service`` (or "root")."""
    found = local_secrets()
    if service == "root":
        return {"AAP_S3_ACCESS_KEY": ROOT_USER, "AAP_S3_SECRET_KEY": found["root_password"]}
    if service not in POLICIES:
        return {}
    return {"AAP_S3_ACCESS_KEY": f"aap-{service}", "AAP_S3_SECRET_KEY": found[f"user:{service}"]}


def use_root() -> None:
    """A local tool works as the object store's administrator, unless AAP_S3_* say otherwise."""
    if "AAP_S3_ACCESS_KEY" not in os.environ:
        os.environ.update(client_env("root"))


def apply(platform: PlatformSettings, namespace: str) -> None:
    """Users and policies (repeatable), and the namespace's buckets with object lock and default
    encryption; ``platform`` names the administrator."""
    if not (platform.s3_access_key and platform.s3_secret_key):
        raise ValueError("set AAP_S3_ACCESS_KEY and AAP_S3_SECRET_KEY: the administrator")
    credentials = StaticProvider(platform.s3_access_key, platform.s3_secret_key.get_secret_value())
    admin = MinioAdmin(
        endpoint=platform.s3_endpoint, credentials=credentials, secure=platform.s3_secure
    )
    found = local_secrets()
    for service, policy in POLICIES.items():
        name = f"aap-{service}"
        admin.policy_add(name, policy=policy)
        admin.user_add(name, found[f"user:{service}"])
        try:
            admin.policy_set(name, user=name)
        except MinioAdminException as error:  # attached already: nothing to change
            if "already" not in str(error).lower():
                raise
    client = s3.connect(platform)
    of_namespace = platform.model_copy(update={"namespace": namespace})
    for purpose in BUCKETS:
        bucket = of_namespace.bucket_name(purpose)
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket, object_lock=True)
        client.set_bucket_encryption(bucket, SSEConfig(Rule.new_sse_s3_rule()))


def main() -> None:
    """Print one local secret, for infra.sh (``devkit.namespace`` applies what is above)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=["root_password", "kms_secret_key"])
    print(local_secrets()[parser.parse_args().name])


if __name__ == "__main__":
    main()
