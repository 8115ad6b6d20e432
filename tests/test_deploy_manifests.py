"""The Kubernetes manifests let through every call one service makes to another, and no more.

Once, the NetworkPolicies did not let the approval service reach the permission service: its
role lookups and its re-drive of dead letters failed in a cluster, and no test noticed. The
calls are read from the code (every service's ``<other service>_url`` setting), their addresses
from the ConfigMap, and the policies from the manifests kustomize applies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from approval.settings import ApprovalSettings
from archive.settings import ArchiveSettings
from audit.settings import AuditSettings
from ingest.settings import IngestSettings
from permission.settings import PermissionSettings

K8S = Path(__file__).resolve().parents[1] / "deploy" / "k8s"
SETTINGS: dict[str, type[BaseSettings]] = {
    "ingest": IngestSettings,
    "archive": ArchiveSettings,
    "approval": ApprovalSettings,
    "permission": PermissionSettings,
    "audit": AuditSettings,
}


def rendered() -> list[dict[str, Any]]:
    """Every object of the resources kustomization.yaml lists."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [
        doc
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((K8S / name).read_text())
        if doc
    ]


def calls() -> set[tuple[str, str]]:
    """(caller, callee) for every service the code of another calls over HTTP."""
    return {
        (caller, field.removesuffix("_url"))
        for caller, settings in SETTINGS.items()
        for field in settings.model_fields
        if field.endswith("_url") and field.removesuffix("_url") in SETTINGS
    }


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions with In) selects ``labels``."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for rule in selector.get("matchExpressions", []):
        assert rule["operator"] == "In", rule  # the only operator the manifests use
        if labels.get(rule["key"]) not in rule["values"]:
            return False
    return True


def allowed(objects: list[dict[str, Any]], caller: str, callee: str) -> bool:
    """Whether a NetworkPolicy lets pods of ``caller`` reach pods of ``callee``."""
    pods = {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"]["labels"]
        for o in objects
        if o["kind"] == "Deployment"
    }
    for policy in (o for o in objects if o["kind"] == "NetworkPolicy"):
        if not selects(policy["spec"]["podSelector"], pods[callee]):
            continue
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if set(peer) == {"podSelector"} and selects(peer["podSelector"], pods[caller]):
                    return True
    return False


def test_every_call_between_services_has_a_policy_and_an_address() -> None:
    objects = rendered()
    found = calls()
    assert ("approval", "permission") in found  # the call the policies once missed
    config = next(o for o in objects if o["kind"] == "ConfigMap")["data"]
    for caller, callee in sorted(found):
        assert allowed(objects, caller, callee), f"no NetworkPolicy lets {caller} reach {callee}"
        address = config.get(f"AAP_{caller.upper()}_{callee.upper()}_URL")
        assert address == f"http://{callee}:8080", (caller, callee, address)


def test_no_policy_lets_a_service_reach_another_it_does_not_call() -> None:
    objects, found = rendered(), calls()
    for caller in SETTINGS:
        for callee in SETTINGS:
            if caller != callee and (caller, callee) not in found:
                assert not allowed(objects, caller, callee), f"{caller} may reach {callee}"


def test_the_audit_logs_signing_key_is_a_secret_of_its_own() -> None:
    """Whoever holds the audit service's other credentials must not be able to sign a
    checkpoint: the key comes from a Secret that holds nothing else, named for it alone."""
    [audit] = [
        o for o in rendered() if o["kind"] == "Deployment" and o["metadata"]["name"] == "audit"
    ]
    [container] = audit["spec"]["template"]["spec"]["containers"]
    [key] = [e for e in container["env"] if e["name"] == "AAP_AUDIT_CHECKPOINT_KEY"]
    assert key["valueFrom"]["secretKeyRef"]["name"] == "aap-audit-signing"
    others = {s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s}
    assert "aap-audit-signing" not in others
