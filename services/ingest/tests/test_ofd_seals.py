"""OFD seals (签章, GB/T 38540) at intake: verified by the real verifier (ofdrw and
BouncyCastle in a JVM), 1-1 naming signer, issuer and seal; copies altered after sealing, seals
forged or used outside their validity refused; a signer outside the trust anchors held. The SM2
CA, the seals and the sealed OFDs are made here (devkit.sm2)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import uuid
import zipfile
from pathlib import Path

import pytest

from contracts.records import CheckOutcome
from contracts.types import utc_now
from devkit.sample_invoices import SAMPLE_OFDS, ofd
from devkit.sm2 import Sm2Authority, verifier
from ingest.domain.files import UploadedFile
from ingest.domain.intake import Assessment, assess, ingested_event
from ingest.parsers.files import read_upload
from ingest.parsers.signatures import TrustAnchors
from ingest.parsers.sm2_verifier import NOT_CONFIGURED, Sm2Verifier

SAMPLES = Path(__file__).resolve().parents[3] / "samples"
VOUCHER = (SAMPLES / "vouchers" / "2025-03-ji-0001.json").read_bytes()
HOTEL = SAMPLE_OFDS["einvoice-25312000000012345678.ofd"]
SEAL = "北京国贸嘉华酒店管理有限公司发票专用章"
SIGNER = "北京国贸嘉华酒店管理有限公司"
PAGE = "Doc_0/Pages/Page_0/Content.xml"


@pytest.fixture(scope="module")
def seals() -> Sm2Verifier:
    return Sm2Verifier((str(verifier()),))


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Sm2Authority:
    return Sm2Authority.make(tmp_path_factory.mktemp("sm2-ca"), "某电子印章 CA")


@pytest.fixture(scope="module")
def sealed(ca: Sm2Authority) -> bytes:
    return ca.seal(ofd(HOTEL), SEAL, SIGNER, SIGNER)


def checked(invoice: bytes, anchors: TrustAnchors, seals: Sm2Verifier | None) -> Assessment:
    doc = json.loads(VOUCHER) | {"attachment_count": 1}
    voucher = UploadedFile("voucher", "v.json", "application/json", json.dumps(doc).encode())
    attachment = UploadedFile("attachment", "发票.ofd", "application/ofd", invoice)
    files = read_upload(voucher, [attachment], anchors, seals)
    return assess(files, virus_scan=[None, None], scanner="ClamAV 1.0.7")


def line(a: Assessment, code: str) -> tuple[CheckOutcome, str]:
    r = next(r for r in a.report if r.code == code)
    return r.outcome, r.detail


def trusting(*authorities: Sm2Authority) -> TrustAnchors:
    return TrustAnchors(b"".join(a.pem() for a in authorities))


def rezipped(
    data: bytes, replaced: dict[str, bytes], added: dict[str, bytes] | None = None
) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            z.writestr(info.filename, replaced.get(info.filename, source.read(info)))
        for name, content in (added or {}).items():
            z.writestr(name, content)
    return out.getvalue()


def entry(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def test_a_sealed_ofd_passes_naming_signer_issuer_and_seal_and_confirms_its_invoice(
    sealed: bytes, ca: Sm2Authority, seals: Sm2Verifier
) -> None:
    a = checked(sealed, trusting(ca), seals)
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.PASSED, detail
    assert SIGNER in detail and "某电子印章 CA" in detail and SEAL in detail, detail
    assert line(a, "AAP-SIGNER-TRUSTED")[0] is CheckOutcome.PASSED
    # The invoice read from the OFD's structured data is vouched for by its trusted seal.
    assert line(a, "AAP-INVOICE-SOURCE")[0] is CheckOutcome.PASSED
    event = ingested_event(
        a, document_id=uuid.uuid4(), bucket="b", submitted_by="u", at=utc_now(), source_export=None
    )
    (kept,) = event.files[1].verified
    assert (kept.signer, kept.algorithm, kept.trusted) == (SIGNER, "sm2_sm3", True)
    assert kept.signed_at is not None and kept.signed_at.tzinfo is not None


def test_a_page_altered_after_sealing_is_refused_naming_the_file(
    sealed: bytes, ca: Sm2Authority, seals: Sm2Verifier
) -> None:
    page = entry(sealed, PAGE).replace(b"1280.00", b"9280.00")
    assert page != entry(sealed, PAGE)
    a = checked(rezipped(sealed, {PAGE: page}), trusting(ca), seals)
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.FAILED and not a.accepted
    assert "发票.ofd" in detail and f"/{PAGE} altered after signing" in detail, detail


def test_digests_forged_to_match_an_altered_page_fail_on_the_signature_value(
    sealed: bytes, ca: Sm2Authority, seals: Sm2Verifier
) -> None:
    """A forger who alters a page and rewrites its digest in Signature.xml: the seal's signature
    over Signature.xml no longer verifies."""
    page = entry(sealed, PAGE).replace(b"1280.00", b"9280.00")
    signature_xml = entry(sealed, "Doc_0/Signs/Sign_0/Signature.xml").decode()
    new_digest = base64.b64encode(hashlib.new("sm3", page).digest()).decode()
    forged = re.sub(
        rf'(FileRef="/{PAGE}"><ofd:CheckValue>)[^<]+', rf"\g<1>{new_digest}", signature_xml
    )
    assert forged != signature_xml
    replaced = {PAGE: page, "Doc_0/Signs/Sign_0/Signature.xml": forged.encode()}
    a = checked(rezipped(sealed, replaced), trusting(ca), seals)
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.FAILED and not a.accepted
    assert "signature value does not verify" in detail, detail


def test_a_file_added_after_sealing_is_refused(
    sealed: bytes, ca: Sm2Authority, seals: Sm2Verifier
) -> None:
    stamped = rezipped(sealed, {}, {"Doc_0/Annots/Annot_0.xml": b"<Annotations/>"})
    a = checked(stamped, trusting(ca), seals)
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.FAILED and not a.accepted
    assert "/Doc_0/Annots/Annot_0.xml" in detail and "added" in detail, detail


def test_a_seal_used_outside_its_validity_is_refused(ca: Sm2Authority, seals: Sm2Verifier) -> None:
    expired = ca.seal(ofd(HOTEL), "过期的发票专用章", SIGNER, SIGNER, days=-3)
    fixity, detail = line(checked(expired, trusting(ca), seals), "1-1")
    assert fixity is CheckOutcome.FAILED
    assert "过期的发票专用章" in detail and "outside its validity" in detail, detail


def test_a_seal_that_cannot_be_read_is_refused(
    sealed: bytes, ca: Sm2Authority, seals: Sm2Verifier
) -> None:
    broken = rezipped(sealed, {"Doc_0/Signs/Sign_0/SignedValue.dat": b"\x30\x03\x02\x01\x05"})
    a = checked(broken, trusting(ca), seals)
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.FAILED and not a.accepted
    assert "cannot be read" in detail, detail


def test_a_seal_under_another_ca_is_verified_and_held_for_review(
    sealed: bytes, seals: Sm2Verifier, tmp_path: Path
) -> None:
    other = Sm2Authority.make(tmp_path / "other", "另一家 CA")
    a = checked(sealed, trusting(other), seals)
    assert line(a, "1-1")[0] is CheckOutcome.PASSED
    trusted, detail = line(a, "AAP-SIGNER-TRUSTED")
    assert trusted is CheckOutcome.FAILED and SIGNER in detail and "trust anchor" in detail
    assert a.accepted and a.review_required
    # Nor does an untrusted seal vouch for the invoice it carries.
    assert line(a, "AAP-INVOICE-SOURCE")[0] is CheckOutcome.FAILED


def test_without_a_verifier_the_gap_is_recorded_and_the_invoice_held(
    sealed: bytes, ca: Sm2Authority
) -> None:
    a = checked(sealed, trusting(ca), None)
    fixity, detail = line(a, "1-1")
    assert fixity is CheckOutcome.NOT_PERFORMED and NOT_CONFIGURED in detail, detail
    assert line(a, "AAP-INVOICE-SOURCE")[0] is CheckOutcome.FAILED
    assert a.accepted and a.review_required


def test_a_verifier_that_overruns_is_stopped_and_the_next_file_gets_a_fresh_one(
    sealed: bytes, seals: Sm2Verifier, tmp_path: Path
) -> None:
    """One verifier per worker is kept running; one that does not answer in time is killed,
    the file is not verified (saying why), and the next file starts another."""
    silent = tmp_path / "silent-verifier"
    silent.write_text("#!/bin/sh\nexec sleep 60\n")
    silent.chmod(0o755)
    stuck = Sm2Verifier((str(silent),), seconds=0.5)
    [unverified] = stuck.ofd_seals(sealed, TrustAnchors())
    assert unverified.problem == "the SM2 verifier took over 0.5 s"
    [again] = stuck.ofd_seals(sealed, TrustAnchors())
    assert again.problem == unverified.problem  # a new one, as silent as the first
    [checked_one] = seals.ofd_seals(sealed, TrustAnchors())
    assert checked_one.verified and checked_one.trusted is None


def test_a_verifier_that_stops_is_named() -> None:
    gone = Sm2Verifier(("/bin/true",))
    [unverified] = gone.ofd_seals(b"PK", TrustAnchors())
    assert unverified.problem.startswith("the SM2 verifier stopped")


def test_a_seal_dropped_from_the_list_leaves_its_files_unprotected_and_is_refused(
    sealed: bytes, ca: Sm2Authority, seals: Sm2Verifier
) -> None:
    """Signatures.xml is the list later seals are added to, so no seal protects it: a second
    seal dropped from it leaves that seal's files in the package unprotected, which is
    refused, never passed as a document with one seal."""
    twice = ca.seal(sealed, "第二枚印章", SIGNER, SIGNER)
    both = checked(twice, trusting(ca), seals)
    assert line(both, "1-1")[0] is CheckOutcome.PASSED and "第二枚印章" in line(both, "1-1")[1]
    listing = entry(twice, "Doc_0/Signs/Signatures.xml").decode()
    second = re.search(r"<ofd:Signature [^>]*Sign_1[^>]*/>", listing)
    assert second is not None, listing
    dropped = rezipped(
        twice, {"Doc_0/Signs/Signatures.xml": listing.replace(second[0], "").encode()}
    )
    fixity, detail = line(checked(dropped, trusting(ca), seals), "1-1")
    assert fixity is CheckOutcome.FAILED and "Sign_1" in detail, detail
