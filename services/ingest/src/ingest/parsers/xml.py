"""XML from outside, parsed safely: through defusedxml (DTDs, entities and external references
refused, so an entity bomb or an XXE attempt is named and never expanded), after re-encoding the
national encodings Chinese ERPs write (GBK, GB2312, GB18030) to UTF-8, which expat reads.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_XML_BYTES = 2 * 1024 * 1024


class XmlProblem(Exception):
    """The XML cannot be taken; the message says why."""


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# The encoding an XML declaration names, if it names one.
_DECLARED_ENCODING = re.compile(
    rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']"""
)
# Files declared in the older national encodings often hold characters only GB18030 has.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936"}


def _as_utf8(data: bytes) -> bytes:
    """The document re-encoded as UTF-8 when it declares another encoding: the XML parser
    (expat) reads no multi-byte encoding but UTF-8 and UTF-16, and Chinese ERPs write GBK."""
    declared = _DECLARED_ENCODING.match(data)
    if declared is None:
        return data
    name = declared.group(1).decode("ascii").lower()
    try:
        info = codecs.lookup(name)
    except LookupError as error:
        raise XmlProblem(f"XML declares an unknown encoding {name!r}") from error
    if not info._is_text_encoding:  # rot13, base64, zlib…: codecs Python has, not charsets
        raise XmlProblem(f"XML declares {name!r}, which is not a character encoding")
    codec = info.name
    if codec in {"utf-8", "utf-16"}:
        return data
    if not data[: declared.end()].isascii():
        raise XmlProblem(f"XML starts with a UTF-8 byte-order mark but declares {name!r}")
    try:
        text = data.decode("gb18030" if codec.replace("_", "") in _GB_FAMILY else codec)
    except (UnicodeDecodeError, LookupError, ValueError) as error:
        raise XmlProblem(f"XML is not valid {name}: {error}") from error
    start, end = declared.span(1)  # the declaration is ASCII: byte and character offsets agree
    return (text[:start] + "UTF-8" + text[end:]).encode()


def read_xml(data: bytes, max_bytes: int | None = MAX_XML_BYTES) -> ET.Element:
    """Parse XML safely, or raise XmlProblem naming the reason."""
    if max_bytes is not None and len(data) > max_bytes:
        raise XmlProblem(f"XML of {len(data)} bytes is over the limit of {max_bytes} bytes")
    try:
        root: ET.Element = fromstring(_as_utf8(data), forbid_dtd=True)
    except DefusedXmlException as error:
        raise XmlProblem(
            f"XML refused: {type(error).__name__} (DTDs and entities are not allowed)"
        ) from error
    except ET.ParseError as error:
        raise XmlProblem(f"malformed XML: {error}") from error
    except (ValueError, LookupError) as error:  # what expat refuses before parsing (an encoding)
        raise XmlProblem(f"XML cannot be read: {error}") from error
    return root
