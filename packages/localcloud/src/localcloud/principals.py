"""Who is calling: access keys resolved to callers, from moto's state (read through ``localcloud.moto_adapter``)
and localcloud's own session registry.

- ``resolve(access_key_id, registry, now)`` finds the secret key, session token and ``Caller`` of an access key:
  an IAM user's long-term key (any account), a role session made by ``sts:AssumeRole`` (moto's STS keeps it),
  or a session made by ``sts:GetSessionToken`` or ``sts:GetFederationToken`` (``SessionRegistry``, below:
  moto's own return fixed example keys).
- ``SessionRegistry`` also remembers, per role-session access key, what moto does not keep: when the session was
  issued, whether MFA was present, its managed session policies, session tags (and which are transitive), its
  source identity, and for a Lambda execution role's session the function it was issued for.
- ``MotoDirectory`` answers the other questions the gate asks moto: who owns a bucket, its policy and region, a
  multipart upload's key, a role's trust policy and MaxSessionDuration, a managed policy's document, the seed of
  a user's virtual MFA device.
- ``totp`` / ``verify_totp``: RFC 6238 codes, as a virtual MFA device shows them.

Policies are returned as dicts. moto keeps them as the JSON text the caller sent (inline, trust and managed
policies alike); ``parse_policy`` also accepts the URL-encoded form IAM returns on the wire, and dicts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import struct
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from localcloud import arns, kms, moto_adapter
from localcloud.evaluator import LAMBDA_SOURCE_FUNCTION_ARN, Caller

TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
TOTP_WINDOW_STEPS = 1  # accept the previous and the next code too (clock drift between device and server)

_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


# ---------------------------------------------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------------------------------------------


def parse_policy(document: Any) -> dict[str, Any] | None:
    """A policy document as a dict, from a dict, JSON text, URL-encoded JSON text or bytes; None if unreadable."""
    if document is None:
        return None
    if isinstance(document, Mapping):
        return dict(document)
    if isinstance(document, bytes):
        document = document.decode("utf-8", errors="replace")
    if not isinstance(document, str) or not document.strip():
        return None
    for text in (document, unquote(document)):
        try:
            parsed = json.loads(text)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def _parsed_all(documents: Iterable[Any]) -> tuple[dict[str, Any], ...]:
    return tuple(policy for policy in (parse_policy(document) for document in documents) if policy is not None)


# A boundary that names a policy localcloud cannot find allows nothing (fail closed).
_DENY_EVERYTHING: dict[str, Any] = {"Version": "2012-10-17", "Statement": []}


# ---------------------------------------------------------------------------------------------------------------
# TOTP (RFC 6238 over RFC 4226), as IAM virtual MFA devices use it: HMAC-SHA1, 30-second steps, 6 digits
# ---------------------------------------------------------------------------------------------------------------


def _seed_bytes(seed_base32: str) -> bytes:
    text = seed_base32.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def totp(seed_base32: str, at: datetime | float, *, step: int = TOTP_STEP_SECONDS, digits: int = TOTP_DIGITS) -> str:
    """The code a virtual MFA device with this base32 seed shows at time ``at``."""
    timestamp = at.timestamp() if isinstance(at, datetime) else float(at)
    counter = int(timestamp // step)
    digest = hmac.new(_seed_bytes(seed_base32), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def verify_totp(seed_base32: str, code: str, now: datetime, *, window: int = TOTP_WINDOW_STEPS) -> bool:
    """True if ``code`` is the device's code for now, or for up to ``window`` steps before or after."""
    if not code or not code.isdigit() or len(code) != TOTP_DIGITS:
        return False
    return any(
        hmac.compare_digest(totp(seed_base32, now.timestamp() + offset * TOTP_STEP_SECONDS), code)
        for offset in range(-window, window + 1)
    )


# ---------------------------------------------------------------------------------------------------------------
# localcloud's own session registry
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemporaryCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime


@dataclass(frozen=True)
class UserSession:
    """Credentials from ``sts:GetSessionToken`` (the user's own permissions, plus the MFA context) or from
    ``sts:GetFederationToken`` (``federated_name`` set: the user's permissions intersected with the session
    policies passed, none if none were; API_GetFederationToken.html)."""

    credentials: TemporaryCredentials
    account: str
    user_name: str
    issued_at: datetime
    mfa_present: bool
    federated_name: str | None = None
    session_policies: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class RoleSessionInfo:
    """What localcloud remembers of a role session moto made (moto keeps none of it): when, whether MFA was
    present, its managed session policies (PolicyArns), session tags, which of them are transitive, the
    source identity (id_session-tags.html, id_credentials_temp_control-access_monitor.html), and the function a
    Lambda execution role's session belongs to (``lambda:SourceFunctionArn`` of its requests, Lambda Developer
    Guide permissions-source-function-arn.html)."""

    issued_at: datetime
    mfa_present: bool
    managed_session_policies: tuple[dict[str, Any], ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    transitive_tag_keys: frozenset[str] = frozenset()
    source_identity: str | None = None
    # The role's unique ID when the session was issued: a role deleted and created again under the same name is
    # another role (reference_identifiers.html, "Unique identifiers"), and the old sessions are not its sessions.
    role_id: str | None = None
    source_function_arn: str | None = None  # the unqualified ARN of the function Lambda issued the session for


def _random_key_id() -> str:
    return "ASIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def _random_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def _random_session_token() -> str:
    return "IQoJb3JpZ2luX2VjE" + base64.b64encode(secrets.token_bytes(180)).decode()


@dataclass
class SessionRegistry:
    """Sessions localcloud issues itself (GetSessionToken) and facts it keeps about moto's role sessions."""

    _user_sessions: dict[str, UserSession] = field(default_factory=dict)
    _role_sessions: dict[str, RoleSessionInfo] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def issue_session_token(
        self, *, account: str, user_name: str, duration_seconds: int, mfa_present: bool, now: datetime,
        federated_name: str | None = None, session_policies: tuple[dict[str, Any], ...] = (),
    ) -> UserSession:
        credentials = TemporaryCredentials(
            access_key_id=_random_key_id(),
            secret_access_key=_random_secret(),
            session_token=_random_session_token(),
            expiration=now + timedelta(seconds=duration_seconds),
        )
        session = UserSession(credentials, account, user_name, issued_at=now, mfa_present=mfa_present,
                              federated_name=federated_name, session_policies=session_policies)
        with self._lock:
            self._user_sessions[credentials.access_key_id] = session
        return session

    def user_session(self, access_key_id: str) -> UserSession | None:
        with self._lock:
            return self._user_sessions.get(access_key_id)

    def record_role_session(self, access_key_id: str, info: RoleSessionInfo) -> None:
        with self._lock:
            self._role_sessions[access_key_id] = info

    def role_session(self, access_key_id: str) -> RoleSessionInfo | None:
        with self._lock:
            return self._role_sessions.get(access_key_id)

    def clear(self) -> None:
        with self._lock:
            self._user_sessions.clear()
            self._role_sessions.clear()


# ---------------------------------------------------------------------------------------------------------------
# Resolving an access key
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedPrincipal:
    """An access key's owner: the secret to check the signature with, and the caller to authorize."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None  # None for long-term keys
    caller: Caller
    context: Mapping[str, str | list[str]]  # aws:userid, aws:username, temp-credential keys, principal tags
    user_id: str  # aws:userid, and the UserId of GetCallerIdentity
    user_name: str | None = None  # IAM user behind the key (long-term or GetSessionToken)
    expiration: datetime | None = None
    registry_session: bool = False  # issued by localcloud's GetSessionToken
    mfa_present: bool = False
    session: RoleSessionInfo | None = None  # a role session's tags, transitive keys and source identity
    federated: bool = False  # a GetFederationToken session

    @property
    def temporary(self) -> bool:
        return self.session_token is not None


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _tags_context(tags: Iterable[Mapping[str, str]]) -> dict[str, str]:
    return {f"aws:PrincipalTag/{tag['Key']}": tag["Value"] for tag in tags if "Key" in tag and "Value" in tag}


def _user_identity(backend: Any, user: Any) -> tuple[tuple[dict[str, Any], ...], dict[str, str]]:
    """A user's identity policies (inline, attached, and its groups') and its tags as context keys."""
    documents: list[Any] = list(dict(user.policies).values())
    documents += [moto_adapter.default_version_document(policy) for policy in list(user.managed_policies.values())]
    for group in list(backend.groups.values()):
        if user in group.users:
            documents += list(dict(group.policies).values())
            documents += [moto_adapter.default_version_document(policy) for policy in list(group.managed_policies.values())]
    try:
        tags = backend.tagger.list_tags_for_resource(user.arn)["Tags"]
    except Exception:  # noqa: BLE001 - tags are an extra; never fail authentication over them
        tags = []
    return _parsed_all(documents), _tags_context(tags)


def _role_identity(
    backend: Any, role: Any
) -> tuple[tuple[dict[str, Any], ...], dict[str, Any] | None, dict[str, str]]:
    documents: list[Any] = list(dict(role.policies).values())
    documents += [moto_adapter.default_version_document(policy) for policy in list(role.managed_policies.values())]
    boundary = None
    if role.permissions_boundary_arn:
        managed = moto_adapter.managed_policy(backend.account_id, role.permissions_boundary_arn)
        boundary = parse_policy(moto_adapter.default_version_document(managed)) if managed is not None else None
        boundary = boundary or _DENY_EVERYTHING
    return _parsed_all(documents), boundary, _tags_context(role.tags or [])


def _user_principal(
    account: str,
    backend: Any,
    user: Any,
    *,
    access_key_id: str,
    secret: str,
    token: str | None,
    temp_context: Mapping[str, str],
    expiration: datetime | None = None,
    registry_session: bool = False,
    mfa_present: bool = False,
) -> ResolvedPrincipal:
    policies, tag_context = _user_identity(backend, user)
    context: dict[str, str | list[str]] = {
        "aws:username": user.name,
        "aws:userid": user.id,
        "aws:PrincipalType": "User",
        **tag_context,
        **temp_context,
    }
    caller = Caller(
        arn=user.arn,
        kind="user",
        account=account,
        principal_arn=user.arn,
        identity_policies=policies,
    )
    return ResolvedPrincipal(
        access_key_id=access_key_id,
        secret_access_key=secret,
        session_token=token,
        caller=caller,
        context=context,
        user_id=user.id,
        user_name=user.name,
        expiration=expiration,
        registry_session=registry_session,
        mfa_present=mfa_present,
    )


def _temporary_context(issued_at: datetime, mfa_present: bool, now: datetime) -> dict[str, str]:
    context = {
        "aws:TokenIssueTime": _iso(issued_at),
        "aws:MultiFactorAuthPresent": "true" if mfa_present else "false",
    }
    if mfa_present:
        context["aws:MultiFactorAuthAge"] = str(max(0, int((now - issued_at).total_seconds())))
    return context


def resolve(access_key_id: str, registry: SessionRegistry, now: datetime) -> ResolvedPrincipal | None:
    """The principal behind ``access_key_id``, or None if no active key of that id exists."""
    session = registry.user_session(access_key_id)
    if session is not None:
        return _resolve_user_session(session, now)
    for account, backend in moto_adapter.iam_accounts():
        key = backend.access_keys.get(access_key_id)
        if key is None:
            continue
        if key.user_name:
            return _resolve_user_key(account, backend, key)
        if key.role_arn:
            return _resolve_role_session(account, backend, access_key_id, registry, now)
    return None


def _resolve_user_key(account: str, backend: Any, key: Any) -> ResolvedPrincipal | None:
    user = backend.users.get(key.user_name)
    if user is None or key.status != "Active" or key not in user.access_keys:
        return None
    return _user_principal(
        account, backend, user, access_key_id=key.access_key_id, secret=key.secret_access_key, token=None,
        temp_context={},
    )


def _resolve_user_session(session: UserSession, now: datetime) -> ResolvedPrincipal | None:
    backend = moto_adapter.iam_backend(session.account)
    user = backend.users.get(session.user_name) if backend is not None else None
    if user is None:
        return None
    if session.federated_name is not None:
        return _federated_principal(session, backend, user, now)
    return _user_principal(
        session.account,
        backend,
        user,
        access_key_id=session.credentials.access_key_id,
        secret=session.credentials.secret_access_key,
        token=session.credentials.session_token,
        temp_context=_temporary_context(session.issued_at, session.mfa_present, now),
        expiration=session.credentials.expiration,
        registry_session=True,
        mfa_present=session.mfa_present,
    )


def _federated_principal(session: UserSession, backend: Any, user: Any, now: datetime) -> ResolvedPrincipal:
    """A federated user: its own ARN and user id, the IAM user's policies, and the session policies passed (a
    federation token without one has no permissions: API_GetFederationToken.html)."""
    assert session.federated_name is not None
    policies, _ = _user_identity(backend, user)
    arn = arns.federated_user(session.account, session.federated_name)
    user_id = f"{session.account}:{session.federated_name}"
    caller = Caller(arn=arn, kind="user", account=session.account, principal_arn=arn, identity_policies=policies,
                    session_policies=session.session_policies or (_DENY_EVERYTHING,))
    context: dict[str, str | list[str]] = {
        "aws:userid": user_id,
        "aws:PrincipalType": "FederatedUser",
        **_temporary_context(session.issued_at, False, now),
    }
    return ResolvedPrincipal(
        access_key_id=session.credentials.access_key_id,
        secret_access_key=session.credentials.secret_access_key,
        session_token=session.credentials.session_token,
        caller=caller,
        context=context,
        user_id=user_id,
        expiration=session.credentials.expiration,
        registry_session=True,
        federated=True,
    )


def _resolve_role_session(
    account: str, backend: Any, access_key_id: str, registry: SessionRegistry, now: datetime
) -> ResolvedPrincipal | None:
    assumed = moto_adapter.assumed_role(account, access_key_id)
    if assumed is None:
        return None
    role_name = assumed.role_arn.split("/")[-1]
    role = next((r for r in list(backend.roles.values()) if r.arn == assumed.role_arn), None)
    expiration = _aware(assumed.expiration)
    info = registry.role_session(access_key_id)
    if info is None:
        # Made without the gate (directly in moto): assume moto's default duration of one hour.
        info = RoleSessionInfo(issued_at=expiration - timedelta(hours=1), mfa_present=False)
    if role is not None and info.role_id is not None and role.id != info.role_id:
        role = None  # the session's role was deleted; this one only has its name
    if role is not None:
        policies, boundary, tag_context = _role_identity(backend, role)
        role_arn, role_id = role.arn, role.id
    else:
        # The role was deleted after the session began: the session keeps its name but has no permissions.
        policies, boundary, tag_context = (), None, {}
        role_arn, role_id = assumed.role_arn, "AROA" + hashlib.sha1(assumed.role_arn.encode()).hexdigest()[:17].upper()
    user_id = f"{role_id}:{assumed.session_name}"
    context: dict[str, str | list[str]] = {
        "aws:userid": user_id,
        "aws:PrincipalType": "AssumedRole",
        **tag_context,
        # Session tags override role tags with the same key (id_session-tags.html).
        **_tags_context({"Key": key, "Value": value} for key, value in info.tags.items()),
        **_temporary_context(info.issued_at, info.mfa_present, now),
    }
    if info.source_identity:
        context["aws:SourceIdentity"] = info.source_identity
    if info.source_function_arn:
        # Every request signed with a Lambda execution role's credentials is made from within the execution
        # environment here (localcloud makes none outside it: permissions-source-function-arn.html).
        context[LAMBDA_SOURCE_FUNCTION_ARN] = info.source_function_arn
    caller = Caller(
        arn=arns.assumed_role(account, role_name, assumed.session_name),
        kind="assumed-role",
        account=account,
        principal_arn=role_arn,
        identity_policies=policies,
        permissions_boundary=boundary,
        session_policies=_parsed_all([assumed.policy] if assumed.policy else []) + info.managed_session_policies,
    )
    return ResolvedPrincipal(
        access_key_id=access_key_id,
        secret_access_key=assumed.secret_access_key,
        session_token=assumed.session_token,
        caller=caller,
        context=context,
        user_id=user_id,
        expiration=expiration,
        mfa_present=info.mfa_present,
        session=info,
    )


# ---------------------------------------------------------------------------------------------------------------
# Other lookups into moto's state
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleRecord:
    arn: str
    account: str
    name: str
    trust_policy: dict[str, Any] | None
    max_session_duration: int
    role_id: str = ""


class MotoDirectory:
    """Questions about moto's state (through ``localcloud.moto_adapter``), answered the way the gate and
    ``actions`` need them; read-only but for the AWS managed KMS key made on first use (``kms_aws_managed_key``)."""

    def bucket_account(self, bucket: str) -> str | None:
        """The account that owns ``bucket``, or None if no account has it."""
        return moto_adapter.bucket_owner(bucket)

    def bucket_policy(self, bucket: str) -> dict[str, Any] | None:
        found = moto_adapter.bucket(bucket)
        return parse_policy(found.policy) if found is not None else None

    def bucket_region(self, bucket: str) -> str | None:
        found = moto_adapter.bucket(bucket)
        return found.region_name if found is not None else None

    def multipart_key(self, bucket: str, upload_id: str) -> str | None:
        return moto_adapter.multipart_key(bucket, upload_id)

    def managed_policy(self, account: str, policy_arn: str) -> dict[str, Any] | None:
        return parse_policy(moto_adapter.managed_policy_document(account, policy_arn))

    def role(self, role_arn: str) -> RoleRecord | None:
        """The role with exactly this ARN (path included), looked up in the account the ARN names."""
        role = moto_adapter.role_by_arn(role_arn)
        if role is None:
            return None
        return RoleRecord(
            arn=role.arn,
            account=role_arn.split(":")[4],
            name=role.name,
            trust_policy=parse_policy(role.assume_role_policy_document),
            max_session_duration=int(role.max_session_duration or 3600),
            role_id=role.id,
        )

    def role_arn(self, account: str, name: str) -> str | None:
        backend = moto_adapter.iam_backend(account)
        if backend is None:
            return None
        return next((role.arn for role in list(backend.roles.values()) if role.name == name), None)

    def has_account(self, account: str) -> bool:
        """Whether the account is one of this cloud's (moto has IAM state for it)."""
        return moto_adapter.iam_backend(account) is not None

    def user_arn(self, account: str, name: str) -> str | None:
        backend = moto_adapter.iam_backend(account)
        user = backend.users.get(name) if backend is not None else None
        return user.arn if user is not None else None

    def group_arn(self, account: str, name: str) -> str | None:
        backend = moto_adapter.iam_backend(account)
        group = backend.groups.get(name) if backend is not None else None
        return group.arn if group is not None else None

    def mfa_seed(self, account: str, user_name: str, serial_number: str) -> str | None:
        """The base32 seed of the virtual MFA device ``serial_number`` if it is enabled for this user."""
        backend = moto_adapter.iam_backend(account)
        user = backend.users.get(user_name) if backend is not None else None
        if user is None or serial_number not in user.mfa_devices:
            return None
        assert backend is not None  # the user was found in it
        device = backend.virtual_mfa_devices.get(serial_number)
        return device.base32_string_seed if device is not None else None

    def lambda_policy(self, function_arn: str) -> dict[str, Any] | None:
        """A function's resource-based policy, principals as IAM writes them: moto keeps an AddPermission
        principal given as an account ID as that bare ID; AWS stores arn:aws:iam::ID:root
        (API_AddPermission.html)."""
        parts = function_arn.split(":")
        if len(parts) < 7 or parts[2] != "lambda":
            return None
        policy = moto_adapter.lambda_policy(parts[4], parts[3], parts[6], parts[7] if len(parts) > 7 else None)
        if policy is None:
            return None
        statements = []
        for statement in policy["Statement"]:
            principal = statement.get("Principal")
            if isinstance(principal, str) and principal.isdigit():
                statement = {**statement, "Principal": {"AWS": arns.account_root(principal)}}
            statements.append(statement)
        return {**policy, "Statement": statements}

    def lambda_runtime(self, account: str, region: str, name: str) -> str | None:
        return moto_adapter.lambda_runtime(account, region, name)

    def lambda_function_exists(self, account: str, region: str, name: str, qualifier: str | None) -> bool:
        try:
            moto_adapter.lambda_function(account, region, name, qualifier)
        except (moto_adapter.MotoNotFound, moto_adapter.MotoClientError):
            return False
        return True

    # --- KMS ---------------------------------------------------------------------------------------------------

    def kms_key(self, account: str, region: str, key_id: str) -> kms.KmsKey | None:
        return moto_adapter.kms_key(account, region, key_id)

    def kms_key_by_arn(self, key_arn: str) -> kms.KmsKey | None:
        name = kms.parse_key_name(key_arn)
        if name is None or name.form != kms.KEY_ARN or name.account is None or name.region is None:
            return None
        assert name.key_id is not None
        return moto_adapter.kms_key(name.account, name.region, name.key_id)

    def kms_alias_target(self, account: str, region: str, alias_name: str) -> str | None:
        return moto_adapter.kms_alias_target(account, region, alias_name)

    def kms_ciphertext_keys(self, region: str, blob: bytes) -> list[kms.KmsKey] | None:
        """The keys of the Region holding the key ID a ciphertext names (one, or none); None for a blob that is no
        ciphertext."""
        key_id = moto_adapter.kms_ciphertext_key_id(blob)
        return moto_adapter.kms_keys_with_id(region, key_id) if key_id is not None else None

    def kms_aws_managed_key(self, account: str, region: str, alias_name: str) -> kms.KmsKey | None:
        """The AWS managed key of a predefined alias, created the first time it is asked for, as AWS creates it
        (API_DescribeKey.html, KeyId; UsingKMSEncryption.html): the one write of this directory. Only aws/s3 is
        emulated (None for the others)."""
        if alias_name != kms.S3_MANAGED_ALIAS:
            return None
        return moto_adapter.kms_create_aws_managed_key(account, region, alias_name, kms.S3_MANAGED_KEY_DESCRIPTION,
                                                       kms.aws_managed_s3_policy(account, region))
