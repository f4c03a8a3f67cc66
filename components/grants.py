"""The prod stack's grants: who in which consumer account may assume which role, to do what under which prefix, and
the trust options and revocation switches of each. Parsed from ``cross-account-s3:grants`` into frozen ``Grant``s;
problems are named ``cross-account-s3:grants[NAME].KEY`` and collected with the rest of the stack's.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from components.config_reader import (
    ACCOUNT_ID,
    IAM_NAME,
    IAM_NAMES,
    PROJECT,
    USER_NAMES,
    ConfigReader,
    as_config_text,
    parse_json,
)
from components.policies import grant_trust_policy

# The S3 key prefix a grant's role may use: no leading slash, no "..", ends with "/".
KEY_PREFIX = re.compile(r"(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9!_.*'()/-]{1,512}/", re.ASCII)
KEY_PREFIX_FORM = "a key prefix ending in '/', without a leading '/' or '..' segments, e.g. incoming/"
EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
# Organizations' ID pattern (API_Organization.html): "o-" and 10 to 32 lowercase letters or digits.
ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}", re.ASCII)
# A session tag's key (API_Tag.html in the STS API reference): 1-128 of letters, digits, spaces and _.:/=+-@; keys
# starting with aws: are AWS's.
SESSION_TAG_KEY = re.compile(r"(?!aws:)[\w .:/=+@-]{1,128}", re.ASCII | re.IGNORECASE)
# A revocation time older than this is allowed (it revokes nothing new), but one this far in the future would
# deny every session issued until then: a suspension, which is `suspended`'s job.
REVOCATION_CLOCK_SKEW = timedelta(minutes=5)

# A grant's role is named after it: "cross-account-s3-<grant>", within IAM's 64 characters.
ROLE_NAME_PREFIX = f"{PROJECT}-"
GRANT_NAME = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{62 - len(ROLE_NAME_PREFIX)}}}[a-z0-9])?", re.ASCII)
# IAM's limit on a role's trust policy, in characters without whitespace (IAM quotas page): 2,048 by default, at
# most 4,096 with a quota increase.
TRUST_POLICY_DEFAULT_LIMIT = 2048
TRUST_POLICY_MAX_LIMIT = 4096

GRANT_KEYS = ("name", "accountId", "roleNames", "userNames", "keyPrefix", "access", "externalId", "requireMfa",
              "maxSessionDuration", "allowSessionTags", "sourceIdentity", "principalOrgId", "revokeSessionsIssuedBefore",
              "suspended", "tags")


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


class SourceIdentity(enum.Enum):
    """Whether the grant's principals may (or must) set a source identity when they assume its role."""

    NONE = "none"
    ALLOWED = "allowed"
    REQUIRED = "required"


@dataclass(frozen=True)
class SessionTags:
    """sts:TagSession is allowed; ``keys`` limits which tag keys may be passed (empty: any key)."""

    keys: tuple[str, ...] = ()

    def allows(self, key: str) -> bool:
        return not self.keys or key in self.keys


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
    session_tags: SessionTags | None = None  # None: no session tags
    source_identity: SourceIdentity = SourceIdentity.NONE
    principal_org_id: str | None = None
    revoke_sessions_issued_before: str | None = None  # UTC, ISO 8601 with seconds and "Z"
    suspended: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def role_name(self) -> str:
        return f"{ROLE_NAME_PREFIX}{self.name}"


class GrantReader(ConfigReader):
    """One grant of the list, read with the same rules; its problems are named ``grants[NAME].KEY`` (or by the
    grant's position while its name is missing or malformed) and collected with the stack's."""

    def __init__(self, values: Mapping[str, Any], label: str, parent: ConfigReader):
        super().__init__({key: as_config_text(value) for key, value in values.items()}, parent.project)
        self.label = label
        self.problems = parent.problems

    def qualified(self, key: str) -> str:
        return f"{self.project}:grants[{self.label}].{key}"


def parse_grants(reader: ConfigReader, trust_limit: int, now: datetime) -> tuple[Grant, ...]:
    """The stack's ``grants``, each checked, their names unique and each trust policy within IAM's size limit."""
    value = reader.raw.get("grants")
    if value is None:
        reader.problems.append(f"{reader.project}:grants: required, a list of grants (name, accountId, roleNames "
                               "and/or userNames, keyPrefix, access)")
        return ()
    parsed = parse_json(value)
    if not isinstance(parsed, list) or not parsed:
        reader.fail("grants", "a non-empty list of grants", value)
        return ()
    grants = [grant for index, item in enumerate(parsed) if (grant := _grant(reader, index, item, now)) is not None]
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


def _grant(reader: ConfigReader, index: int, value: Any, now: datetime) -> Grant | None:
    if not isinstance(value, dict):
        reader.problems.append(f"{reader.project}:grants[{index}]: expected an object with name, accountId, "
                               f"roleNames and/or userNames, keyPrefix and access, got {value!r}")
        return None
    name = as_config_text(value.get("name"))  # as the grant's name is read below (a YAML number is its text)
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
        session_tags=_session_tags(g),
        source_identity=_source_identity(g),
        principal_org_id=g.text("principalOrgId", ORGANIZATION_ID,
                                "an AWS Organizations ID: o- and 10-32 lowercase letters or digits"),
        revoke_sessions_issued_before=_revocation_time(g, now),
        suspended=g.flag("suspended", False),
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


SESSION_TAGS_FORM = ("true, false, or a non-empty list of the session tag keys allowed (1-128 of letters, digits, "
                     "spaces and _.:/=+-@, not starting with aws:)")


def _session_tags(g: ConfigReader) -> SessionTags | None:
    value = g.raw.get("allowSessionTags")
    if value is None or value in ("false", "False"):
        return None
    if value in ("true", "True"):
        return SessionTags()
    keys = parse_json(value)
    if (not isinstance(keys, list) or not keys
            or not all(isinstance(k, str) and SESSION_TAG_KEY.fullmatch(k) for k in keys)):
        g.fail("allowSessionTags", SESSION_TAGS_FORM, keys)
        return None
    lowered = [key.lower() for key in keys]
    if len(set(lowered)) != len(lowered):
        # STS compares tag keys without case: two spellings of one key are one key (id_session-tags.html).
        g.fail("allowSessionTags", "tag keys that differ other than in case (STS compares keys without case)", keys)
        return None
    return SessionTags(tuple(keys))


def _source_identity(g: ConfigReader) -> SourceIdentity:
    words = ", ".join(s.value for s in SourceIdentity)
    text = g.text("sourceIdentity", None, words, SourceIdentity.NONE.value)
    try:
        return SourceIdentity(text)
    except ValueError:
        g.fail("sourceIdentity", words, text)
        return SourceIdentity.NONE


def _revocation_time(g: ConfigReader, now: datetime) -> str | None:
    """``revokeSessionsIssuedBefore`` as IAM compares it (aws:TokenIssueTime, DateLessThan): UTC, ISO 8601."""
    key, expected = "revokeSessionsIssuedBefore", "an ISO 8601 time with a time zone, e.g. 2026-12-03T10:00:00Z"
    text = g.raw.get(key)
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        g.fail(key, expected, text)
        return None
    if when.tzinfo is None:
        g.fail(key, f"{expected} (without a zone the time is ambiguous)", text)
        return None
    if when > now + REVOCATION_CLOCK_SKEW:
        g.problems.append(f"{g.qualified(key)}: {text} is in the future; it would deny every session issued until "
                          "then, new ones too. To stop the grant now, set suspended: true")
        return None
    return revocation_stamp(when)


def revocation_stamp(when: datetime) -> str:
    """``when`` as a revocation time: UTC, whole seconds, rounded up. aws:TokenIssueTime has whole seconds, so a
    session issued earlier in the same second has that second as its issue time; rounded down, the policy's
    DateLessThan would let it through."""
    utc = when.astimezone(UTC)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
