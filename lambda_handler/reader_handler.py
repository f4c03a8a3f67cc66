"""Read one object from the PROD bucket in the DEV account, through the PROD role.

The reader's entry point, ``lambda_handler.reader_handler.lambda_handler``; the writer's twin. Runs
in the DEV account. The execution role's own credentials call ``sts:AssumeRole`` on
``TARGET_ROLE_ARN``; the S3 client signs with the resulting credentials, botocore *refreshable*
credentials held at module scope, so a warm container calls AssumeRole once per credential
lifetime (refreshing 15 minutes before expiry), not once per invocation (role.py, as the writer).

Configuration (environment variables, read and validated on the first invocation):

- ``TARGET_ROLE_ARN``, ``TARGET_BUCKET``, ``TARGET_KEY_PREFIX``, ``TARGET_REGION``, ``EXTERNAL_ID``:
  exactly as the writer reads them (config.py ``Target``).
- ``MAX_OBJECT_BYTES``  optional positive int, default 262144, at most 4194304 (4 MiB; see
  ``config.MAX_OBJECT_BYTES_CEILING``): the largest object returned.
- ``AWS_LAMBDA_FUNCTION_NAME`` (set by Lambda) names the role session.

Event: a JSON object with exactly one field, the required string ``key``: relative to the prefix,
by the writer's key rules (``events.key_problem``, at most 1024 bytes with the prefix). Anything
else is rejected.

Responses (``body`` is a JSON string):

- 200 ``{"bucket", "key" (including the prefix), "size" (bytes), "contentType", "versionId" (or
  null), "encoding", "body"}``: ``encoding`` is ``"utf-8"`` and ``body`` the object's text when its
  bytes are UTF-8, else ``"base64"`` and ``body`` its base64. One exception keeps every answer
  within Lambda's 6 MB response limit: JSON escapes text (in this body, then again in Lambda's
  response: a control character grows to 7 bytes, a 3-byte character to 7), so UTF-8 text whose
  escaped response would not fit comes back in base64 instead, which always fits.
- 400 ``{"error": "InvalidEvent", "message"}``: the message names the field; the role is not
  assumed.
- 403 ``{"error": "AccessDenied", "message"}``: names the role ARN (AssumeRole) or the bucket and
  key (GetObject).
- 404 ``{"error": "NoSuchKey", "message"}``: names the bucket and key; nothing is stored there (or
  its latest version is a delete marker).
- 413 ``{"error": "ObjectTooLarge", "message"}``: the object is larger than ``MAX_OBJECT_BYTES``,
  known from GetObject's Content-Length: its body is not read.
- 502 ``{"error": <AWS error code or botocore exception name>, "message"}``: any other AWS failure.

404 for a missing key, as S3 words it to a caller who may list the bucket: S3 answers GetObject of a
key that does not exist with 404 NoSuchKey only when the caller's s3:ListBucket covers the request,
and with 403 AccessDenied otherwise (API_GetObject.html, "Permissions"). A grant's role has
s3:ListBucket limited by an s3:prefix condition, which a GetObject (carrying no s3:prefix) never
meets, so on AWS a missing key arrives as 403. After a 403 the reader lists the key's own prefix,
which the role may: no object of that key is a 404; an object there, or a listing refused too,
leaves the 403 (whose message says a missing key would look the same). A read that works costs
no extra call.

A missing or invalid configuration variable raises ``ConfigurationError`` (naming the variable), so
Lambda reports a function error. Every invocation prints exactly one JSON log line (the key, the
size, the encoding, never the object's bytes); neither it nor any response ever contains
credentials.
"""

from __future__ import annotations

import base64
from typing import Any

from .config import LAMBDA_RESPONSE_LIMIT, ReaderConfig
from .errors import ConfigurationError  # noqa: F401 - raised to Lambda (invocation.run); tests name it here
from .errors import ObjectTooLarge
from .events import parse_read_event
from .invocation import respond, response_bytes, run
from .reader import ObjectRead, RoleReader

# ----------------------------------------------------------------------------------------------
# Module-level state: built on first use, reused by warm invocations
# ----------------------------------------------------------------------------------------------


_CONFIG: ReaderConfig | None = None
_READER: RoleReader | None = None


def _get_config() -> ReaderConfig:
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = ReaderConfig.from_env()
    return _CONFIG


def _get_reader() -> RoleReader:
    global _READER
    if _READER is None:
        _READER = RoleReader(_get_config())
    return _READER


def _reset_for_tests(reader: RoleReader | None = None) -> None:
    """Forget the cached configuration and clients; optionally install ``reader`` instead."""
    global _CONFIG, _READER
    _CONFIG = reader.config if reader is not None else None
    _READER = reader

# ----------------------------------------------------------------------------------------------
# Handler
# ----------------------------------------------------------------------------------------------


def object_response(found: ObjectRead) -> tuple[dict[str, Any], str]:
    """The 200 response for ``found`` and its encoding: its text when it is UTF-8 and the response
    fits Lambda's limit, else its base64 (which fits for any object up to
    ``MAX_OBJECT_BYTES_CEILING``)."""
    try:
        text = found.data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        response = respond(200, found.response_body("utf-8", text))
        if response_bytes(response) <= LAMBDA_RESPONSE_LIMIT:
            return response, "utf-8"
    encoded = base64.b64encode(found.data).decode("ascii")
    response = respond(200, found.response_body("base64", encoded))
    if response_bytes(response) > LAMBDA_RESPONSE_LIMIT:
        # Not within the ceiling's envelope (config.py); Lambda would refuse the response.
        raise ObjectTooLarge(
            f"s3://{found.bucket}/{found.key} is {found.size} bytes, which with its metadata do not "
            f"fit Lambda's {LAMBDA_RESPONSE_LIMIT}-byte response",
            found.size,
        )
    return response, "base64"


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Validate the event, then read one object from the target bucket as the target role."""

    def read(config: ReaderConfig, log: dict[str, Any]) -> dict[str, Any]:
        request = parse_read_event(event, config)
        log["key"] = request.key
        found = _get_reader().get(request)
        log["size"] = found.size
        log["credentials_refreshed"] = found.credentials_refreshed
        response, log["encoding"] = object_response(found)
        return response

    return run(context, _get_config, read)
