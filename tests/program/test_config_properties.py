"""Property-based specs for the stacks' configuration (components/settings.py).

Starting from the committed stack files, for every key either stack understands:

- any malformed value of that key makes ``parse_prod`` / ``parse_dev`` raise ``ConfigError``, and every
  problem it lists names that key (``cross-account-s3:<key>: ...``);
- any well-formed value is accepted and lands, typed, in the settings (so the first property cannot
  hold vacuously, e.g. by everything being rejected);
- a malformed ``aws:region`` is named as ``aws:region``;
- with several keys broken at once, the error names exactly the broken keys.

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
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.settings import (
    DEV_KEYS,
    LOG_RETENTION_DAYS,
    PROD_KEYS,
    ConfigError,
    DevSettings,
    ProdSettings,
    parse_dev,
    parse_prod,
)
from tests.project import stack_config

NS = "cross-account-s3:"
PARSERS: dict[str, Callable[..., Any]] = {"prod": parse_prod, "dev": parse_dev}
KEYS = {"prod": PROD_KEYS, "dev": DEV_KEYS}

PURE = settings(max_examples=40, deadline=None, database=None)


def committed(stack: str) -> tuple[dict[str, str], str]:
    """The committed stack file's values in our namespace, and its aws:region."""
    config = stack_config(stack)
    return {k[len(NS):]: v for k, v in config.items() if k.startswith(NS)}, config["aws:region"]


COMMITTED = {stack: committed(stack) for stack in PARSERS}


_COMMITTED_REGION: Any = object()


def problems_of(stack: str, raw: dict[str, str], region: str | None = _COMMITTED_REGION) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        PARSERS[stack](raw, COMMITTED[stack][1] if region is _COMMITTED_REGION else region)
    return caught.value.problems


def named_key(problem: str) -> str:
    match = re.match(rf"({NS}[A-Za-z]+|aws:region):", problem)
    assert match, f"problem does not start with the key it is about: {problem!r}"
    return match.group(1)


# --- kinds of value -------------------------------------------------------------------------------

DIGITS = string.digits
IAM_CHARS = string.ascii_letters + DIGITS + "+=,.@_-"
FUNCTION_CHARS = string.ascii_letters + DIGITS + "_-"
BUCKET_CHARS = string.ascii_lowercase + DIGITS + ".-"
PREFIX_CHARS = string.ascii_letters + DIGITS + "!_.*'()-"
EXTERNAL_ID_CHARS = string.ascii_letters + DIGITS + "+=,.@:/_-"
STACK_CHARS = string.ascii_letters + DIGITS + "_.-"
TAG_CHARS = string.ascii_letters + DIGITS + " _.:/=+-@"

KIND: dict[str, dict[str, str]] = {
    "prod": {
        "devAccountId": "account_id", "trustedRoleNames": "iam_names", "trustedUserNames": "iam_names",
        "roleName": "iam_name", "bucketName": "bucket", "keyPrefix": "prefix", "allowRead": "flag",
        "versioning": "flag", "forceDestroy": "flag", "externalId": "external_id", "requireMfa": "flag",
        "maxSessionDuration": "session_seconds", "permissionsBoundaryArn": "policy_arn", "tags": "tags",
    },
    "dev": {
        "prodStack": "stack_ref", "executionRoleName": "iam_name", "functionName": "function_name",
        "groupName": "group_name", "groupUsers": "iam_names", "lambdaTimeout": "timeout",
        "lambdaMemory": "memory", "logRetentionDays": "retention", "maxBodyBytes": "body_bytes",
        "tags": "tags",
    },
}
# Where each key lands in the settings, and how its text becomes that value.
FIELD = {
    "devAccountId": "dev_account_id", "trustedRoleNames": "trusted_role_names",
    "trustedUserNames": "trusted_user_names", "roleName": "role_name", "bucketName": "bucket_name",
    "keyPrefix": "key_prefix", "allowRead": "allow_read", "versioning": "versioning",
    "forceDestroy": "force_destroy", "externalId": "external_id", "requireMfa": "require_mfa",
    "maxSessionDuration": "max_session_seconds", "permissionsBoundaryArn": "permissions_boundary_arn",
    "tags": "tags", "prodStack": "prod_stack", "executionRoleName": "execution_role_name",
    "functionName": "function_name", "groupName": "group_name", "groupUsers": "group_users",
    "lambdaTimeout": "lambda_timeout", "lambdaMemory": "lambda_memory",
    "logRetentionDays": "log_retention_days", "maxBodyBytes": "max_body_bytes",
}
RANGES = {"session_seconds": (3600, 43200), "timeout": (1, 900), "memory": (128, 10240),
          "body_bytes": (1, 6 * 1024 * 1024)}


def typed(kind: str, text: str) -> Any:
    if kind == "iam_names":
        return tuple(json.loads(text))
    if kind == "tags":
        return json.loads(text)
    if kind == "flag":
        return text.lower() == "true"
    if kind in RANGES or kind == "retention":
        return int(text)
    return text


# The forms, stated strictly: ASCII sets, whole string.
def _full(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text, re.ASCII) is not None


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
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


STRICT: dict[str, Callable[[str], bool]] = {
    "account_id": lambda v: _full(r"[0-9]{12}", v),
    "iam_names": names_ok,
    "iam_name": iam_name_ok,
    "group_name": lambda v: iam_name_ok(v, 128),
    "function_name": lambda v: _full(r"[A-Za-z0-9_-]{1,64}", v),
    "bucket": bucket_ok,
    "prefix": prefix_ok,
    "external_id": lambda v: _full(r"[A-Za-z0-9+=,.@:/_-]{2,1224}", v),
    "policy_arn": lambda v: _full(r"arn:aws(-[a-z]+)*:iam::[0-9]{12}:policy/[A-Za-z0-9+=,.@_/-]+", v),
    "stack_ref": lambda v: _full(r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+", v),
    "flag": lambda v: v.lower() in ("true", "false"),
    "tags": tags_ok,
    "retention": lambda v: _full(r"[0-9]+", v) and int(v) in LOG_RETENTION_DAYS,
    "region": lambda v: _full(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}", v),
    **{kind: (lambda v, lo=lo, hi=hi: _full(r"[+-]?[0-9]+", v) and lo <= int(v) <= hi)
       for kind, (lo, hi) in RANGES.items()},
}
# Kinds whose parser regex uses \d or \w (which match non-ASCII digits and letters).
UNICODE_CLASS_KINDS = {"account_id", "iam_names", "iam_name", "group_name", "external_id", "policy_arn",
                       "stack_ref", "region"}
REGEX_KINDS = UNICODE_CLASS_KINDS | {"function_name", "bucket", "prefix"}


def in_known_gap(kind: str, text: str) -> bool:
    """Malformed, but accepted by the parser in one of the known ways (pinned in test_known_gaps)."""
    if kind in REGEX_KINDS and text.endswith("\n"):
        return True
    if kind in UNICODE_CLASS_KINDS and any(ord(c) > 127 and c.isalnum() for c in text):
        return True
    # IAM names inside a JSON list: the same two gaps, one level down.
    names = _json_or_none(text) if kind == "iam_names" else None
    if isinstance(names, list):
        return any(isinstance(n, str) and in_known_gap("iam_name", n) for n in names)
    return False


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


def names_list(min_size: int = 0) -> st.SearchStrategy[str]:
    return st.lists(IAM_NAME, min_size=min_size, max_size=4, unique=True).map(json.dumps)


def number(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(str)


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
                            st.sampled_from(["aws", "aws-cn", "aws-us-gov"]), ACCOUNT_ID,
                            text_of(IAM_CHARS + "/", 1, 60)),
    "stack_ref": st.lists(STACK_SEGMENT, min_size=1, max_size=3).map("/".join),
    "flag": st.sampled_from(["true", "false", "True", "False"]),
    "tags": st.dictionaries(TAG_TEXT.filter(lambda k: not k.lower().startswith("aws:")),  # AWS reserves aws:
                            text_of(TAG_CHARS, 0, 40), max_size=4).map(json.dumps),
    "retention": st.sampled_from(LOG_RETENTION_DAYS).map(str),
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
    )


def out_of_range(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1)).map(str)


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
    ),
    "retention": st.one_of(st.integers().filter(lambda n: n not in LOG_RETENTION_DAYS).map(str),
                           non_numeric(st.sampled_from(LOG_RETENTION_DAYS))),
    **{kind: st.one_of(out_of_range(lo, hi), non_numeric(st.integers(lo, hi)))
       for kind, (lo, hi) in RANGES.items()},
}
# An empty text value means "not set" for the optional text keys (the default applies): not malformed.
EMPTY_MEANS_UNSET = {"iam_name", "group_name", "function_name", "bucket", "prefix", "external_id",
                     "policy_arn"}


MALFORMED: dict[str, st.SearchStrategy[str]] = {
    kind: candidates.filter(
        lambda v, kind=kind: not STRICT[kind](v) and not in_known_gap(kind, v)
        and not (v == "" and kind in EMPTY_MEANS_UNSET)
    )
    for kind, candidates in CANDIDATES.items()
}


MALFORMED_REGION = st.one_of(
    st.none(), st.just(""),
    st.sampled_from(["europe", "EU-WEST-1", "eu-west", "eu_west_1", "euw1", "eu-west-100", " eu-west-1"]),
    ANY_TEXT,
).filter(lambda v: v is None or not (STRICT["region"](v) or in_known_gap("region", v)))

STACK_KEYS = [(stack, key) for stack in PARSERS for key in KEYS[stack]]


# --- properties ---------------------------------------------------------------------------------------


def test_every_key_of_both_stacks_has_a_kind_and_the_committed_config_is_valid() -> None:
    for stack in PARSERS:
        assert set(KIND[stack]) == set(KEYS[stack])
        raw, region = COMMITTED[stack]
        PARSERS[stack](raw, region)
    assert set(FIELD) == set(PROD_KEYS) | set(DEV_KEYS)
    assert {FIELD[k] for k in PROD_KEYS} <= set(ProdSettings.__dataclass_fields__)
    assert {FIELD[k] for k in DEV_KEYS} <= set(DevSettings.__dataclass_fields__)


@pytest.mark.parametrize(("stack", "key"), STACK_KEYS)
@PURE
@given(data=st.data())
def test_a_malformed_value_is_rejected_naming_its_key(stack: str, key: str, data: st.DataObject) -> None:
    raw, _ = COMMITTED[stack]
    value = data.draw(MALFORMED[KIND[stack][key]], label=key)

    problems = problems_of(stack, raw | {key: value})

    assert {named_key(p) for p in problems} == {NS + key}, problems


@pytest.mark.parametrize(("stack", "key"), STACK_KEYS)
@PURE
@given(data=st.data())
def test_a_well_formed_value_is_accepted_as_given(stack: str, key: str, data: st.DataObject) -> None:
    raw, region = COMMITTED[stack]
    kind = KIND[stack][key]
    value = data.draw(VALID[kind], label=key)
    assert STRICT[kind](value)

    settings_ = PARSERS[stack](raw | {key: value}, region)

    assert getattr(settings_, FIELD[key]) == typed(kind, value)


@pytest.mark.parametrize("stack", PARSERS)
@settings(PURE, max_examples=100)
@given(region=MALFORMED_REGION)
def test_a_malformed_region_is_named_as_aws_region(stack: str, region: str | None) -> None:
    raw, _ = COMMITTED[stack]
    with pytest.raises(ConfigError) as caught:
        PARSERS[stack](raw, region)
    assert [named_key(p) for p in caught.value.problems] == ["aws:region"], caught.value.problems


@pytest.mark.parametrize("stack", PARSERS)
@settings(PURE, max_examples=50)
@given(region=VALID_REGION)
def test_a_well_formed_region_is_accepted(stack: str, region: str) -> None:
    raw, _ = COMMITTED[stack]
    assert PARSERS[stack](raw, region).region == region


@pytest.mark.parametrize("stack", PARSERS)
@settings(PURE, max_examples=60)
@given(data=st.data())
def test_with_several_keys_broken_every_one_is_named(stack: str, data: st.DataObject) -> None:
    raw, region = COMMITTED[stack]
    broken = data.draw(st.sets(st.sampled_from(KEYS[stack]), min_size=2), label="broken keys")
    values = {key: data.draw(MALFORMED[KIND[stack][key]], label=key) for key in sorted(broken)}
    bad_region = data.draw(st.booleans(), label="region broken too")
    if bad_region:
        region = data.draw(MALFORMED_REGION, label="aws:region")

    problems = problems_of(stack, raw | values, region)

    expected = {NS + key for key in broken} | ({"aws:region"} if bad_region else set())
    assert {named_key(p) for p in problems} == expected, problems


# --- regressions: values the properties above found accepted, now rejected ------------------------------

REGRESSIONS = [
    # A trailing newline passes every ^...$ check (re.match: $ also matches before a final "\n").
    pytest.param("prod", "devAccountId", "222222222222\n", id="account-id-trailing-newline"),
    pytest.param("prod", "keyPrefix", "incoming/\n", id="key-prefix-trailing-newline"),
    pytest.param("prod", "roleName", "cross-account-s3-writer\n", id="role-name-trailing-newline"),
    pytest.param("prod", "permissionsBoundaryArn", "arn:aws:iam::111111111111:policy/b\n",
                 id="arn-trailing-newline"),
    pytest.param("dev", "prodStack", "organization/cross-account-s3/prod\n", id="stack-trailing-newline"),
    pytest.param("dev", "functionName", "cross-account-s3-writer\n", id="function-trailing-newline"),
    # \d and \w are Unicode-aware: non-ASCII digits and letters pass.
    pytest.param("prod", "devAccountId", "٢٢٢٢٢٢٢٢٢٢٢٢", id="account-id-arabic-indic-digits"),
    pytest.param("prod", "trustedRoleNames", '["rôle"]', id="iam-name-non-ascii"),
    pytest.param("prod", "externalId", "extérieur", id="external-id-non-ascii"),
    pytest.param("dev", "groupName", "gröup", id="group-name-non-ascii"),
    # S3 bucket naming rules the pattern does not check.
    pytest.param("prod", "bucketName", "192.168.5.4", id="bucket-ip-address"),
    pytest.param("prod", "bucketName", "sthree-data", id="bucket-reserved-prefix"),
    pytest.param("prod", "bucketName", "data--ol-s3", id="bucket-reserved-suffix"),
    # Lenient parsing: int() takes signs, underscores, spaces and other scripts' digits; AWS reserves aws: tags.
    pytest.param("prod", "maxSessionDuration", "+3600", id="number-with-sign"),
    pytest.param("prod", "maxSessionDuration", "3_600", id="number-with-underscore"),
    pytest.param("dev", "lambdaTimeout", " 30\n", id="number-with-whitespace"),
    pytest.param("prod", "tags", '{"aws:created-by": "me"}', id="tag-with-reserved-prefix"),
]


@pytest.mark.parametrize(("stack", "key", "value"), REGRESSIONS)
def test_formerly_accepted_malformed_values_are_rejected(stack: str, key: str, value: str) -> None:
    raw, _ = COMMITTED[stack]
    assert {named_key(p) for p in problems_of(stack, raw | {key: value})} == {NS + key}


@pytest.mark.parametrize("region", ["eu-west-1\n", "eu-west-١"])
def test_region_with_a_trailing_newline_or_non_ascii_digits_is_rejected(region: str) -> None:
    raw, _ = COMMITTED["prod"]
    assert [named_key(p) for p in problems_of("prod", raw, region)] == ["aws:region"]


def test_an_aws_managed_policy_is_a_valid_permissions_boundary() -> None:
    raw, region = COMMITTED["prod"]
    arn = "arn:aws:iam::aws:policy/PowerUserAccess"
    assert parse_prod(raw | {"permissionsBoundaryArn": arn}, region).permissions_boundary_arn == arn


@pytest.mark.parametrize("key", ["tags", "trustedRoleNames"])
def test_deeply_nested_json_is_a_config_error(key: str) -> None:
    raw, _ = COMMITTED["prod"]
    problems = problems_of("prod", raw | {key: "[" * 100_000})
    assert {named_key(p) for p in problems} == {NS + key}
