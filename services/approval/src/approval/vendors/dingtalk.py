"""钉钉 DingTalk's HTTP event subscription (事件订阅, HTTP 推送): what it posts, what it wants back.

- POST ``?signature=…&timestamp=…&nonce=…`` with ``{"encrypt": "…"}``; the signature and the
  encryption are ``MessageCrypt``'s, the receiver id the corp id or app key.
- The reply, within 1.5 s: ``success`` encrypted, signed, as JSON (``msg_signature``,
  ``timeStamp``, ``nonce``, ``encrypt``). The URL check (``check_url``) wants the same.
- ``bpms_instance_change``: an instance started (``start``), finished (``finish``, ``result``
  ``agree``/``refuse``) or was terminated (``terminate``); ``staffId`` is its initiator.
- ``bpms_task_change``: one approver's task (``start``/``finish``/``cancel``, ``result``
  ``agree``/``refuse``/``redirect``, ``remark``): the trail of 会签 and 或签 steps.
Neither carries an event id: one is derived from instance, status and change time.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from approval.domain.oa_states import dingtalk_outcome
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
from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.refusals import CallbackRefused

TASK_RESULT: dict[tuple[str, str | None], StepDecision] = {
    ("start", None): "pending",
    ("finish", "agree"): "approved",
    ("finish", "refuse"): "rejected",
    ("finish", "redirect"): "redirected",
    ("cancel", None): "cancelled",  # 或签: another approver decided first
}


class DingTalkCallbacks:
    def __init__(self, crypt: MessageCrypt) -> None:
        self._crypt = crypt

    def receive(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes, now: float
    ) -> Received:
        signature, timestamp, nonce = required(query, "signature", "timestamp", "nonce")
        encrypted = json_object(body, "the body").get("encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise CallbackRefused('the body has no "encrypt"')
        self._crypt.verify(signature, timestamp, nonce, encrypted)
        fresh(timestamp, now)
        event = json_object(self._crypt.decrypt(encrypted), "the decrypted event")
        return Received(self._success(now), "application/json", _events(event))

    def _success(self, now: float) -> bytes:
        timestamp, nonce = str(int(now * 1000)), secrets.token_hex(8)
        encrypted = self._crypt.encrypt(b"success")
        return json.dumps(
            {
                "msg_signature": self._crypt.signature(timestamp, nonce, encrypted),
                "timeStamp": timestamp,
                "nonce": nonce,
                "encrypt": encrypted,
            }
        ).encode()


def _events(event: dict[str, Any]) -> tuple[VendorEvent, ...]:
    kind = event.get("EventType")
    if kind == "bpms_instance_change":
        instance = text(event, "processInstanceId", kind)
        change, result = text(event, "type", kind), event.get("result")
        at = millis(event.get("finishTime") or event.get("createTime"))
        outcome = dingtalk_outcome(change, result if isinstance(result, str) else None)
        return (
            VendorEvent(
                event_id=f"{instance}:{change}:{result or ''}:{int(at.timestamp() * 1000)}",
                instance_id=instance,
                process_code=text(event, "processCode", kind),
                occurred_at=at,
                outcome=outcome,
                # Who ended it: the initiator withdrew it (terminate); an approval or refusal
                # is the last approver's, which the task events tell.
                actor=event.get("staffId") if change == "terminate" else None,
            ),
        )
    if kind == "bpms_task_change":
        instance = text(event, "processInstanceId", kind)
        change, result = text(event, "type", kind), event.get("result")
        key = (change, result if change == "finish" and isinstance(result, str) else None)
        if key not in TASK_RESULT:
            raise CallbackRefused(f"bpms_task_change (type, result) {key!r} is not one we know")
        at = millis(event.get("finishTime") or event.get("createTime"))
        user = text(event, "staffId", kind)
        remark = event.get("remark") if isinstance(event.get("remark"), str) else ""
        return (
            VendorEvent(
                event_id=f"{instance}:task:{event.get('taskId', '')}:{user}:{change}:"
                f"{result or ''}:{int(at.timestamp() * 1000)}",
                instance_id=instance,
                process_code=text(event, "processCode", kind),
                occurred_at=at,
                steps=(Step(user, TASK_RESULT[key], str(remark or ""), at),),
            ),
        )
    # check_url, and every event this connection is subscribed to but the archive does not use.
    return ()
