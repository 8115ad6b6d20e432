"""企业微信 WeCom's callbacks (接收消息与事件, 审批状态通知事件): what it sends, what it wants back.

- URL check: GET ``?msg_signature&timestamp&nonce&echostr``; the answer is ``echostr``
  decrypted, as plain text.
- Events: POST with the same query and an XML body whose ``<Encrypt>`` holds the event
  (``MessageCrypt``, the receiver id the CorpID); the answer is an empty 200.
- ``sys_approval_change``: ``ApprovalInfo`` with ``SpNo`` (the instance), ``SpStatus``,
  ``TemplateId``, ``Applyer`` and each ``SpRecord``'s ``Details`` (approver, ``Speech``,
  ``SpStatus``, ``SpTime``). No event id: one is derived from instance, status and time.
XML from outside goes through defusedxml: DTDs, entities and external references are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from approval.domain.oa_states import wecom_outcome
from approval.vendors.events import Received, Step, StepDecision, VendorEvent, fresh, required
from approval.vendors.events import seconds as unix_seconds
from approval.vendors.message_crypt import MessageCrypt
from approval.vendors.refusals import CallbackRefused

# SpRecord.Details.SpStatus: 1 审批中, 2 已同意, 3 已驳回, 4 已转审;
# 11 已退回, 12 已加签, 13 已同意并加签.
DETAIL_STATUS: dict[str, StepDecision] = {
    "1": "pending",
    "2": "approved",
    "3": "rejected",
    "4": "redirected",
    "11": "redirected",
    "12": "pending",
    "13": "approved",
}
MAX_XML_BYTES = 1 << 20


class WeComCallbacks:
    def __init__(self, crypt: MessageCrypt) -> None:
        self._crypt = crypt

    def verify_url(self, query: Mapping[str, str], now: float) -> Received:
        signature, timestamp, nonce, echo = required(
            query, "msg_signature", "timestamp", "nonce", "echostr"
        )
        self._crypt.verify(signature, timestamp, nonce, echo)
        fresh(timestamp, now)
        return Received(self._crypt.decrypt(echo), "text/plain")

    def receive(
        self, query: Mapping[str, str], headers: Mapping[str, str], body: bytes, now: float
    ) -> Received:
        signature, timestamp, nonce = required(query, "msg_signature", "timestamp", "nonce")
        encrypted = _xml(body, "the body").findtext("Encrypt")
        if not encrypted:
            raise CallbackRefused("the body has no <Encrypt>")
        self._crypt.verify(signature, timestamp, nonce, encrypted)
        fresh(timestamp, now)
        event = _xml(self._crypt.decrypt(encrypted), "the decrypted event")
        if event.findtext("Event") != "sys_approval_change":
            return Received(b"", "text/plain")
        return Received(b"", "text/plain", (_approval_change(event),))


def _approval_change(event: Element) -> VendorEvent:
    info = event.find("ApprovalInfo")
    if info is None:
        raise CallbackRefused("sys_approval_change has no ApprovalInfo")
    sp_no, status = _text(info, "SpNo"), _text(info, "SpStatus")
    if not status.isdigit():
        raise CallbackRefused(f"SpStatus {status[:20]!r} is not a number")
    steps: list[Step] = []
    for details in info.iterfind("SpRecord/Details"):
        user = details.findtext("Approver/UserId") or ""
        decision = DETAIL_STATUS.get(details.findtext("SpStatus") or "")
        if not user or decision is None:
            raise CallbackRefused("an SpRecord's Details has no approver or a status we know")
        at = details.findtext("SpTime") or "0"
        when = unix_seconds(at) if at != "0" else None
        steps.append(Step(user, decision, details.findtext("Speech") or "", when))
    outcome = wecom_outcome(int(status))
    decided = [s for s in steps if s.decision in ("approved", "rejected") and s.at]
    decided.sort(key=lambda s: s.at.timestamp() if s.at else 0)
    applicant = info.findtext("Applyer/UserId")
    # Who it is due to: an approval or a refusal is its last approver's; a withdrawal, the
    # applicant's (撤销 and 通过后撤销 are the applicant's acts).
    actor = (
        decided[-1].oa_user_id
        if outcome.value in ("approved", "rejected") and decided
        else applicant
    )
    changed = event.findtext("CreateTime") or "0"
    return VendorEvent(
        event_id=f"{sp_no}:{status}:{info.findtext('StatuChangeEvent') or ''}:{changed}",
        instance_id=sp_no,
        process_code=_text(info, "TemplateId"),
        occurred_at=unix_seconds(changed),
        outcome=outcome,
        steps=tuple(steps),
        actor=actor,
        comment=decided[-1].comment if decided else "",
    )


def _xml(raw: bytes, what: str) -> Element:
    if len(raw) > MAX_XML_BYTES:
        raise CallbackRefused(f"{what} is larger than {MAX_XML_BYTES} bytes")
    try:
        root: Element = fromstring(raw, forbid_dtd=True)
    # LookupError, UnicodeError: an encoding declared that Python lacks or the bytes break.
    except (ParseError, DefusedXmlException, ValueError, LookupError) as error:
        raise CallbackRefused(f"{what} is not XML we accept: {str(error)[:80]}") from error
    return root


def _text(parent: Element, name: str) -> str:
    value = parent.findtext(name)
    if not value:
        raise CallbackRefused(f"sys_approval_change has no {name}")
    return value
