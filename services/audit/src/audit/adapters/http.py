"""HTTP for auditors: query the trail, export it whole, verify it; checkpoints and proofs.

Security auditors (安全审计员) and auditors of every fonds read the whole trail; an auditor of
some fonds reads the entries about those fonds only, and neither exports nor verifies the whole
log. Proofs and checkpoints are hashes only: any auditor may ask for them. Nobody else reads the
trail; the checkpoints' public key is for anyone.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations at
# definition time, and ``Scope`` is local to the router (it closes over the directory).

import base64
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import AwareDatetime, BaseModel

from audit.article8 import article_8
from audit.checkpoints import Checkpoints, UntrustedCheckpoint
from audit.ports import LogStore
from audit.service import AuditService, OutOfRange
from audit.usage import usage_register
from contracts.merkle import Hash
from contracts.roles import ALL_FONDS, Action
from contracts.trail import canonical
from servicekit.addresses import ClientAddress
from servicekit.auth import Caller
from servicekit.exports import XLSX, as_xlsx
from servicekit.roles import RoleDirectory


def b64(h: Hash) -> str:
    return base64.b64encode(h).decode()


class InclusionProof(BaseModel):
    """RFC 6962 audit path of one entry (leaf index = seq − 1); hashes in base64."""

    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    path: list[str]


class ConsistencyProof(BaseModel):
    """RFC 6962 consistency proof between two tree sizes; hashes in base64."""

    first: int
    second: int
    first_root: str
    second_root: str
    path: list[str]


class CheckpointKey(BaseModel):
    origin: str
    verifier_key: str  # C2SP note verifier key: <name>+<key id>+<base64 Ed25519 key>


def audit_router(
    service: AuditService, checkpoints: Checkpoints, store: LogStore, directory: RoleDirectory
) -> APIRouter:
    async def trail_scope(caller: Caller) -> frozenset[str] | None:
        """The fonds whose entries the caller reads; None: the whole trail."""
        fonds = (await directory.holder(caller)).fonds_where(Action.READ_TRAIL)
        if not fonds:
            raise HTTPException(
                403, f"{caller.name}: the audit trail answers security auditors and auditors only"
            )
        return None if ALL_FONDS in fonds else fonds

    async def whole_trail(scope: Annotated[frozenset[str] | None, Depends(trail_scope)]) -> None:
        if scope is not None:
            raise HTTPException(
                403,
                "the whole trail (export, verify) answers security auditors and auditors of "
                f"every fonds; yours: {', '.join(sorted(scope))}",
            )

    Scope = Annotated[frozenset[str] | None, Depends(trail_scope)]
    router = APIRouter(prefix="/v1", tags=["audit"])

    @router.get("/entries")
    async def entries(
        scope: Scope,
        record_id: str | None = None,
        actor: str | None = None,
        event_type: Annotated[
            str | None, Query(description="e.g. cn.aap.RecordArchived.v1")
        ] = None,
        since: AwareDatetime | None = None,
        until: AwareDatetime | None = None,
        after_seq: Annotated[int, Query(ge=0, le=2**62, description="page after this entry")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        items = await service.query(
            record_id=record_id,
            actor=actor,
            event_type=event_type,
            since=since,
            until=until,
            after_seq=after_seq,
            limit=limit,
            fonds=scope,
        )
        next_after = items[-1]["seq"] if len(items) == limit else None
        return {"items": items, "next_after_seq": next_after}

    @router.get("/export", dependencies=[Depends(whole_trail)])
    async def export(caller: Caller, address: ClientAddress) -> StreamingResponse:
        """One entry per line, in its canonical form; header X-AAP-Checkpoint: the newest
        published checkpoint (its signed note, base64), which the export's first entries are
        consistent with."""
        await checkpoints.exported(caller.name, address)
        headers: dict[str, str] = {}
        try:
            if newest := await checkpoints.newest():
                headers["X-AAP-Checkpoint"] = base64.b64encode(newest[1].encode()).decode()
        except UntrustedCheckpoint as alert:  # exported all the same: the auditor sees why
            headers["X-AAP-Checkpoint-Alert"] = quote(str(alert))

        async def lines() -> AsyncIterator[bytes]:
            async for entry in service.export():
                yield canonical(entry) + b"\n"  # the bytes of its leaf: verifiable as is

        return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)

    @router.get("/verify", dependencies=[Depends(whole_trail)])
    async def verify() -> dict[str, Any]:
        r = await checkpoints.verify()
        cp = r.checkpoint
        return {
            "ok": r.ok,
            "entries_checked": r.entries_checked,
            "head_seq": r.head_seq,
            "head_hash": r.head_hash,
            "first_broken_seq": r.first_broken_seq,
            "reason": r.reason,
            "checkpoint": {"tree_size": cp.size, "root_hash": b64(cp.root), "signed_at": cp.time}
            if cp
            else None,
            "verified_at": datetime.now().astimezone().isoformat(),
        }

    @router.get("/registers/usage.xlsx")
    async def usage(
        caller: Caller, fonds_code: str, since: AwareDatetime, until: AwareDatetime
    ) -> Response:
        """利用登记簿: who read the fonds' records in [since, until), how (查阅, 复制, …), for
        what purpose, with whose approval; for the fonds' archivists, who keep it, and its
        auditors."""
        holder = await directory.holder(caller)
        fonds = holder.fonds_where(Action.READ_TRAIL) | holder.fonds_where(Action.READ_USAGE)
        if not fonds & {fonds_code, ALL_FONDS}:
            raise HTTPException(
                403,
                f"{caller.name}: the usage register of {fonds_code} answers its archivists and "
                "auditors",
            )
        register = await usage_register(store, fonds_code, since, until)
        name = quote(f"{fonds_code}-利用登记簿.xlsx")
        return Response(
            as_xlsx(register),
            media_type=XLSX,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
        )

    @router.get("/compliance/article-8")
    async def article8(scope: Scope, fonds_code: str) -> dict[str, Any]:
        """第八条: whether the fonds' records may be kept in electronic form only, each of the
        six conditions with its evidence from the trail, or 未满足 naming what is missing."""
        if scope is not None and fonds_code not in scope:
            raise HTTPException(403, f"the 第八条 report of {fonds_code} is not in your fonds")
        try:
            newest = await checkpoints.newest()
        except UntrustedCheckpoint:
            newest = None  # a checkpoint that does not prove is no evidence
        conditions = await article_8(store, fonds_code, newest)
        return {
            "fonds_code": fonds_code,
            "as_of": datetime.now().astimezone().isoformat(),
            "all_met": all(c.met for c in conditions),
            "conditions": [c.shown() for c in conditions],
        }

    @router.get("/proofs/inclusion")
    async def inclusion(
        scope: Scope, seq: Annotated[int, Query(ge=1)], tree_size: Annotated[int, Query(ge=1)]
    ) -> InclusionProof:
        try:
            leaf, path = await service.inclusion(seq, tree_size)
            root = await service.root(tree_size)
        except OutOfRange as error:
            raise HTTPException(422, str(error)) from error
        return InclusionProof(
            seq=seq,
            tree_size=tree_size,
            leaf_hash=b64(leaf),
            root_hash=b64(root),
            path=[b64(h) for h in path],
        )

    @router.get("/proofs/consistency")
    async def consistency(
        scope: Scope,
        first: Annotated[int, Query(ge=1, alias="from")],
        second: Annotated[int, Query(ge=1, alias="to")],
    ) -> ConsistencyProof:
        try:
            path = await service.consistency(first, second)
            roots = [await service.root(first), await service.root(second)]
        except OutOfRange as error:
            raise HTTPException(422, str(error)) from error
        return ConsistencyProof(
            first=first,
            second=second,
            first_root=b64(roots[0]),
            second_root=b64(roots[1]),
            path=[b64(h) for h in path],
        )

    @router.get("/checkpoint", response_class=PlainTextResponse)
    async def checkpoint(scope: Scope) -> str:
        """The newest published checkpoint, once proven: a C2SP signed note (409 with the alert
        if a published checkpoint does not prove)."""
        try:
            newest = await checkpoints.newest()
        except UntrustedCheckpoint as alert:
            raise HTTPException(409, str(alert)) from alert
        if newest is None:
            raise HTTPException(404, "no checkpoint published yet")
        return newest[1]

    @router.get("/checkpoint/key")
    async def checkpoint_key(caller: Caller) -> CheckpointKey:
        """The key that signs the checkpoints, to verify them offline."""
        return CheckpointKey(origin=checkpoints.origin, verifier_key=checkpoints.verifier_key)

    return router
