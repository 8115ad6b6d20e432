"""Asks the permission service, the owner of grants, whether a user may act on a record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from archive.domain.search import Visibility
from archive.ports import AccessDenied, NotYetKnown
from servicekit.auth import Person, ServiceToken


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    record_known: bool = True
    grant_id: uuid.UUID | None = None


def _naming(user: Person) -> dict[str, str]:
    """The person asked about: by subject, who holds roles; by name, whom grants name."""
    return {"user": user.name, "subject": user.subject}


class PermissionClient:
    """Each call carries the archive's own token (client-credentials grant)."""

    def __init__(
        self,
        base_url: str,
        token: ServiceToken,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=5, transport=transport, auth=token.auth()
        )

    async def check(self, user: Person, action: str, resource: str) -> Decision:
        asked = _naming(user) | {"action": action, "resource": resource}
        response = await self._http.get("/v1/check", params=asked)
        response.raise_for_status()
        body = response.json()
        grant = body.get("grant_id")
        return Decision(
            bool(body["allowed"]),
            str(body["reason"]),
            bool(body.get("record_known", True)),
            uuid.UUID(grant) if grant else None,
        )

    async def require(self, user: Person, action: str, record_id: object) -> uuid.UUID | None:
        """Raise AccessDenied, with the permission service's reason, unless it allows; the
        grant it allows under (None: a role)."""
        decision = await self.check(user, action, f"record:{record_id}")
        if not decision.allowed and not decision.record_known:
            raise NotYetKnown(decision.reason)
        if not decision.allowed:
            raise AccessDenied(decision.reason)
        return decision.grant_id

    async def require_fonds(self, user: Person, action: str, fonds_code: str) -> None:
        """Raise AccessDenied unless ``user`` may ``action`` every record of the fonds."""
        visible = await self.visibility(user, action)
        if not (visible.all_fonds or fonds_code in visible.fonds):
            raise AccessDenied(f"{user.name} may not {action} fonds {fonds_code}")

    async def visibility(self, user: Person, action: str) -> Visibility:
        asked = _naming(user) | {"action": action}
        response = await self._http.get("/v1/visibility", params=asked)
        response.raise_for_status()
        body = response.json()
        return Visibility(bool(body["all_fonds"]), tuple(body["fonds"]), tuple(body["record_ids"]))

    async def ready(self) -> None:
        """The permission service answers (readiness: without it no read is decided)."""
        response = await self._http.get("/healthz")
        response.raise_for_status()

    async def close(self) -> None:
        await self._http.aclose()
