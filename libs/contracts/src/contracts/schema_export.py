"""JSON Schema of every event, exported to a committed folder, and the compatibility rule.

    python -m contracts.schema_export libs/contracts/schemas     (make schemas)

A change is backward compatible when every field of the committed schema is still there with
the same type, no enum value was removed, and no new field is required. ``breaking_changes``
lists what breaks that; a test runs it against the committed files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts.envelope import AnyEnvelope, EventData
from contracts.events import ALL_EVENTS

Schema = dict[str, Any]


def schema_of(event: type[EventData]) -> Schema:
    schema = event.model_json_schema(mode="validation")
    schema["$id"] = f"{event.cloudevents_type()}.json"
    schema["x-cloudevents-type"] = event.cloudevents_type()
    return schema


def file_name(event: type[EventData]) -> str:
    return f"{event.event_type}.v{event.version}.json"


def export(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    documents: dict[str, Schema] = {file_name(e): schema_of(e) for e in ALL_EVENTS}
    documents["envelope.json"] = AnyEnvelope.model_json_schema(mode="validation")
    for name, schema in documents.items():
        path = folder / name
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def _resolve(node: Schema, root: Schema) -> Schema:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/$defs/"), f"unexpected $ref {ref}"
        node = root["$defs"][ref.removeprefix("#/$defs/")]
    return node


def _shape(node: Schema, root: Schema) -> Any:
    """What a value of this schema looks like, ignoring descriptions, titles and limits."""
    node = _resolve(node, root)
    if "anyOf" in node:
        return ("anyOf", sorted(repr(_shape(n, root)) for n in node["anyOf"]))
    if node.get("type") == "object" or "properties" in node:
        return ("object", tuple(sorted(node.get("properties", {}))))
    if node.get("type") == "array":
        items = node.get("items") or node.get("prefixItems") or {}
        return ("array", repr(_shape(items, root)) if isinstance(items, dict) else "tuple")
    return ("scalar", node.get("type"), node.get("format"))


def _optional_object(node: Schema, root: Schema) -> Schema:
    """An optional object (``X | None``) compared as its object: a field it gains is no break."""
    branches = [_resolve(n, root) for n in node.get("anyOf", [])]
    objects = [b for b in branches if "properties" in b]
    if len(objects) == 1 and len(branches) == 2 and {"type": "null"} in branches:
        return objects[0]
    return node


def _items(node: Schema, root: Schema) -> Schema | None:
    """The item schema of an array of objects, else None."""
    if node.get("type") != "array" or not isinstance(node.get("items"), dict):
        return None
    items = _resolve(node["items"], root)
    return items if "properties" in items else None


def breaking_changes(
    old: Schema,
    new: Schema,
    path: str = "",
    *,
    old_root: Schema | None = None,
    new_root: Schema | None = None,
) -> list[str]:
    old_root, new_root = old_root or old, new_root or new
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_field in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: field removed")
            continue
        old_f = _optional_object(_resolve(old_field, old_root), old_root)
        new_f = _optional_object(_resolve(new_props[name], new_root), new_root)
        if (
            "enum" in old_f
            and "enum" in new_f
            and (lost := set(old_f["enum"]) - set(new_f["enum"]))
        ):
            problems.append(f"{where}: enum values removed {sorted(lost)}")
        old_items, new_items = _items(old_f, old_root), _items(new_f, new_root)
        if old_items is not None and new_items is not None:  # arrays of objects: look inside
            problems += breaking_changes(
                old_items, new_items, f"{where}[].", old_root=old_root, new_root=new_root
            )
        elif "properties" in old_f and "properties" in new_f:
            problems += breaking_changes(
                old_f, new_f, f"{where}.", old_root=old_root, new_root=new_root
            )
        elif _shape(old_f, old_root) != _shape(new_f, new_root):
            problems.append(f"{where}: type changed")
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}{name}: new required field")
    return problems


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "libs/contracts/schemas")
    for path in export(folder):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
