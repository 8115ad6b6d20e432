"""The main job end to end, five services as processes, exactly as `make demo` runs it."""

from contracts.checks import Stage, at
from devkit.demo import STORY, UPLOADS, story
from devkit.demo_vendors import EXPENSE_INVOICE
from devkit.pki import BANK
from devkit.stack import LocalStack
from servicekit.settings import PlatformSettings


async def test_upload_archive_borrow_approve_download_audit_and_the_vendors_oas(
    fresh_stack: LocalStack, fresh: PlatformSettings
) -> None:
    outcome = await story(fresh_stack, fresh)

    assert len(set(outcome.archive_codes)) == len(UPLOADS)
    assert all(code.startswith("Q001-2025-D30-PZ-") for code in outcome.archive_codes)
    assert outcome.rejected_status == 422  # the unbalanced voucher
    assert (outcome.resent_status, outcome.resent_same_document) == (200, True)  # a retry
    assert outcome.duplicate_status == 422  # the same e-invoice in another voucher
    assert "25312000000012345678 is already booked by its buyer in record" in (
        outcome.duplicate_message
    )
    # Out of the borrower's scope before approval: as if it did not exist.
    assert outcome.download_before_approval == 404
    assert (outcome.forged_callback, outcome.genuine_callback, outcome.replayed_callback) == (
        401,
        200,
        401,
    )
    # The OA system of another company, with its own genuine key, may not decide a request
    # routed to the sample fonds' OA.
    assert outcome.other_oa_callback == 403
    # 查阅 (view): the download refused, a page shown with the borrower's watermark; 复制 (copy):
    # the signed bank receipt downloaded as a copy stamped as one, the bank's signature over the
    # original revision verifying still.
    assert outcome.view_download == 403
    assert outcome.view_page.startswith("查阅 VIEW · Q001-2025-D30-PZ-")
    assert "liuyang" in outcome.view_page
    assert outcome.copy_verified and outcome.copy_stamp.startswith("复制件 COPY")
    # 记-0002's 数电票 came as a PDF only: read from its text, held until 查验, then accepted;
    # the same PDF on another voucher is a second booking of one invoice.
    assert "printout's text only" in outcome.printout_held and outcome.printout_reviewed == 200
    # …and 查验 on the tax platform (the stand-in provider) found it voided: held for that too.
    assert "25312000000087654321: 查验 作废" in outcome.voided
    assert outcome.printout_duplicate_status == 422
    assert "25312000000087654321 is already booked by its buyer" in (
        outcome.printout_duplicate_message
    )
    # 记-0003's bank e-receipt came signed: verified naming its signer; a copy stamped with
    # another amount after signing is refused, naming the file and the signer.
    assert BANK in outcome.signature_verified and "intact" in outcome.signature_verified
    assert outcome.tampered_status == 422
    assert "bank-receipt-20250320-0004412.pdf" in outcome.tampered_message
    assert f"changed after {BANK} (上海浦东发展银行股份有限公司)" in outcome.tampered_message
    # The hotel that issued 记-0001's invoice, a company of the same group, archives its side.
    assert outcome.seller_side == (202, "seller")
    # …from the OFD the hotel sealed: its seal verified, naming the seal.
    assert outcome.seller_seal[0] == "passed" and "发票专用章" in outcome.seller_seal[1]
    # The receipt is a 银行电子回单 read from its text, matched to 记-0003's 银行存款 line, and
    # booked once: the same receipt on another voucher of the same company is 重复入账.
    assert outcome.receipt["number"] == "20250320104411000102"
    assert outcome.receipt["side"] == "payee"
    assert outcome.receipt_duplicate_status == 422
    assert "bank receipt 20250320104411000102 is already booked by its payee" in (
        outcome.receipt_duplicate_message
    )
    # The same invoice as the OFD the hotel also sent, read from its structured data: one
    # invoice, one booking.
    assert outcome.ofd_duplicate_status == 422
    assert "25312000000012345678 is already booked by its buyer" in outcome.ofd_duplicate_message
    assert "read from the OFD's structured data" in outcome.ofd_duplicate_message
    assert "failed" not in outcome.intake_checks.values()
    # 1-8 the voucher's own key, the duplicate booking of its e-invoice a business control.
    assert (
        outcome.intake_checks["1-8"] == outcome.intake_checks["AAP-DUPLICATE-BOOKING"] == "passed"
    )
    # 2-3: its metadata.xml validated against the schema at accession, and again as kept.
    assert outcome.intake_checks["2-3"] == outcome.recheck["2-3"] == "passed"
    assert outcome.recheck["4-2"] == outcome.recheck["3-4"] == "passed"  # re-scanned, re-opened
    assert outcome.intake_checks["4-2"] == "passed"  # the demo's clamd scanned every file
    # The whole 归档范围 of 2025, and the year handed over once complete or waived.
    year = outcome.year
    assert year.retention["2025年度总账"] == "30年"
    assert year.retention["2025年度财务会计报告"] == "永久"
    assert year.retention["2025年3月财务报表"] == "10年"
    assert (
        year.retention["固定资产卡片 GD-2019-0007 服务器"]
        == "5年 after its disposal (held until then)"
    )
    assert year.gaps == ["2025-04/numbering/记/3-3", "2025-04/bank_statement/1002"]
    assert "incomplete: 2025-04/numbering/记/3-3 — 记 numbers 0003 are missing" in year.refused
    assert (year.handed_over, year.waived) == (201, ["2025-04/numbering/记/3-3"])
    # 第二十四条: not accepted before the 监交人 confirmed; then its 移交清册 is archived with
    # the handover (30年), PDF and XLSX, the three confirmations printed on it in their order.
    assert year.unsupervised == 409
    assert year.handover_list.startswith("Q001-2025-D30-QT-")
    assert [line.split("（")[0] for line in year.list_signed] == ["移交人", "监交人", "接收人"]
    assert [line.split(" ")[1] for line in year.list_signed] == ["lijing", "wangqiang", "zhaomin"]
    assert sorted(name.rsplit(".", 1)[1] for name in year.list_files) == ["pdf", "xlsx"]
    assert year.audited == ["2025-04/numbering/记/3-3"]  # the waiver on the audit trail
    # The re-check as kept lists every item of its stage's table, and none of them fails.
    assert list(outcome.recheck) == [item.code for item in at(Stage.PRESERVATION)]
    assert "failed" not in outcome.recheck.values()
    performed = ("1-1", "1-7", "1-10", "1-11", "AAP-PACKAGE-KEPT", "2-1", "2-2", "2-3", "2-7")
    assert all(outcome.recheck[code] == "passed" for code in performed)
    assert set(outcome.trail) >= STORY
    assert outcome.chain_ok
    # The usage register (利用登记簿), read by the fonds' archivist, names the borrower's page
    # viewed and copy taken, each with its mode, the purpose they gave and the approver.
    [page] = [row for row in outcome.usage if "page" in row[2]]
    assert page[3:7] == ["查阅", page[4], "2025年度审计抽凭：核对差旅费报销", "wangqiang"]
    assert page[4].startswith("Q001-2025-D30-PZ-")  # the archive code, not an id
    [copy] = [row for row in outcome.usage if "copy" in row[2]]
    assert (copy[3], copy[5], copy[6]) == ("复制", "审计底稿：复制银行电子回单", "wangqiang")
    # 第八条, as the auditor reads it: what the trail shows is met — the annual report (永久)
    # has its paper copy registered — and what it does not (no backup in this fresh stack)
    # reads 未满足.
    assert outcome.article8["（一）"] == outcome.article8["（二）"] == "满足"
    assert outcome.article8["（三）"] == outcome.article8["（六）"] == "满足"
    assert outcome.article8["（五）"] == "未满足"
    # The auditor's offline verifier passes the export, and fails it with one entry altered.
    assert (outcome.offline_verified, outcome.offline_altered) == (0, 1)
    # Who cannot prove who they are, or may not do what they try, is refused.
    assert outcome.unauthenticated == {
        "no token": 401,
        "only the old X-User header": 401,
        "a token signed by another key": 401,
        "an expired token": 401,
    }
    assert outcome.refused == {
        "a borrower reads the audit trail": 403,  # a right the borrower does not hold
        "the system administrator reads a record": 404,  # out of scope: as if it did not exist
    }
    assert outcome.forged_decision == "refused by the broker (TOPIC_AUTHORIZATION_FAILED)"
    # What one stolen credential or a shell on the broker's host could once do: refused, each
    # with its reason.
    insider = outcome.insider
    assert insider.dead_letter.startswith("refused by the broker (TOPIC_AUTHORIZATION_FAILED)")
    assert insider.controller.startswith("refused"), insider.controller
    assert (insider.unproven_exit, insider.said_unproven) == (1, True)

    # 钉钉, 飞书, 企业微信: each decides a borrowing by its own encrypted callback (WeCom then
    # revokes it), and WeCom's paid expense claim is archived beside the voucher it justified.
    vendors = outcome.vendors
    # Each vendor's approver, mapped from the OA's user id to the platform's principal.
    assert vendors.granted == {"dingtalk": "wangqiang", "feishu": "wangqiang", "wecom": "zhaomin"}
    assert vendors.revoked_in_wecom == "withdrawn_in_oa"
    # The OA's form names the record as the archive does (档号 and 摘要), not by an id.
    assert vendors.dingtalk_form["借阅档案"].startswith("Q002-2025-D30-PZ-")
    assert vendors.dingtalk_form["借阅档案"].endswith("采购办公用品（打印纸、硒鼓）")
    assert vendors.download_after_revocation == 404  # out of the borrower's scope at once
    # The expense voucher waited for its approval record until it came, linked by the invoice.
    assert [c.startswith("Q004-2025-D30-PZ-") for c in vendors.awaiting_before] == [True]
    assert vendors.awaiting_after == []
    assert vendors.linked_by == {"kind": "invoice_number", "value": EXPENSE_INVOICE}
    drilled = vendors.drilled
    assert [i["invoice_number"] for i in drilled["invoices"]] == [EXPENSE_INVOICE]
    [approval] = drilled["approval_records"]
    assert approval["outcome"] == "paid" and approval["title"] == "差旅费报销"
    assert [(s["oa_user_id"], s["comment"]) for s in approval["trail"]] == [
        ("manager75", "同意"),
        ("caiwu01", "票据齐全，准予报销"),
    ]
    assert {"label": "发票号码", "value": EXPENSE_INVOICE} in approval["form"]
    # The borrowing of the same voucher, approved and then revoked in WeCom.
    assert [b["decision"] for b in drilled["approvals"]] == ["approved", "revoked"]
