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

from devkit.identity import CLI_CLIENT, ISSUER, REALM, as_user, local_secrets
from devkit.testing import SECURITY_ADMIN, InProcessPermission

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


def _sign_in(username: str, password: str) -> dict[str, str]:
    grant = {"grant_type": "password", "client_id": CLI_CLIENT, "username": username}
    r = httpx.post(
        f"{ISSUER}/protocol/openid-connect/token", data=grant | {"password": password}, timeout=30
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _make_person(admin: httpx.Client, username: str, password: str) -> str:
    """A person the realm's administrator makes; their user id (the token's ``sub``)."""
    person = {"username": username, "enabled": True, "email": f"{username}@example.cn"}
    made = admin.post("/users", json=person | {"firstName": "某人", "emailVerified": True})
    assert made.status_code == 201, made.text
    user_id = made.headers["Location"].rsplit("/", 1)[1]
    reset = admin.put(
        f"/users/{user_id}/reset-password",
        json={"type": "password", "value": password, "temporary": False},
    )
    assert reset.status_code == 204, reset.text
    return user_id


def _change(admin: httpx.Client, user_id: str, change: dict[str, str]) -> None:
    changed = admin.put(f"/users/{user_id}", json=change)
    assert changed.status_code == 204, changed.text


def _rename_oneself(headers: dict[str, str], change: dict[str, str]) -> str:
    """What the account console answers its owner asking for another username."""
    r = httpx.post(f"{ISSUER}/account/", headers=headers, json=change | {"firstName": "某人"})
    assert r.status_code == 400, r.text
    return r.text


def _remove(admin: httpx.Client, user_id: str) -> None:
    assert admin.delete(f"/users/{user_id}").status_code == 204


async def test_roles_are_held_by_the_account_not_by_its_name(
    admin: httpx.Client, permission: InProcessPermission
) -> None:
    """A role is given by name; the first sign-in under the name binds it to that account (the
    IdP's subject). Renamed, the account keeps it; an account made later under the same name
    gets nothing of it."""
    name, password = f"zhang.san-{secrets.token_hex(3)}", secrets.token_urlsafe(18)
    first = _make_person(admin, name, password)
    await permission.assign((name, "auditor", "Q001"))  # given before the first sign-in
    as_first = _sign_in(name, password)
    mine = await permission.http.get(f"/v1/roles/{name}", headers=as_first)
    assert mine.json() == [{"role": "auditor", "fonds_code": "Q001"}], mine.text
    listing = await permission.http.get("/v1/role-assignments", headers=as_user(SECURITY_ADMIN))
    held = [a for a in listing.json() if a["user"] == name]
    assert held == [{"role": "auditor", "fonds_code": "Q001", "user": name, "subject": first}]

    renamed = f"{name}-renamed"
    # Its owner cannot take another name (say, an administrator's who has left): the realm's
    # administrator renames accounts.
    self_renamed = _rename_oneself(as_first, {"username": renamed, "email": f"{name}@example.cn"})
    assert "error-user-attribute-read-only" in self_renamed, self_renamed
    _change(admin, first, {"username": renamed, "email": f"{renamed}@example.cn"})
    as_renamed = _sign_in(renamed, password)
    kept = await permission.http.get(f"/v1/roles/{renamed}", headers=as_renamed)
    assert kept.json() == [{"role": "auditor", "fonds_code": "Q001"}], kept.text

    _remove(admin, first)
    again = _make_person(admin, renamed, password)  # the same name, another account
    as_again = _sign_in(renamed, password)
    inherited = await permission.http.get(f"/v1/roles/{renamed}", headers=as_again)
    assert inherited.json() == [], inherited.text
    listing = await permission.http.get("/v1/role-assignments", headers=as_user(SECURITY_ADMIN))
    held = [a for a in listing.json() if a["user"] == renamed]
    assert [a["subject"] for a in held] == [first]  # still the first account's, by its name
    _remove(admin, again)
