"""The function's configuration: environment variables, read once and validated, naming the variable."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigurationError
from .events import S3_MAX_KEY_BYTES, key_problem

DEFAULT_MAX_BODY_BYTES = 262_144
FALLBACK_SESSION_NAME = "cross-account-s3-writer"
_ROLE_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII)
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_SESSION_NAME_BAD_CHARS_RE = re.compile(r"[^\w+=,.@-]", re.ASCII)




@dataclass(frozen=True)
class Config:
    """Validated settings taken from the environment."""

    role_arn: str
    bucket: str
    key_prefix: str
    region: str
    sts_region: str
    external_id: str | None
    max_body_bytes: int
    function_name: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read and validate the configuration; raise ConfigurationError naming the variable."""
        env = os.environ if environ is None else environ

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

        raw_max = env.get("MAX_BODY_BYTES", "").strip()
        try:
            max_body_bytes = int(raw_max) if raw_max else DEFAULT_MAX_BODY_BYTES
        except ValueError:
            max_body_bytes = 0
        if max_body_bytes <= 0:
            raise ConfigurationError(f"MAX_BODY_BYTES must be a positive integer, got {raw_max!r}")

        return cls(
            role_arn=role_arn,
            bucket=bucket,
            key_prefix=key_prefix,
            region=region,
            sts_region=aws_region or region,
            external_id=external_id,
            max_body_bytes=max_body_bytes,
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "") or FALLBACK_SESSION_NAME,
        )

    @property
    def max_key_bytes(self) -> int:
        """How many UTF-8 bytes an event key may have once the prefix is accounted for."""
        return S3_MAX_KEY_BYTES - len(self.key_prefix.encode("utf-8"))


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


def session_name(function_name: str) -> str:
    """Role session name for CloudTrail: the function name, in STS's charset and 2-64 chars."""
    name = _SESSION_NAME_BAD_CHARS_RE.sub("-", function_name)[:64]
    return name if len(name) >= 2 else FALLBACK_SESSION_NAME
