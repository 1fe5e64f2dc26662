"""GeoReport v2 answers in either of its formats, from one payload.

The specification's default format is XML; every route answers the suffix it was
called with (`.xml` or `.json`), errors included. The XML documents follow the
specification's examples element for element: a list is a container whose
children repeat one singular element (`<services><service>`,
`<service_requests><request>`, `<errors><error>`, `<attributes><attribute>`,
`<values><value>`, `<endpoints><endpoint>`, `<formats><format>`), booleans are
`true`/`false`, an absent value is an empty element. Documents are built with
xml.etree (user text is escaped by the serializer, never concatenated).
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi.responses import JSONResponse, Response

FORMATS = ("json", "xml")
# Characters XML 1.0 cannot carry, even escaped: the serializer would write them raw, and
# one control character in a stored description made the whole list unreadable.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
XML_TYPE = "text/xml; charset=utf-8"
# The specification's singular element for each list it shows.
ITEM = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "jurisdictions": "jurisdiction",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("\ufffd", str(value))


def _fill(parent: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(SubElement(parent, key), item)
    elif isinstance(value, list):
        tag = ITEM.get(parent.tag, "item")
        for item in value:
            _fill(SubElement(parent, tag), item)
    else:
        parent.text = _text(value)


def to_xml(root: str, payload: Any) -> bytes:
    """`payload` as the specification's XML document under `root`, UTF-8 with a prolog."""
    element = Element(root)
    _fill(element, payload)
    return tostring(element, encoding="utf-8", xml_declaration=True)


def answer(
    payload: Any, fmt: str, root: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The payload as JSON, or as XML under `root` (its list items named after `root`)."""
    if fmt == "xml":
        return Response(to_xml(root, payload), status, headers, media_type=XML_TYPE)
    return JSONResponse(payload, status, headers=headers)


def error(
    status: int, description: str, fmt: str = "json", headers: dict[str, str] | None = None
) -> Response:
    """The specification's error list, `[{"code", "description"}]` or `<errors><error>`."""
    return answer([{"code": status, "description": description}], fmt, "errors", status, headers)


def format_of(path: str) -> str:
    """The format a URL asks for: its suffix when XML, JSON otherwise (the error format
    of an unknown path or suffix)."""
    return "xml" if path.rsplit("/", 1)[-1].lower().endswith(".xml") else "json"


def too_large(path: str, message: str) -> tuple[bytes, bytes]:
    """A 413 in the specification's shape, for the body-size middleware (see app.py)."""
    fmt = format_of(path)
    payload = [{"code": 413, "description": message}]
    if fmt == "xml":
        return XML_TYPE.encode(), to_xml("errors", payload)
    return b"application/json", json.dumps(payload, ensure_ascii=False).encode()
