"""The token validator's refusals: what an outsider would try, each refused with its reason.

These are the only tests that sign tokens themselves (every other test gets real ones from the
local Keycloak): an IdP stand-in here publishes a discovery document and a JWKS, and counts how
often its keys are fetched.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from pydantic import SecretStr

from servicekit.auth import (
    Caller,
    Discovery,
    OidcSettings,
    Person,
    ServiceToken,
    TokenVerifier,
    Unauthenticated,
)
from servicekit.roles import RoleDirectory

ISSUER = "https://idp.example.cn/realms/aap"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY, NEXT_KEY = new_key(), new_key(), new_key()


class IdpStandIn:
    """Publishes the keys it is given, as an OpenID provider's JWKS endpoint does."""

    def __init__(self, keys: dict[str, rsa.RSAPrivateKey]) -> None:
        self.keys = keys
        self.jwks_fetches = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/.well-known/openid-configuration"):
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/certs"})
        self.jwks_fetches += 1
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return httpx.Response(200, json={"keys": keys})


def verifier(idp: IdpStandIn, **settings: Any) -> TokenVerifier:
    http = httpx.AsyncClient(transport=httpx.MockTransport(idp.handle))
    return TokenVerifier(OidcSettings(issuer=ISSUER, **settings), http)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": ["aap", "account"],
        "sub": "36b77300-98a6-4443-a440-e8ae9c2ba21d",
        "preferred_username": "zhaomin",
        "name": "赵敏",
        "azp": "aap-cli",
        "iat": now,
        "exp": now + 300,
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def token(key: Any = KEY, kid: str = "k1", alg: str = "RS256", **changes: Any) -> str:
    return jwt.encode(claims(**changes), key, algorithm=alg, headers={"kid": kid})


async def refused(v: TokenVerifier, bearer: str) -> str:
    with pytest.raises(Unauthenticated) as refusal:
        await v.verify(bearer)
    return str(refusal.value)


async def test_a_token_of_the_issuer_says_who_the_caller_is() -> None:
    principal = await verifier(IdpStandIn({"k1": KEY})).verify(token())
    assert (principal.name, principal.display_name, principal.client_id) == (
        "zhaomin",
        "赵敏",
        "aap-cli",
    )


async def test_an_expired_token_is_refused_beyond_the_leeway_only() -> None:
    v = verifier(IdpStandIn({"k1": KEY}), leeway_seconds=30)
    now = int(time.time())
    assert await refused(v, token(exp=now - 31, iat=now - 400)) == "the token has expired"
    assert (await v.verify(token(exp=now - 10, iat=now - 400))).name == "zhaomin"
    assert "not yet valid" in await refused(v, token(nbf=now + 120))


async def test_another_issuer_or_audience_is_refused() -> None:
    v = verifier(IdpStandIn({"k1": KEY}))
    assert "issuer" in await refused(v, token(iss="https://evil.example/realms/aap"))
    assert "Audience doesn't match" in await refused(v, token(aud="another-platform"))
    assert "aud" in await refused(v, token(aud=None))


async def test_a_token_signed_by_another_key_is_refused() -> None:
    v = verifier(IdpStandIn({"k1": KEY}))
    # Naming the issuer's key id, signed with the outsider's own key.
    assert "Signature verification failed" in await refused(v, token(key=OTHER_KEY))
    assert "not one of the issuer's" in await refused(v, token(key=OTHER_KEY, kid="mine"))


async def test_alg_none_and_hmac_with_the_public_key_are_refused() -> None:
    v = verifier(IdpStandIn({"k1": KEY}))
    unsigned = jwt.encode(claims(), "", algorithm="none", headers={"kid": "k1"})
    assert await refused(v, unsigned) == "algorithm 'none' is not accepted"
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # The classic confusion: HS256 with the public key (which anyone has) as the secret.
    # PyJWT will not even make one, so it is put together by hand.
    signing_input = b".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=")
        for part in ({"alg": "HS256", "kid": "k1", "typ": "JWT"}, claims())
    )
    mac = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    confused = f"{signing_input.decode()}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert await refused(v, confused) == "algorithm 'HS256' is not accepted"
    with pytest.raises(ValueError, match="HS256"):
        verifier(IdpStandIn({}), algorithms=["RS256", "HS256"])


async def test_a_tampered_payload_is_refused() -> None:
    v = verifier(IdpStandIn({"k1": KEY}))
    header, payload, signature = token().split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["preferred_username"] = "auditor-all"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    assert "Signature verification failed" in await refused(v, f"{header}.{forged}.{signature}")
    assert "not a signed JWT" in await refused(v, "not-a-token")


async def test_keys_rotate_with_one_fetch_per_new_key_id() -> None:
    idp = IdpStandIn({"k1": KEY})
    v = verifier(idp, jwks_refresh_seconds=60)
    for _ in range(5):
        await v.verify(token())
    assert idp.jwks_fetches == 1  # kept
    # A flood of made-up key ids within the refresh interval does not reach the IdP.
    for n in range(5):
        assert "not one of the issuer's" in await refused(v, token(kid=f"made-up-{n}"))
    assert idp.jwks_fetches == 1
    # The issuer rotates: a key id not kept is fetched, once, when the interval allows.
    idp.keys["k2"] = NEXT_KEY
    v.jwks.refresh_seconds = 0
    assert (await v.verify(token(key=NEXT_KEY, kid="k2"))).name == "zhaomin"
    assert (await v.verify(token(key=NEXT_KEY, kid="k2"))).name == "zhaomin"
    assert idp.jwks_fetches == 2


async def test_a_route_answers_401_without_a_valid_bearer_token() -> None:
    app = FastAPI()
    app.state.token_verifier = verifier(IdpStandIn({"k1": KEY}))

    @app.get("/who")
    async def who(caller: Caller) -> dict[str, str]:
        return {"name": caller.name}

    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        none = await http.get("/who")
        assert none.status_code == 401 and none.headers["WWW-Authenticate"] == "Bearer"
        # The header identity of before is no identity at all.
        assert (await http.get("/who", headers={"X-User": "auditor-all"})).status_code == 401
        expired = await http.get(
            "/who", headers={"Authorization": f"Bearer {token(exp=int(time.time()) - 600)}"}
        )
        assert expired.status_code == 401 and expired.json()["detail"] == "the token has expired"
        ok = await http.get("/who", headers={"Authorization": f"Bearer {token()}"})
        assert ok.json() == {"name": "zhaomin"}


async def test_a_username_that_a_url_would_read_as_another_principal_is_refused() -> None:
    """An IdP that lets anyone register `secauditor#x` or `x/../secauditor` must not make them
    the security auditor: a name outside the platform's rule is no principal at all."""
    v = verifier(IdpStandIn({"k1": KEY}))
    for name in ("secauditor#x", "x/../secauditor", "secauditor?x", "..", "Secauditor", "赵敏"):
        reason = await refused(v, token(preferred_username=name))
        assert f"preferred_username {name!r} is not a principal name" in reason
    for name in ("zhaomin", "zhang.san@corp.cn", "auditor_2"):
        assert (await v.verify(token(preferred_username=name))).name == name


async def test_a_client_is_told_from_a_person_and_no_person_takes_a_clients_name() -> None:
    v = verifier(IdpStandIn({"k1": KEY}))
    erp = await v.verify(token(preferred_username="service-account-aap-erp", azp="aap-erp"))
    assert erp.is_client and not (await v.verify(token())).is_client
    # A person who registered the ERP's account name signs in through the people's client.
    reason = await refused(v, token(preferred_username="service-account-aap-erp"))
    assert "a person cannot take a client's name" in reason


async def test_a_role_lookup_sends_the_name_as_one_escaped_path_segment() -> None:
    asked: list[str] = []

    def permission(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.raw_path.decode())
        return httpx.Response(200, json=[])

    token_ = ServiceToken(Discovery(ISSUER, httpx.AsyncClient()), "aap-x", SecretStr("s"))
    token_._token = ("t", float("inf"))
    directory = RoleDirectory("http://permission", token_, httpx.MockTransport(permission))
    for name in ("secauditor#x", "x/../secauditor", "secauditor?x"):
        assert (await directory.holder(Person("s-1", name))).roles == ()
    await directory.close()
    assert asked == [
        "/v1/roles/secauditor%23x?subject=s-1",
        "/v1/roles/x%2F..%2Fsecauditor?subject=s-1",
        "/v1/roles/secauditor%3Fx?subject=s-1",
    ]
