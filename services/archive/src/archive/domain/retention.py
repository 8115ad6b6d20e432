"""Retention periods (保管期限) as one table.

The table is 附表1 of the 《会计档案管理办法》 (财政部 国家档案局令第79号).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.records import RecordCategory, RetentionPeriod

PERMANENT = RetentionPeriod(permanent=True)


def years(n: int) -> RetentionPeriod:
    return RetentionPeriod(years=n)


@dataclass(frozen=True)
class RetentionRule:
    item: int  # 序号 in 附表1
    name_zh: str
    category_code: str  # used in the archive code
    period: RetentionPeriod


RETENTION_RULES: dict[RecordCategory, RetentionRule] = {
    RecordCategory.SOURCE_DOCUMENT: RetentionRule(1, "原始凭证", "PZ", years(30)),
    RecordCategory.BOOKKEEPING_VOUCHER: RetentionRule(2, "记账凭证", "PZ", years(30)),
    RecordCategory.GENERAL_LEDGER: RetentionRule(3, "总账", "ZB", years(30)),
    RecordCategory.SUBSIDIARY_LEDGER: RetentionRule(4, "明细账", "ZB", years(30)),
    RecordCategory.JOURNAL: RetentionRule(5, "日记账", "ZB", years(30)),
    RecordCategory.FIXED_ASSET_CARD: RetentionRule(
        6, "固定资产卡片", "ZB", RetentionPeriod(years=5, counted_from="asset_disposal")
    ),
    RecordCategory.OTHER_AUXILIARY_LEDGER: RetentionRule(7, "其他辅助性账簿", "ZB", years(30)),
    RecordCategory.PERIODIC_FINANCIAL_REPORT: RetentionRule(
        8, "月度、季度、半年度财务会计报告", "BG", years(10)
    ),
    RecordCategory.ANNUAL_FINANCIAL_REPORT: RetentionRule(9, "年度财务会计报告", "BG", PERMANENT),
    RecordCategory.BANK_RECONCILIATION: RetentionRule(10, "银行存款余额调节表", "QT", years(10)),
    RecordCategory.BANK_STATEMENT: RetentionRule(11, "银行对账单", "QT", years(10)),
    RecordCategory.TAX_RETURN: RetentionRule(12, "纳税申报表", "QT", years(10)),
    RecordCategory.HANDOVER_LIST: RetentionRule(13, "会计档案移交清册", "QT", years(30)),
    RecordCategory.CUSTODY_REGISTER: RetentionRule(14, "会计档案保管清册", "QT", PERMANENT),
    RecordCategory.DESTRUCTION_LIST: RetentionRule(15, "会计档案销毁清册", "QT", PERMANENT),
    RecordCategory.APPRAISAL_OPINION: RetentionRule(16, "会计档案鉴定意见书", "QT", PERMANENT),
}


def retention_until(
    period: RetentionPeriod, fiscal_year: int, disposal: date | None = None
) -> date | None:
    """Last day of retention: 第十四条 "会计档案的保管期限，从会计年度终了后的第一天算起", so
    the last day of the fiscal year ``years`` later. A fixed-asset card is kept "固定资产报废清理
    后保管5年" (附表1 序号6): counted the same way from the end of the year of the disposal.

    None means permanent, or (fixed-asset cards) not yet countable because the asset is in use.
    """
    if period.permanent or period.years is None:
        return None
    if period.counted_from == "asset_disposal":
        if disposal is None:
            return None
        return date(disposal.year + period.years, 12, 31)
    return date(fiscal_year + period.years, 12, 31)


def kept_until(period: RetentionPeriod, last_day: date | None) -> str:
    """The last day of retention as registers and metadata print it: a date, 永久, or for a
    fixed-asset card whose asset is in use, what it waits for (报废清理后5年)."""
    if last_day is not None:
        return last_day.isoformat()
    if period.permanent or period.years is None:
        return "永久"
    return f"报废清理后{period.years}年"
