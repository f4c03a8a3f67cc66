"""The events: the writer's validated into one object to write, the reader's into one key to read, or either
rejected naming the field (pure, no AWS). Both take keys relative to the prefix, by the same rules (``key_problem``,
``Target.max_key_bytes``)."""

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
    from .config import Config, Target

S3_MAX_KEY_BYTES = 1024
EVENT_FIELDS = ("body", "content_type", "key")
READ_EVENT_FIELDS = ("key",)
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


@dataclass(frozen=True)
class GetRequest:
    """One validated object to read."""

    key: str  # the full key, prefix included


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


def _check_fields(event: Any, fields: tuple[str, ...], shape: str, allowed: str) -> dict[Any, Any]:
    """The event as a dict holding only ``fields``, or InvalidEvent naming the event or the first unknown field."""
    if not isinstance(event, dict):
        raise InvalidEvent("event", f"event must be a JSON object {shape}, got {type(event).__name__}")
    unknown = sorted(str(name) for name in event if name not in fields)
    if unknown:
        listed = ", ".join(f"'{name}'" for name in unknown)
        raise InvalidEvent(unknown[0], f"unknown field(s) {listed}; {allowed}")
    return event


def _checked_key(key: str, config: Target) -> str:
    """``key`` (relative to the prefix) if S3 would take it under the prefix, else InvalidEvent naming 'key'."""
    if not key:
        raise InvalidEvent("key", "'key' must not be empty")
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
    return key


def parse_event(event: Any, config: Config, *, request_id: str | None = None) -> PutRequest:
    """Validate the writer's event and build the object to write; raise InvalidEvent naming the field."""
    allowed = ", ".join(f"'{name}'" for name in EVENT_FIELDS)
    event = _check_fields(
        event, EVENT_FIELDS, f"with optional fields {allowed}", f"allowed fields are {allowed}"
    )
    key = _string_field(event, "key")
    key = str(uuid.uuid4()) if key is None else _checked_key(key, config)

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


def parse_read_event(event: Any, config: Target) -> GetRequest:
    """Validate the reader's event, ``{"key": <relative to the prefix>}``; raise InvalidEvent naming the field."""
    event = _check_fields(
        event, READ_EVENT_FIELDS, "with one field, 'key' (required)", "the only allowed field is 'key'"
    )
    key = _string_field(event, "key")
    if key is None:
        raise InvalidEvent("key", "'key' is required: the key of the object to read, relative to the prefix")
    return GetRequest(key=config.key_prefix + _checked_key(key, config))
