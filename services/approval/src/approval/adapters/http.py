"""HTTP: file borrowing requests; receive the OA system's signed decision callbacks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from pydantic import BaseModel, Field, ValidationError

from approval.domain.borrowing import (
    BorrowingRequest,
    DecisionConflict,
    NotRoutedHere,
    SelfApproval,
)
from approval.domain.form_profile import NotThisProfile
from approval.domain.oa_callback import CallbackRejected
from approval.domain.routing import NoRoute
from approval.expense_approvals import ExpenseApprovals
from approval.service import ApprovalService, NotOfTheFonds, UnknownRequest
from approval.vendor_callbacks import Callback, VendorCallbacks
from approval.vendor_starts import NoOaUser
from approval.vendors.connection import Vendor
from contracts.borrowing import BorrowingMode
from servicekit.auth import Caller


class BorrowingRequestIn(BaseModel):
    fonds_code: str = Field(
        min_length=1,
        max_length=32,
        description="全宗号 of the records: the OA system deciding for it gets the request",
    )
    record_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=1000)
    days: int = Field(ge=1, le=90)
    mode: BorrowingMode = Field(
        default="view",
        description="借阅方式: view (查阅: pages shown watermarked, nothing downloaded) or copy "
        "(复制: watermarked copies downloaded, each registered)",
    )


# What the applicant is told when their OA could not be asked yet: the reason (the configured
# URL, which may carry a token, the OA's own answer) is logged and kept for the operator.
OA_UNREACHABLE = "the OA system did not accept the request yet: it is asked again"


def _out(r: BorrowingRequest) -> dict[str, Any]:
    return {
        "request_id": str(r.request_id),
        "applicant": r.applicant,
        "fonds_code": r.fonds_code,
        "oa_connection": r.oa_connection,
        "record_ids": [str(x) for x in r.record_ids],
        "reason": r.reason,
        "days": r.days,
        "mode": r.mode,
        "requested_at": r.requested_at.isoformat(),
        "status": "oa_unreachable" if r.oa_unreachable and not r.oa_instance_id else r.status.value,
        "oa_unreachable": OA_UNREACHABLE if r.oa_unreachable else None,
        "oa_instance_id": r.oa_instance_id,
        "approver": r.decision.approver if r.decision else None,
    }


def approval_router(service: ApprovalService) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["approval"])

    @router.post("/borrowing-requests", status_code=201)
    async def file_borrowing_request(caller: Caller, body: BorrowingRequestIn) -> dict[str, Any]:
        """The caller asks to read records; the OA system decides. Borrowing is for people: a
        client (a service, the ERP, an OA) is refused (403)."""
        if caller.is_client:
            raise HTTPException(
                403, f"{caller.name} is a client's service account: borrowing is for people"
            )
        try:
            request = await service.request_borrowing(
                applicant=caller.name,
                fonds_code=body.fonds_code,
                record_ids=body.record_ids,
                reason=body.reason,
                days=body.days,
                mode=body.mode,
            )
        except (NoRoute, NoOaUser, NotOfTheFonds) as error:
            raise HTTPException(422, str(error)) from error
        return _out(request)

    @router.get("/borrowing-requests/{request_id}")
    async def get_borrowing_request(caller: Caller, request_id: uuid.UUID) -> dict[str, Any]:
        """The applicant's own request; anyone else's answers 404, as if it did not exist."""
        request = await service.get(request_id)
        if request is None or request.applicant != caller.name:
            raise HTTPException(404, f"no borrowing request {request_id}")
        return _out(request)

    return router


@dataclass(frozen=True)
class SignedCallback:
    """An OA system's HTTP callback as it arrived: the raw body and its signature headers."""

    body: bytes
    key_id: str | None
    timestamp: str | None
    nonce: str | None
    signature: str | None


async def signed_callback(
    request: Request,
    x_aap_key_id: Annotated[str | None, Header()] = None,
    x_aap_timestamp: Annotated[str | None, Header()] = None,
    x_aap_nonce: Annotated[str | None, Header()] = None,
    x_aap_signature: Annotated[str | None, Header()] = None,
) -> SignedCallback:
    return SignedCallback(
        await request.body(), x_aap_key_id, x_aap_timestamp, x_aap_nonce, x_aap_signature
    )


Signed = Annotated[SignedCallback, Depends(signed_callback)]


def oa_callback_router(service: ApprovalService, expenses: ExpenseApprovals) -> APIRouter:
    """The OA system's decisions: it proves itself by signing each callback (HMAC), not with
    a token of the platform's IdP, which an OA product cannot obtain."""
    router = APIRouter(prefix="/v1", tags=["approval"])

    @router.post("/oa/decisions")
    async def oa_decision_callback(signed: Signed) -> dict[str, Any]:
        try:
            decided = await service.on_signed_callback(
                body=signed.body,
                key_id=signed.key_id,
                timestamp=signed.timestamp,
                nonce=signed.nonce,
                signature=signed.signature,
            )
        except CallbackRejected as error:
            raise HTTPException(401, f"callback rejected: {error}") from error
        except ValidationError as error:
            raise HTTPException(422, f"decision body is not an OaDecisionMade: {error}") from error
        except NotThisProfile as error:
            raise HTTPException(
                422, f"decision body is not the connection's form: {error}"
            ) from error
        except UnknownRequest as error:
            raise HTTPException(404, str(error)) from error
        except DecisionConflict as error:
            raise HTTPException(409, str(error)) from error
        except SelfApproval as error:
            raise HTTPException(403, f"separation of duties: {error}") from error
        except NotRoutedHere as error:
            raise HTTPException(403, str(error)) from error
        return _out(decided)

    @router.post("/oa/approval-records", status_code=202)
    async def oa_approval_record(signed: Signed) -> dict[str, Any]:
        """A finished expense or payment approval (报销审批, 付款审批) of an on-premise OA, signed
        as its decisions are: announced for the archive, which keeps it beside its voucher."""
        try:
            system = await service.verified(
                signed.body, signed.key_id, signed.timestamp, signed.nonce, signed.signature
            )
            completed = await expenses.posted(system, signed.body)
        except CallbackRejected as error:
            raise HTTPException(401, f"callback rejected: {error}") from error
        except ValidationError as error:
            raise HTTPException(422, f"not an approval record: {error}") from error
        return {
            "approval_key": completed.approval_key,
            "business_keys": [k.model_dump() for k in completed.business_keys],
        }

    return router


def vendor_callback_router(callbacks: VendorCallbacks) -> APIRouter:
    """The OA vendors' own callbacks: each proves itself by the vendor's signature and
    encryption with the connection's keys; a refusal names what was wrong (``app.py`` maps each
    refusal to its status once)."""
    router = APIRouter(prefix="/v1/oa", tags=["approval"])

    async def vendor_callback(vendor: Vendor, connection: str, request: Request) -> Response:
        """DingTalk's and Feishu's event subscriptions and WeCom's callbacks (its URL check
        is the GET), configured per OA connection (``AAP_APPROVAL_OA_VENDORS``)."""
        callback = Callback(
            method=request.method,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
        )
        received = await callbacks.receive(connection, vendor, callback)
        return Response(received.reply, media_type=received.media_type)

    # One handler; each method its own operation in the OpenAPI document.
    for method, operation in (("GET", "oa_vendor_url_check"), ("POST", "oa_vendor_event")):
        router.add_api_route(
            "/{vendor}/{connection}", vendor_callback, methods=[method], operation_id=operation
        )
    return router
