"""Open311 GeoReport v2 documents: the discovery document, and XML laid out as the
spec's examples are.

Lists are ``<root><item><key>value</key>…</item>…</root>``; the discovery document and
a service definition have layouts of their own (``<endpoints><endpoint>``,
``<service_code>`` beside ``<attributes>``). UTF-8 with an XML declaration.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from geo.core.text import tr

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07T00:00:00Z"
"""When this endpoint's behaviour last changed (discovery's ``changeset``)."""


def discovery(services_url: str) -> dict[str, Any]:
    """The discovery document (GeoReport v2 "Service Discovery") for the endpoint whose
    service list is at ``services_url`` (``…/open311/v2/services.json``)."""
    endpoint = services_url.rsplit("/", 1)[0]
    return {
        "changeset": CHANGESET,
        "contact": "civicgrid",
        "key_service": tr(
            "api_key 为 civicgrid API 令牌（civicgrid tokens create）",
            "the api_key is a civicgrid API token (civicgrid tokens create)",
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def discovery_xml(doc: Mapping[str, Any]) -> bytes:
    """The discovery document in the spec's XML layout (``<endpoints><endpoint>``,
    ``<formats><format>``)."""
    top = ET.Element("discovery")
    for key in ("changeset", "contact", "key_service"):
        ET.SubElement(top, key).text = str(doc[key])
    endpoints = ET.SubElement(top, "endpoints")
    for endpoint in doc["endpoints"]:
        element = ET.SubElement(endpoints, "endpoint")
        for key, value in endpoint.items():
            if key == "formats":
                formats = ET.SubElement(element, "formats")
                for media in value:
                    ET.SubElement(formats, "format").text = media
            else:
                ET.SubElement(element, key).text = str(value)
    return _xml_bytes(top)


def service_definition_xml(definition: Mapping[str, Any]) -> bytes:
    """A service definition as the spec lays it out: ``<service_code>`` beside
    ``<attributes>`` (whose ``<attribute>`` entries civicgrid does not ask for)."""
    top = ET.Element("service_definition")
    ET.SubElement(top, "service_code").text = str(definition["service_code"])
    attributes = ET.SubElement(top, "attributes")
    for attribute in definition["attributes"]:
        _xml_value(ET.SubElement(attributes, "attribute"), attribute)
    return _xml_bytes(top)


def to_xml(root: str, item: str, records: Sequence[Mapping[str, Any]]) -> bytes:
    """GeoReport XML: ``<root><item><key>value</key>…</item>…</root>`` (UTF-8)."""
    top = ET.Element(root)
    for record in records:
        element = ET.SubElement(top, item)
        for key, value in record.items():
            _xml_value(ET.SubElement(element, key), value)
    return _xml_bytes(top)


def errors_xml(code: int, description: str) -> bytes:
    """GeoReport's error document as XML."""
    return to_xml("errors", "error", [{"code": code, "description": description}])


def _xml_value(element: ET.Element, value: Any) -> None:
    if isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, list):
        for entry in value:
            _xml_value(ET.SubElement(element, "attribute"), entry)
    elif value is not None:
        element.text = str(value)


def _xml_bytes(top: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
