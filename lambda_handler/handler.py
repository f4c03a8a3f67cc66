"""Write one object into the PROD bucket from the DEV account, through the PROD role.

Runs in the DEV account. The execution role's own credentials (the environment variables Lambda
sets) call ``sts:AssumeRole`` on ``TARGET_ROLE_ARN``; the S3 client signs with the resulting
credentials. Those credentials are botocore *refreshable* credentials held at module scope, so a
warm container calls AssumeRole once per credential lifetime (refreshing 15 minutes before
expiry), not once per invocation.

Configuration (environment variables, read and validated on the first invocation):

- ``TARGET_ROLE_ARN``    required; the PROD role to assume.
- ``TARGET_BUCKET``      required; the PROD bucket.
- ``TARGET_KEY_PREFIX``  required, may be ``""``; normalised to end with ``/`` when non-empty.
- ``TARGET_REGION``      region of the bucket; defaults to ``AWS_REGION``.
- ``EXTERNAL_ID``        optional; sent as ``ExternalId`` when set and non-empty.
- ``MAX_BODY_BYTES``     optional positive int, default 262144 (UTF-8 bytes of ``body``).
- ``AWS_LAMBDA_FUNCTION_NAME`` (set by Lambda) names the role session.

Event: a JSON object with only these optional string fields (anything else is rejected):

- ``key``           relative to the prefix; default a fresh ``str(uuid.uuid4())``.
- ``body``          default a small JSON document ``{"function", "request_id", "written_at"}``.
- ``content_type``  default ``application/json`` for the default body, otherwise
                    ``text/plain; charset=utf-8``.

Responses (``body`` is a JSON string):

- 200 ``{"bucket", "key" (including the prefix), "etag" (as S3 returns it), "versionId" (or null)}``
  (``versionId`` is null too when S3's answer to the write was lost and the write was found by
  listing: see ``RoleWriter.put``).
- 400 ``{"error": "InvalidEvent", "message"}``: the message names the field; nothing is written
  and the role is not assumed.
- 403 ``{"error": "AccessDenied", "message"}``: names the role ARN (AssumeRole) or the bucket and
  key (PutObject).
- 409 ``{"error": "ObjectAlreadyExists", "message"}``: the key already holds an object this
  invocation did not write; keys are write-once, nothing was written.
- 502 ``{"error": <AWS error code or botocore exception name>, "message"}``: any other AWS failure.

A missing or invalid configuration variable raises ``ConfigurationError`` (naming the variable), so
Lambda reports a function error. Every invocation prints exactly one JSON log line; neither it nor
any response ever contains credentials.

The role session, the error-to-response mapping and the log line are the reader's too (role.py,
invocation.py); this module and writer.py hold what only the writer does.
"""

from __future__ import annotations

from typing import Any

from .config import Config
from .errors import ConfigurationError  # noqa: F401 - raised to Lambda (invocation.run); tests name it here
from .events import parse_event
from .invocation import respond, run
from .writer import RoleWriter

# ----------------------------------------------------------------------------------------------
# Module-level state: built on first use, reused by warm invocations
# ----------------------------------------------------------------------------------------------


_CONFIG: Config | None = None
_WRITER: RoleWriter | None = None


def _get_config() -> Config:
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = Config.from_env()
    return _CONFIG


def _get_writer() -> RoleWriter:
    global _WRITER
    if _WRITER is None:
        _WRITER = RoleWriter(_get_config())
    return _WRITER


def _reset_for_tests(writer: RoleWriter | None = None) -> None:
    """Forget the cached configuration and clients; optionally install ``writer`` instead."""
    global _CONFIG, _WRITER
    _CONFIG = writer.config if writer is not None else None
    _WRITER = writer

# ----------------------------------------------------------------------------------------------
# Handler
# ----------------------------------------------------------------------------------------------


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Validate the event, then write one object into the target bucket as the target role."""

    def write(config: Config, log: dict[str, Any]) -> dict[str, Any]:
        request = parse_event(event, config, request_id=log["request_id"])
        log["key"] = request.key
        written = _get_writer().put(request)
        log["credentials_refreshed"] = written.credentials_refreshed
        log["lost_response_recovered"] = written.lost_response_recovered
        return respond(200, written.location)

    return run(context, _get_config, write)
