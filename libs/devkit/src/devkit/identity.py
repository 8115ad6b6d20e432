"""The local identity provider (Keycloak): its realm, the secrets it shares, real tokens from it.

python -m devkit.identity realm OUT     write the realm to import (secrets made on first use)
python -m devkit.identity token WHO     print a token: a sample person's, or "client:ID"

The secrets (client secrets, the sample people's password, Keycloak's admin password) are made
at random once per checkout and kept in ``.local/secrets/identity.json``: nothing here has a
working default, and the realm in the repo is this table, not a file holding them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from contracts.checkpoint import Signer
from contracts.roles import PRINCIPAL_NAME, PRINCIPAL_NAME_RULE
from devkit import local_oa
from devkit.secretfile import kept

REALM = "aap"
AUDIENCE = "aap"  # every service accepts tokens whose `aud` holds it (AAP_OIDC_AUDIENCE)
KEYCLOAK_PORT = int(os.environ.get("AAP_LOCAL_KEYCLOAK_PORT", "18080"))
ISSUER = f"http://127.0.0.1:{KEYCLOAK_PORT}/realms/{REALM}"
CLI_CLIENT = "aap-cli"  # people's public client for the command line, the demo and the tests
BRIEF_CLIENT = "aap-cli-brief"  # the same, with one-second tokens: the demo's expired token


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    stands_for: str


# Sample people of the local stack. What they may do is the permission service's role
# assignments, not anything here: the IdP says who they are.
PEOPLE = (
    Person("zhaomin", "赵敏", "archivist (档案管理员) of the sample fonds"),
    Person("lijing", "李静", "accountant (会计)"),
    Person("liuyang", "刘洋", "borrower: an employee asking to read records"),
    Person("wangfang", "王芳", "borrower"),
    Person("wangqiang", "王强", "finance manager (财务经理): approves borrowing in the OA"),
    Person("auditor-all", "孙立", "internal auditor of every fonds (集团内审)"),
    Person("outsider", "陈晨", "an employee with no role at all"),
    Person("sysadmin", "周伟", "system administrator (系统管理员)"),
    Person("secadmin", "吴芳", "security administrator (安全管理员)"),
    Person("secauditor", "郑洁", "security auditor (安全审计员)"),
)

# Confidential clients with a service account (client-credentials grant): each service, for its
# calls to another; the ERP and OA integrations, for theirs.
SERVICE_CLIENTS = ("ingest", "archive", "approval", "permission", "audit")
INTEGRATION_CLIENTS = ("erp", "oa")


def client_id(name: str) -> str:
    return f"aap-{name}"


def service_account(name: str) -> str:
    """The name Keycloak gives the service account of a client (its ``preferred_username``)."""
    return f"service-account-{client_id(name)}"


def local_secrets() -> dict[str, str]:
    """This checkout's identity secrets (``.local/secrets/identity.json``)."""

    def make() -> dict[str, str]:
        made = {
            "admin_password": secrets.token_urlsafe(24),
            "people_password": secrets.token_urlsafe(18),
        }
        for name in (*SERVICE_CLIENTS, *INTEGRATION_CLIENTS):
            made[f"client:{client_id(name)}"] = secrets.token_urlsafe(32)
        return made

    return kept("identity", make)


def _attribute(
    name: str,
    *,
    required: bool,
    validations: dict[str, Any] | None = None,
    edited_by: tuple[str, ...] = ("admin", "user"),
) -> dict[str, Any]:
    permissions = {"view": ["admin", "user"], "edit": list(edited_by)}
    rule: dict[str, Any] = {"name": name, "displayName": f"${{{name}}}", "permissions": permissions}
    rule |= {"validations": validations} if validations else {}
    return rule | ({"required": {"roles": ["user"]}} if required else {})


# A username is a principal name as the platform accepts it (contracts.roles.PRINCIPAL_NAME):
# the realm refuses any other, so `secauditor#x` can never sign in.
_USERNAME_RULES = {
    "length": {"min": 1, "max": 64},
    "pattern": {
        "pattern": f"^{PRINCIPAL_NAME.pattern}$",
        "error-message": f"username: {PRINCIPAL_NAME_RULE}",
    },
}

# Keycloak's default user profile, except that a name is one field: 赵敏 is a given name and a
# family name in that order, which "first last" would turn round. The token's `name` is it.
_USER_PROFILE = {
    "attributes": [
        # The realm's administrator renames an account (a person's name changed); its owner
        # cannot take another name. Roles follow the account, whatever it is called.
        _attribute("username", required=False, validations=_USERNAME_RULES, edited_by=("admin",)),
        _attribute("email", required=True),
        _attribute("firstName", required=True),
        _attribute("lastName", required=False),
    ]
}

_AUDIENCE_MAPPER = {
    "name": "aap audience",
    "protocol": "openid-connect",
    "protocolMapper": "oidc-audience-mapper",
    "config": {
        "included.custom.audience": AUDIENCE,
        "access.token.claim": "true",
        "introspection.token.claim": "true",
        "id.token.claim": "false",
    },
}


def subject_of(username: str) -> str:
    """The local realm's fixed user id (``sub``) for a sample person or a service account:
    roles are held by subjects, so a realm imported afresh must give everyone the same one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ISSUER}/users/{username}"))


def realm(known: dict[str, str]) -> dict[str, Any]:
    """The realm Keycloak imports: the people, the clients (with their service accounts), the
    platform's audience."""
    people = [
        {
            "id": subject_of(p.username),
            "username": p.username,
            "enabled": True,
            "firstName": p.display_name,
            "email": f"{p.username}@example.cn",
            "emailVerified": True,
            "credentials": [
                {"type": "password", "value": known["people_password"], "temporary": False}
            ],
        }
        for p in PEOPLE
    ]
    confidential = [
        {
            "clientId": client_id(name),
            "enabled": True,
            "publicClient": False,
            "secret": known[f"client:{client_id(name)}"],
            "serviceAccountsEnabled": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": False,
            "protocol": "openid-connect",
            "protocolMappers": [_AUDIENCE_MAPPER],
        }
        for name in (*SERVICE_CLIENTS, *INTEGRATION_CLIENTS)
    ]
    service_accounts = [
        {
            "id": subject_of(service_account(name)),
            "username": service_account(name),
            "enabled": True,
            "serviceAccountClientId": client_id(name),
        }
        for name in (*SERVICE_CLIENTS, *INTEGRATION_CLIENTS)
    ]
    public = [
        {  # the web console to come: authorization code with PKCE
            "clientId": "aap-console",
            "enabled": True,
            "publicClient": True,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "redirectUris": ["http://127.0.0.1/*", "http://localhost/*"],
            "attributes": {"pkce.code.challenge.method": "S256"},
            "protocol": "openid-connect",
            "protocolMappers": [_AUDIENCE_MAPPER],
        },
        {  # the command line: the device grant for people, the password grant for local scripts
            "clientId": CLI_CLIENT,
            "enabled": True,
            "publicClient": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": True,
            "attributes": {"oauth2.device.authorization.grant.enabled": "true"},
            "protocol": "openid-connect",
            "protocolMappers": [_AUDIENCE_MAPPER],
        },
        {  # tokens that expire at once, for the demo to show an expired one refused
            "clientId": BRIEF_CLIENT,
            "enabled": True,
            "publicClient": True,
            "standardFlowEnabled": False,
            "directAccessGrantsEnabled": True,
            "attributes": {"access.token.lifespan": "1"},
            "protocol": "openid-connect",
            "protocolMappers": [_AUDIENCE_MAPPER],
        },
    ]
    return {
        "realm": REALM,
        "displayName": "会计档案电子化系统",
        "enabled": True,
        "sslRequired": "external",
        "accessTokenLifespan": 300,
        "registrationAllowed": False,
        "editUsernameAllowed": True,  # by the administrator only: the user profile says so
        "bruteForceProtected": False,  # the tests sign in often; a customer's IdP decides this
        "components": {
            "org.keycloak.userprofile.UserProfileProvider": [
                {
                    "providerId": "declarative-user-profile",
                    "config": {"kc.user.profile.config": [json.dumps(_USER_PROFILE)]},
                }
            ]
        },
        "users": people + service_accounts,
        "clients": confidential + public,
    }


class Tokens:
    """Real tokens from the local Keycloak, each kept until shortly before it expires."""

    def __init__(self, issuer: str = ISSUER) -> None:
        self.issuer = issuer
        self.secrets = local_secrets()
        self._kept: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _grant(self, who: str) -> dict[str, str]:
        if who.startswith("client:"):
            name = who.removeprefix("client:")
            return {
                "grant_type": "client_credentials",
                "client_id": name,
                "client_secret": self.secrets[f"client:{name}"],
            }
        return {
            "grant_type": "password",
            "client_id": CLI_CLIENT,
            "username": who,
            "password": self.secrets["people_password"],
            "scope": "openid",
        }

    def token(self, who: str) -> str:
        """A sample person's token by username, or a client's as ``client:aap-erp``."""
        with self._lock:
            kept = self._kept.get(who)
            if kept and kept[1] > time.monotonic():
                return kept[0]
            r = httpx.post(
                f"{self.issuer}/protocol/openid-connect/token", data=self._grant(who), timeout=30
            )
            r.raise_for_status()
            answer = r.json()
            self._kept[who] = (answer["access_token"], time.monotonic() + answer["expires_in"] - 30)
            return str(answer["access_token"])

    def brief(self, who: str) -> tuple[str, float]:
        """A person's real token that expires a second after it is issued, and when (epoch)."""
        grant = {**self._grant(who), "client_id": BRIEF_CLIENT}
        r = httpx.post(f"{self.issuer}/protocol/openid-connect/token", data=grant, timeout=30)
        r.raise_for_status()
        answer = r.json()
        return str(answer["access_token"]), time.time() + float(answer["expires_in"])


ERP = f"client:{client_id('erp')}"  # the ERP integration: uploads, as its own client
_tokens: Tokens | None = None


def tokens() -> Tokens:
    global _tokens
    if _tokens is None:
        _tokens = Tokens(os.environ.get("AAP_OIDC_ISSUER", ISSUER))
    return _tokens


class _BearerHeaders(Mapping[str, str]):
    """Request headers whose token is looked up each time they are sent (kept, or renewed when
    near its end): a test may hold them across a slow start without them going stale."""

    def __init__(self, who: str) -> None:
        self._who = who

    def __getitem__(self, name: str) -> str:
        if name != "Authorization":
            raise KeyError(name)
        return f"Bearer {tokens().token(self._who)}"

    def __iter__(self) -> Iterator[str]:
        return iter(["Authorization"])

    def __len__(self) -> int:
        return 1


def as_user(who: str) -> Mapping[str, str]:
    """Request headers with ``who``'s real token (a sample person, or ``client:ID``)."""
    return _BearerHeaders(who)


def forged_token(name: str) -> str:
    """What an outsider can make: a token claiming to be ``name`` with every claim right and
    the issuer's key id named, but signed by a key of their own."""
    real_kid = jwt.get_unverified_header(as_user(name)["Authorization"].split()[1])["kid"]
    now = int(time.time())
    claims = {
        "iss": os.environ.get("AAP_OIDC_ISSUER", ISSUER),
        "aud": AUDIENCE,
        "sub": "forged",
        "preferred_username": name,
        "iat": now,
        "exp": now + 300,
    }
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": real_kid})


# The local OA connections, each with its own callback key, Kafka principal and topics: one
# system cannot decide for another (the demo's OA is 致远 Seeyon, deciding for the sample fonds;
# 泛微 Weaver stands for a second company's system, deciding for every other fonds; the group's
# companies on 钉钉, 飞书 and 企业微信 are devkit.local_oa's).
LOCAL_OA_CONNECTIONS = ("seeyon", "weaver", *local_oa.VENDORS)
LOCAL_OA_ROUTES = {
    "Q001": "seeyon",
    "Q002": "dingtalk",
    "Q003": "feishu",
    "Q004": "wecom",
    "*": "weaver",
}
# The on-premise OAs' users as platform principals (AAP_APPROVAL_OA_USERS): their approvals
# name people as the OA knows them (王强 by name in 致远, by login id in 泛微's own form).
LOCAL_OA_USERS = {
    "seeyon": {"王强": "wangqiang", "刘洋": "liuyang"},
    "weaver": {"王强": "wangqiang", "wangqiang": "wangqiang"},
}
LOCAL_LOG_KEY = "aap.local.audit"  # the name of the local audit log's checkpoint key


def oa_callback_keys() -> dict[str, str]:
    """The keys the local OA systems sign their decision callbacks with (HMAC, 32 random bytes
    each), by key id."""
    return kept(
        "oa-callback-keys", lambda: {s: secrets.token_urlsafe(32) for s in LOCAL_OA_CONNECTIONS}
    )


def oa_callback_secret(system: str = "seeyon") -> str:
    return oa_callback_keys()[system]


def checkpoint_key() -> str:
    """The local audit log's checkpoint signing key (a C2SP note key, Ed25519), made once."""
    return kept("audit-checkpoint", lambda: {"key": Signer.generate(LOCAL_LOG_KEY).text()})["key"]


def service_env(service: str) -> dict[str, str]:
    """What a service process needs of the local stack's secrets: the IdP's issuer, its own
    client secret, the OA connections, and for the approval service the OA systems' callback
    keys and which system decides for which fonds."""
    env = {
        "AAP_OIDC_ISSUER": ISSUER,
        "AAP_OA_CONNECTIONS": json.dumps(LOCAL_OA_CONNECTIONS),
        f"AAP_{service.upper()}_OIDC_CLIENT_SECRET": local_secrets()[
            f"client:{client_id(service)}"
        ],
    }
    if service == "audit":
        env["AAP_AUDIT_CHECKPOINT_KEY"] = checkpoint_key()
    if service == "approval":
        env["AAP_APPROVAL_OA_CALLBACK_KEYS"] = json.dumps(oa_callback_keys())
        env["AAP_APPROVAL_OA_ROUTES"] = json.dumps(LOCAL_OA_ROUTES)
        env["AAP_APPROVAL_OA_USERS"] = json.dumps(LOCAL_OA_USERS, ensure_ascii=False)
        env["AAP_APPROVAL_OA_VENDORS"] = json.dumps(local_oa.connections())
    if service == "archive":
        env["AAP_ARCHIVE_APPROVALS_EXPECTED"] = json.dumps(local_oa.APPROVALS_EXPECTED)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("realm").add_argument("out", type=Path)
    sub.add_parser("token").add_argument("who")
    sub.add_parser("admin-password")
    args = parser.parse_args()
    if args.command == "realm":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(realm(local_secrets()), ensure_ascii=False, indent=2))
    elif args.command == "token":
        print(Tokens().token(args.who))
    else:
        print(local_secrets()["admin_password"])


if __name__ == "__main__":
    main()
