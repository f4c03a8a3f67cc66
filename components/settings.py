"""The stacks' configuration: read once, validated as a whole, typed.

``parse_prod`` and ``parse_dev`` are pure: they take the raw values as Pulumi hands them to a program
(strings; lists and maps as JSON text) and return frozen settings, or raise ``ConfigError`` listing every
problem, each naming its key and the expected form. ``load`` is the thin Pulumi-facing wrapper.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

PROJECT = "cross-account-s3"

# Patterns are matched whole (fullmatch) and ASCII-only: \d must not accept other scripts' digits, and "$"
# must not accept a trailing newline.
ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}", re.ASCII)
# IAM role and user names: up to 64 characters of [\w+=,.@-].
IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
GROUP_NAME = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
# S3's naming rules (general purpose buckets): 3-63 of [a-z0-9.-], letter or digit at both ends, no "..",
# not an IP address, and none of the prefixes and suffixes S3 reserves.
BUCKET_NAME = re.compile(
    r"(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)"
    r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?<!-s3alias)(?<!--ol-s3)(?<!\.mrap)(?<!--x-s3)(?<!--table-s3)",
    re.ASCII,
)
# The S3 key prefix the writer role may use: no leading slash, no "..", ends with "/".
KEY_PREFIX = re.compile(r"(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9!_.*'()/-]{1,512}/", re.ASCII)
STACK_NAME = re.compile(r"([\w.-]+/){0,2}[\w.-]+", re.ASCII)
# A customer managed policy (12-digit account) or an AWS managed one (account "aws").
ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}|aws):policy/[\w+=,.@/-]+", re.ASCII)
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)
# Lambda writes CloudWatch Logs retention only in these steps.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)


class ConfigError(pulumi.RunError):
    """The stack's configuration is invalid. A RunError, so `pulumi preview` prints it without a traceback."""

    def __init__(self, stack: str, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Invalid configuration for stack '{stack}':\n{lines}")


@dataclass(frozen=True)
class ProdSettings:
    region: str
    dev_account_id: str
    trusted_role_names: tuple[str, ...]
    trusted_user_names: tuple[str, ...]
    role_name: str = "cross-account-s3-writer"
    bucket_name: str | None = None
    key_prefix: str = "incoming/"
    allow_read: bool = False
    versioning: bool = True
    force_destroy: bool = False
    external_id: str | None = None
    require_mfa: bool = True
    max_session_seconds: int = 3600
    permissions_boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DevSettings:
    region: str
    prod_stack: str
    execution_role_name: str = "cross-account-s3-writer-lambda"
    function_name: str = "cross-account-s3-writer"
    group_name: str = "cross-account-s3-prod-writers"
    group_users: tuple[str, ...] = ()
    lambda_timeout: int = 30
    lambda_memory: int = 256
    log_retention_days: int = 14
    max_body_bytes: int = 262144
    tags: Mapping[str, str] = field(default_factory=dict)


# Every key each stack understands; anything else in our namespace is a typo and is reported.
PROD_KEYS = ("devAccountId", "trustedRoleNames", "trustedUserNames", "roleName", "bucketName", "keyPrefix",
             "allowRead", "versioning", "forceDestroy", "externalId", "requireMfa", "maxSessionDuration",
             "permissionsBoundaryArn", "tags")
DEV_KEYS = ("prodStack", "executionRoleName", "functionName", "groupName", "groupUsers", "lambdaTimeout",
            "lambdaMemory", "logRetentionDays", "maxBodyBytes", "tags")

class ConfigReader:
    """Collects problems instead of stopping at the first, so one preview shows everything to fix.

    Keys are of the namespace `project` unless they name their own (aws:region)."""

    def __init__(self, raw: Mapping[str, str | None], project: str = PROJECT):
        self.raw = {k: v for k, v in raw.items() if v is not None}
        self.project = project
        self.problems: list[str] = []

    def qualified(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    def fail(self, key: str, expected: str, got: Any) -> None:
        self.problems.append(f"{self.qualified(key)}: expected {expected}, got {got!r}")

    def text(self, key: str, pattern: re.Pattern[str] | None, expected: str, default: str | None = None,
             required: bool = False) -> Any:
        value = self.raw.get(key)
        if value is None or value == "":
            if required:
                self.problems.append(f"{self.qualified(key)}: required, {expected}")
            return default
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(key, expected, value)
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        if value in ("true", "True", "false", "False"):  # exactly what Pulumi's Config.get_bool accepts
            return value in ("true", "True")
        self.fail(key, "true or false", value)
        return default

    def number(self, key: str, default: int, valid: Callable[[int], bool], expected: str) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        if not NUMBER.fullmatch(value):
            self.fail(key, expected, value)
            return default
        number = int(value)
        if not valid(number):
            self.fail(key, expected, number)
            return default
        return number

    def names(self, key: str, pattern: re.Pattern[str], expected: str) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return ()
        parsed = parse_json(value)
        if not isinstance(parsed, list) or not all(isinstance(n, str) for n in parsed):
            self.fail(key, f"a list of {expected}", value)
            return ()
        bad = [n for n in parsed if not pattern.fullmatch(n)]
        if bad:
            self.fail(key, f"a list of {expected}", bad)
            return ()
        if len(set(parsed)) != len(parsed):
            self.fail(key, "a list without duplicates", parsed)
        return tuple(parsed)

    def tags(self) -> dict[str, str]:
        value = self.raw.get("tags")
        if value is None:
            return {}
        parsed = parse_json(value)
        if not isinstance(parsed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 128 and len(v) <= 256
            and not k.lower().startswith("aws:")  # AWS reserves the aws: prefix for its own tags
            for k, v in parsed.items()
        ):
            self.fail("tags", "a map of tag names to string values", value)
            return {}
        return parsed

    def unknown(self, known: tuple[str, ...]) -> None:
        for key in sorted(set(self.raw) - set(known)):
            self.problems.append(f"{self.qualified(key)}: unknown key; this stack understands {', '.join(known)}")


def parse_json(value: str) -> Any:
    """A structured config value (Pulumi hands lists and maps over as JSON text), or the text itself."""
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        return value


def _region(reader: ConfigReader, region: str | None) -> str:
    if not region:
        reader.problems.append("aws:region: required, an AWS region such as eu-west-1")
        return ""
    if not REGION.fullmatch(region):
        reader.problems.append(f"aws:region: expected an AWS region such as eu-west-1, got {region!r}")
    return region


def parse_prod(raw: Mapping[str, str | None], region: str | None, stack: str = "prod") -> ProdSettings:
    r = ConfigReader(raw)
    r.unknown(PROD_KEYS)
    settings = ProdSettings(
        region=_region(r, region),
        dev_account_id=r.text("devAccountId", ACCOUNT_ID, "a 12-digit AWS account ID (quote it in YAML)",
                              "", required=True),
        trusted_role_names=r.names("trustedRoleNames", IAM_NAME, "IAM role names (1-64 of [A-Za-z0-9+=,.@_-])"),
        trusted_user_names=r.names("trustedUserNames", IAM_NAME, "IAM user names (1-64 of [A-Za-z0-9+=,.@_-])"),
        role_name=r.text("roleName", IAM_NAME, "an IAM role name (1-64 of [A-Za-z0-9+=,.@_-])",
                         ProdSettings.role_name),
        bucket_name=r.text("bucketName", BUCKET_NAME, "an S3 bucket name (3-63 lowercase letters, digits, . and -)"),
        key_prefix=r.text("keyPrefix", KEY_PREFIX,
                          "a key prefix ending in '/', without a leading '/' or '..' segments, e.g. incoming/",
                          ProdSettings.key_prefix),
        allow_read=r.flag("allowRead", False),
        versioning=r.flag("versioning", True),
        force_destroy=r.flag("forceDestroy", False),
        external_id=r.text("externalId", EXTERNAL_ID, "2-1224 characters of [A-Za-z0-9+=,.@:/_-]"),
        require_mfa=r.flag("requireMfa", True),
        max_session_seconds=r.number("maxSessionDuration", 3600, lambda n: 3600 <= n <= 43200,
                                     "a whole number of seconds from 3600 to 43200"),
        permissions_boundary_arn=r.text("permissionsBoundaryArn", ARN, "an IAM managed policy ARN"),
        tags=r.tags(),
    )
    named = settings.trusted_role_names or settings.trusted_user_names
    if not named and not any(p.startswith(f"{PROJECT}:trusted") for p in r.problems):
        r.problems.append(
            f"{PROJECT}:trustedRoleNames: required, a non-empty list of dev IAM role names that may assume the "
            f"role (and/or {PROJECT}:trustedUserNames, dev IAM user names)"
        )
    if r.problems:
        raise ConfigError(stack, r.problems)
    return settings


def parse_dev(raw: Mapping[str, str | None], region: str | None, stack: str = "dev") -> DevSettings:
    r = ConfigReader(raw)
    r.unknown(DEV_KEYS)
    settings = DevSettings(
        region=_region(r, region),
        prod_stack=r.text("prodStack", STACK_NAME, "a stack reference such as organization/cross-account-s3/prod",
                          "", required=True),
        execution_role_name=r.text("executionRoleName", IAM_NAME, "an IAM role name (1-64 of [A-Za-z0-9+=,.@_-])",
                                   DevSettings.execution_role_name),
        function_name=r.text("functionName", FUNCTION_NAME, "a Lambda function name (1-64 of [A-Za-z0-9_-])",
                             DevSettings.function_name),
        group_name=r.text("groupName", GROUP_NAME, "an IAM group name (1-128 of [A-Za-z0-9+=,.@_-])",
                          DevSettings.group_name),
        group_users=r.names("groupUsers", IAM_NAME, "IAM user names (1-64 of [A-Za-z0-9+=,.@_-])"),
        lambda_timeout=r.number("lambdaTimeout", 30, lambda n: 1 <= n <= 900, "seconds from 1 to 900"),
        lambda_memory=r.number("lambdaMemory", 256, lambda n: 128 <= n <= 10240, "megabytes from 128 to 10240"),
        log_retention_days=r.number("logRetentionDays", 14, lambda n: n in LOG_RETENTION_DAYS,
                                    f"one of CloudWatch's retention periods {LOG_RETENTION_DAYS}"),
        max_body_bytes=r.number("maxBodyBytes", 262144, lambda n: 1 <= n <= 6 * 1024 * 1024,
                                "bytes from 1 to 6291456 (Lambda's synchronous payload limit)"),
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


def load() -> ProdSettings | DevSettings:
    """The current stack's settings. Stacks are named after the account they deploy to: prod or dev."""
    stack = pulumi.get_stack()
    region = pulumi.Config("aws").get("region")
    if stack == "prod":
        return parse_prod(raw_config(PROD_KEYS), region, stack)
    if stack == "dev":
        return parse_dev(raw_config(DEV_KEYS), region, stack)
    raise ConfigError(stack, [f"stack name: expected prod or dev (the account the stack deploys to), got {stack!r}"])
