"""Which roles a principal holds: asked of the permission service, which owns role assignments.

A service decides what a caller may do from these, never from claims in the caller's token.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from servicekit.auth import ServiceToken

ALL_FONDS = "*"


@dataclass(frozen=True)
class Role:
    role: str
    fonds_code: str  # 全宗号 the role is held in; "*" for every fonds


class RoleDirectory:
    """Each call carries this service's own token (client-credentials grant)."""

    def __init__(
        self, base_url: str, token: ServiceToken, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=5, transport=transport, auth=token.auth()
        )

    async def roles_of(self, name: str) -> list[Role]:
        response = await self._http.get(f"/v1/roles/{name}")
        response.raise_for_status()
        return [Role(r["role"], r["fonds_code"]) for r in response.json()]

    async def close(self) -> None:
        await self._http.aclose()
