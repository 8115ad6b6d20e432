"""Signed PDFs at intake: verified (1-1 naming signer and issuer), altered copies refused, a
signer outside the customer's trust anchors held for review. The CAs and signatures are made
here: RSA and ECDSA (devkit.pki) and SM2 (devkit.sm2), as banks and e-invoice platforms sign."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from contracts.records import CheckOutcome
from contracts.types import utc_now
from devkit.pki import Authority, Signer, altered, amended, sign_pdf
from devkit.sm2 import Sm2Authority, verifier
from ingest.domain.files import UploadedFile
from ingest.domain.intake import Assessment, assess, ingested_event
from ingest.parsers.files import read_upload
from ingest.parsers.signatures import TrustAnchors
from ingest.parsers.sm2_verifier import Sm2Verifier

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
RECEIPT = (SAMPLES / "attachments" / "bank-receipt-20250320-0004411.pdf").read_bytes()
BANK = "上海浦东发展银行 电子回单专用"


@pytest.fixture(scope="module")
def bank_ca() -> Authority:
    return Authority.root("某银行 根证书")


@pytest.fixture(scope="module", params=["ecdsa", "rsa"])
def bank(request: pytest.FixtureRequest, bank_ca: Authority) -> Signer:
    return bank_ca.issue(BANK, "上海浦东发展银行股份有限公司", request.param)


@pytest.fixture(scope="module")
def signed(bank: Signer) -> bytes:
    return sign_pdf(RECEIPT, bank)


def checked(receipt: bytes, anchors: TrustAnchors, sm2: Sm2Verifier | None = None) -> Assessment:
    doc = json.loads(VOUCHER)
    doc["attachment_count"] = 1
    voucher = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    attachment = UploadedFile("attachment", "回单.pdf", "application/pdf", receipt)
    files = read_upload(voucher, [attachment], anchors, sm2)
    return assess(files, virus_scan=[None, None], scanner="ClamAV 1.0.7")


def line(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


def trusting(*authorities: Authority) -> TrustAnchors:
    return TrustAnchors(b"".join(a.pem() for a in authorities))


def test_a_pdf_signed_by_a_trusted_signer_passes_naming_signer_and_issuer(
    signed: bytes, bank_ca: Authority
) -> None:
    a = checked(signed, trusting(bank_ca))
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.PASSED
    assert BANK in detail and "某银行 根证书" in detail and "intact" in detail
    assert line(a, "AAP-SIGNER-TRUSTED")[0] is CheckOutcome.PASSED
    assert a.accepted and not a.review_required, a.report
    # The record's signature block: who signed, when, with what, and that the chain held.
    event = ingested_event(
        a, document_id=uuid.uuid4(), bucket="b", submitted_by="u", at=utc_now(), source_export=None
    )
    (verified,) = event.files[1].verified
    assert BANK in verified.signer and verified.trusted is True
    assert verified.algorithm.endswith(("ecdsa", "rsa"))
    assert verified.signed_at is not None


def test_a_copy_altered_under_the_signature_is_rejected_naming_the_file(
    signed: bytes, bank_ca: Authority
) -> None:
    a = checked(altered(signed), trusting(bank_ca))
    assert line(a, "1-1")[0] is CheckOutcome.FAILED
    assert not a.accepted
    (problem,) = [p for p in a.problems if p.field == "check 1-1"]
    assert "回单.pdf" in problem.message and "does not match the content" in problem.message


def test_a_copy_stamped_after_signing_is_rejected(signed: bytes, bank_ca: Authority) -> None:
    a = checked(amended(signed), trusting(bank_ca))
    outcome, detail = line(a, "1-1")
    assert outcome is CheckOutcome.FAILED and "changed after" in detail
    assert not a.accepted


def test_a_signer_outside_the_trust_anchors_is_held_for_review(signed: bytes) -> None:
    a = checked(signed, trusting(Authority.root("另一家 根证书")))
    assert line(a, "1-1")[0] is CheckOutcome.PASSED  # intact: the file is what was signed
    outcome, detail = line(a, "AAP-SIGNER-TRUSTED")
    assert outcome is CheckOutcome.FAILED and BANK in detail and "某银行 根证书" in detail
    assert a.accepted and a.review_required


def test_without_trust_anchors_the_signer_is_not_judged_and_the_gap_recorded(
    signed: bytes,
) -> None:
    a = checked(signed, TrustAnchors())
    outcome, detail = line(a, "AAP-SIGNER-TRUSTED")
    assert outcome is CheckOutcome.NOT_PERFORMED and "AAP_INGEST_TRUST_ANCHORS" in detail
    assert a.accepted and not a.review_required
    assert "AAP-SIGNER-TRUSTED" in a.conclusion.not_performed


def test_a_signature_that_is_not_one_is_rejected(signed: bytes, bank_ca: Authority) -> None:
    start = signed.index(b"/Contents <") + len(b"/Contents <")
    end = signed.index(b">", start)
    forged = signed[:start] + b"0" * (end - start) + signed[end:]
    a = checked(forged, trusting(bank_ca))
    outcome, detail = line(a, "1-1")
    assert outcome is CheckOutcome.FAILED and "cannot be read" in detail
    assert not a.accepted


def test_an_unsigned_pdf_leaves_both_items_without_a_signature_to_judge() -> None:
    a = checked(RECEIPT, TrustAnchors())
    assert line(a, "1-1")[0] is CheckOutcome.PASSED
    assert line(a, "AAP-SIGNER-TRUSTED")[0] is CheckOutcome.NOT_APPLICABLE


def test_a_bundle_without_certificates_is_refused_at_start(tmp_path: Path) -> None:
    empty = tmp_path / "anchors.pem"
    empty.write_text("not a certificate\n")
    with pytest.raises(ValueError, match="no PEM certificate"):
        TrustAnchors.from_file(empty)


# SM2 PDF signatures (GM/T 0010; banks and platforms sign receipts so): pyHanko reads them, the
# SM2 verifier (BouncyCastle, a JVM) checks their CMS, and what changed after them is judged here.


@pytest.fixture(scope="module")
def sm2_ca(tmp_path_factory: pytest.TempPathFactory) -> Sm2Authority:
    return Sm2Authority.make(tmp_path_factory.mktemp("sm2-pdf"), "某银行 SM2 根证书")


@pytest.fixture(scope="module")
def sm2_signed(sm2_ca: Sm2Authority) -> bytes:
    return sm2_ca.sign_pdf(RECEIPT, BANK, "上海浦东发展银行股份有限公司")


@pytest.fixture(scope="module")
def sm2() -> Sm2Verifier:
    return Sm2Verifier((str(verifier()),))


def test_an_sm2_signed_pdf_is_verified_naming_signer_and_issuer(
    sm2_signed: bytes, sm2_ca: Sm2Authority, sm2: Sm2Verifier
) -> None:
    a = checked(sm2_signed, TrustAnchors(sm2_ca.pem()), sm2)
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.PASSED, detail
    assert BANK in detail and "某银行 SM2 根证书" in detail
    assert line(a, "AAP-SIGNER-TRUSTED")[0] is CheckOutcome.PASSED
    event = ingested_event(
        a, document_id=uuid.uuid4(), bucket="b", submitted_by="u", at=utc_now(), source_export=None
    )
    (kept,) = event.files[1].verified
    assert (kept.algorithm, kept.trusted) == ("sm2_sm3", True) and kept.signed_at is not None


def test_an_sm2_signed_copy_altered_or_stamped_is_refused(
    sm2_signed: bytes, sm2_ca: Sm2Authority, sm2: Sm2Verifier
) -> None:
    anchors = TrustAnchors(sm2_ca.pem())
    fixity, detail = line(checked(altered(sm2_signed), anchors, sm2), "1-1")
    assert fixity is CheckOutcome.FAILED and "does not verify" in detail, detail
    fixity, detail = line(checked(amended(sm2_signed), anchors, sm2), "1-1")
    assert fixity is CheckOutcome.FAILED and "changed after" in detail, detail


def test_an_sm2_signer_outside_the_anchors_is_held_and_without_a_verifier_not_performed(
    sm2_signed: bytes, sm2: Sm2Verifier, bank_ca: Authority
) -> None:
    a = checked(sm2_signed, trusting(bank_ca), sm2)
    assert line(a, "1-1")[0] is CheckOutcome.PASSED
    assert line(a, "AAP-SIGNER-TRUSTED")[0] is CheckOutcome.FAILED
    assert a.accepted and a.review_required
    fixity, detail = line(checked(sm2_signed, trusting(bank_ca), None), "1-1")
    assert fixity is CheckOutcome.NOT_PERFORMED and "AAP_INGEST_SM2_VERIFIER" in detail
