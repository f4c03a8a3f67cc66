"""The event: validated into one object to write, or rejected naming the field (pure, no AWS)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import InvalidEvent

if TYPE_CHECKING:
    from .config import Config

S3_MAX_KEY_BYTES = 1024
EVENT_FIELDS = ("body", "content_type", "key")
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x1f\x7f]")
_PRINTABLE_ASCII_RE = re.compile(r"[\x20-\x7e]{1,255}")




@dataclass(frozen=True)
class PutRequest:
    """One validated object to write."""

    key: str  # the full key, prefix included
    body: bytes
    content_type: str


def key_problem(key: str) -> str | None:
    """Why ``key`` is not an acceptable S3 key (apart from its length), or None."""
    if key.startswith("/"):
        return "must not start with '/'"
    if "\\" in key:
        return "must not contain a backslash"
    if _CONTROL_CHARS_RE.search(key):
        return "must not contain control characters (U+0000-U+001F, U+007F)"
    if ".." in key.split("/"):
        return "must not contain a '..' path segment"
    if not _is_encodable(key):
        return "must be valid Unicode text (no lone surrogates)"
    return None


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string_field(event: Mapping[str, Any], field: str) -> str | None:
    value = event.get(field)
    if field in event and not isinstance(value, str):
        raise InvalidEvent(field, f"'{field}' must be a string, got {type(value).__name__}")
    return value


def parse_event(event: Any, config: Config, *, request_id: str | None = None) -> PutRequest:
    """Validate the event and build the object to write; raise InvalidEvent naming the field."""
    allowed = ", ".join(f"'{name}'" for name in EVENT_FIELDS)
    if not isinstance(event, dict):
        raise InvalidEvent(
            "event",
            f"event must be a JSON object with optional fields {allowed}, "
            f"got {type(event).__name__}",
        )
    unknown = sorted(str(name) for name in event if name not in EVENT_FIELDS)
    if unknown:
        listed = ", ".join(f"'{name}'" for name in unknown)
        raise InvalidEvent(
            unknown[0], f"unknown field(s) {listed}; allowed fields are {allowed}"
        )

    key = _string_field(event, "key")
    if key is None:
        key = str(uuid.uuid4())
    elif not key:
        raise InvalidEvent("key", "'key' must not be empty")
    else:
        problem = key_problem(key)
        if problem:
            raise InvalidEvent("key", f"'key' {problem}")
        key_bytes = len(key.encode("utf-8"))
        if key_bytes > config.max_key_bytes:
            raise InvalidEvent(
                "key",
                f"'key' is {key_bytes} bytes in UTF-8; at most {config.max_key_bytes} are "
                f"allowed ({S3_MAX_KEY_BYTES} minus the prefix {config.key_prefix!r})",
            )

    body = _string_field(event, "body")
    content_type = _string_field(event, "content_type")
    if body is None:
        body = json.dumps(
            {
                "function": config.function_name,
                "request_id": request_id,
                "written_at": datetime.now(timezone.utc).isoformat(),
            }
        )
        content_type = JSON_CONTENT_TYPE if content_type is None else content_type
    if not _is_encodable(body):
        raise InvalidEvent("body", "'body' must be valid Unicode text (no lone surrogates)")
    body_bytes = body.encode("utf-8")
    if len(body_bytes) > config.max_body_bytes:
        raise InvalidEvent(
            "body",
            f"'body' is {len(body_bytes)} bytes in UTF-8; the limit is "
            f"{config.max_body_bytes} bytes (MAX_BODY_BYTES)",
        )

    if content_type is None:
        content_type = TEXT_CONTENT_TYPE
    elif not _PRINTABLE_ASCII_RE.fullmatch(content_type):
        raise InvalidEvent(
            "content_type",
            "'content_type' must be 1-255 printable ASCII characters (no control characters)",
        )

    return PutRequest(key=config.key_prefix + key, body=body_bytes, content_type=content_type)
