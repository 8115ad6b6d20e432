"""Which OA system decides a borrowing request: the one connected for its records' fonds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contracts.roles import ALL_FONDS


class NoRoute(Exception):
    """No OA system decides for the fonds."""


@dataclass(frozen=True)
class OaRoutes:
    """OA connection by fonds code (全宗号); ``"*"`` for every fonds not named."""

    by_fonds: Mapping[str, str]

    def connection_for(self, fonds_code: str) -> str:
        connection = self.by_fonds.get(fonds_code) or self.by_fonds.get(ALL_FONDS)
        if connection is None:
            raise NoRoute(
                f"no OA system decides borrowing for fonds {fonds_code}: "
                f"connected are {', '.join(sorted(self.by_fonds))}"
            )
        return connection
