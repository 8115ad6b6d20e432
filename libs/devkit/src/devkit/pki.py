"""A small certificate authority for the tests and the demo, and PDFs signed by its signers.

The archive verifies signatures against trust anchors the customer configures
(``AAP_INGEST_TRUST_ANCHORS``); a customer's anchors are the CAs its banks and suppliers sign
with. Here a root CA made at random stands in for them, and signers it issues sign sample PDFs
with pyHanko; an altered copy (a byte changed under the signature) and an amended one (a page
stamped after signing) are what a forger would send.

``local_trust(folder)`` keeps one CA and one signer per checkout in ``.local/pki``: the local
stack's ingest trusts the CA, and the demo signs with the signer.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from signxml import methods
from signxml.signer import XMLSigner

from devkit.secretfile import local_dir

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
Algorithm = Literal["ecdsa", "rsa"]


def _key(algorithm: Algorithm) -> Key:
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    issuer_key: Key,
    *,
    days: int,
    ca: bool,
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(signing=not ca), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class Signer:
    """A signing certificate, its key, and the CA certificates above it."""

    certificate: x509.Certificate
    key: Key
    chain: tuple[x509.Certificate, ...]

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def pem(self) -> bytes:
        """Key, certificate and chain in one PEM file."""
        key = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return key + b"".join(_pem(c) for c in (self.certificate, *self.chain))

    @classmethod
    def from_pem(cls, data: bytes) -> Signer:
        key = serialization.load_pem_private_key(data, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        certificate, *chain = x509.load_pem_x509_certificates(data)
        return cls(certificate, key, tuple(chain))


@dataclass(frozen=True)
class Authority:
    """A root CA: its certificate is what a trust anchors bundle holds."""

    certificate: x509.Certificate
    key: Key

    @classmethod
    def root(cls, common_name: str, algorithm: Algorithm = "ecdsa") -> Authority:
        key, name = _key(algorithm), _name(common_name, "AAP 测试证书机构")
        return cls(_certificate(name, name, key.public_key(), key, days=3650, ca=True), key)

    def issue(self, common_name: str, organization: str, algorithm: Algorithm = "ecdsa") -> Signer:
        key, subject = _key(algorithm), _name(common_name, organization)
        issuer = self.certificate.subject
        certificate = _certificate(subject, issuer, key.public_key(), self.key, days=730, ca=False)
        return Signer(certificate, key, (self.certificate,))

    def pem(self) -> bytes:
        return _pem(self.certificate)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def sign_pdf(pdf: bytes, signer: Signer, field: str = "Signature1") -> bytes:
    """``pdf`` signed by ``signer`` (an incremental update: the bytes before it are unchanged).
    Synchronous: call it outside a running event loop (or in a thread)."""
    key = asn1_keys.PrivateKeyInfo.load(
        signer.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    simple = signers.SimpleSigner(
        signing_cert=_asn1(signer.certificate),
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [_asn1(c) for c in signer.chain]
        ),
    )
    signed = signers.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)),
        signers.PdfSignatureMetadata(field_name=field),
        signer=simple,
    )
    return bytes(signed.getvalue())


class _Utf8Signer(XMLSigner):
    """signxml re-serialises nodes in ASCII, which lxml cannot do for non-ASCII element names."""

    def _tostring(self, xml_node: Any, **kwargs: Any) -> bytes:
        kwargs.setdefault("encoding", "utf-8")
        serialised: bytes = super()._tostring(xml_node, **kwargs)  # type: ignore[no-untyped-call]
        return serialised


def sign_xml(xml: bytes, signer: Signer, part: str | None = None) -> bytes:
    """``xml`` with an enveloped XMLDSig signature (signxml) over the whole document by
    ``signer``, its certificate and chain in ``KeyInfo``: how a bank or platform signs an XML
    the W3C way. ``part``: over the element of that ``Id`` only."""
    algorithm = (
        "ecdsa-sha256" if isinstance(signer.key, ec.EllipticCurvePrivateKey) else "rsa-sha256"
    )
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False))
    signed = _Utf8Signer(method=methods.enveloped, signature_algorithm=algorithm).sign(
        root,
        key=signer.key,
        cert=[signer.certificate, *signer.chain],
        reference_uri=f"#{part}" if part else None,
    )
    document: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return document


def altered(signed: bytes) -> bytes:
    """A signed PDF with one byte under the signature changed (in its first stream, a page's
    content in the samples): what an edit to the signed file in place looks like."""
    position = signed.index(b"stream") + len(b"stream\n") + 8
    changed = bytearray(signed)
    changed[position] = ord("X") if changed[position] != ord("X") else ord("Y")
    return bytes(changed)


def amended(signed: bytes, text: str = "PAID 9999.00") -> bytes:
    """A signed PDF with text stamped on its page after signing, as an incremental update: the
    signed revision stays intact, what a reader shows is not what was signed."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    stamp = f"BT /F1 24 Tf 100 100 Td ({text}) Tj ET".encode("ascii")
    stream = writer.add_object(generic.StreamObject(stream_data=stamp))
    writer.add_stream_to_page(0, stream)  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


async def first_signature(pdf: bytes, *anchors: x509.Certificate) -> PdfSignatureStatus | None:
    """What pyHanko says of the PDF's first signature — the revision it signed intact, the
    signer chained to ``anchors`` — leaving out what came after it (a copy's stamp: pyHanko's
    difference analysis whitelists no annotation); None for a file that is no signed PDF."""
    try:
        signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0]
    except Exception:  # not a PDF, or one without a signature
        return None
    context = ValidationContext(trust_roots=[_asn1(a) for a in anchors])
    return await async_validate_pdf_signature(signature, context, skip_diff=True)


def stamps(pdf: bytes) -> list[str]:
    """The text (``/Contents``) of the stamp annotations on the PDF's pages, in page order."""
    root = PdfFileReader(io.BytesIO(pdf), strict=False).root
    return [
        str(annotation.get_object()["/Contents"])
        for page in root["/Pages"]["/Kids"]
        for annotation in page.get_object().get("/Annots", [])
        if annotation.get_object().get("/Subtype") == "/Stamp"
    ]


@dataclass(frozen=True)
class LocalTrust:
    """A checkout's trust anchors file and the signer the demo signs with."""

    anchors: Path
    signer: Signer

    def authority(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.anchors.read_bytes())


BANK = "上海浦东发展银行 电子回单专用"  # whom the local signer stands for


def signed_once(pdf: bytes, trust: LocalTrust) -> bytes:
    """``pdf`` signed by the local signer, the same bytes each time for the same PDF and signer
    (kept beside the CA): a voucher sent again is the same voucher."""
    fingerprint = trust.signer.certificate.fingerprint(hashes.SHA256()).hex()[:16]
    kept = trust.anchors.parent / f"signed-{hashlib.sha256(pdf).hexdigest()[:16]}-{fingerprint}.pdf"
    if not kept.exists():
        kept.write_bytes(sign_pdf(pdf, trust.signer))
    return kept.read_bytes()


def local_trust(folder: Path | None = None) -> LocalTrust:
    """The CA and signer kept in ``folder`` (``.local/pki``), made at random the first time."""
    folder = folder or local_dir() / "pki"
    anchors, signer_file = folder / "anchors.pem", folder / "signer.pem"
    if not (anchors.exists() and signer_file.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        authority = Authority.root("AAP 本地测试根证书")
        signer = authority.issue(BANK, "上海浦东发展银行股份有限公司")
        signer_file.write_bytes(signer.pem())
        signer_file.chmod(0o600)
        anchors.write_bytes(authority.pem())
    return LocalTrust(anchors, Signer.from_pem(signer_file.read_bytes()))
