"""Where a request came from, for the records that say so (利用登记簿, exports of the trail).

The peer's address, unless the peer is one of the proxies the operator trusts
(``AAP_TRUSTED_PROXIES``): then the nearest address in ``X-Forwarded-For`` that is not a trusted
proxy. Anyone can send the header; only a trusted proxy's is believed, or any caller could write
whatever address they liked into the register.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    """The trusted proxies as networks (an address is a network of one)."""
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in trusted)


def address_of(peer: str | None, forwarded: str | None, trusted: tuple[Network, ...]) -> str | None:
    """The client's address: ``peer``, or through trusted proxies the one they were asked by."""
    if peer is None or not _trusted(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in (forwarded or "").split(",") if h.strip()]):
        if _trusted(hop, trusted):
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # not an address: the header says nothing to go by
    return peer


async def client_address(request: Request) -> str | None:
    """The FastAPI dependency: the trusted proxies are the app's (``build_app``)."""
    trusted: tuple[Network, ...] = getattr(request.app.state, "trusted_proxies", ())
    peer = request.client.host if request.client else None
    return address_of(peer, request.headers.get("x-forwarded-for"), trusted)


ClientAddress = Annotated[str | None, Depends(client_address)]
