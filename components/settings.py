"""The stacks' configuration: read once, validated as a whole, typed.

``parse_prod`` and ``parse_consumer`` are pure: they take the raw values as Pulumi hands them to a program
(strings; lists and maps as JSON text) and return frozen settings, or raise ``ConfigError`` listing every
problem, each naming its key and the expected form. ``load`` is the thin Pulumi-facing wrapper. The grants of the
prod stack are read by components/grants.py, the reading itself is components/config_reader.py's.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pulumi

from components.config_reader import (
    ACCOUNT_ID,
    IAM_NAME,
    NUMBER,
    PROJECT,
    USER_NAMES,
    ConfigError,
    ConfigReader,
    parse_json,
)
from components.grants import (
    GRANT_KEYS,
    GRANT_NAME,
    KEY_PREFIX,
    TRUST_POLICY_DEFAULT_LIMIT,
    TRUST_POLICY_MAX_LIMIT,
    Access,
    Grant,
    SessionTags,
    SourceIdentity,
    parse_grants,
    trust_policy_size,
)

# Re-exported: what callers (the program, bootstrap/settings.py, the tests) read from here.
__all__ = [
    "ACCOUNT_ID", "BUCKET_NAME", "CONSUMER_KEYS", "FUNCTION_NAME", "GRANT_KEYS", "IAM_NAME", "KEY_PREFIX",
    "LOG_RETENTION_DAYS", "MAX_OBJECT_BYTES_LIMIT", "NUMBER", "PROD_KEYS", "PROJECT", "REGION",
    "TRUST_POLICY_DEFAULT_LIMIT", "TRUST_POLICY_MAX_LIMIT", "Access", "ConfigError", "ConfigReader",
    "ConsumerSettings", "Encryption", "Grant", "ProdSettings", "SessionTags", "SourceIdentity", "Workload", "load",
    "parse_consumer", "parse_json", "parse_prod", "raw_config", "trust_policy_size",
]

REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}", re.ASCII)
GROUP_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
# S3's naming rules (general purpose buckets): 3-63 of [a-z0-9.-], letter or digit at both ends, no "..",
# not an IP address, and none of the prefixes and suffixes S3 reserves.
BUCKET_NAME = re.compile(
    r"(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)"
    r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?<!-s3alias)(?<!--ol-s3)(?<!\.mrap)(?<!--x-s3)(?<!--table-s3)",
    re.ASCII,
)
STACK_NAME = re.compile(r"([\w.-]+/){0,2}[\w.-]+", re.ASCII)
# A customer managed policy (12-digit account) or an AWS managed one (account "aws").
ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+", re.ASCII)
# A KMS key's ARN (not an alias's: the bucket policy compares it with what requests name, and S3 records the ARN).
KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:key/(mrk-)?[0-9a-f-]{32,36}", re.ASCII)
PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}", re.ASCII)
# Lambda writes CloudWatch Logs retention only in these steps.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)


class Encryption(enum.Enum):
    """How the bucket encrypts objects by default: SSE-S3 (AES256), or SSE-KMS with a customer managed key."""

    S3 = "s3"
    KMS = "kms"


class Workload(enum.Enum):
    """The function a consumer stack runs with its grant's role: the writer Lambda, the reader, or none."""

    WRITER = "writer"
    READER = "reader"
    NONE = "none"

    def allowed_by(self, access: Access) -> bool:
        return {Workload.WRITER: access.writes, Workload.READER: access.reads, Workload.NONE: True}[self]


@dataclass(frozen=True)
class ProdSettings:
    region: str
    grants: tuple[Grant, ...]
    bucket_name: str | None = None
    versioning: bool = True
    force_destroy: bool = False
    permissions_boundary_arn: str | None = None
    trust_policy_limit: int = TRUST_POLICY_DEFAULT_LIMIT
    encryption: Encryption = Encryption.S3
    kms_key_arn: str | None = None  # an existing key; None with KMS: the stack creates the bucket's key
    kms_deletion_window_days: int = 30
    kms_key_users: tuple[str, ...] = ()  # prod principals that may read and write objects with the key
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsumerSettings:
    region: str
    prod_stack: str
    grant: str
    workload: Workload = Workload.WRITER
    execution_role_name: str = "cross-account-s3-writer-lambda"
    function_name: str = "cross-account-s3-writer"
    group_name: str = "cross-account-s3-prod-writers"
    group_users: tuple[str, ...] = ()
    lambda_timeout: int = 30
    lambda_memory: int = 256
    log_retention_days: int = 14
    max_body_bytes: int = 262144
    max_object_bytes: int = 262144
    tags: Mapping[str, str] = field(default_factory=dict)


# Every key each stack understands; anything else in our namespace is a typo and is reported.
PROD_KEYS = ("grants", "bucketName", "versioning", "forceDestroy", "permissionsBoundaryArn", "trustPolicySizeLimit",
             "encryption", "kmsKeyArn", "kmsKeyDeletionWindowDays", "kmsKeyUsers", "tags")
# Only with encryption: kms.
KMS_KEYS = ("kmsKeyArn", "kmsKeyDeletionWindowDays", "kmsKeyUsers")
CONSUMER_KEYS = ("prodStack", "grant", "workload", "executionRoleName", "functionName", "groupName", "groupUsers",
                 "lambdaTimeout", "lambdaMemory", "logRetentionDays", "maxBodyBytes", "maxObjectBytes", "tags")
# The reader returns at most this many bytes of an object: base64 grows them by a third, and Lambda's synchronous
# response is at most 6 MB with its JSON envelope.
MAX_OBJECT_BYTES_LIMIT = 4 * 1024 * 1024


def _region(reader: ConfigReader, region: str | None) -> str:
    if not region:
        reader.problems.append("aws:region: required, an AWS region such as eu-west-1")
        return ""
    if not REGION.fullmatch(region):
        reader.problems.append(f"aws:region: expected an AWS region such as eu-west-1, got {region!r}")
    return region


def parse_prod(raw: Mapping[str, str | None], region: str | None, stack: str = "prod",
               now: datetime | None = None) -> ProdSettings:
    """``now`` (default: the clock) is what a grant's revokeSessionsIssuedBefore must not be after."""
    r = ConfigReader(raw)
    r.unknown(PROD_KEYS)
    trust_limit = r.number("trustPolicySizeLimit", TRUST_POLICY_DEFAULT_LIMIT,
                           lambda n: TRUST_POLICY_DEFAULT_LIMIT <= n <= TRUST_POLICY_MAX_LIMIT,
                           f"IAM's trust policy size quota, {TRUST_POLICY_DEFAULT_LIMIT} to {TRUST_POLICY_MAX_LIMIT}")
    settings = ProdSettings(
        region=_region(r, region),
        grants=parse_grants(r, trust_limit, now or datetime.now(UTC)),
        bucket_name=r.text("bucketName", BUCKET_NAME, "an S3 bucket name (3-63 lowercase letters, digits, . and -)"),
        versioning=r.flag("versioning", True),
        force_destroy=r.flag("forceDestroy", False),
        permissions_boundary_arn=r.text("permissionsBoundaryArn", ARN, "an IAM managed policy ARN"),
        trust_policy_limit=trust_limit,
        **_encryption(r, region),
        tags=r.tags(),
    )
    if r.problems:
        raise ConfigError(stack, r.problems)
    return settings


def _encryption(r: ConfigReader, region: str | None) -> dict[str, Any]:
    """encryption and the kms keys that go with it; a kms key without encryption: kms is a mistake, said so."""
    words = ", ".join(e.value for e in Encryption)
    text = r.text("encryption", None, words, Encryption.S3.value)
    try:
        encryption: Encryption | None = Encryption(text)
    except ValueError:
        r.fail("encryption", words, text)
        encryption = None  # unknown: the kms keys are neither required nor out of place
    key_arn = r.text("kmsKeyArn", KMS_KEY_ARN, "a KMS key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, not an alias)")
    key_region = (match["region"] if key_arn and (match := KMS_KEY_ARN.fullmatch(key_arn)) else None)
    if key_region and region and key_region != region:
        r.problems.append(f"{r.qualified('kmsKeyArn')}: the key is in {key_region}, but the bucket is in {region}; "
                          "S3 uses keys of its own region only")
    window = r.number("kmsKeyDeletionWindowDays", 30, lambda n: 7 <= n <= 30, "days from 7 to 30 (KMS's range)")
    users = r.names("kmsKeyUsers", PRINCIPAL_ARN, "IAM role or user ARNs of the prod account")
    if encryption is Encryption.S3:
        for key in KMS_KEYS:
            if key in r.raw:
                r.problems.append(f"{r.qualified(key)}: only with {r.qualified('encryption')}: kms")
    elif key_arn and "kmsKeyDeletionWindowDays" in r.raw:
        r.problems.append(f"{r.qualified('kmsKeyDeletionWindowDays')}: the stack does not manage the key of "
                          f"{r.qualified('kmsKeyArn')}; schedule its deletion where it is managed")
    return {"encryption": encryption or Encryption.S3, "kms_key_arn": key_arn, "kms_deletion_window_days": window,
            "kms_key_users": users}


def parse_consumer(raw: Mapping[str, str | None], region: str | None, stack: str = "dev") -> ConsumerSettings:
    r = ConfigReader(raw)
    r.unknown(CONSUMER_KEYS)
    workload_text = r.text("workload", None, "writer, reader or none", "writer")
    try:
        workload = Workload(workload_text)
    except ValueError:
        r.fail("workload", "writer, reader or none", workload_text)
        workload = Workload.WRITER
    settings = ConsumerSettings(
        region=_region(r, region),
        prod_stack=r.text("prodStack", STACK_NAME, "a stack reference such as organization/cross-account-s3/prod",
                          "", required=True),
        grant=r.text("grant", GRANT_NAME, "the name of one of the prod stack's grants", "", required=True),
        workload=workload,
        execution_role_name=r.text("executionRoleName", IAM_NAME, "an IAM role name (1-64 of [A-Za-z0-9+=,.@_-])",
                                   ConsumerSettings.execution_role_name),
        function_name=r.text("functionName", FUNCTION_NAME, "a Lambda function name (1-64 of [A-Za-z0-9_-])",
                             ConsumerSettings.function_name),
        group_name=r.text("groupName", GROUP_NAME, "an IAM group name (1-128 of [A-Za-z0-9+=,.@_-])",
                          ConsumerSettings.group_name),
        group_users=r.names("groupUsers", IAM_NAME, USER_NAMES),
        lambda_timeout=r.number("lambdaTimeout", 30, lambda n: 1 <= n <= 900, "seconds from 1 to 900"),
        lambda_memory=r.number("lambdaMemory", 256, lambda n: 128 <= n <= 10240, "megabytes from 128 to 10240"),
        log_retention_days=r.number("logRetentionDays", 14, lambda n: n in LOG_RETENTION_DAYS,
                                    f"one of CloudWatch's retention periods {LOG_RETENTION_DAYS}"),
        max_body_bytes=r.number("maxBodyBytes", 262144, lambda n: 1 <= n <= 6 * 1024 * 1024,
                                "bytes from 1 to 6291456 (Lambda's synchronous payload limit)"),
        max_object_bytes=r.number("maxObjectBytes", 262144, lambda n: 1 <= n <= MAX_OBJECT_BYTES_LIMIT,
                                  f"bytes from 1 to {MAX_OBJECT_BYTES_LIMIT} (base64 of it must fit Lambda's 6 MB "
                                  "response)"),
        tags=r.tags(),
    )
    if r.problems:
        raise ConfigError(stack, r.problems)
    return settings


def raw_config(keys: tuple[str, ...], project: str = PROJECT) -> dict[str, str | None]:
    """A namespace's raw values, including keys we do not know (so typos are reported)."""
    config = pulumi.Config(project)
    raw: dict[str, str | None] = {key: config.get(key) for key in keys}
    prefix = f"{project}:"
    for full_key in _all_config_keys():
        if full_key.startswith(prefix):
            raw.setdefault(full_key[len(prefix):], config.get(full_key[len(prefix):]))
    return raw


def _all_config_keys() -> set[str]:
    # The SDK exposes no public list of config keys; these are where the language host puts them.
    from pulumi.runtime import config as runtime_config

    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def load() -> ProdSettings | ConsumerSettings:
    """The current stack's settings: the stack named prod is the data account's, every other stack a consumer's."""
    stack = pulumi.get_stack()
    region = pulumi.Config("aws").get("region")
    if stack == "prod":
        return parse_prod(raw_config(PROD_KEYS), region, stack)
    return parse_consumer(raw_config(CONSUMER_KEYS), region, stack)
