"""A PDF's signatures verified (pyHanko), against the trust anchors the customer configures.

财会〔2020〕6号 三(二) asks that an electronic voucher cannot be altered unnoticed, and
会计档案管理办法 第九条 asks for a signature that meets the 电子签名法 before external electronic
material is kept electronically only. So each signature a PDF carries is verified at intake:
its digest and signature over the signed bytes (intact), what was changed after it (pyHanko's
difference analysis: form filling and timestamps are allowed, anything else is an
alteration), and whether the signer's certificate chains to one of the archive's trust anchors
(a PEM bundle, ``AAP_INGEST_TRUST_ANCHORS``). An SM2 signature's CMS is checked by the SM2
verifier over the bytes its /ByteRange covers; the rest as for any other. Revocation is not
checked: the archive fetches no CRL or OCSP.

Runs in the parsing workers, as every parse of untrusted bytes does (pyHanko runs an event loop
of its own to verify: never call it on the service's).
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from asn1crypto import cms, pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffResult,
    ModificationLevel,
)
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

# pyHanko logs every chain it cannot build with a traceback: the outcome says it once.
logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)

# What a PDF may change after a signature without altering what was signed.
ALLOWED_AFTER_SIGNING = frozenset(
    {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES, ModificationLevel.FORM_FILLING}
)
# SM2 with SM3 (GM/T 0010): pyHanko reads such a signature but cannot verify it; the SM2
# verifier (ingest.parsers.sm2_verifier) checks its CMS.
SM_ALGORITHMS = frozenset({"1.2.156.10197.1.501", "1.2.156.10197.1.401", "1.2.156.10197.1.301.1"})


@dataclass(frozen=True)
class TrustAnchors:
    """The certificates a signer's chain must end in: the customer's PEM bundle, as bytes so
    that it travels to the parsing workers. Empty: no anchors configured, trust not judged."""

    pem: bytes = b""

    @classmethod
    def from_file(cls, path: Path | None) -> TrustAnchors:
        if path is None:
            return cls()
        anchors = cls(path.read_bytes())
        try:
            if anchors.certificates():
                return anchors
        except ValueError:  # not PEM at all
            pass
        raise ValueError(f"{path}: no PEM certificate in the trust anchors bundle")

    @property
    def configured(self) -> bool:
        return bool(self.pem)

    def certificates(self) -> list[asn1_x509.Certificate]:
        return _certificates(self.pem)


@functools.lru_cache(maxsize=4)
def _certificates(bundle: bytes) -> list[asn1_x509.Certificate]:
    if not bundle:
        return []
    return [
        asn1_x509.Certificate.load(der)
        for kind, _, der in pem.unarmor(bundle, multiple=True)
        if kind == "CERTIFICATE"
    ]


@dataclass(frozen=True)
class CheckedSignature:
    """One signature of a PDF, or signature or seal (签章) of an OFD, as verified.
    ``unreadable`` set: what should be a signature is not one (a forger's, or a broken file's);
    ``problem`` set: it could not be verified here (an algorithm the verifier lacks, say), and
    the rest is what could be read."""

    field: str  # the PDF signature field's name, the OFD signature's ID
    signer: str = ""  # the signing certificate's subject
    issuer: str = ""  # …and its issuer
    signed_at: datetime | None = None  # the time the signer claims (not a trusted timestamp)
    algorithm: str = ""  # e.g. sha256_ecdsa, sm2_sm3
    seal: str = ""  # the electronic seal's name (印章名称), for an OFD 签章
    intact: bool = False  # the signed bytes are unchanged and the signature over them valid
    defect: str = ""  # why not intact, where the verifier says more than that
    unaltered: bool = False  # nothing was changed after signing beyond what signing allows
    changed_after: str = ""  # what was changed after signing, if anything
    trusted: bool | None = None  # chains to a trust anchor; None: no anchors to judge it by
    chain_problem: str = ""  # why it does not chain, if it does not
    problem: str = ""  # why it could not be verified here
    unreadable: str = ""  # why it is no signature at all

    @property
    def verified(self) -> bool:
        """Verified, and shown unchanged since signing (whoever the signer is)."""
        return not self.problem and not self.unreadable and self.intact and self.unaltered

    @property
    def who(self) -> str:
        if not self.signer:
            return self.field or "a signature"
        sealed = f" with the seal {self.seal}" if self.seal else ""
        return f"{self.signer} (issued by {self.issuer}){sealed}"


class SmVerifier(Protocol):
    """Verifies what pyHanko cannot: a PDF signature's CMS made with SM2 (the SM2 verifier,
    ``ingest.parsers.sm2_verifier``)."""

    def pdf_signature(
        self, field: str, signed: bytes, cms: bytes, anchors: TrustAnchors
    ) -> CheckedSignature: ...


def verify_pdf_signatures(
    data: bytes, anchors: TrustAnchors, sm2: SmVerifier | None = None
) -> tuple[CheckedSignature, ...]:
    """Every signature a PDF with a signature dictionary (``/ByteRange``) carries, verified (an
    SM2 one by ``sm2``). One that cannot be found or read is no signature: a file cut so that
    the verifier cannot open it would otherwise pass as merely unverified."""
    try:
        embedded = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception as error:  # pyHanko raises many types for a broken file: each a reason
        return (CheckedSignature("", unreadable=f"its signature cannot be read ({error})"),)
    return tuple(_verify(data, sig, anchors, sm2) for sig in embedded)


def named(name: asn1_x509.Name) -> str:
    """A certificate's name as a reader says it: its common name, and its organisation where
    that says more (上海浦东发展银行 电子回单专用 (上海浦东发展银行股份有限公司))."""

    def part(key: str) -> str:
        value = name.native.get(key, "")
        return ", ".join(value) if isinstance(value, list) else str(value)

    common, organization = part("common_name"), part("organization_name")
    if not common:
        return str(name.human_friendly)
    return f"{common} ({organization})" if organization and organization not in common else common


def _verify(
    data: bytes, sig: EmbeddedPdfSignature, anchors: TrustAnchors, sm2: SmVerifier | None
) -> CheckedSignature:
    field = sig.field_name
    try:
        signer_info = sig.signer_info
        algorithms = {
            signer_info["digest_algorithm"]["algorithm"].dotted,
            signer_info["signature_algorithm"]["algorithm"].dotted,
        }
        cert = sig.signer_cert
    except Exception as error:  # a signature whose CMS cannot be read is not a signature
        return CheckedSignature(field, unreadable=f"its signature cannot be read ({error})")
    read = CheckedSignature(field, named(cert.subject), named(cert.issuer))
    if algorithms & SM_ALGORITHMS:
        return _sm2(data, sig, read, anchors, sm2)
    context = ValidationContext(
        trust_roots=anchors.certificates(), allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status = validate_pdf_signature(sig, context)
    except (SignatureValidationError, ValueError, NotImplementedError) as error:
        return replace(read, problem=f"it cannot be verified here ({error})")
    return replace(
        read,
        signed_at=status.signer_reported_dt,
        algorithm=status.pkcs7_signature_mechanism,
        intact=status.intact and status.valid,
        unaltered=status.coverage is SignatureCoverageLevel.ENTIRE_FILE
        or status.modification_level in ALLOWED_AFTER_SIGNING,
        changed_after="beyond what signing allows (form filling, timestamps)",
        trusted=status.trusted if anchors.configured else None,
        chain_problem="" if status.trusted else "no path to a trust anchor",
    )


def _sm2(
    data: bytes,
    sig: EmbeddedPdfSignature,
    read: CheckedSignature,
    anchors: TrustAnchors,
    sm2: SmVerifier | None,
) -> CheckedSignature:
    """An SM2 signature: its CMS verified by the SM2 verifier over the bytes the /ByteRange
    covers; what was changed after it judged here, as for any other (pyHanko's difference
    analysis needs no cryptography)."""
    if sm2 is None:
        return replace(read, problem="an SM2 signature, and no SM2 verifier is configured "
                       "(AAP_INGEST_SM2_VERIFIER)")  # fmt: skip
    try:
        a, b, c, d = (int(n) for n in sig.sig_object["/ByteRange"])
        contents = cms.ContentInfo.load(sig.sig_object["/Contents"], strict=False).dump()
        # The difference analysis reads the coverage from the signature (as pyHanko's own
        # integrity check sets it, whose digest step needs a hash pyHanko may lack: SM3).
        sig.coverage = sig.evaluate_signature_coverage()  # type: ignore[assignment]
        whole = sig.coverage is SignatureCoverageLevel.ENTIRE_FILE
        changes = None if whole else sig.evaluate_modifications(DEFAULT_DIFF_POLICY)
    except Exception as error:  # a signature dictionary a forger shaped: no signature
        return CheckedSignature(read.field, unreadable=f"its signature cannot be read ({error})")
    checked = sm2.pdf_signature(read.field, data[a : a + b] + data[c : c + d], contents, anchors)
    unaltered = whole or (
        isinstance(changes, DiffResult) and changes.modification_level in ALLOWED_AFTER_SIGNING
    )
    return replace(
        checked,
        unaltered=unaltered,
        changed_after="beyond what signing allows (form filling, timestamps)",
    )
