"""The functions' configuration: environment variables, read once and validated, naming the variable.

``Target`` is what both functions read (the role, the bucket, the prefix, the regions, the session name);
``Config`` adds the writer's ``MAX_BODY_BYTES``, ``ReaderConfig`` the reader's ``MAX_OBJECT_BYTES``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from .errors import ConfigurationError
from .events import S3_MAX_KEY_BYTES, key_problem

DEFAULT_MAX_BODY_BYTES = 262_144
DEFAULT_MAX_OBJECT_BYTES = 262_144
# Lambda's limit on a synchronous invocation's response: the JSON the runtime makes of what the handler returns.
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
# The largest MAX_OBJECT_BYTES: 4 MiB, the stack's own limit too (components/settings.py MAX_OBJECT_BYTES_LIMIT).
# An object that large, in base64, is 5,592,408 characters that no JSON escaping grows, which leaves 699,048 bytes
# of the 6 MiB for everything else in the response: its fields, the key (at most 1,024 bytes, 4,096 once escaped
# twice) and the content type and version id as S3 returns them (at most S3's 8 KB of headers, about 57 KB
# escaped). Text can grow more than base64 (a control character is 7 bytes once escaped in the body and again in
# the response), so the reader measures the text's response and answers in base64 when the text would not fit.
MAX_OBJECT_BYTES_CEILING = 4 * 1024 * 1024
FALLBACK_SESSION_NAME = "cross-account-s3-writer"
READER_FALLBACK_SESSION_NAME = "cross-account-s3-reader"
_ROLE_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII)
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_SESSION_NAME_BAD_CHARS_RE = re.compile(r"[^\w+=,.@-]", re.ASCII)
# STS's forms (API_AssumeRole.html, API_Tag.html): a source identity is 2-64 of [\w+=,.@-]; a tag key 1-128 and
# a value 0-256 of letters, digits, spaces and _.:/=+-@; at most 50 tags.
_SOURCE_IDENTITY_RE = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_TAG_KEY_RE = re.compile(r"[\w .:/=+@-]{1,128}", re.ASCII)
_TAG_VALUE_RE = re.compile(r"[\w .:/=+@-]{0,256}", re.ASCII)
MAX_SESSION_TAGS = 50


@dataclass(frozen=True)
class Target:
    """What both functions are configured with: the role to assume, the bucket and prefix it acts on."""

    # The role session's name when AWS_LAMBDA_FUNCTION_NAME is not set (or not usable: see session_name).
    FALLBACK_NAME: ClassVar[str] = FALLBACK_SESSION_NAME

    role_arn: str
    bucket: str
    key_prefix: str
    region: str
    sts_region: str
    external_id: str | None
    function_name: str
    session_tags: Mapping[str, str]  # passed with every AssumeRole, as the grant allows (SESSION_TAGS)
    source_identity: str | None  # likewise (SOURCE_IDENTITY)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read and validate the configuration; raise ConfigurationError naming the variable."""
        return cls(**cls._settings(os.environ if environ is None else environ))

    @classmethod
    def _settings(cls, env: Mapping[str, str]) -> dict[str, Any]:
        """The validated fields, by name; a subclass adds its own."""

        def required(name: str) -> str:
            if name not in env:
                raise ConfigurationError(f"environment variable {name} is required but not set")
            return env[name]

        role_arn = required("TARGET_ROLE_ARN").strip()
        if not _ROLE_ARN_RE.fullmatch(role_arn):
            raise ConfigurationError(
                f"TARGET_ROLE_ARN must be an IAM role ARN like "
                f"arn:aws:iam::111111111111:role/name, got {role_arn!r}"
            )
        bucket = required("TARGET_BUCKET").strip()
        if not _BUCKET_RE.fullmatch(bucket):
            raise ConfigurationError(f"TARGET_BUCKET must be an S3 bucket name, got {bucket!r}")
        key_prefix = _normalise_prefix(required("TARGET_KEY_PREFIX"))

        aws_region = env.get("AWS_REGION", "").strip()
        region = env.get("TARGET_REGION", "").strip() or aws_region
        if not region:
            raise ConfigurationError(
                "TARGET_REGION (the bucket's region) is not set and there is no AWS_REGION "
                "to default to"
            )
        if not _REGION_RE.fullmatch(region):
            raise ConfigurationError(f"TARGET_REGION must be a region like eu-west-1, got {region!r}")

        external_id = env.get("EXTERNAL_ID", "") or None
        if external_id is not None and not _EXTERNAL_ID_RE.fullmatch(external_id):
            # The value itself is a shared secret of sorts: do not echo it.
            raise ConfigurationError(
                "EXTERNAL_ID must be 2-1224 characters from [A-Za-z0-9_+=,.@:/-]"
            )

        return {
            "session_tags": _session_tags(env.get("SESSION_TAGS", "")),
            "source_identity": _source_identity(env.get("SOURCE_IDENTITY", "")),
            "role_arn": role_arn,
            "bucket": bucket,
            "key_prefix": key_prefix,
            "region": region,
            "sts_region": aws_region or region,
            "external_id": external_id,
            "function_name": env.get("AWS_LAMBDA_FUNCTION_NAME", "") or cls.FALLBACK_NAME,
        }

    @property
    def max_key_bytes(self) -> int:
        """How many UTF-8 bytes an event key may have once the prefix is accounted for."""
        return S3_MAX_KEY_BYTES - len(self.key_prefix.encode("utf-8"))

    @property
    def session_name(self) -> str:
        """The role session's name, as CloudTrail shows it."""
        return session_name(self.function_name, self.FALLBACK_NAME)


@dataclass(frozen=True)
class Config(Target):
    """The writer's settings: the target, and the largest body it writes."""

    max_body_bytes: int

    @classmethod
    def _settings(cls, env: Mapping[str, str]) -> dict[str, Any]:
        return super()._settings(env) | {
            "max_body_bytes": _positive_int(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
        }


@dataclass(frozen=True)
class ReaderConfig(Target):
    """The reader's settings: the target, and the largest object it returns."""

    FALLBACK_NAME: ClassVar[str] = READER_FALLBACK_SESSION_NAME

    max_object_bytes: int

    @classmethod
    def _settings(cls, env: Mapping[str, str]) -> dict[str, Any]:
        limit = _positive_int(env, "MAX_OBJECT_BYTES", DEFAULT_MAX_OBJECT_BYTES)
        if limit > MAX_OBJECT_BYTES_CEILING:
            raise ConfigurationError(
                f"MAX_OBJECT_BYTES must be at most {MAX_OBJECT_BYTES_CEILING} (4 MiB: in base64 such an "
                f"object still fits Lambda's 6 MB response), got {limit}"
            )
        return super()._settings(env) | {"max_object_bytes": limit}


def _session_tags(raw: str) -> dict[str, str]:
    """SESSION_TAGS: a JSON object of tag keys to values, in STS's forms."""
    if not raw:
        return {}
    try:
        tags = json.loads(raw)
    except ValueError:
        tags = None
    if (not isinstance(tags, dict) or len(tags) > MAX_SESSION_TAGS
            or not all(isinstance(k, str) and isinstance(v, str) and _TAG_KEY_RE.fullmatch(k)
                       and _TAG_VALUE_RE.fullmatch(v) for k, v in tags.items())):
        raise ConfigurationError(
            f"SESSION_TAGS must be a JSON object of at most {MAX_SESSION_TAGS} tag keys (1-128 of letters, digits, "
            f"spaces and _.:/=+-@) to values (0-256 of the same), got {raw!r}")
    return tags


def _source_identity(raw: str) -> str | None:
    if not raw:
        return None
    if not _SOURCE_IDENTITY_RE.fullmatch(raw):
        raise ConfigurationError(f"SOURCE_IDENTITY must be 2-64 of [A-Za-z0-9_+=,.@-], got {raw!r}")
    return raw


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {raw!r}")
    return value


def _normalise_prefix(prefix: str) -> str:
    if not prefix:
        return ""
    problem = key_problem(prefix)
    if problem:
        raise ConfigurationError(f"TARGET_KEY_PREFIX {problem}, got {prefix!r}")
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    if len(prefix.encode("utf-8")) >= S3_MAX_KEY_BYTES:
        raise ConfigurationError(f"TARGET_KEY_PREFIX must be shorter than {S3_MAX_KEY_BYTES} bytes")
    return prefix


def session_name(function_name: str, fallback: str = FALLBACK_SESSION_NAME) -> str:
    """Role session name for CloudTrail: the function name, in STS's charset and 2-64 chars."""
    name = _SESSION_NAME_BAD_CHARS_RE.sub("-", function_name)[:64]
    return name if len(name) >= 2 else fallback
