"""XML attachments signed the W3C way (XMLDSig): verified (1-1 naming signer and issuer), an
altered copy refused, a signer outside the trust anchors held, a signature over part of the
file not taken for the file's. Signed here with signxml by a CA of the test's (devkit.pki)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from contracts.records import CheckOutcome
from contracts.types import utc_now
from devkit.pki import Authority, Signer, sign_xml
from ingest.domain.files import UploadedFile
from ingest.domain.intake import Assessment, assess, ingested_event
from ingest.parsers.files import read_upload
from ingest.parsers.signatures import TrustAnchors

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
BANK = "中国工商银行 电子回单专用"
RECEIPT = """<?xml version="1.0" encoding="UTF-8"?>
<电子回单><回单编号>20250320104411000102</回单编号><交易日期>2025-03-20</交易日期>
<付款人账号>3301040000001234567</付款人账号><收款人账号>1001234567890123456</收款人账号>
<金额 Id="amount">56500.00</金额></电子回单>""".encode()


@pytest.fixture(scope="module")
def bank_ca() -> Authority:
    return Authority.root("某银行 XML 根证书")


@pytest.fixture(scope="module", params=["ecdsa", "rsa"])
def bank(request: pytest.FixtureRequest, bank_ca: Authority) -> Signer:
    return bank_ca.issue(BANK, "中国工商银行股份有限公司", request.param)


@pytest.fixture(scope="module")
def signed(bank: Signer) -> bytes:
    return sign_xml(RECEIPT, bank)


def checked(xml: bytes, anchors: TrustAnchors) -> Assessment:
    doc = json.loads(VOUCHER) | {"attachment_count": 1}
    voucher = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    attachment = UploadedFile("attachment", "回单.xml", "application/xml", xml)
    files = read_upload(voucher, [attachment], anchors)
    return assess(files, virus_scan=[None, None], scanner="ClamAV")


def line(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


def test_a_signed_xml_is_verified_naming_signer_and_issuer(
    signed: bytes, bank_ca: Authority
) -> None:
    a = checked(signed, TrustAnchors(bank_ca.pem()))
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.PASSED, detail
    assert BANK in detail and "某银行 XML 根证书" in detail
    assert line(a, "AAP-SIGNER-TRUSTED")[0] is CheckOutcome.PASSED
    assert a.accepted and not a.review_required, a.report
    event = ingested_event(
        a, document_id=uuid.uuid4(), bucket="b", submitted_by="u", at=utc_now(), source_export=None
    )
    (kept,) = event.files[1].verified
    assert BANK in kept.signer and kept.algorithm.endswith(("ecdsa", "rsa")) and kept.trusted
    assert event.files[1].signature == "XML 数字签名 (XMLDSig)"


def test_an_altered_copy_is_refused_naming_the_file(signed: bytes, bank_ca: Authority) -> None:
    altered = signed.replace(b"56500.00", b"96500.00")
    assert altered != signed
    a = checked(altered, TrustAnchors(bank_ca.pem()))
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.FAILED and not a.accepted
    assert "回单.xml" in detail and "does not verify" in detail, detail


def test_a_signer_outside_the_anchors_is_held(signed: bytes) -> None:
    a = checked(signed, TrustAnchors(Authority.root("另一家 根证书").pem()))
    assert line(a, "1-1")[0] is CheckOutcome.PASSED
    trusted, detail = line(a, "AAP-SIGNER-TRUSTED")
    assert trusted is CheckOutcome.FAILED and BANK in detail
    assert a.accepted and a.review_required


def test_a_signature_over_part_of_the_file_is_not_taken_for_the_file_s(
    signed: bytes, bank: Signer, bank_ca: Authority
) -> None:
    partial = sign_xml(RECEIPT, bank, part="amount")
    fixity, detail = line(checked(partial, TrustAnchors(bank_ca.pem())), "1-1")
    assert fixity is CheckOutcome.NOT_PERFORMED and "signs only part of the file" in detail
    # A whole-file signature whose reference a forger narrowed no longer verifies: refused.
    narrowed = re.sub(rb'URI=""', b'URI="#amount"', signed, count=1)
    assert line(checked(narrowed, TrustAnchors(bank_ca.pem())), "1-1")[0] is CheckOutcome.FAILED


def test_a_signature_without_its_certificate_is_refused(signed: bytes, bank_ca: Authority) -> None:
    stripped = re.sub(rb"<ds:X509Certificate>[^<]*</ds:X509Certificate>", b"", signed)
    assert stripped != signed
    a = checked(stripped, TrustAnchors(bank_ca.pem()))
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.FAILED and "no X.509 certificate" in detail, detail
