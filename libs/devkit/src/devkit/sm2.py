"""SM2 for the tests and the demo: OFDs sealed and PDFs signed with SM2, and the SM2 verifier
ingest runs.

The archive verifies an OFD's seals (签章, GB/T 38540) and a PDF's SM2 signatures with the
verifier in ``services/ingest/sm2-verifier`` (ofdrw and BouncyCastle in a small JVM);
``verifier()`` builds it and gives its launcher. A customer's trust anchors are the CAs its
suppliers sign and seal with; here an SM2 CA made at random stands in for them
(``Sm2Authority``), and the test signer in ``libs/devkit/sm2-signer`` (the same libraries)
seals sample OFDs under it (a seal made by the CA for a signer certificate it issues) and makes
the CMS of SM2 PDF signatures, which pyHanko places in the PDF. Test tooling: the product never
signs anything.

``local_anchors()`` is the checkout's trust anchors bundle: the CA of ``devkit.pki`` (RSA/ECDSA
PDF signers) and the SM2 CA of ``local_sm2_authority()``, kept in ``.local/pki``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument

from devkit.pki import local_trust
from devkit.secretfile import ROOT, local_dir

BUILD = ROOT / "services" / "ingest" / "sm2-verifier" / "build.sh"
SIGNER = ROOT / "libs" / "devkit" / "sm2-signer" / "src"


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout.strip()


def verifier() -> Path:
    """The SM2 verifier's launcher, built in ``.local/sm2-verifier`` when missing or stale
    (Maven keeps its jars in ~/.m2)."""
    return Path(_run("bash", str(BUILD), str(local_dir() / "sm2-verifier")))


@functools.cache  # once per process: each seal or signature would otherwise re-check the build
def _signer() -> str:
    """The test signer's classpath: compiled against the verifier's libraries when stale."""
    libraries = (verifier().parent / "classpath.txt").read_text().strip()
    sources = sorted(SIGNER.rglob("*.java"))
    stamp = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    out = local_dir() / "sm2-signer"
    if (out / "stamp").exists() and (out / "stamp").read_text() == stamp:
        return f"{out / 'classes'}:{libraries}"
    _run("javac", "-encoding", "UTF-8", "-d", str(out / "classes"), "-cp", libraries,
         *map(str, sources))  # fmt: skip
    (out / "stamp").write_text(stamp)
    return f"{out / 'classes'}:{libraries}"


def _java(*args: str) -> None:
    _run("java", "-XX:TieredStopAtLevel=1", "-cp", _signer(), "aap.devkit.Sm2Signer", *args)


@dataclass(frozen=True)
class Sm2Authority:
    """An SM2 root CA kept in ``folder`` (``ca.pem``, ``ca.key``): it makes seals (制章者) and
    issues their signers' certificates, and PDF signers' too."""

    folder: Path

    @classmethod
    def make(cls, folder: Path, name: str = "AAP 测试电子印章 CA") -> Sm2Authority:
        _java("authority", str(folder), name)
        (folder / "ca.key").chmod(0o600)
        return cls(folder)

    def pem(self) -> bytes:
        return (self.folder / "ca.pem").read_bytes()

    def seal(
        self, ofd: bytes, seal: str, signer: str, organization: str, *, days: int = 365
    ) -> bytes:
        """``ofd`` sealed (GB/T 38540 v4, SM2 with SM3) with a seal named ``seal`` made for a
        new signer certificate (CN ``signer``, O ``organization``); the seal valid ``days``
        from now (negative: its validity ended before it is used)."""
        with tempfile.TemporaryDirectory(prefix="aap-seal-") as folder:
            source, sealed = Path(folder) / "in.ofd", Path(folder) / "out.ofd"
            source.write_bytes(ofd)
            _java("seal", str(self.folder), str(source), str(sealed), seal, signer,
                  organization, str(days))  # fmt: skip
            return sealed.read_bytes()

    def sign_pdf(self, pdf: bytes, signer: str, organization: str) -> bytes:
        """``pdf`` signed with SM2 (SM3 digest; a detached CMS, as GM/T 0010 PDF signatures
        are) by a new signer certificate (CN ``signer``, O ``organization``): pyHanko prepares
        the signature field and its byte range, the test signer makes the CMS over it."""
        return asyncio.run(self._sign_pdf(pdf, signer, organization))

    async def _sign_pdf(self, pdf: bytes, signer: str, organization: str) -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        placeholder = signers.ExternalSigner(None, None, signature_value=bytes(128))
        pdf_signer = signers.PdfSigner(
            signers.PdfSignatureMetadata(field_name="SM2Signature", md_algorithm="sha256"),
            placeholder,
        )
        prepared, _, output = await pdf_signer.async_digest_doc_for_signing(
            writer, bytes_reserved=8192
        )
        document = output.getvalue() if isinstance(output, io.BytesIO) else b""
        start, end = prepared.reserved_region_start, prepared.reserved_region_end
        with tempfile.TemporaryDirectory(prefix="aap-sm2-pdf-") as folder:
            data, cms = Path(folder) / "signed-bytes", Path(folder) / "cms.der"
            data.write_bytes(document[:start] + document[end:])
            _java("cms", str(self.folder), str(data), str(cms), signer, organization)
            await PdfTBSDocument.async_finish_signing(output, prepared, cms.read_bytes())
        return output.getvalue() if isinstance(output, io.BytesIO) else b""


HOTEL = "北京国贸嘉华酒店管理有限公司"  # whose seal the demo's OFD invoice carries


def sealed_once(ofd: bytes, authority: Sm2Authority) -> bytes:
    """``ofd`` sealed by the hotel's 发票专用章 under ``authority``, the same bytes each time
    (kept beside the CA): a voucher sent again is the same voucher."""
    kept = authority.folder / f"sealed-{hashlib.sha256(ofd + authority.pem()).hexdigest()[:16]}.ofd"
    if not kept.exists():
        kept.write_bytes(authority.seal(ofd, f"{HOTEL}发票专用章", HOTEL, HOTEL))
    return kept.read_bytes()


def local_sm2_authority() -> Sm2Authority:
    """The checkout's SM2 CA (``.local/pki/sm2``), made at random the first time."""
    folder = local_dir() / "pki" / "sm2"
    if (folder / "ca.pem").exists() and (folder / "ca.key").exists():
        return Sm2Authority(folder)
    return Sm2Authority.make(folder)


def local_anchors() -> Path:
    """The checkout's trust anchors bundle: ``devkit.pki``'s CA and the local SM2 CA."""
    bundle = local_trust().anchors.read_bytes() + local_sm2_authority().pem()
    path = local_dir() / "pki" / "anchors-with-sm2.pem"
    if not path.exists() or path.read_bytes() != bundle:
        path.write_bytes(bundle)
    return path
