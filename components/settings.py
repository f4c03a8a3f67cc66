"""The stacks' configuration: read once, validated as a whole, typed.

``parse_prod`` and ``parse_consumer`` are pure: they take the raw values as Pulumi hands them to a program
(strings; lists and maps as JSON text) and return frozen settings, or raise ``ConfigError`` listing every
problem, each naming its key and the expected form. ``load`` is the thin Pulumi-facing wrapper.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.policies import grant_trust_policy

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


class Access(enum.Enum):
    """What a grant's role may do under its prefix. Never deletes, ACLs or policies."""

    WRITE = "write"
    READ = "read"
    READ_WRITE = "read-write"

    @property
    def writes(self) -> bool:
        return self is not Access.READ

    @property
    def reads(self) -> bool:
        return self is not Access.WRITE


class Workload(enum.Enum):
    """The function a consumer stack runs with its grant's role: the writer Lambda, the reader, or none."""

    WRITER = "writer"
    READER = "reader"
    NONE = "none"

    def allowed_by(self, access: Access) -> bool:
        return {Workload.WRITER: access.writes, Workload.READER: access.reads, Workload.NONE: True}[self]


# A grant's role is named after it: "cross-account-s3-<grant>", within IAM's 64 characters.
ROLE_NAME_PREFIX = f"{PROJECT}-"
GRANT_NAME = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{62 - len(ROLE_NAME_PREFIX)}}}[a-z0-9])?", re.ASCII)
# IAM's limit on a role's trust policy, in characters without whitespace (IAM quotas page): 2,048 by default, at
# most 4,096 with a quota increase.
TRUST_POLICY_DEFAULT_LIMIT = 2048
TRUST_POLICY_MAX_LIMIT = 4096


@dataclass(frozen=True)
class Grant:
    """One consumer's access: named principals of one account, one prefix, one access level."""

    name: str
    account_id: str
    role_names: tuple[str, ...]  # workloads in the consumer account, such as its function's execution role
    user_names: tuple[str, ...]  # humans in the consumer account, who assume the role from the AWS CLI
    key_prefix: str
    access: Access
    external_id: str | None = None
    require_mfa: bool = True  # of the humans; workloads cannot present MFA
    max_session_seconds: int = 3600
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def role_name(self) -> str:
        return f"{ROLE_NAME_PREFIX}{self.name}"


@dataclass(frozen=True)
class ProdSettings:
    region: str
    grants: tuple[Grant, ...]
    bucket_name: str | None = None
    versioning: bool = True
    force_destroy: bool = False
    permissions_boundary_arn: str | None = None
    trust_policy_limit: int = TRUST_POLICY_DEFAULT_LIMIT
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
             "tags")
GRANT_KEYS = ("name", "accountId", "roleNames", "userNames", "keyPrefix", "access", "externalId", "requireMfa",
              "maxSessionDuration", "tags")
CONSUMER_KEYS = ("prodStack", "grant", "workload", "executionRoleName", "functionName", "groupName", "groupUsers",
                 "lambdaTimeout", "lambdaMemory", "logRetentionDays", "maxBodyBytes", "maxObjectBytes", "tags")
# The reader returns at most this many bytes of an object: base64 grows them by a third, and Lambda's synchronous
# response is at most 6 MB with its JSON envelope.
MAX_OBJECT_BYTES_LIMIT = 4 * 1024 * 1024

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


class GrantReader(ConfigReader):
    """One grant of the list, read with the same rules; its problems are named ``grants[NAME].KEY`` (or by the
    grant's position while its name is missing or malformed) and collected with the stack's."""

    def __init__(self, values: Mapping[str, Any], label: str, parent: ConfigReader):
        super().__init__({key: _as_config_text(value) for key, value in values.items()}, parent.project)
        self.label = label
        self.problems = parent.problems

    def qualified(self, key: str) -> str:
        return f"{self.project}:grants[{self.label}].{key}"


def _as_config_text(value: Any) -> str | None:
    """A value of a structured config object in the form Pulumi hands scalar config over: text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


IAM_NAMES = "IAM role names (1-64 of [A-Za-z0-9+=,.@_-])"
USER_NAMES = "IAM user names (1-64 of [A-Za-z0-9+=,.@_-])"
KEY_PREFIX_FORM = "a key prefix ending in '/', without a leading '/' or '..' segments, e.g. incoming/"


def _grant(reader: ConfigReader, index: int, value: Any) -> Grant | None:
    if not isinstance(value, dict):
        reader.problems.append(f"{reader.project}:grants[{index}]: expected an object with name, accountId, "
                               f"roleNames and/or userNames, keyPrefix and access, got {value!r}")
        return None
    name = _as_config_text(value.get("name"))  # as the grant's name is read below (a YAML number is its text)
    label = name if name and GRANT_NAME.fullmatch(name) else str(index)
    g = GrantReader(value, label, reader)
    g.unknown(GRANT_KEYS)
    grant = Grant(
        name=g.text("name", GRANT_NAME, f"a grant name: 1-{62 - len(ROLE_NAME_PREFIX) + 2} of [a-z0-9-], starting "
                    f"and ending with a letter or digit (its role is {ROLE_NAME_PREFIX}<name>)", "", required=True),
        account_id=g.text("accountId", ACCOUNT_ID, "a 12-digit AWS account ID (quote it in YAML)", "", required=True),
        role_names=g.names("roleNames", IAM_NAME, IAM_NAMES),
        user_names=g.names("userNames", IAM_NAME, USER_NAMES),
        key_prefix=g.text("keyPrefix", KEY_PREFIX, KEY_PREFIX_FORM, "", required=True),
        access=_access(g),
        external_id=g.text("externalId", EXTERNAL_ID, "2-1224 characters of [A-Za-z0-9+=,.@:/_-]"),
        require_mfa=g.flag("requireMfa", True),
        max_session_seconds=g.number("maxSessionDuration", 3600, lambda n: 3600 <= n <= 43200,
                                     "a whole number of seconds from 3600 to 43200"),
        tags=g.tags(),
    )
    if not grant.role_names and not grant.user_names and "roleNames" not in g.raw and "userNames" not in g.raw:
        reader.problems.append(f"{g.qualified('roleNames')}: required, a non-empty list of the consumer account's "
                               f"IAM role names that may assume the grant's role (and/or userNames, its IAM user "
                               "names)")
    elif not grant.role_names and not grant.user_names:
        reader.problems.append(f"{g.qualified('roleNames')}: the grant names no principal; give roleNames and/or "
                               "userNames, each a non-empty list")
    return grant


def _access(g: ConfigReader) -> Access:
    text = g.text("access", None, "write, read or read-write", "", required=True)
    try:
        return Access(text)
    except ValueError:
        if text:
            g.fail("access", "write, read or read-write", text)
        return Access.WRITE


def _grants(reader: ConfigReader, trust_limit: int) -> tuple[Grant, ...]:
    value = reader.raw.get("grants")
    if value is None:
        reader.problems.append(f"{reader.project}:grants: required, a list of grants (name, accountId, roleNames "
                               "and/or userNames, keyPrefix, access)")
        return ()
    parsed = parse_json(value)
    if not isinstance(parsed, list) or not parsed:
        reader.fail("grants", "a non-empty list of grants", value)
        return ()
    grants = [grant for index, item in enumerate(parsed) if (grant := _grant(reader, index, item)) is not None]
    names = [grant.name for grant in grants if grant.name]
    for name in sorted({name for name in names if names.count(name) > 1}):
        reader.problems.append(f"{reader.project}:grants[{name}].name: {name!r} names more than one grant; each "
                               "grant needs its own name (its role is named after it)")
    for grant in grants:
        size = trust_policy_size(grant)
        if size is not None and size > trust_limit:
            reader.problems.append(
                f"{reader.project}:grants[{grant.name}]: its trust policy would be {size} characters, over IAM's "
                f"limit of {trust_limit} (trustPolicySizeLimit); name fewer principals, or split the grant")
    return tuple(grants)


def trust_policy_size(grant: Grant) -> int | None:
    """The characters IAM counts in the grant's trust policy (no whitespace), or None while the grant is invalid."""
    try:
        document = grant_trust_policy(grant)
    except ValueError:
        return None
    return len(json.dumps(document.to_dict(), separators=(",", ":")))


def parse_prod(raw: Mapping[str, str | None], region: str | None, stack: str = "prod") -> ProdSettings:
    r = ConfigReader(raw)
    r.unknown(PROD_KEYS)
    trust_limit = r.number("trustPolicySizeLimit", TRUST_POLICY_DEFAULT_LIMIT,
                           lambda n: TRUST_POLICY_DEFAULT_LIMIT <= n <= TRUST_POLICY_MAX_LIMIT,
                           f"IAM's trust policy size quota, {TRUST_POLICY_DEFAULT_LIMIT} to {TRUST_POLICY_MAX_LIMIT}")
    settings = ProdSettings(
        region=_region(r, region),
        grants=_grants(r, trust_limit),
        bucket_name=r.text("bucketName", BUCKET_NAME, "an S3 bucket name (3-63 lowercase letters, digits, . and -)"),
        versioning=r.flag("versioning", True),
        force_destroy=r.flag("forceDestroy", False),
        permissions_boundary_arn=r.text("permissionsBoundaryArn", ARN, "an IAM managed policy ARN"),
        trust_policy_limit=trust_limit,
        tags=r.tags(),
    )
    if r.problems:
        raise ConfigError(stack, r.problems)
    return settings


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
