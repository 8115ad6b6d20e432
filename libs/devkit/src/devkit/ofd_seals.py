"""OFDs sealed for the tests and the demo, and the OFD seal verifier ingest runs.

The archive verifies an OFD's seals (签章, GB/T 38540) with the verifier in
``services/ingest/ofd-seals`` (ofdrw and BouncyCastle in a small JVM); ``verifier()`` builds it
and gives its launcher. A customer's trust anchors are the CAs its suppliers' seals chain to;
here an SM2 CA made at random stands in for them (``SealAuthority``), and the test sealer in
``libs/devkit/ofd-sealer`` (the same libraries) seals sample OFDs under it, a seal made by the CA
for a signer certificate it issues. Test tooling: the product never seals anything.

``local_anchors()`` is the checkout's trust anchors bundle: the CA of ``devkit.pki`` (PDF
signers) and the SM2 CA of ``local_seal_authority()`` (OFD seals), kept in ``.local/pki``.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devkit.pki import local_trust
from devkit.secretfile import ROOT, local_dir

BUILD = ROOT / "services" / "ingest" / "ofd-seals" / "build.sh"
SEALER = ROOT / "libs" / "devkit" / "ofd-sealer" / "src"


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout.strip()


def verifier() -> Path:
    """The OFD seal verifier's launcher, built in ``.local/ofd-seals`` when missing or stale
    (Maven keeps its jars in ~/.m2)."""
    return Path(_run("bash", str(BUILD), str(local_dir() / "ofd-seals")))


def _sealer() -> str:
    """The test sealer's classpath: compiled against the verifier's libraries when stale."""
    libraries = (verifier().parent / "classpath.txt").read_text().strip()
    sources = sorted(SEALER.rglob("*.java"))
    stamp = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    out = local_dir() / "ofd-sealer"
    if (out / "stamp").exists() and (out / "stamp").read_text() == stamp:
        return f"{out / 'classes'}:{libraries}"
    _run("javac", "-encoding", "UTF-8", "-d", str(out / "classes"), "-cp", libraries,
         *map(str, sources))  # fmt: skip
    (out / "stamp").write_text(stamp)
    return f"{out / 'classes'}:{libraries}"


def _java(*args: str) -> None:
    _run("java", "-XX:TieredStopAtLevel=1", "-cp", _sealer(), "aap.devkit.SealOfd", *args)


@dataclass(frozen=True)
class SealAuthority:
    """An SM2 root CA kept in ``folder`` (``ca.pem``, ``ca.key``): it makes seals (制章者) and
    issues their signers' certificates."""

    folder: Path

    @classmethod
    def make(cls, folder: Path, name: str = "AAP 测试电子印章 CA") -> SealAuthority:
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


def local_seal_authority() -> SealAuthority:
    """The checkout's SM2 CA (``.local/pki/sm2``), made at random the first time."""
    folder = local_dir() / "pki" / "sm2"
    if (folder / "ca.pem").exists() and (folder / "ca.key").exists():
        return SealAuthority(folder)
    return SealAuthority.make(folder)


def local_anchors() -> Path:
    """The checkout's trust anchors bundle: ``devkit.pki``'s CA and the local SM2 CA."""
    bundle = local_trust().anchors.read_bytes() + local_seal_authority().pem()
    path = local_dir() / "pki" / "anchors-with-sm2.pem"
    if not path.exists() or path.read_bytes() != bundle:
        path.write_bytes(bundle)
    return path
