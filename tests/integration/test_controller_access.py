"""Nobody changes the broker's ACLs but its super users, on either listener.

Once, the KRaft controller listener was PLAINTEXT with ``User:ANONYMOUS`` a super user: a Java
AdminClient with no credentials, pointed at it with ``bootstrap.controllers``, gave an OA
connection WRITE on the decision topic, and that OA then granted itself access. Here the same
AdminClient tries it again on both listeners: with no credentials, and as a principal that is
genuine but no super user (a client certificate of the local CA, a SCRAM password), each must be
refused; only the configured super user (the admin, by certificate or by SCRAM) may. The ACL it
tries names a namespace of its own, removed afterwards.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from confluent_kafka.admin import (
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from contracts.topics import APPROVALS_DECIDED, OaConnection
from devkit.kafka_access import admin_client, local_secrets
from devkit.secretfile import local_dir
from servicekit.settings import PlatformSettings

PROBE = Path(__file__).parent / "java" / "AclProbe.java"
CONTROLLER = f"127.0.0.1:{os.environ.get('AAP_LOCAL_KAFKA_CONTROLLER_PORT', '19093')}"
OA = OaConnection("seeyon").principal


def keytool(*args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["keytool", *args], input=stdin, capture_output=True, check=True)
    return done.stdout


def client_certificate(folder: Path, cn: str, password: str) -> Path:
    """A client certificate the local CA signed for ``cn``: a principal the controller knows,
    and that is not a super user."""
    tls = local_dir() / "kafka" / "tls"
    store = folder / f"{cn}.p12"
    common = ["-storetype", "PKCS12", "-storepass", password, "-keypass", password]
    keytool("-genkeypair", "-alias", cn, "-keyalg", "RSA", "-keysize", "2048",
            "-dname", f"CN={cn}", "-keystore", str(store), *common)  # fmt: skip
    request = keytool("-certreq", "-alias", cn, "-keystore", str(store), *common)
    signed = keytool("-gencert", "-alias", "ca", "-keystore", str(tls / "ca.p12"), "-rfc",
                     "-ext", "eku=clientAuth", *common, stdin=request)  # fmt: skip
    (folder / f"{cn}.pem").write_bytes(signed)
    keytool("-importcert", "-noprompt", "-alias", "ca", "-file", str(tls / "ca.pem"),
            "-keystore", str(store), *common)  # fmt: skip
    keytool("-importcert", "-noprompt", "-alias", cn, "-file", str(folder / f"{cn}.pem"),
            "-keystore", str(store), *common)  # fmt: skip
    return store


def probe(folder: Path, topic: str, configs: dict[str, dict[str, str]]) -> dict[str, str]:
    """What the Java AdminClient answered to each configuration, by name."""
    files = []
    for name, config in configs.items():
        path = folder / f"{name}.properties"
        quick = {"default.api.timeout.ms": "6000", "request.timeout.ms": "5000"}
        path.write_text("".join(f"{k}={v}\n" for k, v in (quick | config).items()))
        files.append(str(path))
    classpath = (local_dir() / "kafka" / "classpath.txt").read_text().strip()
    done = subprocess.run(
        ["java", "-cp", classpath, str(PROBE), topic, OA, *files],
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    )
    said = [line.removeprefix("probe: ") for line in done.stdout.splitlines()]
    answers = [s for s in said if s.startswith(("created", "refused"))]
    return dict(zip(configs, answers, strict=True))


def test_no_principal_but_a_super_user_creates_an_acl_on_either_listener(
    platform: PlatformSettings, tmp_path: Path
) -> None:
    found = local_secrets()
    password = found["store_password"]
    tls = local_dir() / "kafka" / "tls"
    trust = {
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": str(tls / "truststore.p12"),
        "ssl.truststore.password": password,
    }

    def certificate(store: Path) -> dict[str, str]:
        return trust | {
            "security.protocol": "SSL",
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": str(store),
            "ssl.keystore.password": password,
            "ssl.key.password": password,
        }

    def scram(user: str, secret: str) -> dict[str, str]:
        jaas = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{user}" password="{secret}";'
        )
        return trust | {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.jaas.config": jaas,
        }

    controller = {"bootstrap.controllers": CONTROLLER}
    broker = {"bootstrap.servers": platform.kafka_bootstrap}
    genuine_oa = client_certificate(tmp_path, OA, password)
    topic = APPROVALS_DECIDED.name("ctl" + secrets.token_hex(3))
    answers = probe(
        tmp_path,
        topic,
        {
            "controller, no credentials": controller | {"security.protocol": "PLAINTEXT"},
            "controller, TLS without a certificate": controller
            | trust
            | {"security.protocol": "SSL"},
            "controller, an OA's genuine certificate": controller | certificate(genuine_oa),
            "broker, no credentials": broker | trust | {"security.protocol": "SSL"},
            "broker, an OA's genuine password": broker | scram(OA, found[f"user:{OA}"]),
            "controller, the admin's certificate": controller | certificate(tls / "admin.p12"),
            "broker, the admin's password": broker | scram("admin", found["admin_password"]),
        },
    )
    try:
        # Unproven: refused before a request is read (no TLS, no certificate, no password).
        for unproven in ("controller, no credentials", "controller, TLS without a certificate",
                         "broker, no credentials"):  # fmt: skip
            assert answers.pop(unproven).startswith("refused "), unproven
        assert answers == {
            # Reached, proven, and refused by authorization: the hole is closed, not hidden.
            "controller, an OA's genuine certificate": "refused ClusterAuthorizationException",
            "broker, an OA's genuine password": "refused ClusterAuthorizationException",
            "controller, the admin's certificate": "created",
            "broker, the admin's password": "created",
        }
    finally:
        admin = admin_client(platform)
        wanted = AclBindingFilter(
            ResourceType.TOPIC,
            topic,
            ResourcePatternType.LITERAL,
            f"User:{OA}",
            "*",
            AclOperation.WRITE,
            AclPermissionType.ALLOW,
        )
        for future in admin.delete_acls([wanted]).values():
            future.result(timeout=30)
