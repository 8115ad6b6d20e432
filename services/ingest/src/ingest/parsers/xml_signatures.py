"""An XML attachment's signature (XMLDSig, W3C) verified: a bank's receipt, a platform's export
signed the W3C way. The 数电票's own TaxBureauSignature is another thing, kept as fixity
information (``ingest.parsers.einvoice``).

As for a PDF (``ingest.parsers.signatures``): the signature over what it references verified
(signxml, SHA-1 refused), by the certificate its ``KeyInfo`` carries; the signer's certificate
chained to the customer's trust anchors (pyhanko-certvalidator, no revocation fetched). A
signature that covers only part of the file (a ``Reference`` other than ``URI=""``) leaves the
rest unsigned: it is not taken as the file's fixity, and the report says so. The bytes given
here were parsed safely first (no DTD, no entity); signxml parses them again with lxml, its own
parser refusing entities and the network.
"""

from __future__ import annotations

import asyncio
import base64
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidSignature
from signxml.verifier import XMLVerifier

from ingest.parsers.signatures import CheckedSignature, TrustAnchors, named
from ingest.parsers.xml import local_name

DSIG = "http://www.w3.org/2000/09/xmldsig#"
ALGORITHMS = {  # SignatureMethod → the name a report uses, as pyHanko names PDF ones
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": "sha256_rsa",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": "sha512_rsa",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": "sha256_ecdsa",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": "sha384_ecdsa",
}


class _Verifier(XMLVerifier):
    """signxml re-serialises nodes in ASCII, which lxml cannot do for a document whose element
    names are not (电子回单): in UTF-8 instead, which changes no canonical form."""

    def _tostring(self, xml_node: Any, **kwargs: Any) -> bytes:
        kwargs.setdefault("encoding", "utf-8")
        serialised: bytes = super()._tostring(xml_node, **kwargs)  # type: ignore[no-untyped-call]
        return serialised


def carries_xmldsig(root: ET.Element) -> bool:
    return any(el.tag == f"{{{DSIG}}}Signature" for el in root.iter())


def verify_xml_signature(
    data: bytes, root: ET.Element, anchors: TrustAnchors
) -> tuple[CheckedSignature, ...]:
    """The XMLDSig signature an XML file carries, verified; one that cannot be read is no
    signature (refused), several are not verified here (the report says so)."""
    signatures = [el for el in root.iter() if el.tag == f"{{{DSIG}}}Signature"]
    if len(signatures) != 1:
        return (
            CheckedSignature("", problem=f"{len(signatures)} XML signatures: not verified here"),
        )
    signature = signatures[0]
    try:
        certs = [
            x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split())))
            for el in signature.iter()
            if el.tag == f"{{{DSIG}}}X509Certificate"
        ]
        if not certs:
            return (CheckedSignature("", unreadable="it names no X.509 certificate of its signer"),)
        cert, more = certs[0], certs[1:]
        der = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
        signer, issuer = named(der.subject), named(der.issuer)
    except Exception as error:  # a certificate shaped to break a parser: no signature
        return (CheckedSignature("", unreadable=f"its certificate cannot be read ({error})"),)
    method = next((el.get("Algorithm", "") for el in signature.iter()
                   if local_name(el.tag) == "SignatureMethod"), "")  # fmt: skip
    read = CheckedSignature("ds:Signature", signer, issuer, None, ALGORITHMS.get(method, method))
    uris = sorted(str(el.get("URI")) for el in signature.iter() if el.tag == f"{{{DSIG}}}Reference")
    try:
        _Verifier().verify(data, x509_cert=cert, expect_references=len(uris))
    except InvalidCertificate as error:  # its signer's certificate, not the signature
        return (replace(read, problem=f"its signer's certificate is not valid now ({error})"),)
    except (InvalidSignature, InvalidDigest) as bad:
        return (replace(read, defect=f"the signature does not verify ({bad})"),)
    except Exception as error:  # lxml's parse and schema errors of a shaped file: each a reason
        return (replace(read, unreadable=f"its signature cannot be read ({error})"),)
    if uris != [""]:  # intact, but what it vouches for is not the file
        return (replace(read, problem=f"it signs only part of the file ({', '.join(uris)})"),)
    trusted, chain_problem = _trust(der, more, anchors)
    return (
        replace(read, intact=True, unaltered=True, trusted=trusted, chain_problem=chain_problem),
    )


def _trust(
    cert: asn1_x509.Certificate, more: list[x509.Certificate], anchors: TrustAnchors
) -> tuple[bool | None, str]:
    """Whether the signer chains to a trust anchor (None: no anchors to judge by), and why not."""
    if not anchors.configured:
        return None, ""
    context = ValidationContext(
        trust_roots=anchors.certificates(), allow_fetching=False, revocation_mode="soft-fail"
    )
    validator = CertificateValidator(
        cert,
        intermediate_certs=[asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in more],
        validation_context=context,
    )
    try:
        # in a parsing worker: no event loop runs there
        asyncio.run(validator.async_validate_usage(set()))  # type: ignore[no-untyped-call]
    except (PathBuildingError, PathValidationError) as error:
        return False, f"no path to a trust anchor ({error})"
    except Exception as error:  # a certificate whose extensions cannot be read: no path
        return False, f"its certificate cannot be read ({error})"
    return True, ""
