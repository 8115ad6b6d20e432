"""A JSON document an ERP sends (a voucher export, a material's description): decoded (UTF-8 or
GB18030), parsed with amounts as Decimal, and validated, every problem named under the check
item it falls under."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from contracts.checks import CHECK_1_2, CHECK_1_3, CHECK_1_4, CHECK_2_4, CHECK_3_1, CheckItem
from ingest.parsers.findings import ExportError, Finding
from ingest.parsers.text import decode_text

Model = TypeVar("Model", bound=BaseModel)

# Which check item a validation error falls under, by pydantic's error type.
_LENGTH = {"string_too_long", "too_long", "string_too_short", "too_short"}
_DOMAIN = {
    "literal_error",
    "enum",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "multiple_of",
    "value_error",
    "assertion_error",
}


def _item_of(error_type: str) -> CheckItem:
    if error_type == "missing":
        return CHECK_2_4  # a required field absent
    if error_type in _LENGTH:
        return CHECK_1_2
    if error_type in _DOMAIN:
        return CHECK_1_4
    return CHECK_1_3  # of the wrong type or format


def load_document(raw: bytes, what: str) -> Any:
    """The JSON value of ``raw``; ExportError (3-1) if it is not JSON one can read."""
    text = decode_text(raw, what)
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ExportError([Finding(CHECK_3_1, what, f"malformed JSON: {error}")]) from error
    except RecursionError as error:  # the standard parser recurses once per nested level
        raise ExportError([Finding(CHECK_3_1, what, "JSON nested too deeply")]) from error
    except ValueError as error:  # an integer of more digits than Python converts
        raise ExportError([Finding(CHECK_3_1, what, f"unreadable number: {error}")]) from error


def validated(model: type[Model], document: Any, what: str) -> Model:
    """``document`` as ``model``; ExportError naming every field wrong, each under its item."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise ExportError(
            [
                Finding(_item_of(e["type"]), ".".join(str(p) for p in e["loc"]) or what, e["msg"])
                for e in error.errors()
            ]
        ) from error
