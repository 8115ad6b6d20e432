"""The client's address in the usage register: the peer's, or a trusted proxy's word for it."""

from __future__ import annotations

from servicekit.addresses import address_of, networks

INGRESS = networks(["10.0.0.0/8", "127.0.0.1"])


def test_a_forwarded_address_is_believed_from_a_trusted_proxy_only() -> None:
    """Once, the register recorded the ingress's address for everyone; and a header anyone can
    send must not write the caller's choice of address into it."""
    assert address_of("10.1.2.3", "203.0.113.9", INGRESS) == "203.0.113.9"
    assert address_of("198.51.100.7", "203.0.113.9", INGRESS) == "198.51.100.7"  # not a proxy
    assert address_of("198.51.100.7", "203.0.113.9", ()) == "198.51.100.7"  # none trusted


def test_through_a_chain_of_proxies_the_nearest_untrusted_hop_is_the_client() -> None:
    # The client put a made-up address first; the ingress appended what it saw.
    chain = "1.2.3.4, 203.0.113.9, 10.0.0.5"
    assert address_of("127.0.0.1", chain, INGRESS) == "203.0.113.9"
    assert address_of("127.0.0.1", "10.0.0.5", INGRESS) == "127.0.0.1"  # only proxies
    assert address_of("127.0.0.1", "not-an-address", INGRESS) == "127.0.0.1"
    assert address_of("127.0.0.1", None, INGRESS) == "127.0.0.1"
    assert address_of(None, "203.0.113.9", INGRESS) is None
