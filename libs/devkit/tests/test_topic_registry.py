"""The topic registry's producers and consumers, from which the broker's ACLs are made, are what
the services actually publish and subscribe to (their AsyncAPI documents, made by FastStream)."""

import pytest

from contracts.topics import topics
from devkit.asyncapi import DOCS_OA, document, placeholder_env
from devkit.stack import SERVICES


@pytest.mark.parametrize("service", SERVICES)
async def test_the_registry_names_what_each_service_sends_and_receives(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AAP_NAMESPACE", "local")
    for name, value in placeholder_env().items():
        monkeypatch.setenv(name, value)
    spec = await document(service)
    operations = spec["operations"]
    channels = spec["channels"]
    assert isinstance(operations, dict) and isinstance(channels, dict)
    acts = {
        (op["action"], channels[op["channel"]["$ref"].split("/")[-1]]["address"])
        for op in operations.values()
    }
    sends = {address for action, address in acts if action == "send"}
    receives = {address for action, address in acts if action == "receive"}
    registry = topics([DOCS_OA])  # the platform's, and an OA connection's
    # A retired topic (an event's older version) is written by no one.
    assert sends == {t.name("local") for t in registry if t.owner == service and not t.retired}
    assert receives == {t.name("local") for t in registry if service in t.consumers}
