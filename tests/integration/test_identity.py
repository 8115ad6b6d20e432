"""The local realm lets no username be made that a URL or a path would read as another's.

Once, Keycloak's user profile had no rule for usernames: `secauditor#x`, `x/../secauditor` and
`secauditor?x` could be registered, and each of them read the whole audit trail as the security
auditor (the role lookup put the name into a URL unescaped). Here the realm's administrator
tries to make such users through Keycloak's admin API, as a self-service registration or a
careless administrator would.
"""

from __future__ import annotations

import secrets

import httpx
import pytest

from devkit.identity import ISSUER, REALM, local_secrets

KEYCLOAK = ISSUER.removesuffix(f"/realms/{REALM}")


@pytest.fixture
def admin() -> httpx.Client:
    token = httpx.post(
        f"{KEYCLOAK}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": "admin",
            "password": local_secrets()["admin_password"],
        },
        timeout=30,
    )
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return httpx.Client(base_url=f"{KEYCLOAK}/admin/realms/{REALM}", headers=headers, timeout=30)


def test_a_username_outside_the_platforms_rule_cannot_be_made(admin: httpx.Client) -> None:
    person = {"enabled": True, "email": "x@example.cn", "firstName": "某人"}
    for odd in ("secauditor#x", "x/../secauditor", "secauditor?x", "sec auditor", "审计员"):
        made = admin.post("/users", json=person | {"username": odd})
        assert made.status_code == 400, (odd, made.text)
        assert "username: 1–64 of a-z, 0-9" in made.text, made.text
    fine = f"zhang.san-{secrets.token_hex(3)}"
    made = admin.post("/users", json=person | {"username": fine, "email": f"{fine}@example.cn"})
    assert made.status_code == 201, made.text
    admin.delete(made.headers["Location"].removeprefix(str(admin.base_url).rstrip("/")))
