"""Who may do what in the object store: one S3 user per service that stores originals and per
namespace, each with a policy limited to what it does in that namespace's buckets (named in
full: one namespace's users reach no other's buckets on a shared store), and the buckets of a
namespace made by the administrator.

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
import hashlib
import hmac
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


def _arns(namespace: str, purpose: str) -> list[str]:
    bucket = f"{namespace}-{purpose}"
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def policies(namespace: str) -> dict[str, dict[str, Any]]:
    """Each service's policy in ``namespace``, by service."""

    def policy(*allowed: dict[str, Any]) -> dict[str, Any]:
        deny = {"Effect": "Deny", "Action": NEVER, "Resource": ["arn:aws:s3:::*"]}
        return {"Version": "2012-10-17", "Statement": [*allowed, deny]}

    def allow(purpose: str, *actions: str) -> dict[str, Any]:
        return {"Effect": "Allow", "Action": list(actions), "Resource": _arns(namespace, purpose)}

    return {
        "ingest": policy(allow("ingest-originals", *BUCKET, *READ, "s3:PutObject")),
        "archive": policy(
            allow("ingest-originals", *BUCKET, *READ),
            allow(
                "archive-originals",
                *BUCKET,
                *READ,
                "s3:PutObject",
                "s3:PutObjectRetention",
                "s3:PutObjectLegalHold",
            ),
        ),
        # The audit log's checkpoints: written once, under COMPLIANCE retention, never deleted.
        "audit": policy(
            allow("audit-checkpoints", *BUCKET, *READ, "s3:PutObject", "s3:PutObjectRetention")
        ),
    }


def user_name(namespace: str, service: str) -> str:
    return f"aap-{namespace}-{service}"


def local_secrets() -> dict[str, str]:
    """This checkout's object-store secrets (``.local/secrets/minio.json``). The KMS key is made
    once and kept: MinIO encrypts its users and every object with it. Each namespace's users'
    passwords follow from one random key, so that test namespaces need not be remembered."""

    def make() -> dict[str, str]:
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        return {
            "root_password": secrets.token_urlsafe(24),
            "kms_secret_key": f"aap-local:{key}",
            "users_key": secrets.token_urlsafe(32),
        }

    return kept("minio", make)


def _password(namespace: str, service: str) -> str:
    key = local_secrets()["users_key"].encode()
    mac = hmac.new(key, f"{namespace}/{service}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def client_env(service: str, namespace: str) -> dict[str, str]:
    """What a process needs to reach the local object store as ``service`` of ``namespace``
    (or as "root")."""
    found = local_secrets()
    if service == "root":
        return {"AAP_S3_ACCESS_KEY": ROOT_USER, "AAP_S3_SECRET_KEY": found["root_password"]}
    if service not in policies(namespace):  # a service that stores nothing
        return {}
    return {
        "AAP_S3_ACCESS_KEY": user_name(namespace, service),
        "AAP_S3_SECRET_KEY": _password(namespace, service),
    }


def use_root() -> None:
    """A local tool works as the object store's administrator, unless AAP_S3_* say otherwise."""
    if "AAP_S3_ACCESS_KEY" not in os.environ:
        os.environ.update(client_env("root", ""))


def _admin(platform: PlatformSettings) -> MinioAdmin:
    if not (platform.s3_access_key and platform.s3_secret_key):
        raise ValueError("set AAP_S3_ACCESS_KEY and AAP_S3_SECRET_KEY: the administrator")
    credentials = StaticProvider(platform.s3_access_key, platform.s3_secret_key.get_secret_value())
    return MinioAdmin(
        endpoint=platform.s3_endpoint, credentials=credentials, secure=platform.s3_secure
    )


def apply(platform: PlatformSettings, namespace: str) -> None:
    """The namespace's users and policies (repeatable), and its buckets with object lock and
    default encryption; ``platform`` names the administrator."""
    admin = _admin(platform)
    for service, policy in policies(namespace).items():
        name = user_name(namespace, service)
        admin.policy_add(name, policy=policy)
        admin.user_add(name, _password(namespace, service))
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


def remove(platform: PlatformSettings, namespace: str) -> None:
    """The namespace's users and policies removed (a test's clean-up; its locked objects stay)."""
    admin = _admin(platform)
    for service in policies(namespace):
        name = user_name(namespace, service)
        for undo in (admin.user_remove, admin.policy_remove):
            try:
                undo(name)
            except MinioAdminException as error:  # gone already
                if "not" not in str(error).lower():
                    raise


def main() -> None:
    """Print one local secret, for infra.sh (``devkit.namespace`` applies what is above)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=["root_password", "kms_secret_key"])
    print(local_secrets()[parser.parse_args().name])


if __name__ == "__main__":
    main()
