"""Property-based specs for the stacks' configuration (components/settings.py).

Starting from the committed stack files, for every key each stack understands, and for every key of a prod grant
(named ``cross-account-s3:grants[NAME].KEY``, in whichever committed grant hypothesis picks):

- any malformed value of that key makes ``parse_prod`` / ``parse_consumer`` raise ``ConfigError``, and every
  problem it lists names that key (a grant's key by its grant's name, or by its index when the name itself is
  what is malformed);
- any well-formed value is accepted and lands, typed, in the settings (so the first property cannot
  hold vacuously, e.g. by everything being rejected); a whole list of well-formed grants lands as its Grants;
- a malformed ``aws:region`` is named as ``aws:region``;
- with several keys broken at once (grant keys among them), the error names exactly the broken keys.

A grant's values are put in as a stack file can write them: as text, or (hypothesis decides) as the YAML list,
map, number or boolean they stand for, which Pulumi hands over inside the grants' JSON.

"Malformed" and "well-formed" are stated here, per kind of value, independently of the parser's regexes:
ASCII character sets, whole-string matches. These properties found values the parser used to accept
(a trailing newline passed its ``^...$`` checks; ``\\d`` and ``\\w`` matched non-ASCII digits and letters;
S3's reserved bucket names; deeply nested JSON raised RecursionError): ``REGRESSIONS`` below keeps each
as an explicit example.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.settings import (
    CONSUMER_KEYS,
    KMS_KEYS,
    GRANT_KEYS,
    LOG_RETENTION_DAYS,
    MAX_OBJECT_BYTES_LIMIT,
    PROD_KEYS,
    TRUST_POLICY_DEFAULT_LIMIT,
    TRUST_POLICY_MAX_LIMIT,
    Access,
    ConfigError,
    ConsumerSettings,
    Encryption,
    Grant,
    ProdSettings,
    SessionTags,
    SourceIdentity,
    Workload,
    parse_consumer,
    parse_prod,
)
from tests.program.conftest import CONSUMER_STACKS, NS, STACKS, raw
from tests.project import stack_config

PURE = settings(max_examples=40, deadline=None, database=None)


def parser(stack: str) -> Callable[..., Any]:
    return parse_prod if stack == "prod" else parse_consumer


def committed(stack: str) -> tuple[dict[str, str], str]:
    """The committed stack file's values in our namespace, and its aws:region."""
    config = stack_config(stack)
    return raw(config), config["aws:region"]


COMMITTED = {stack: committed(stack) for stack in STACKS}
COMMITTED_GRANTS: list[dict[str, Any]] = json.loads(COMMITTED["prod"][0]["grants"])

_COMMITTED_REGION: Any = object()


def problems_of(stack: str, values: dict[str, str], region: str | None = _COMMITTED_REGION) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parser(stack)(values, COMMITTED[stack][1] if region is _COMMITTED_REGION else region, stack)
    return caught.value.problems


# A problem starts with its key: ns:key, ns:grants[LABEL] (a whole grant), ns:grants[LABEL].key, or aws:region.
_NAMED_KEY = re.compile(rf"({re.escape(NS)}[A-Za-z]+(?:\[[a-z0-9-]+\](?:\.[A-Za-z]+)?)?|aws:region):")


def named_key(problem: str) -> str:
    match = _NAMED_KEY.match(problem)
    assert match, f"problem does not start with the key it is about: {problem!r}"
    return match.group(1)


def names_only(problems: list[str], expected: set[str]) -> bool:
    """Every problem names one of `expected` (the whole grants list also by its items) and each is named."""
    named = {named_key(p) for p in problems}
    if f"{NS}grants" in expected:
        named = {f"{NS}grants" if re.fullmatch(rf"{re.escape(NS)}grants\[\d+\]", k) else k for k in named}
    return named == expected


# --- kinds of value -------------------------------------------------------------------------------

DIGITS = string.digits
IAM_CHARS = string.ascii_letters + DIGITS + "+=,.@_-"
FUNCTION_CHARS = string.ascii_letters + DIGITS + "_-"
BUCKET_CHARS = string.ascii_lowercase + DIGITS + ".-"
PREFIX_CHARS = string.ascii_letters + DIGITS + "!_.*'()-"
EXTERNAL_ID_CHARS = string.ascii_letters + DIGITS + "+=,.@:/_-"
STACK_CHARS = string.ascii_letters + DIGITS + "_.-"
TAG_CHARS = string.ascii_letters + DIGITS + " _.:/=+-@"
GRANT_CHARS = string.ascii_lowercase + DIGITS + "-"
# A grant's role is cross-account-s3-<grant>, and IAM role names are at most 64 characters.
LONGEST_GRANT_NAME = 64 - len("cross-account-s3-")

KIND: dict[str, dict[str, str]] = {
    "prod": {
        "grants": "grants", "bucketName": "bucket", "versioning": "flag", "forceDestroy": "flag",
        "permissionsBoundaryArn": "policy_arn", "trustPolicySizeLimit": "trust_limit", "encryption": "encryption",
        "kmsKeyArn": "kms_key_arn", "kmsKeyDeletionWindowDays": "kms_window", "kmsKeyUsers": "principal_arns",
        "tags": "tags",
    },
    "grant": {
        "name": "grant_name", "accountId": "account_id", "roleNames": "iam_names", "userNames": "iam_names",
        "keyPrefix": "prefix", "access": "access", "externalId": "external_id", "requireMfa": "flag",
        "maxSessionDuration": "session_seconds", "allowSessionTags": "session_tags",
        "sourceIdentity": "source_identity", "principalOrgId": "org_id",
        "revokeSessionsIssuedBefore": "revocation_time", "suspended": "flag", "tags": "tags",
    },
    "consumer": {
        "prodStack": "stack_ref", "grant": "grant_name", "workload": "workload", "executionRoleName": "iam_name",
        "functionName": "function_name", "groupName": "group_name", "groupUsers": "iam_names",
        "lambdaTimeout": "timeout", "lambdaMemory": "memory", "logRetentionDays": "retention",
        "maxBodyBytes": "body_bytes", "maxObjectBytes": "object_bytes", "tags": "tags",
    },
}
KEYS = {"prod": PROD_KEYS, "grant": GRANT_KEYS, "consumer": CONSUMER_KEYS}
# Where each key lands in the settings (ProdSettings, Grant, ConsumerSettings).
FIELD: dict[str, dict[str, str]] = {
    "prod": {"grants": "grants", "bucketName": "bucket_name", "versioning": "versioning",
             "forceDestroy": "force_destroy", "permissionsBoundaryArn": "permissions_boundary_arn",
             "trustPolicySizeLimit": "trust_policy_limit", "encryption": "encryption", "kmsKeyArn": "kms_key_arn",
             "kmsKeyDeletionWindowDays": "kms_deletion_window_days", "kmsKeyUsers": "kms_key_users", "tags": "tags"},
    "grant": {"name": "name", "accountId": "account_id", "roleNames": "role_names", "userNames": "user_names",
              "keyPrefix": "key_prefix", "access": "access", "externalId": "external_id",
              "requireMfa": "require_mfa", "maxSessionDuration": "max_session_seconds",
              "allowSessionTags": "session_tags", "sourceIdentity": "source_identity",
              "principalOrgId": "principal_org_id", "revokeSessionsIssuedBefore": "revoke_sessions_issued_before",
              "suspended": "suspended", "tags": "tags"},
    "consumer": {"prodStack": "prod_stack", "grant": "grant", "workload": "workload",
                 "executionRoleName": "execution_role_name", "functionName": "function_name",
                 "groupName": "group_name", "groupUsers": "group_users", "lambdaTimeout": "lambda_timeout",
                 "lambdaMemory": "lambda_memory", "logRetentionDays": "log_retention_days",
                 "maxBodyBytes": "max_body_bytes", "maxObjectBytes": "max_object_bytes", "tags": "tags"},
}
SETTINGS_TYPE = {"prod": ProdSettings, "grant": Grant, "consumer": ConsumerSettings}
RANGES = {"session_seconds": (3600, 43200), "timeout": (1, 900), "memory": (128, 10240),
          "body_bytes": (1, 6 * 1024 * 1024), "object_bytes": (1, MAX_OBJECT_BYTES_LIMIT),
          "trust_limit": (TRUST_POLICY_DEFAULT_LIMIT, TRUST_POLICY_MAX_LIMIT), "kms_window": (7, 30)}


def typed(kind: str, text: str) -> Any:
    if kind in ("iam_names", "principal_arns"):
        return tuple(json.loads(text))
    if kind == "encryption":
        return Encryption(text)
    if kind == "tags":
        return json.loads(text)
    if kind == "flag":
        return text.lower() == "true"
    if kind in RANGES or kind == "retention":
        return int(text)
    if kind == "access":
        return Access(text)
    if kind == "workload":
        return Workload(text)
    if kind == "grants":
        return tuple(grant_of(g) for g in json.loads(text))
    if kind == "session_tags":
        return session_tags_of(text if text in ("true", "True", "false", "False") else json.loads(text))
    if kind == "source_identity":
        return SourceIdentity(text)
    if kind == "revocation_time":
        return revocation_of(text)
    return text


def session_tags_of(value: Any) -> SessionTags | None:
    """allowSessionTags as the parser reads it: true (any keys), false (none) or a list of keys."""
    if isinstance(value, list):
        return SessionTags(tuple(value))
    return SessionTags() if str(value).lower() == "true" else None


def revocation_of(text: str) -> str:
    """revokeSessionsIssuedBefore in UTC, to the second, rounded up."""
    when = datetime.fromisoformat(text).astimezone(UTC)
    if when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def grant_of(item: dict[str, Any]) -> Grant:
    """The Grant a well-formed grant object stands for (the parser's defaults stated again)."""
    return Grant(name=item["name"], account_id=item["accountId"], role_names=tuple(item.get("roleNames", ())),
                 user_names=tuple(item.get("userNames", ())), key_prefix=item["keyPrefix"],
                 access=Access(item["access"]), external_id=item.get("externalId"),
                 require_mfa=item.get("requireMfa", True), max_session_seconds=item.get("maxSessionDuration", 3600),
                 session_tags=session_tags_of(item.get("allowSessionTags", False)),
                 source_identity=SourceIdentity(item.get("sourceIdentity", "none")),
                 principal_org_id=item.get("principalOrgId"),
                 revoke_sessions_issued_before=(revocation_of(item["revokeSessionsIssuedBefore"])
                                                if "revokeSessionsIssuedBefore" in item else None),
                 suspended=item.get("suspended", False), tags=item.get("tags", {}))


# The forms, stated strictly: ASCII sets, whole string.
def _full(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text, re.ASCII) is not None


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def iam_name_ok(text: Any, longest: int = 64) -> bool:
    return isinstance(text, str) and 1 <= len(text) <= longest and all(c in IAM_CHARS for c in text)


def names_ok(text: str) -> bool:
    names = _json_or_none(text)
    return (isinstance(names, list) and all(iam_name_ok(n) for n in names)
            and len(set(names)) == len(names))


def bucket_ok(text: str) -> bool:
    return (_full(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", text) and ".." not in text
            and not text.startswith("xn--") and not text.endswith("-s3alias"))


def prefix_ok(text: str) -> bool:
    return (_full(r"[A-Za-z0-9!_.*'()/-]{1,512}/", text) and not text.startswith("/")
            and ".." not in text.split("/"))


def tags_ok(text: str) -> bool:
    tags = _json_or_none(text)
    return isinstance(tags, dict) and all(
        isinstance(v, str) and 1 <= len(k) <= 128 and len(v) <= 256 and not k.lower().startswith("aws:")
        for k, v in tags.items()
    )


def grant_list_shape_ok(text: str) -> bool:
    """A non-empty JSON list of objects: whether each object is a valid grant is the grant keys' business."""
    grants = _json_or_none(text)
    return isinstance(grants, list) and bool(grants) and all(isinstance(g, dict) for g in grants)


def session_tags_ok(text: str) -> bool:
    if text in ("true", "True", "false", "False"):
        return True
    keys = _json_or_none(text)
    return (isinstance(keys, list) and bool(keys) and all(
        isinstance(k, str) and _full(r"[A-Za-z0-9 _.:/=+@-]{1,128}", k) and not k.lower().startswith("aws:")
        for k in keys) and len({k.lower() for k in keys}) == len(keys))


def principal_arns_ok(text: str) -> bool:
    arns_ = _json_or_none(text)
    return (isinstance(arns_, list) and len(set(map(str, arns_))) == len(arns_) and all(
        isinstance(a, str) and _full(r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}", a)
        for a in arns_))


def revocation_ok(text: str) -> bool:
    """An ISO 8601 time with a zone, at most a few minutes ahead of now (later would suspend, not revoke)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return False
    return when.tzinfo is not None and when <= datetime.now(UTC) + timedelta(minutes=5)


STRICT: dict[str, Callable[[str], bool]] = {
    "account_id": lambda v: _full(r"[0-9]{12}", v),
    "iam_names": names_ok,
    "iam_name": iam_name_ok,
    "group_name": lambda v: iam_name_ok(v, 128),
    "function_name": lambda v: _full(r"[A-Za-z0-9_-]{1,64}", v),
    "bucket": bucket_ok,
    "prefix": prefix_ok,
    "external_id": lambda v: _full(r"[A-Za-z0-9+=,.@:/_-]{2,1224}", v),
    "policy_arn": lambda v: _full(r"arn:aws(-[a-z]+)*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+", v),
    "stack_ref": lambda v: _full(r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+", v),
    "flag": lambda v: v.lower() in ("true", "false"),
    "tags": tags_ok,
    "retention": lambda v: _full(r"[0-9]+", v) and int(v) in LOG_RETENTION_DAYS,
    "region": lambda v: _full(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}", v),
    "grant_name": lambda v: _full(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", v) and len(v) <= LONGEST_GRANT_NAME,
    "access": lambda v: v in ("write", "read", "read-write"),
    "workload": lambda v: v in ("writer", "reader", "none"),
    "grants": grant_list_shape_ok,
    "session_tags": session_tags_ok,
    "encryption": lambda v: v in ("s3", "kms"),
    # In the bucket's region: the committed prod stack's (S3 uses keys of its own region only).
    "kms_key_arn": lambda v: _full(r"arn:aws(-[a-z]+)*:kms:eu-west-1:[0-9]{12}:key/(mrk-)?[0-9a-f-]{32,36}", v),
    "principal_arns": principal_arns_ok,
    "source_identity": lambda v: v in ("none", "allowed", "required"),
    "org_id": lambda v: _full(r"o-[a-z0-9]{10,32}", v),
    "revocation_time": revocation_ok,
    **{kind: (lambda v, lo=lo, hi=hi: _full(r"[+-]?[0-9]+", v) and lo <= int(v) <= hi)
       for kind, (lo, hi) in RANGES.items()},
}


# --- strategies -------------------------------------------------------------------------------------

ANY_TEXT = st.one_of(st.text(max_size=30), st.text(string.printable, max_size=30))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


def text_of(chars: str, lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=chars, min_size=lo, max_size=hi)


def spoiled(valid: st.SearchStrategy[str], bad_chars: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid value with one bad character put in somewhere."""
    return st.builds(lambda v, c, i: v[:i] + c + v[i:], valid, bad_chars, st.integers(0, 64))


def not_in(chars: str) -> st.SearchStrategy[str]:
    return st.characters().filter(lambda c: c not in chars)


ACCOUNT_ID = text_of(DIGITS, 12, 12)
IAM_NAME = text_of(IAM_CHARS, 1, 64)
LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
BUCKET = (st.lists(LABEL, min_size=1, max_size=4).map(".".join)
          .filter(lambda b: 3 <= len(b) <= 63 and not b.startswith(("xn--", "sthree-"))
                  and not b.endswith(("-s3alias", "--ol-s3", "--x-s3"))
                  and not _full(r"[0-9.]+", b)))  # AWS also forbids IP-address-like names
SEGMENT = text_of(PREFIX_CHARS, 1, 12).filter(lambda s: s != "..")
PREFIX = st.lists(SEGMENT, min_size=1, max_size=4).map(lambda s: "/".join(s) + "/")
STACK_SEGMENT = text_of(STACK_CHARS, 1, 16)
TAG_TEXT = text_of(TAG_CHARS, 1, 40)
GRANT_NAME = st.from_regex(rf"[a-z0-9]([a-z0-9-]{{0,{LONGEST_GRANT_NAME - 2}}}[a-z0-9])?", fullmatch=True)
TAGS = st.dictionaries(TAG_TEXT.filter(lambda k: not k.lower().startswith("aws:")),  # AWS reserves aws:
                       text_of(TAG_CHARS, 0, 40), max_size=4)
# External IDs short enough that the committed grants' trust policies (one sts:ExternalId per statement) stay
# within IAM's default size limit; a longer, well-formed one is refused as the grant's size (test_settings.py).
GRANT_EXTERNAL_ID = text_of(EXTERNAL_ID_CHARS, 2, 400)


SESSION_TAG_KEYS = st.lists(TAG_TEXT.filter(lambda k: not k.lower().startswith("aws:")), min_size=1, max_size=4,
                            unique_by=str.lower)
ORG_ID = st.from_regex(r"o-[a-z0-9]{10,32}", fullmatch=True)
KMS_KEY_ARN = st.builds("arn:aws:kms:eu-west-1:{}:key/{}".format, ACCOUNT_ID, st.uuids().map(str))
PRINCIPAL_ARN = st.builds("arn:aws:iam::{}:{}/{}".format, ACCOUNT_ID, st.sampled_from(["role", "user"]), IAM_NAME)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))])
REVOCATION_TIME = st.datetimes(datetime(2000, 1, 1), datetime(2025, 12, 31), timezones=ZONES).map(
    lambda when: when.isoformat().replace("+00:00", "Z"))


def names_list(min_size: int = 0) -> st.SearchStrategy[str]:
    return st.lists(IAM_NAME, min_size=min_size, max_size=4, unique=True).map(json.dumps)


def number(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(str)


@st.composite
def grant_objects(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed grant as a stack file writes it, optional keys present or not."""
    names = st.lists(IAM_NAME, max_size=3, unique=True)
    roles, users = draw(names), draw(names)
    if not roles and not users:
        roles = [draw(IAM_NAME)]
    grant: dict[str, Any] = {"name": draw(GRANT_NAME), "accountId": draw(ACCOUNT_ID), "keyPrefix": draw(PREFIX),
                             "access": draw(st.sampled_from([a.value for a in Access]))}
    if roles or draw(st.booleans()):
        grant["roleNames"] = roles
    if users or draw(st.booleans()):
        grant["userNames"] = users
    optional = {"externalId": text_of(EXTERNAL_ID_CHARS, 2, 100), "requireMfa": st.booleans(),
                "maxSessionDuration": st.integers(3600, 43200), "tags": TAGS,
                "allowSessionTags": st.booleans() | SESSION_TAG_KEYS,
                "sourceIdentity": st.sampled_from([s.value for s in SourceIdentity]), "principalOrgId": ORG_ID,
                "revokeSessionsIssuedBefore": REVOCATION_TIME, "suspended": st.booleans()}
    for key, values in optional.items():
        if draw(st.booleans()):
            grant[key] = draw(values)
    return grant


VALID: dict[str, st.SearchStrategy[str]] = {
    "account_id": ACCOUNT_ID,
    "iam_names": names_list(min_size=1),
    "iam_name": IAM_NAME,
    "group_name": text_of(IAM_CHARS, 1, 128),
    "function_name": text_of(FUNCTION_CHARS, 1, 64),
    "bucket": BUCKET,
    "prefix": PREFIX,
    "external_id": text_of(EXTERNAL_ID_CHARS, 2, 1224),
    "policy_arn": st.builds("arn:{}:iam::{}:policy/{}".format,
                            st.sampled_from(["aws", "aws-cn", "aws-us-gov"]), ACCOUNT_ID | st.just("aws"),
                            text_of(IAM_CHARS + "/", 1, 60)),
    "stack_ref": st.lists(STACK_SEGMENT, min_size=1, max_size=3).map("/".join),
    "flag": st.sampled_from(["true", "false", "True", "False"]),
    "tags": TAGS.map(json.dumps),
    "retention": st.sampled_from(LOG_RETENTION_DAYS).map(str),
    "grant_name": GRANT_NAME,
    "access": st.sampled_from([a.value for a in Access]),
    "workload": st.sampled_from([w.value for w in Workload]),
    "grants": st.lists(grant_objects(), min_size=1, max_size=3, unique_by=lambda g: g["name"]).map(json.dumps),
    "session_tags": st.one_of(st.sampled_from(["true", "false", "True", "False"]), SESSION_TAG_KEYS.map(json.dumps)),
    "source_identity": st.sampled_from([s.value for s in SourceIdentity]),
    "org_id": ORG_ID,
    "revocation_time": REVOCATION_TIME,
    "encryption": st.sampled_from(["s3", "kms"]),
    "kms_key_arn": KMS_KEY_ARN,
    "principal_arns": st.lists(PRINCIPAL_ARN, max_size=3, unique=True).map(json.dumps),
    **{kind: number(lo, hi) for kind, (lo, hi) in RANGES.items()},
}
VALID_REGION = st.one_of(
    st.sampled_from(["eu-west-1", "us-east-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1",
                     "il-central-1", "us-isob-east-1"]),
    st.from_regex(r"[a-z]{2}-[a-z]{3,10}-[1-9]", fullmatch=True),
)


def non_numeric(around: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    return st.one_of(
        ANY_TEXT.filter(lambda v: not any(c.isdigit() for c in v)),  # no digit at all
        st.builds("{}.0".format, around), st.builds("{}e0".format, around),
        st.builds("0x{:x}".format, around.filter(lambda n: n >= 0)), st.builds("{}s".format, around),
        st.builds("{0} {0}".format, around),
        st.builds("+{}".format, around), st.builds(lambda n: f"{n:_}", around.filter(lambda n: n >= 1000)),
        st.builds(" {}\n".format, around),
    )


def out_of_range(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1)).map(str)


def one_of_words(words: list[str]) -> st.SearchStrategy[str]:
    """Near misses of a closed set of words: case, spacing, neighbours, anything."""
    return st.one_of(
        ANY_TEXT,
        st.sampled_from(words).map(str.upper), st.sampled_from(words).map(str.title),
        st.sampled_from(words).map(" {}".format), st.sampled_from(words).map("{}\n".format),
        st.sampled_from(words).map(lambda w: w.replace("-", "_")),
    )


NOT_A_LIST = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                       st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=3)).map(json.dumps)
BAD_IAM_NAME = st.one_of(st.just(""), text_of(IAM_CHARS, 65, 80), spoiled(IAM_NAME, not_in(IAM_CHARS)))

CANDIDATES: dict[str, st.SearchStrategy[str]] = {
    "account_id": st.one_of(text_of(DIGITS, 0, 11), text_of(DIGITS, 13, 30),
                            spoiled(ACCOUNT_ID, not_in(DIGITS)),
                            st.builds(lambda v, c, i: v[:i] + c + v[i + 1:], ACCOUNT_ID, not_in(DIGITS),
                                      st.integers(0, 11)),
                            ANY_TEXT),
    "iam_names": st.one_of(
        ANY_TEXT,  # not JSON at all, e.g. writer
        NOT_A_LIST,
        st.lists(JSON_VALUES, min_size=1, max_size=3)
        .filter(lambda ns: not all(isinstance(n, str) for n in ns)).map(json.dumps),
        st.builds(lambda good, bad, i: json.dumps(good[:i] + [bad] + good[i:]),
                  st.lists(IAM_NAME, max_size=3, unique=True), BAD_IAM_NAME, st.integers(0, 3)),
        st.lists(IAM_NAME, min_size=1, max_size=3).map(lambda ns: json.dumps([*ns, ns[0]])),  # duplicate
    ),
    "iam_name": st.one_of(BAD_IAM_NAME, ANY_TEXT),
    "group_name": st.one_of(text_of(IAM_CHARS, 129, 140), spoiled(IAM_NAME, not_in(IAM_CHARS)), ANY_TEXT),
    "function_name": st.one_of(text_of(FUNCTION_CHARS, 65, 80), spoiled(IAM_NAME, not_in(FUNCTION_CHARS)),
                               ANY_TEXT),
    "bucket": st.one_of(
        text_of(BUCKET_CHARS, 1, 2), text_of(string.ascii_lowercase + DIGITS, 64, 80),
        spoiled(BUCKET, not_in(BUCKET_CHARS)),
        st.builds("{}{}".format, st.sampled_from(["-", ".", "xn--"]), BUCKET),
        st.builds("{}{}".format, BUCKET, st.sampled_from(["-", ".", "-s3alias"])),
        st.builds("{}..{}".format, BUCKET, BUCKET),
        ANY_TEXT.filter(lambda v: not _full(r"[a-z0-9.-]{3,63}", v)),  # a bad character or length
    ),
    "prefix": st.one_of(
        st.builds("/{}".format, PREFIX | st.just("")),
        st.builds(lambda segs, i: "/".join([*segs[:i], "..", *segs[i:]]) + "/",
                  st.lists(SEGMENT, max_size=3), st.integers(0, 3)),
        PREFIX.map(lambda p: p.rstrip("/")),
        spoiled(PREFIX, not_in(PREFIX_CHARS + "/")),
        st.just("a" * 513 + "/"),
        ANY_TEXT,
    ),
    "external_id": st.one_of(text_of(EXTERNAL_ID_CHARS, 1, 1), text_of(EXTERNAL_ID_CHARS, 1225, 1300),
                             spoiled(text_of(EXTERNAL_ID_CHARS, 2, 40), not_in(EXTERNAL_ID_CHARS)),
                             ANY_TEXT),
    "policy_arn": st.one_of(
        st.builds("arn:aws:iam::{}:{}/{}".format, ACCOUNT_ID, st.sampled_from(["role", "user", "group"]),
                  IAM_NAME),
        st.builds("arn:aws:{}::{}:policy/{}".format, st.sampled_from(["s3", "sts", "kms", ""]), ACCOUNT_ID,
                  IAM_NAME),
        st.builds("arn:aws:iam::{}:policy/{}".format, text_of(DIGITS, 0, 11) | text_of(DIGITS, 13, 14),
                  IAM_NAME),
        st.builds("arn:aws:iam::{}:policy/".format, ACCOUNT_ID),
        st.builds("arn:aws:s3:::{}".format, BUCKET),
        IAM_NAME,  # a policy name, not its ARN
        ANY_TEXT,
    ),
    "stack_ref": st.one_of(
        st.lists(STACK_SEGMENT, min_size=4, max_size=6).map("/".join),  # too many segments
        st.lists(STACK_SEGMENT, min_size=1, max_size=2).map(lambda s: "/".join(s) + "/"),
        st.lists(STACK_SEGMENT, min_size=1, max_size=2).map(lambda s: "/" + "/".join(s)),
        st.builds("{}//{}".format, STACK_SEGMENT, STACK_SEGMENT),
        spoiled(STACK_SEGMENT, not_in(STACK_CHARS + "/")),
        ANY_TEXT,
    ),
    "flag": st.one_of(ANY_TEXT, st.sampled_from(["yes", "no", "1", "0", "on", " true", "false ", "t"])),
    "tags": st.one_of(
        ANY_TEXT,
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                  st.lists(JSON_VALUES, max_size=3)).map(json.dumps),
        st.dictionaries(TAG_TEXT, JSON_VALUES, min_size=1, max_size=3)
        .filter(lambda d: not all(isinstance(v, str) for v in d.values())).map(json.dumps),
        st.builds(lambda tags, k, v: json.dumps(tags | {k: v}),
                  st.dictionaries(TAG_TEXT, TAG_TEXT, max_size=2),
                  st.just("") | text_of(TAG_CHARS, 129, 140), text_of(TAG_CHARS, 0, 10)),
        st.builds(lambda tags, k, v: json.dumps(tags | {k: v}),
                  st.dictionaries(TAG_TEXT, TAG_TEXT, max_size=2), TAG_TEXT, text_of(TAG_CHARS, 257, 270)),
        st.builds(lambda tags, k: json.dumps(tags | {k: "x"}), TAGS, st.sampled_from(["aws:x", "AWS:created"])),
    ),
    "retention": st.one_of(st.integers().filter(lambda n: n not in LOG_RETENTION_DAYS).map(str),
                           non_numeric(st.sampled_from(LOG_RETENTION_DAYS))),
    "grant_name": st.one_of(
        text_of(GRANT_CHARS, LONGEST_GRANT_NAME + 1, LONGEST_GRANT_NAME + 10),  # its role name would be too long
        st.builds("-{}".format, GRANT_NAME), st.builds("{}-".format, GRANT_NAME),
        GRANT_NAME.map(str.upper), spoiled(GRANT_NAME, not_in(GRANT_CHARS)),
        ANY_TEXT,
    ),
    "access": one_of_words(["write", "read", "read-write"]) | st.sampled_from(["readwrite", "rw", "writer", "all"]),
    "workload": one_of_words(["writer", "reader", "none"]) | st.sampled_from(["write", "read", "both", "null"]),
    "grants": st.one_of(
        ANY_TEXT,  # not JSON, or a JSON scalar
        NOT_A_LIST,
        st.just("[]"),
        st.lists(JSON_VALUES.filter(lambda v: not isinstance(v, dict)), min_size=1, max_size=3).map(json.dumps),
    ),
    "session_tags": st.one_of(
        ANY_TEXT, st.just("[]"), st.sampled_from(["yes", "1", "any", '"true"']),
        st.lists(JSON_VALUES, min_size=1, max_size=3).map(json.dumps),
        st.builds(lambda keys, bad: json.dumps([*keys, bad]), SESSION_TAG_KEYS,
                  st.sampled_from(["aws:x", "AWS:y", "", "a" * 129, "naïve", "semi;colon"])),
        SESSION_TAG_KEYS.map(lambda keys: json.dumps([*keys, keys[0].swapcase() if keys[0].swapcase() != keys[0]
                                                      else keys[0]])),  # one key twice, maybe in another case
    ),
    "source_identity": one_of_words(["none", "allowed", "required"]) | st.sampled_from(["true", "require", "optional"]),
    "encryption": one_of_words(["s3", "kms"]) | st.sampled_from(["AES256", "aws:kms", "sse-kms", "none"]),
    "kms_key_arn": st.one_of(
        ANY_TEXT, KMS_KEY_ARN.map(lambda a: a.replace("eu-west-1", "us-east-1")),  # another region's key
        KMS_KEY_ARN.map(lambda a: a.replace(":key/", ":alias/")), KMS_KEY_ARN.map(lambda a: a.split("/")[-1]),
        KMS_KEY_ARN.map(lambda a: a.replace("arn:aws:kms", "arn:aws:iam")), KMS_KEY_ARN.map("{}\n".format)),
    "principal_arns": st.one_of(
        ANY_TEXT, NOT_A_LIST,
        st.lists(PRINCIPAL_ARN, min_size=1, max_size=2).map(lambda a: json.dumps([*a, a[0]])),  # duplicate
        st.builds(lambda good, bad: json.dumps([*good, bad]), st.lists(PRINCIPAL_ARN, max_size=2, unique=True),
                  st.one_of(IAM_NAME, ACCOUNT_ID.map("arn:aws:iam::{}:root".format),
                            ACCOUNT_ID.map("arn:aws:iam::{}:group/g".format), KMS_KEY_ARN))),
    "org_id": st.one_of(ANY_TEXT, st.from_regex(r"o-[a-z0-9]{1,9}", fullmatch=True),
                        st.from_regex(r"o-[a-z0-9]{33,40}", fullmatch=True), ORG_ID.map(str.upper),
                        ORG_ID.map(lambda o: "r-" + o[2:]), ORG_ID.map(" {}".format)),
    "revocation_time": st.one_of(
        ANY_TEXT, REVOCATION_TIME.map(lambda t: t.replace("Z", "")[:19]),  # without a zone
        st.dates().map(str),
        st.datetimes(datetime(2100, 1, 1), datetime(2999, 1, 1), timezones=ZONES).map(datetime.isoformat),
    ),
    **{kind: st.one_of(out_of_range(lo, hi), non_numeric(st.integers(lo, hi)))
       for kind, (lo, hi) in RANGES.items()},
}
# An empty text value means "not set" for the optional text keys (the default applies): not malformed.
EMPTY_MEANS_UNSET = {"iam_name", "group_name", "function_name", "bucket", "external_id", "policy_arn", "workload",
                     "source_identity", "org_id", "revocation_time", "encryption", "kms_key_arn"}
# ... except where the key is required: then "" is malformed ("required, ...").
REQUIRED = {("grant", "name"), ("grant", "accountId"), ("grant", "keyPrefix"), ("grant", "access"),
            ("consumer", "prodStack"), ("consumer", "grant")}


def malformed(kind: str, required: bool) -> st.SearchStrategy[str]:
    return CANDIDATES[kind].filter(
        lambda v: not STRICT[kind](v) and (required or v != "" or kind not in EMPTY_MEANS_UNSET))


MALFORMED_REGION = st.one_of(
    st.none(), st.just(""),
    st.sampled_from(["europe", "EU-WEST-1", "eu-west", "eu_west_1", "euw1", "eu-west-100", " eu-west-1",
                     "eu-west-1\n", "eu-west-١"]),
    ANY_TEXT,
).filter(lambda v: v is None or not STRICT["region"](v))


# --- where a value goes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One key of one stack: a top-level key, or `key` of the committed grant at `grant` (an index)."""

    stack: str
    key: str
    grant: int | None = None

    @property
    def scope(self) -> str:
        return "prod" if self.stack == "prod" and self.grant is None else "grant" if self.grant is not None \
            else "consumer"

    @property
    def kind(self) -> str:
        return KIND[self.scope][self.key]

    @property
    def required(self) -> bool:
        return (self.scope, self.key) in REQUIRED

    def named(self, broken: Collection[Slot] = ()) -> str:
        """The key a problem about this slot starts with, given which slots are broken (a grant whose own name is
        broken is named by its index)."""
        if self.grant is None:
            return f"{NS}{self.key}"
        name_broken = self.key == "name" or Slot(self.stack, "name", self.grant) in broken
        label = str(self.grant) if name_broken else COMMITTED_GRANTS[self.grant]["name"]
        return f"{NS}grants[{label}].{self.key}"

    def put(self, values: dict[str, str], value: str, *, as_yaml: bool = False, well_formed: bool = False) -> None:
        if self.grant is None:
            values[self.key] = value
            return
        grants = json.loads(values["grants"])
        grants[self.grant][self.key] = yaml_typed(self.kind, value, well_formed) if as_yaml else value
        values["grants"] = json.dumps(grants)

    def parsed(self, settings_: Any) -> Any:
        holder = settings_ if self.grant is None else settings_.grants[self.grant]
        return getattr(holder, FIELD[self.scope][self.key])

    @property
    def id(self) -> str:
        return f"{self.stack}-{self.key}" if self.grant is None else f"{self.stack}-grants[].{self.key}"


def yaml_typed(kind: str, text: str, well_formed: bool) -> Any:
    """The value as a stack file can write it unquoted: a list, map, number or boolean (JSON inside grants)."""
    if kind in ("iam_names", "tags", "principal_arns"):
        parsed = _json_or_none(text)
        return parsed if isinstance(parsed, (list, dict)) else text
    if well_formed and (kind in RANGES or kind == "retention"):
        return int(text)
    if well_formed and kind in ("flag", "session_tags") and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if kind == "session_tags":
        parsed = _json_or_none(text)
        return parsed if isinstance(parsed, list) else text
    return text


# Each top-level key of each stack, and each grant key (the grant is drawn: any committed grant).
TOP_SLOTS = [Slot(stack, key) for stack in STACKS for key in KEYS["prod" if stack == "prod" else "consumer"]]
GRANT_KEY_SLOTS = [Slot("prod", key, 0) for key in GRANT_KEYS]
ALL_SLOTS = TOP_SLOTS + GRANT_KEY_SLOTS


def draw_slot(data: st.DataObject, slot: Slot) -> Slot:
    if slot.grant is None:
        return slot
    index = data.draw(st.integers(0, len(COMMITTED_GRANTS) - 1), label="grant")
    return Slot(slot.stack, slot.key, index)


# --- properties ---------------------------------------------------------------------------------------


def test_every_key_of_every_stack_and_grant_has_a_kind_and_the_committed_config_is_valid() -> None:
    assert CONSUMER_STACKS, "no consumer stack file"
    for scope in KIND:
        assert set(KIND[scope]) == set(KEYS[scope]) == set(FIELD[scope]), scope
        assert set(FIELD[scope].values()) <= set(SETTINGS_TYPE[scope].__dataclass_fields__), scope
        assert set(KIND[scope].values()) <= set(STRICT) & set(VALID) & set(CANDIDATES), scope
    for stack in STACKS:
        values, region = COMMITTED[stack]
        parser(stack)(values, region, stack)
    assert len(COMMITTED_GRANTS) >= 2  # the grant properties pick among several
    assert {slot.id for slot in ALL_SLOTS} == {f"prod-{k}" for k in PROD_KEYS} | {
        f"prod-grants[].{k}" for k in GRANT_KEYS} | {f"{s}-{k}" for s in CONSUMER_STACKS for k in CONSUMER_KEYS}


@pytest.mark.parametrize("slot", ALL_SLOTS, ids=lambda s: s.id)
@PURE
@given(data=st.data())
def test_a_malformed_value_is_rejected_naming_its_key(slot: Slot, data: st.DataObject) -> None:
    slot = draw_slot(data, slot)
    value = data.draw(malformed(slot.kind, slot.required), label=slot.key)
    values = dict(COMMITTED[slot.stack][0])
    slot.put(values, value, as_yaml=data.draw(st.booleans(), label="as YAML"))

    problems = problems_of(slot.stack, values)

    assert names_only(problems, {slot.named()}), problems


@pytest.mark.parametrize("slot", ALL_SLOTS, ids=lambda s: s.id)
@PURE
@given(data=st.data())
def test_a_well_formed_value_is_accepted_as_given(slot: Slot, data: st.DataObject) -> None:
    slot = draw_slot(data, slot)
    kind = slot.kind
    strategy = GRANT_EXTERNAL_ID if slot.scope == "grant" and kind == "external_id" else VALID[kind]
    if slot.scope == "grant" and slot.key == "name":  # another grant's name would be a duplicate
        others = {g["name"] for i, g in enumerate(COMMITTED_GRANTS) if i != slot.grant}
        strategy = strategy.filter(lambda v: v not in others)
    value = data.draw(strategy, label=slot.key)
    assert STRICT[kind](value)
    values, region = dict(COMMITTED[slot.stack][0]), COMMITTED[slot.stack][1]
    slot.put(values, value, as_yaml=data.draw(st.booleans(), label="as YAML"), well_formed=True)
    if (slot.key, value) == ("encryption", "s3"):  # the kms keys go with kms (test_settings.py refuses them)
        values = {k: v for k, v in values.items() if k not in KMS_KEYS}
    if slot.key == "kmsKeyArn":  # the stack does not manage a key of kmsKeyArn: no deletion window for it
        values.pop("kmsKeyDeletionWindowDays", None)

    settings_ = parser(slot.stack)(values, region, slot.stack)

    assert slot.parsed(settings_) == typed(kind, value)


@pytest.mark.parametrize("stack", STACKS)
@settings(PURE, max_examples=100)
@given(region=MALFORMED_REGION)
def test_a_malformed_region_is_named_as_aws_region(stack: str, region: str | None) -> None:
    values, _ = COMMITTED[stack]
    assert [named_key(p) for p in problems_of(stack, values, region)] == ["aws:region"]


@pytest.mark.parametrize("stack", STACKS)
@settings(PURE, max_examples=50)
@given(region=VALID_REGION)
def test_a_well_formed_region_is_accepted(stack: str, region: str) -> None:
    values, _ = COMMITTED[stack]
    assert parser(stack)(values, region, stack).region == region


def breakable_slots(stack: str) -> list[Slot]:
    """The keys that can be broken together: the whole grants list is left whole when its grants' keys break."""
    if stack != "prod":
        return [slot for slot in TOP_SLOTS if slot.stack == stack]
    return [slot for slot in TOP_SLOTS if slot.stack == "prod" and slot.key != "grants"] + [
        Slot("prod", key, index) for index in range(len(COMMITTED_GRANTS)) for key in GRANT_KEYS]


@pytest.mark.parametrize("stack", STACKS)
@settings(PURE, max_examples=60)
@given(data=st.data())
def test_with_several_keys_broken_every_one_is_named(stack: str, data: st.DataObject) -> None:
    values, region = dict(COMMITTED[stack][0]), COMMITTED[stack][1]
    broken = data.draw(st.sets(st.sampled_from(breakable_slots(stack)), min_size=2, max_size=6), label="broken")
    for slot in sorted(broken, key=lambda s: (-1 if s.grant is None else s.grant, s.key)):
        slot.put(values, data.draw(malformed(slot.kind, slot.required), label=slot.named()),
                 as_yaml=data.draw(st.booleans(), label="as YAML"))
    bad_region = data.draw(st.booleans(), label="region broken too")
    if bad_region:
        region = data.draw(MALFORMED_REGION, label="aws:region")

    problems = problems_of(stack, values, region)

    expected = {slot.named(broken) for slot in broken} | ({"aws:region"} if bad_region else set())
    assert {named_key(p) for p in problems} == expected, problems


# --- regressions: values the properties above found accepted, now rejected ------------------------------

DEV_WRITER = "grants[dev-writer]"

REGRESSIONS = [
    # A trailing newline passes every ^...$ check (re.match: $ also matches before a final "\n").
    pytest.param("prod", f"{DEV_WRITER}.accountId", "222222222222\n", id="account-id-trailing-newline"),
    pytest.param("prod", f"{DEV_WRITER}.keyPrefix", "incoming/\n", id="key-prefix-trailing-newline"),
    pytest.param("prod", "grants[0].name", "dev-writer\n", id="grant-name-trailing-newline"),
    pytest.param("dev", "executionRoleName", "cross-account-s3-writer-lambda\n", id="role-name-trailing-newline"),
    pytest.param("prod", "permissionsBoundaryArn", "arn:aws:iam::111111111111:policy/b\n",
                 id="arn-trailing-newline"),
    pytest.param("dev", "prodStack", "organization/cross-account-s3/prod\n", id="stack-trailing-newline"),
    pytest.param("dev", "functionName", "cross-account-s3-writer\n", id="function-trailing-newline"),
    pytest.param("analytics", "grant", "analytics-reader\n", id="consumer-grant-trailing-newline"),
    # \d and \w are Unicode-aware: non-ASCII digits and letters pass.
    pytest.param("prod", f"{DEV_WRITER}.accountId", "٢٢٢٢٢٢٢٢٢٢٢٢", id="account-id-arabic-indic-digits"),
    pytest.param("prod", f"{DEV_WRITER}.roleNames", '["rôle"]', id="iam-name-non-ascii"),
    pytest.param("prod", f"{DEV_WRITER}.externalId", "extérieur", id="external-id-non-ascii"),
    pytest.param("dev", "groupName", "gröup", id="group-name-non-ascii"),
    # S3 bucket naming rules the pattern does not check.
    pytest.param("prod", "bucketName", "192.168.5.4", id="bucket-ip-address"),
    pytest.param("prod", "bucketName", "sthree-data", id="bucket-reserved-prefix"),
    pytest.param("prod", "bucketName", "data--ol-s3", id="bucket-reserved-suffix"),
    # Lenient parsing: int() takes signs, underscores, spaces and other scripts' digits; AWS reserves aws: tags.
    pytest.param("prod", f"{DEV_WRITER}.maxSessionDuration", "+3600", id="number-with-sign"),
    pytest.param("prod", f"{DEV_WRITER}.maxSessionDuration", "3_600", id="number-with-underscore"),
    pytest.param("dev", "lambdaTimeout", " 30\n", id="number-with-whitespace"),
    pytest.param("analytics", "maxObjectBytes", "٤٠٩٦", id="number-in-other-digits"),
    pytest.param("prod", "tags", '{"aws:created-by": "me"}', id="tag-with-reserved-prefix"),
    pytest.param("prod", f"{DEV_WRITER}.tags", {"aws:created-by": "me"}, id="grant-tag-with-reserved-prefix"),
]


def with_value(stack: str, path: str, value: Any) -> dict[str, str]:
    """The committed config of `stack` with `path` (a key, or grants[NAME-or-INDEX].KEY) set to `value`."""
    values = dict(COMMITTED[stack][0])
    match = re.fullmatch(r"grants\[([a-z0-9-]+)\]\.(\w+)", path)
    if match is None:
        values[path] = value
        return values
    label, key = match.groups()
    grants = json.loads(values["grants"])
    (grant,) = [g for i, g in enumerate(grants) if label in (g["name"], str(i))]
    grant[key] = value
    values["grants"] = json.dumps(grants)
    return values


@pytest.mark.parametrize(("stack", "path", "value"), REGRESSIONS)
def test_formerly_accepted_malformed_values_are_rejected(stack: str, path: str, value: Any) -> None:
    assert {named_key(p) for p in problems_of(stack, with_value(stack, path, value))} == {NS + path}


@pytest.mark.parametrize("region", ["eu-west-1\n", "eu-west-١"])
def test_region_with_a_trailing_newline_or_non_ascii_digits_is_rejected(region: str) -> None:
    values, _ = COMMITTED["prod"]
    assert [named_key(p) for p in problems_of("prod", values, region)] == ["aws:region"]


def test_an_aws_managed_policy_is_a_valid_permissions_boundary() -> None:
    values, region = COMMITTED["prod"]
    arn = "arn:aws:iam::aws:policy/PowerUserAccess"
    assert parse_prod(values | {"permissionsBoundaryArn": arn}, region).permissions_boundary_arn == arn


@pytest.mark.parametrize("path", ["tags", "grants", f"{DEV_WRITER}.roleNames", f"{DEV_WRITER}.tags"])
def test_deeply_nested_json_is_a_config_error(path: str) -> None:
    problems = problems_of("prod", with_value("prod", path, "[" * 100_000))
    assert names_only(problems, {NS + path}), problems
