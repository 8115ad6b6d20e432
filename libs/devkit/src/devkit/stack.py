"""The five services as separate processes on loopback: for the demo, e2e tests and the bench."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devkit import pg_access
from devkit.identity import service_env
from devkit.kafka_access import client_env
from devkit.s3_access import client_env as s3_client_env
from devkit.sm2 import local_anchors
from devkit.sm2 import verifier as sm2_verifier
from devkit.tax_standin import verifier_env

SERVICES = ("ingest", "archive", "approval", "permission", "audit")
# Who may do what on the local stack (the people of devkit.identity): an archivist (档案管理员)
# and an accountant of the sample fonds Q001, an auditor of every fonds (a group's internal
# audit), the three administrators of 三员分立, and the ERP and OA integrations. The permission
# service reads it once, into an empty store; the security administrator changes it after.
ARCHIVIST, AUDITOR = "zhaomin", "auditor-all"
LOCAL_ROLE_SEED = Path(__file__).resolve().parents[4] / "deploy" / "local" / "roles.json"
DEFAULT_PORTS = {
    "ingest": 8101,
    "archive": 8102,
    "approval": 8103,
    "permission": 8104,
    "audit": 8105,
}


LOCAL_CLAMD = "127.0.0.1:13310"


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class LocalStack:
    """Starts, stops, kills and restarts the services. ``env`` reaches every process."""

    log_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def _env(self, service: str) -> dict[str, str]:
        defaults = {
            "AAP_PERMISSION_ROLE_SEED_FILE": str(LOCAL_ROLE_SEED),
            # A checkpoint within seconds: the demo's auditor verifies an export at the end.
            "AAP_AUDIT_CHECKPOINT_SECONDS": "5",
            # Ingest trusts the checkout's own CAs (devkit.pki; an SM2 one for OFD seals,
            # devkit.sm2), whose signers the demo signs and seals with.
            "AAP_INGEST_TRUST_ANCHORS": str(local_anchors()),
            "AAP_INGEST_SM2_VERIFIER": str(sm2_verifier()),
            # 查验 asks the stand-in provider (devkit.tax_standin) where the demo or a test
            # serves it; where none does, the platform "does not answer" and asks again later.
            **verifier_env(),
        }
        if _answers(LOCAL_CLAMD):  # the local clamd of deploy/local/infra.sh, when it runs
            defaults["AAP_INGEST_CLAMD_ADDRESS"] = LOCAL_CLAMD
            defaults["AAP_ARCHIVE_CLAMD_ADDRESS"] = LOCAL_CLAMD
        # Each service its own Kafka principal and S3 user (none if it stores nothing), whatever
        # this process signs in as.
        env = {**defaults, **service_env(service), **os.environ, **client_env(service)}
        for s3_credential in ("AAP_S3_ACCESS_KEY", "AAP_S3_SECRET_KEY"):
            env.pop(s3_credential, None)
        # Its own database role only, whatever this process holds (the tests hold all five).
        env = {
            k: v for k, v in env.items() if not k.endswith(("_DATABASE_USER", "_DATABASE_PASSWORD"))
        }
        namespace = env.get("AAP_NAMESPACE", "local")
        env |= s3_client_env(service, namespace) | pg_access.client_env(service, namespace)
        env |= self.env
        env[f"AAP_{service.upper()}_HTTP_PORT"] = str(self.ports[service])
        env["AAP_ARCHIVE_PERMISSION_URL"] = self.url("permission")
        env["AAP_AUDIT_PERMISSION_URL"] = self.url("permission")
        env["AAP_INGEST_PERMISSION_URL"] = self.url("permission")
        env["AAP_APPROVAL_PERMISSION_URL"] = self.url("permission")
        return env

    def start(self, service: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{service}.log").open("ab")
        self.processes[service] = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", service],
            env=self._env(service),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_all(self, timeout: float = 60) -> None:
        """Every service, ready; if one fails to start, none is left running."""
        try:
            for service in SERVICES:
                self.start(service)
            for service in SERVICES:
                self.wait_ready(service, timeout)
        except BaseException:
            self.stop_all()
            raise

    def wait_ready(self, service: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            proc = self.processes.get(service)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(
                    f"{service} exited with {proc.returncode}; see {self.log_dir}/{service}.log"
                )
            try:
                r = httpx.get(f"{self.url(service)}/readyz", timeout=2)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as error:
                last = str(error)
            time.sleep(0.2)
        raise TimeoutError(f"{service} not ready after {timeout} s: {last}")

    def kill(self, service: str) -> None:
        """SIGKILL: no shutdown, no commit; what a crash looks like."""
        proc = self.processes.pop(service)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.processes.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.processes.clear()
