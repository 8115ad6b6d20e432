"""Who is calling: OpenID Connect access tokens, validated by every service on every request.

The token says **who** the caller is (subject, name, display name, the client it came through);
**what they may do** is the permission service's role assignments, never the token's claims.
Validation is PyJWT's: signature against the issuer's published keys (JWKS), ``iss``, ``aud``,
``exp``/``nbf`` with a small leeway, and an algorithm allow-list (no ``none``, no HS*: a shared
secret is not how an IdP signs, and a public key must never verify an HMAC).

Keys are fetched with the async HTTP client, never blocking the event loop, and kept; a token
naming a key that is not kept triggers one refresh, at most once per ``jwks_refresh_seconds``
(rotation works, a flood of made-up key ids does not hammer the IdP).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.roles import CLIENT_PRINCIPAL_PREFIX, PRINCIPAL_NAME, PRINCIPAL_NAME_RULE, is_client

log = structlog.get_logger()

# Asymmetric signatures only: what an IdP signs with and a verifier can check without its secret.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


class OidcSettings(BaseSettings):
    """``AAP_OIDC_*``: which identity provider the platform trusts, and for which audience."""

    model_config = SettingsConfigDict(env_prefix="AAP_OIDC_", extra="ignore")

    issuer: str = Field(description="The `iss` every token must carry, e.g. a Keycloak realm URL")
    audience: str = Field(default="aap", description="The `aud` every token must hold")
    jwks_url: str | None = Field(
        default=None, description="Where the signing keys are; default: the issuer's discovery"
    )
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "PS256", "ES256"])
    leeway_seconds: float = Field(default=30, ge=0, le=300, description="Clock skew allowed")
    jwks_refresh_seconds: float = Field(
        default=10, gt=0, description="Fewest seconds between two fetches of the keys"
    )
    name_claim: str = Field(
        default="preferred_username", description="The claim role assignments name people by"
    )


class Unauthenticated(Exception):
    """The request does not prove who sent it; the message says why, for the caller."""


class IdentityProviderUnavailable(ConnectionError):
    """The IdP does not answer: a dependency down (503), not the caller's fault."""


@dataclass(frozen=True)
class Person:
    """Whom roles are held by: the IdP's subject (stable, never re-used for another account)
    and the name it gives them now (a display attribute, which a renamed account changes)."""

    subject: str  # `sub`: the IdP's stable id
    name: str  # what the audit trail and people name them by (AAP_OIDC_NAME_CLAIM)


@dataclass(frozen=True)
class Principal(Person):
    """The authenticated caller, as the token says."""

    display_name: str  # `name` if the IdP gives one, e.g. 赵敏
    client_id: str  # the client the token was issued to (`azp`, or RFC 9068's `client_id`)

    @property
    def is_client(self) -> bool:
        """A client's own service account (a service, an integration), not a person."""
        return is_client(self.name)


class Discovery:
    """The issuer's OpenID configuration (endpoints), fetched once."""

    def __init__(self, issuer: str, http: httpx.AsyncClient) -> None:
        self.issuer = issuer.rstrip("/")
        self.http = http
        self._document: dict[str, Any] | None = None

    async def endpoint(self, name: str) -> str:
        if self._document is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            document = await _get_json(self.http, url)
            if document.get("issuer") != self.issuer:
                raise IdentityProviderUnavailable(
                    f"{url} names issuer {document.get('issuer')!r}, not {self.issuer!r}"
                )
            self._document = document
        return str(self._document[name])


async def _get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        r = await http.get(url)
        r.raise_for_status()
        answer: dict[str, Any] = r.json()
        return answer
    except (httpx.HTTPError, ValueError) as error:
        raise IdentityProviderUnavailable(f"identity provider: {url}: {error}") from error


class Jwks:
    """The issuer's signing keys by key id, refreshed when a token names one not kept."""

    def __init__(self, discovery: Discovery, url: str | None, refresh_seconds: float) -> None:
        self.discovery = discovery
        self.url = url
        self.refresh_seconds = refresh_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:  # one fetch for a burst of requests naming a new key
            due = time.monotonic() - self._fetched_at >= self.refresh_seconds
            if kid not in self._keys and due:
                await self._refresh()
        if kid not in self._keys:
            raise Unauthenticated(f"the token is signed with key {kid!r}, not one of the issuer's")
        return self._keys[kid]

    async def _refresh(self) -> None:
        url = self.url or await self.discovery.endpoint("jwks_uri")
        document = await _get_json(self.discovery.http, url)
        self._fetched_at = time.monotonic()
        signing = [k for k in document.get("keys", []) if k.get("use", "sig") == "sig"]
        try:
            keys = jwt.PyJWKSet.from_dict({"keys": signing}).keys
        except jwt.PyJWKSetError:
            keys = []  # none usable: every token is refused, and said so
        self._keys = {k.key_id: k for k in keys if k.key_id}
        log.info("identity provider keys fetched", url=url, key_ids=sorted(self._keys))


VERIFIED_TOKENS_KEPT = 10_000


class TokenVerifier:
    """Turns a bearer token into the principal it proves, or says why it proves nothing."""

    def __init__(self, settings: OidcSettings, http: httpx.AsyncClient) -> None:
        unsafe = set(settings.algorithms) - set(ALLOWED_ALGORITHMS)
        if unsafe:
            raise ValueError(f"AAP_OIDC_ALGORITHMS: {sorted(unsafe)} not allowed for tokens")
        self.settings = settings
        self.discovery = Discovery(settings.issuer, http)
        self.jwks = Jwks(self.discovery, settings.jwks_url, settings.jwks_refresh_seconds)
        # A token verified once proves the same principal until it expires: a caller sending
        # it again (a service, a console) is not verified again. Bounded; checked for expiry.
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        kept = self._verified.get(token)
        if kept is not None and time.time() < kept[1]:
            return kept[0]
        principal, expires = await self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()  # rare; simpler than an LRU, and only costs re-verifying
        self._verified[token] = (principal, expires)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"the bearer token is not a signed JWT: {error}") from error
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.settings.algorithms:
            raise Unauthenticated(f"algorithm {alg!r} is not accepted")
        if not isinstance(kid, str):
            raise Unauthenticated("the token names no signing key (kid)")
        key = await self.jwks.key(kid)
        if key.algorithm_name != alg:  # a key is for one algorithm, whatever the token says
            raise Unauthenticated(f"key {kid!r} is for {key.algorithm_name}, not {alg}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the token has expired") from error
        except jwt.InvalidTokenError as error:
            raise Unauthenticated(f"the token is refused: {error}") from error
        name = claims.get(self.settings.name_claim)
        if not isinstance(name, str) or not name:
            raise Unauthenticated(f"the token carries no {self.settings.name_claim!r}")
        if not PRINCIPAL_NAME.fullmatch(name):
            raise Unauthenticated(
                f"the token's {self.settings.name_claim} {name!r} is not a principal name the "
                f"platform accepts: {PRINCIPAL_NAME_RULE}"
            )
        client_id = str(claims.get("azp") or claims.get("client_id") or "")
        if is_client(name) and name != CLIENT_PRINCIPAL_PREFIX + client_id:
            raise Unauthenticated(
                f"the token names {name!r}, a client's service account, but was issued to "
                f"client {client_id!r}: a person cannot take a client's name"
            )
        principal = Principal(
            subject=str(claims["sub"]),
            name=name,
            display_name=str(claims.get("name") or name),
            client_id=client_id,
        )
        return principal, float(claims["exp"])


_bearer = HTTPBearer(auto_error=False, description="An access token of the platform's IdP")


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The FastAPI dependency every route sits behind: the caller the bearer token proves."""
    if credentials is None:
        raise HTTPException(
            401,
            "authentication required: send an access token as `Authorization: Bearer …`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify(credentials.credentials)
    except Unauthenticated as error:
        raise HTTPException(
            401, str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from error
    structlog.contextvars.bind_contextvars(principal=principal.name)
    return principal


Caller = Annotated[Principal, Depends(authenticated)]


async def principal_of(request: Request) -> Principal:
    """The caller a request's bearer token proves, outside FastAPI's dependencies (before its
    body is read: ``servicekit.body_gate``); HTTPException 401 otherwise."""
    return await authenticated(request, await _bearer(request))


class ServiceToken:
    """This service's own access token (client-credentials grant) for calls to another service,
    kept until shortly before it expires."""

    def __init__(
        self, discovery: Discovery, client_id: str, client_secret: SecretStr, margin: float = 30
    ) -> None:
        self.discovery = discovery
        self.client_id = client_id
        self.client_secret = client_secret
        self.margin = margin
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def headers(self) -> dict[str, str]:
        async with self._lock:
            if self._token is None or self._token[1] <= time.monotonic():
                self._token = await self._fetch()
        return {"Authorization": f"Bearer {self._token[0]}"}

    def auth(self) -> httpx.Auth:
        """For an httpx client: every request it sends carries this token."""
        return _BearerAuth(self)

    async def _fetch(self) -> tuple[str, float]:
        url = await self.discovery.endpoint("token_endpoint")
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret.get_secret_value(),
        }
        try:
            r = await self.discovery.http.post(url, data=form)
        except httpx.TransportError as error:
            raise IdentityProviderUnavailable(f"identity provider: {url}: {error}") from error
        if r.status_code != 200:  # a wrong secret is configuration, not an outage: say so
            raise RuntimeError(f"{url} refused client {self.client_id}: {r.text[:200]}")
        answer = r.json()
        expires_in = float(answer.get("expires_in", 60))
        return str(answer["access_token"]), time.monotonic() + max(expires_in - self.margin, 1)


class _BearerAuth(httpx.Auth):
    def __init__(self, token: ServiceToken) -> None:
        self.token = token

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers.update(await self.token.headers())
        yield request


class ClientCredentials(httpx.Auth):
    """For a command-line tool (a blocking httpx client): every request carries a token of the
    client ``client_id``, fetched from the issuer and renewed shortly before it expires."""

    def __init__(self, issuer: str, client_id: str, client_secret: str, margin: float = 30):
        self.issuer = issuer.rstrip("/")
        self.form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self.margin = margin
        self._token: tuple[str, float] | None = None

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        if self._token is None or self._token[1] <= time.monotonic():
            found = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=30)
            r = httpx.post(found.raise_for_status().json()["token_endpoint"], data=self.form)
            if r.status_code != 200:
                raise RuntimeError(f"the IdP refused client {self.form['client_id']}: {r.text}")
            answer = r.json()
            expires = time.monotonic() + max(float(answer["expires_in"]) - self.margin, 1)
            self._token = (str(answer["access_token"]), expires)
        request.headers["Authorization"] = f"Bearer {self._token[0]}"
        yield request
