"""The OA's approval form (审批单) rendered to PDF, with its CJK font embedded (subset) so that it
reads the same in thirty years on a machine without that font."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from archive.domain.approval_record import CHINA
from contracts.events import OaApprovalCompleted

DECISIONS = {
    "approved": "同意",
    "rejected": "驳回",
    "redirected": "转交",
    "pending": "待处理",
    "cancelled": "撤销",
}
OUTCOMES = {"approved": "已通过", "paid": "已支付"}


class ApprovalPdf:
    def __init__(self, font: Path) -> None:
        if not font.is_file():
            raise FileNotFoundError(
                f"CJK font {font} not found: install Debian's fonts-wqy-microhei (the local "
                "infrastructure script does) or set AAP_ARCHIVE_CJK_FONT"
            )
        self._font = font

    async def render(self, approval: OaApprovalCompleted, archive_code: str) -> bytes:
        return await asyncio.to_thread(self._render, approval, archive_code)

    def _render(self, a: OaApprovalCompleted, archive_code: str) -> bytes:
        pdf = FPDF(format="A4")
        pdf.set_title(f"{a.title} {a.instance_id}")
        pdf.set_creator("AAP archive")
        pdf.add_font("cjk", fname=str(self._font), collection_font_number=0)
        pdf.add_page()
        pdf.set_font("cjk", size=16)
        pdf.multi_cell(0, 10, f"审批单  {a.title}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        for label, value in (
            ("档号", archive_code),
            ("OA", f"{a.vendor} / {a.oa_connection} / {a.corp_id}"),
            ("审批实例", a.instance_id),
            ("申请人", a.applicant),
            ("发起时间", _local(a.started_at)),
            ("完成时间", _local(a.finished_at)),
            ("结果", OUTCOMES[a.outcome]),
            ("关联键", "、".join(f"{k.kind}={k.value}" for k in a.business_keys) or "—"),
        ):
            _row(pdf, label, value)
        _heading(pdf, "表单 Form")
        for entry in a.form:
            _row(pdf, entry.label, entry.value)
        _heading(pdf, "审批记录 Approval trail")
        for n, step in enumerate(a.trail, 1):
            who = step.oa_user_id + (f" ({step.principal})" if step.principal else "")
            said = f"：{step.comment}" if step.comment else ""
            _row(pdf, f"{n}. {DECISIONS[step.decision]}", f"{who}  {_local(step.decided_at)}{said}")
        return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=10)


def _row(pdf: FPDF, label: str, value: str) -> None:
    pdf.multi_cell(40, 6, label, new_x="RIGHT", new_y="TOP")
    pdf.multi_cell(0, 6, value or "—", new_x="LMARGIN", new_y="NEXT")


def _local(at: datetime | None) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") + " (UTC+8)" if at else "—"
