"""Audit service: the tamper-evident trail of every domain event."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from audit.adapters.checkpoint_store import PublishedCheckpoints
from audit.adapters.consumed import ConsumedFromBroker
from audit.adapters.consumers import audited_topics, register_consumers
from audit.adapters.http import audit_router
from audit.adapters.log_store import LogStore
from audit.adapters.tree_store import TreeNodes
from audit.checkpoints import Checkpoints
from audit.service import AuditService
from audit.settings import AuditSettings
from contracts.events import CheckpointPublished, TrailExported
from contracts.trail import origin
from servicekit import s3
from servicekit.periodic import Periodic
from servicekit.roles import RoleDirectory, follow_role_changes
from servicekit.service import build_app, build_runtime, serve

SERVICE = "audit"


def create_app(
    settings: AuditSettings | None = None,
    permission_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """``permission_transport`` lets a test reach an in-process permission service."""
    settings = settings or AuditSettings()
    rt = build_runtime(SERVICE, settings.platform, publishes=[CheckpointPublished, TrailExported])
    token = rt.service_token(settings.oidc_client_id, settings.oidc_client_secret)
    directory = RoleDirectory(settings.permission_url, token, permission_transport)
    rt.shutdown.append(directory.close)
    store = LogStore(rt.db)
    service = AuditService(store, TreeNodes(rt.db))
    bucket = s3.ObjectStore(
        s3.connect(settings.platform), settings.platform.bucket_name("audit-checkpoints")
    )
    checkpoints = Checkpoints(
        service,
        PublishedCheckpoints(bucket, timedelta(days=365 * settings.checkpoint_retention_years)),
        settings.signer(),
        origin(settings.platform.namespace),
        rt.publisher,
        rt.source,
        settings.checkpoint_entries,
        ConsumedFromBroker(settings.platform, SERVICE, audited_topics(rt)),
    )
    publishing = Periodic(
        "publish a checkpoint",
        checkpoints.publish,
        settings.checkpoint_seconds,
        first_at_start=False,
    )
    # The bucket is the administrator's to make (object lock); the tree is rebuilt before the
    # first event is taken.
    rt.startup += [bucket.ready, checkpoints.start]
    rt.after_start.append(publishing.start)
    rt.before_stop.append(publishing.stop)
    register_consumers(rt, checkpoints)
    follow_role_changes(rt.broker, rt.platform, directory)
    return build_app(
        rt,
        title="AAP audit",
        routers=[audit_router(service, checkpoints, store, directory)],
        checks={"s3": bucket.ready},
        roles=directory,
    )


def main() -> None:
    settings = AuditSettings()
    serve(create_app(settings), settings.http_host, settings.http_port)
