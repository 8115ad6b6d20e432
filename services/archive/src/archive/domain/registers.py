"""The registers archive departments print and sign: the custody register (会计档案保管清册) and
the handover list (会计档案移交清册), as rows.

Each register is built once as rows; its renderings (``servicekit.exports``: workbook, CSV;
``adapters.register_files``: PDF) write user text inertly (never as a formula) and amounts as
numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from archive.domain.handover_list import Signature
from archive.domain.retention import RETENTION_RULES, kept_until
from archive.domain.volumes import Volume
from contracts.events import GapWaived, RecordArchived
from servicekit.exports import Cell, Register


def custody_register(
    fonds_code: str, fiscal_year: int, volumes: Sequence[Volume], holds: set[str]
) -> Register:
    rows: list[list[Cell]] = []
    # Corrections and what they correct, named in each other's remarks (第五十一条(五)).
    corrected_by: dict[str, list[str]] = {}
    for volume in volumes:
        for r in volume.records:
            if r.corrects:
                mark = f"被{r.corrects.kind}：{r.archive_code}"
                corrected_by.setdefault(str(r.corrects.record_id), []).append(mark)
    for volume in volumes:
        for r in volume.records:
            v, m = r.voucher, r.material
            remarks = [f"{r.corrects.kind} {r.corrects.archive_code}"] if r.corrects else []
            if m is not None:
                remarks.append(f"{RETENTION_RULES[r.category].name_zh} 责任者：{m.responsible}")
            remarks += corrected_by.get(str(r.record_id), [])
            if str(r.record_id) in holds:
                remarks.append("法律冻结（未结清事项）")
            rows.append(
                [
                    len(rows) + 1,
                    r.archive_code,
                    volume.number,
                    _months(r),
                    v.voucher_no if v else "",
                    r.title if v or m else "",
                    v.total.amount if v else None,
                    "永久" if r.retention.permanent else f"{r.retention.years}年",
                    kept_until(r.retention, r.retention_until),
                    v.declared_attachment_count if v else None,
                    "；".join(remarks),
                ]
            )
    return Register(
        "保管清册",
        f"会计档案保管清册  全宗号 {fonds_code}  {fiscal_year}年度",
        [
            ("序号", 6),
            ("档号", 26),
            ("卷号", 6),
            ("会计期间", 10),
            ("凭证号", 10),
            ("摘要", 36),
            ("金额", 14),
            ("保管期限", 8),
            ("保管期限截止", 14),
            ("附件张数", 8),
            ("备注", 24),
        ],
        rows,
    )


def _months(r: RecordArchived) -> str:
    """The 会计期间 of a record: a voucher's month, the months a material covers."""
    if (m := r.material) is not None and m.period_from != m.period_to:
        return f"{r.fiscal_year}-{m.period_from:02d}至{r.fiscal_year}-{m.period_to:02d}"
    return f"{r.fiscal_year}-{r.period:02d}" if r.period else ""


def handover_list(
    fonds_code: str,
    fiscal_year: int,
    volumes: Sequence[Volume],
    waived: Sequence[GapWaived] = (),
    as_of: date | None = None,
    signed: Sequence[Signature] = (),
    archive_code: str | None = None,
) -> Register:
    """The 移交清册, one row per volume with the fields 会计档案管理办法 第二十四条 asks for:
    "移交会计档案的单位，应当编制会计档案移交清册，列明应当移交的会计档案名称、卷号、册数、
    起止年度、档案编号、应保管期限和已保管期限等内容" (an electronic volume is one 册;
    已保管期限 counted as 第十四条 has it, "从会计年度终了后的第一天算起", to ``as_of``); beside
    them the volume's 件数 and 起止日期. What the year lacks, accepted by an archivist with a
    reason, is listed under it (each gap as the completeness report named it). ``signed``: the
    confirmations of a handover's list as kept (``archive_code``: its own 档号), printed where
    a paper list has its signatures; blank lines for them otherwise."""
    as_of = as_of or datetime.now(UTC).date()
    rows: list[list[Cell]] = []
    for v in volumes:
        first, last = v.date_range
        r = v.records[0]
        name = RETENTION_RULES[r.category].name_zh
        rows.append(
            [
                f"{name}（{v.fiscal_year}年{v.period:02d}月）"
                if v.period
                else f"{name}（{v.fiscal_year}年度）",
                v.number,
                1,
                f"{v.fiscal_year}—{v.fiscal_year}",
                f"{v.code_range[0]} — {v.code_range[1]}",
                "永久" if r.retention.permanent else f"{r.retention.years}年",
                kept_for(v.fiscal_year, as_of),
                v.item_count,
                f"{first} 至 {last}",
                "",
            ]
        )
    footer: list[list[Cell]] = []
    if waived:
        footer.append(["缺项（经档案管理机构确认）：", "缺少", "理由", "确认人", "确认时间"])
        footer += [
            [w.gap, w.description, w.reason, w.waived_by, w.waived_at.date().isoformat()]
            for w in waived
        ]
    footer += [
        [],
        [f"共 {len(volumes)} 卷 {sum(v.item_count for v in volumes)} 件"],
    ]
    footer += [
        [f"{s.duty}（平台确认）：", s.principal, f"{s.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"]
        for s in signed
    ] or [["移交人（签字）：", "", "接收人（签字）：", "", "监交人（签字）：", "", "日期："]]
    heading = f"会计档案移交清册  全宗号 {fonds_code}  {fiscal_year}年度"
    return Register(
        "移交清册",
        f"{heading}  档号 {archive_code}" if archive_code else heading,
        [
            ("名称", 24),
            ("卷号", 6),
            ("册数", 6),
            ("起止年度", 12),
            ("档案编号", 52),
            ("应保管期限", 10),
            ("已保管期限", 10),
            ("件数", 6),
            ("起止日期", 24),
            ("备注", 16),
        ],
        rows,
        footer,
    )


def kept_for(fiscal_year: int, as_of: date) -> str:
    """已保管期限: whole years kept since the day after the fiscal year ended (第十四条)."""
    start = date(fiscal_year + 1, 1, 1)
    years = as_of.year - start.year - ((as_of.month, as_of.day) < (start.month, start.day))
    return "未满1年" if years < 1 else f"{years}年"
