"""飞书 Feishu's event subscription (将事件发送至开发者服务器): what it posts, what it wants back.

- POST with ``{"encrypt": "…"}`` (``FeishuCrypt``) and, for events, the headers
  ``X-Lark-Request-Timestamp``, ``X-Lark-Request-Nonce`` and ``X-Lark-Signature``.
- The URL check (``url_verification``): the decrypted ``challenge`` is answered as
  ``{"challenge": …}``, once its ``token`` is the app's Verification Token.
- Approval events come in the 1.0 envelope (``uuid``, ``token``, ``type: event_callback``,
  ``event``), for the approval definitions the app subscribed to: ``approval_instance`` (the
  instance's status) and ``approval_task`` (one approver's task: the trail).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from approval.domain.oa_states import feishu_outcome
from approval.vendors.events import (
    Received,
    Step,
    StepDecision,
    VendorEvent,
    fresh,
    json_object,
    millis,
    required,
    text,
)
from approval.vendors.feishu_crypt import FeishuCrypt
from approval.vendors.refusals import CallbackRefused

# approval_task: status → the approver's step.
TASK_STATUS: dict[str, StepDecision] = {
    "PENDING": "pending",
    "APPROVED": "approved",
    "REJECTED": "rejected",
    "TRANSFERRED": "redirected",
    "ROLLBACK": "redirected",  # sent back to an earlier approver
    "DONE": "cancelled",  # ended without this approver's word (或签, withdrawn)
    "OVERTIME_CLOSE": "cancelled",
    "OVERTIME_RECOVER": "pending",
}
HEADERS = ("x-lark-request-timestamp", "x-lark-request-nonce", "x-lark-signature")
UNDECRYPTED = "the body is not an event of this app (its Encrypt Key and Verification Token)"


class FeishuCallbacks:
    def __init__(self, crypt: FeishuCrypt, verification_token: str) -> None:
        self._crypt, self._token = crypt, verification_token

    def receive(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes, now: float
    ) -> Received:
        encrypted = json_object(body, "the body").get("encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise CallbackRefused('the body has no "encrypt": set an Encrypt Key in the console')
        signed = any(headers.get(h) for h in HEADERS)
        if signed:
            timestamp, nonce, signature = required(headers, *HEADERS)
            self._crypt.verify(signature, timestamp, nonce, body)
            fresh(timestamp, now)
        try:
            payload = json_object(self._crypt.decrypt(encrypted), "the decrypted event")
            token = payload.get("token")
            if not isinstance(token, str) or not hmac.compare_digest(token, self._token):
                raise CallbackRefused("the event's token is not this app's Verification Token")
        except CallbackRefused:
            # One refusal whatever failed (the padding, the JSON, the token): an unsigned post
            # (the URL check is unsigned) must not learn which, or it could decrypt by probing.
            raise CallbackRefused(UNDECRYPTED) from None
        if payload.get("type") == "url_verification":
            challenge = text(payload, "challenge", "url_verification")
            return Received(_json({"challenge": challenge}), "application/json")
        if not signed:
            raise CallbackRefused("missing X-Lark-Signature: events are signed")
        if payload.get("type") != "event_callback":
            raise CallbackRefused(f"type {str(payload.get('type'))[:40]!r} is not event_callback")
        event = payload.get("event")
        if not isinstance(event, dict):
            raise CallbackRefused("event_callback has no event object")
        return Received(b"{}", "application/json", _events(text(payload, "uuid", "event"), event))


def _events(uuid: str, event: dict[str, Any]) -> tuple[VendorEvent, ...]:
    kind = event.get("type")
    if kind == "approval_instance":
        at = millis(event.get("operate_time") or event.get("instance_operate_time"))
        return (
            VendorEvent(
                event_id=uuid,
                instance_id=text(event, "instance_code", kind),
                process_code=text(event, "approval_code", kind),
                occurred_at=at,
                outcome=feishu_outcome(text(event, "status", kind)),
            ),
        )
    if kind == "approval_task":
        status = text(event, "status", kind)
        if status not in TASK_STATUS:
            raise CallbackRefused(f"approval_task status {status[:40]!r} is not one we know")
        at = millis(event.get("operate_time"))
        user = event.get("user_id") or event.get("open_id")
        if not isinstance(user, str) or not user:
            raise CallbackRefused("approval_task has no user_id or open_id")
        return (
            VendorEvent(
                event_id=uuid,
                instance_id=text(event, "instance_code", kind),
                process_code=text(event, "approval_code", kind),
                occurred_at=at,
                steps=(Step(user, TASK_STATUS[status], "", at),),
            ),
        )
    return ()


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
