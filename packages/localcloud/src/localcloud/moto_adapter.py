"""The one module that reaches into moto's internals: its state, its server app, and what it executed.

Everything else in localcloud talks to moto through the functions here, so a moto upgrade that moves a backend or
renames an attribute breaks one file. Three parts:

- State lookups (read-only, except the deployer users ``create_user_with_key`` makes, the AWS managed KMS key
  ``kms_create_aws_managed_key`` makes on first use, and what ``keep_object_encryption`` and
  ``keep_upload_bucket_key`` record that moto does not): IAM users, roles, groups and MFA devices, STS sessions, S3
  bucket owners, policies, multipart uploads and how objects are encrypted, KMS keys, aliases and the key a
  ciphertext names, Lambda functions.
- The server: ``backend_app()`` (moto's WSGI dispatcher), ``configure``/``restore`` (moto's own authorization off,
  because the gate decides), ``reset``.
- What moto executed. ``recording()`` collects, for the requests the calling thread hands to moto, every
  ``Execution``: moto's own authorization hooks (each request names its action and, for S3, its bucket and key
  there, right before moto acts), the S3 backend calls that touch a bucket or key, the KMS backend calls and the
  key each acts on, and the parameters moto's handlers read. The gate compares them with what it authorized (``localcloud.gate.invariant``): a request that
  moto reads differently from the gate fails loudly instead of passing unnoticed.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from localcloud import arns, kms

PARTITION = arns.PARTITION
# Environment variables that would make moto ignore the gate's choice of account.
_ENV_OVERRIDES = ("MOTO_ACCOUNT_ID",)


class MotoNotFound(LookupError):
    """moto has no such resource."""


class MotoClientError(Exception):
    """moto refused a call with an AWS error (status, code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# ---------------------------------------------------------------------------------------------------------------
# IAM and STS
# ---------------------------------------------------------------------------------------------------------------


def iam_backend(account: str) -> Any | None:
    from moto.iam.models import iam_backends

    per_partition = iam_backends.get(account) if account in iam_backends else None
    if per_partition is None or PARTITION not in per_partition.keys():
        return None
    return per_partition[PARTITION]


def iam_accounts() -> list[tuple[str, Any]]:
    """(account id, IAM backend) for every account moto has state for."""
    from moto.iam.models import iam_backends

    return [(account, per_partition[PARTITION]) for account, per_partition in list(iam_backends.items())
            if PARTITION in per_partition.keys()]


def role_by_arn(role_arn: str) -> Any | None:
    parts = role_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    backend = iam_backend(parts[4])
    if backend is None:
        return None
    return next((role for role in list(backend.roles.values()) if role.arn == role_arn), None)


def managed_policy(account: str, policy_arn: str) -> Any | None:
    """A managed policy as the account sees it: its own, or one of AWS's (loaded on first use, see below)."""
    if is_aws_managed_policy(policy_arn):
        load_aws_managed_policies(account, [policy_arn])
    backend = iam_backend(account)
    return backend.managed_policies.get(policy_arn) if backend is not None else None


def managed_policy_document(account: str, policy_arn: str) -> Any | None:
    """The default version's document of a managed policy (an AWS managed one, or the account's own)."""
    policy = managed_policy(account, policy_arn)
    return default_version_document(policy) if policy is not None else None


# AWS managed policies exist in every account (policies_managed-vs-inline.html, "AWS managed policies"). moto
# creates all ~1,400 of them in every IAM backend when MOTO_IAM_LOAD_MANAGED_POLICIES is set, which costs about
# 0.1 s per account; localcloud instead loads each one into an account when a request or an evaluation first
# names it, and all of them when a request lists them (ListPolicies), so what a caller sees is what AWS shows.
_aws_policies_lock = threading.Lock()
_AWS_POLICY_PREFIX = f"arn:{PARTITION}:iam::aws:policy/"


@lru_cache(maxsize=1)
def _aws_managed_policy_data() -> dict[str, tuple[str, dict[str, Any]]]:
    """ARN -> (name, moto's record of it), from the copy of AWS's managed policies that moto ships."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return {f"arn:{PARTITION}:iam::aws:policy{data.get('Path', '/')}{name}": (name, data)
            for name, data in json.loads(aws_managed_policies_data).items()}


def is_aws_managed_policy(policy_arn: str) -> bool:
    # The prefix first: a customer managed policy's ARN never makes this process parse moto's copy (~50 ms).
    return policy_arn.startswith(_AWS_POLICY_PREFIX) and policy_arn in _aws_managed_policy_data()


def load_aws_managed_policies(account: str, policy_arns: list[str] | None = None) -> None:
    """Put AWS's managed policies (``policy_arns`` of them, or all) into the account's IAM backend, once each."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    data = _aws_managed_policy_data()
    wanted = [arn for arn in (data if policy_arns is None else policy_arns) if arn in data]
    if not wanted:
        return
    with _aws_policies_lock:
        backend = iam_backends[account][PARTITION]
        for arn in wanted:
            if arn not in backend.managed_policies:
                name, record = data[arn]
                policy = AWSManagedPolicy.from_data(name, account, backend.region_name, record)
                backend.aws_managed_policies.append(policy)
                backend.managed_policies[arn] = policy


def default_version_document(managed_policy: Any) -> Any:
    versions = getattr(managed_policy, "versions", None) or []
    for version in versions:
        if getattr(version, "is_default", False):
            return version.document
    return versions[0].document if versions else None


def create_user_with_key(account: str, region: str, user_name: str, policy_name: str,
                         policy: dict[str, Any]) -> tuple[str, str]:
    """A user with an inline policy and an access key, made directly in moto (no request): (key id, secret)."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account][PARTITION]
    iam.create_user(region_name=region, user_name=user_name)
    iam.put_user_policy(user_name, policy_name, json.dumps(policy))
    key = iam.create_access_key(user_name)
    return key.access_key_id, key.secret_access_key


def assumed_role(account: str, access_key_id: str) -> Any | None:
    from moto.sts.models import sts_backends

    if account not in sts_backends or PARTITION not in sts_backends[account].keys():
        return None
    return next((assumed for assumed in list(sts_backends[account][PARTITION].assumed_roles)
                 if assumed.access_key_id == access_key_id), None)


def assumed_role_sessions() -> list[tuple[str, str]]:
    """(access key id, role ARN) of every assumed-role session moto's STS has issued, in every account."""
    from moto.sts.models import sts_backends

    return [
        (assumed.access_key_id, assumed.role_arn)
        for _, per_partition in list(sts_backends.items())
        if PARTITION in per_partition.keys()
        for assumed in list(per_partition[PARTITION].assumed_roles)
    ]


def issue_role_session(account: str, region: str, role_arn: str, session_name: str, duration_seconds: int) -> Any:
    """A session of ``role_arn`` issued by moto's STS directly (Lambda assuming an execution role)."""
    from moto.sts.models import sts_backends

    return sts_backends[account][PARTITION].assume_role(
        region_name=region,
        role_session_name=session_name,
        role_arn=role_arn,
        # moto types both as str, and reads None as "not given", as STS does.
        policy=None,  # pyrefly: ignore[bad-argument-type]
        duration=duration_seconds,
        external_id=None,  # pyrefly: ignore[bad-argument-type]
    )


# ---------------------------------------------------------------------------------------------------------------
# S3 and Lambda
# ---------------------------------------------------------------------------------------------------------------


# The S3 operations moto 5.2's S3Response dispatches to code of their own (read from its _bucket_response_* and
# _key_response_* if-chains). Any other operation would fall through to a default branch there (GetObject,
# ListObjects, CreateBucket, PutObject, DeleteObject, DeleteBucket) and run that instead, so the gate answers it
# itself or refuses it before moto sees it.
S3_OPERATIONS = frozenset({
    # buckets
    "ListBuckets", "CreateBucket", "DeleteBucket", "HeadBucket", "ListObjects", "ListObjectsV2", "ListObjectVersions",
    "ListMultipartUploads", "GetBucketLocation", "GetObjectLockConfiguration", "PutObjectLockConfiguration",
    "GetBucketLifecycle", "GetBucketLifecycleConfiguration", "PutBucketLifecycle", "PutBucketLifecycleConfiguration",
    "DeleteBucketLifecycle", "GetBucketVersioning", "PutBucketVersioning", "GetBucketPolicyStatus",
    "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy", "GetBucketWebsite", "PutBucketWebsite",
    "DeleteBucketWebsite", "GetBucketAcl", "PutBucketAcl", "GetBucketTagging", "PutBucketTagging",
    "DeleteBucketTagging", "GetBucketLogging", "PutBucketLogging", "GetBucketCors", "PutBucketCors",
    "DeleteBucketCors", "GetBucketNotification", "GetBucketNotificationConfiguration",
    "PutBucketNotificationConfiguration", "GetBucketAccelerateConfiguration", "PutBucketAccelerateConfiguration",
    "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock", "GetBucketInventoryConfiguration",
    "ListBucketInventoryConfigurations", "PutBucketInventoryConfiguration", "GetBucketEncryption",
    "PutBucketEncryption", "DeleteBucketEncryption", "GetBucketReplication", "PutBucketReplication",
    "DeleteBucketReplication", "GetBucketOwnershipControls", "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls", "DeleteObjects",
    # objects
    "GetObject", "HeadObject", "PutObject", "CopyObject", "DeleteObject", "GetObjectAcl", "PutObjectAcl",
    "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging", "GetObjectLegalHold", "PutObjectLegalHold",
    "PutObjectRetention", "GetObjectAttributes", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
    "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts", "RestoreObject", "SelectObjectContent",
})


def bucket_owner(bucket: str) -> str | None:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    return owner[1] if owner else None


def bucket(name: str) -> Any | None:
    from moto.s3.models import s3_backends

    account = bucket_owner(name)
    if account is None or account not in s3_backends:
        return None
    return s3_backends[account][PARTITION].buckets.get(name)


def bucket_cors_rules(name: str) -> list[Any] | None:
    """The bucket's CORS rules (moto's CorsRule: allowed_origins, allowed_methods, allowed_headers,
    exposed_headers, max_age_seconds); None if there is no such bucket."""
    found = bucket(name)
    return list(found.cors or []) if found is not None else None


def multipart_key(bucket_name: str, upload_id: str) -> str | None:
    """The key a multipart upload was created for, or None if the bucket has no such upload."""
    found = bucket(bucket_name)
    upload = found.multiparts.get(upload_id) if found is not None else None
    return upload.key_name if upload is not None else None


@dataclass(frozen=True)
class StoredEncryption:
    """How moto stored an object or a multipart upload: its SSE algorithm, KMS key (as the gate gave it: a key
    ARN), whether an S3 Bucket Key applies, and the additional encryption context the request gave."""

    algorithm: str | None
    kms_key_id: str | None
    bucket_key: bool = False
    context: tuple[tuple[str, str], ...] = ()
    checksum_algorithm: str | None = None  # a multipart upload's x-amz-checksum-algorithm


# Attributes localcloud keeps on moto's objects and uploads, for what moto does not store itself: the encryption
# context S3 passes to KMS (x-amz-server-side-encryption-context) and an upload's S3 Bucket Key setting (moto
# takes it from the bucket when the upload completes).
_CONTEXT_ATTRIBUTE = "localcloud_encryption_context"
_BUCKET_KEY_ATTRIBUTE = "localcloud_bucket_key"


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _backend_of_bucket(name: str) -> Any | None:
    from moto.s3.models import s3_backends

    account = bucket_owner(name)
    if account is None or account not in s3_backends:
        return None
    return s3_backends[account][PARTITION]


def _stored_object(bucket_name: str, key_name: str, version_id: str | None) -> Any | None:
    from moto.s3.models import FakeKey

    backend = _backend_of_bucket(bucket_name)
    if backend is None or bucket(bucket_name) is None:
        return None
    found = backend.get_object(bucket_name, key_name, version_id=version_id)
    return found if isinstance(found, FakeKey) else None


def object_encryption(bucket_name: str, key_name: str, version_id: str | None = None) -> StoredEncryption | None:
    """How the object (its current version, or ``version_id``) is encrypted; None if there is no such object."""
    found = _stored_object(bucket_name, key_name, version_id)
    if found is None:
        return None
    return StoredEncryption(found.encryption, found.kms_key_id, _truthy(found.bucket_key_enabled),
                            tuple(getattr(found, _CONTEXT_ATTRIBUTE, ())))


def keep_object_encryption(bucket_name: str, key_name: str, version_id: str | None, *, bucket_key: bool | None,
                           context: tuple[tuple[str, str], ...]) -> None:
    """Record on a just-written object what moto left out: the request's encryption context, and (for a completed
    multipart upload) the upload's S3 Bucket Key setting."""
    found = _stored_object(bucket_name, key_name, version_id)
    if found is None:
        return
    if bucket_key is not None:
        found.bucket_key_enabled = "true" if bucket_key else "false"
    setattr(found, _CONTEXT_ATTRIBUTE, context)


def upload_encryption(bucket_name: str, upload_id: str) -> StoredEncryption | None:
    """How a multipart upload will be encrypted; None if the bucket has no such upload."""
    found = bucket(bucket_name)
    upload = found.multiparts.get(upload_id) if found is not None else None
    if upload is None:
        return None
    checksum = (upload.metadata or {}).get("x-amz-checksum-algorithm")
    return StoredEncryption(upload.sse_encryption, upload.kms_key_id, bool(getattr(upload, _BUCKET_KEY_ATTRIBUTE,
                                                                                   False)),
                            checksum_algorithm=str(checksum) if checksum else None)


def keep_upload_bucket_key(bucket_name: str, upload_id: str, enabled: bool) -> None:
    found = bucket(bucket_name)
    upload = found.multiparts.get(upload_id) if found is not None else None
    if upload is not None:
        setattr(upload, _BUCKET_KEY_ATTRIBUTE, enabled)


def bucket_default_encryption(bucket_name: str) -> tuple[str | None, str | None, bool]:
    """The bucket's default encryption as moto keeps it (PutBucketEncryption): (SSEAlgorithm, KMSMasterKeyID,
    BucketKeyEnabled); (None, None, False) without one."""
    found = bucket(bucket_name)
    rule = ((found.encryption or {}).get("Rule") or {}) if found is not None else {}
    if isinstance(rule, list):  # moto keeps the parsed XML: several rules would be a list
        rule = rule[0] if rule else {}
    default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    return default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"), _truthy(rule.get("BucketKeyEnabled"))


def lambda_function(account: str, region: str, name: str, qualifier: str | None) -> Any:
    """moto's LambdaFunction; ``MotoNotFound`` if there is none, ``MotoClientError`` for moto's other refusals."""
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import lambda_backends

    try:
        return lambda_backends[account][region].get_function(name, qualifier)
    except KeyError:
        raise MotoNotFound(name) from None
    except LambdaClientError as exc:
        if exc.error_type == "ResourceNotFoundException":
            raise MotoNotFound(name) from None
        raise MotoClientError(exc.code or 500, exc.error_type, exc.message) from None


def lambda_runtime(account: str, region: str, name: str) -> str | None:
    """The runtime of a function's $LATEST as moto keeps it, or None if there is no such function (or no runtime)."""
    try:
        function = lambda_function(account, region, name, None)
    except (MotoNotFound, MotoClientError):
        return None
    runtime = getattr(function, "run_time", None)
    return runtime if isinstance(runtime, str) else None


def lambda_policy(account: str, region: str, name: str, qualifier: str | None) -> dict[str, Any] | None:
    """A function's resource-based policy as moto keeps it (AddPermission statements), or None."""
    try:
        function = lambda_function(account, region, name, qualifier)
    except (MotoNotFound, MotoClientError):
        return None
    statements = list(getattr(getattr(function, "policy", None), "statements", None) or [])
    return {"Version": "2012-10-17", "Id": "default", "Statement": statements} if statements else None


# ---------------------------------------------------------------------------------------------------------------
# KMS
# ---------------------------------------------------------------------------------------------------------------

# moto's ciphertext blob starts with the key ID it was encrypted under, in 36 bytes (moto.kms.utils:
# CIPHERTEXT_HEADER_FORMAT; "NOTE: This is just a simple binary format. It is not what KMS actually does.").
_CIPHERTEXT_KEY_ID_BYTES = 36
_aws_managed_keys_lock = threading.Lock()


def _kms_backend(account: str, region: str) -> Any | None:
    from moto.kms.models import kms_backends

    if account not in kms_backends or region not in kms_backends[account].regions:
        return None
    return kms_backends[account][region]


def _kms_record(backend: Any, key: Any) -> kms.KmsKey:
    try:
        policy = json.loads(key.policy) if key.policy else None
    except ValueError:
        policy = {"Version": "2012-10-17", "Statement": []}  # unreadable: allows nothing
    tags = {tag["TagKey"]: tag.get("TagValue", "") for tag in backend.tagger.list_tags_for_resource(key.id)["Tags"]}
    return kms.KmsKey(
        arn=key.arn, key_id=key.id, account=key.account_id, region=key.region, state=key.key_state,
        key_spec=key.key_spec, key_usage=key.key_usage, origin=key.origin, manager=key.key_manager,
        policy=policy if isinstance(policy, dict) else None, tags=tags, multi_region=bool(key.multi_region),
    )


def kms_key(account: str, region: str, key_id: str) -> kms.KmsKey | None:
    """The key ``key_id`` (its ID, any case) of the account in the region, or None."""
    backend = _kms_backend(account, region)
    if backend is None:
        return None
    key = backend.keys.get(key_id) or next((k for k in list(backend.keys.values())
                                             if k.id.lower() == key_id.lower()), None)
    return _kms_record(backend, key) if key is not None else None


def kms_alias_target(account: str, region: str, alias_name: str) -> str | None:
    """The key ID an alias of the account points to, or None; never creates the key of a reserved AWS alias (moto
    would, with a customer key's default policy)."""
    backend = _kms_backend(account, region)
    if backend is None:
        return None
    return next((key.id for key in list(backend.keys.values()) if alias_name in key.aliases), None)


def kms_key_aliases(account: str, region: str, key_id: str) -> list[str]:
    backend = _kms_backend(account, region)
    key = backend.keys.get(key_id) if backend is not None else None
    return sorted(key.aliases) if key is not None else []


def kms_ciphertext_key_id(blob: bytes) -> str | None:
    """The key ID a moto ciphertext blob names, or None if ``blob`` is no moto ciphertext."""
    if len(blob) <= _CIPHERTEXT_KEY_ID_BYTES:
        return None
    try:
        return blob[:_CIPHERTEXT_KEY_ID_BYTES].decode("ascii")
    except UnicodeDecodeError:
        return None


def kms_keys_with_id(region: str, key_id: str) -> list[kms.KmsKey]:
    """Every key of that ID in the region, whichever account holds it (key IDs are UUIDs: one, or none)."""
    from moto.kms.models import kms_backends

    found = []
    for account in list(kms_backends.keys()):
        record = kms_key(account, region, key_id)
        if record is not None:
            found.append(record)
    return found


def kms_create_aws_managed_key(account: str, region: str, alias_name: str, description: str,
                               policy: dict[str, Any]) -> kms.KmsKey:
    """The AWS managed key of ``alias_name`` in the account, created the first time it is asked for (AWS creates
    it on first use); an AWS managed key's KeyManager is AWS (API_KeyMetadata.html)."""
    from moto.kms.models import kms_backends

    with _aws_managed_keys_lock:
        backend = kms_backends[account][region]
        existing = kms_alias_target(account, region, alias_name)
        if existing is None:
            key = backend.create_key(json.dumps(policy), "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", description, None)
            key.key_manager = "AWS"
            backend.create_alias(key.id, alias_name)
            existing = key.id
    record = kms_key(account, region, existing)
    assert record is not None
    return record


# moto 5.2.5's KmsBackend.enable_key, disable_key, schedule_key_deletion and cancel_key_deletion index its keys by
# the KeyId as given, so a key ARN (which KMS accepts) fails there with a KeyError; they get the key ID.
_KMS_BY_KEY_ID = frozenset({"EnableKey", "DisableKey", "ScheduleKeyDeletion", "CancelKeyDeletion"})


def kms_params_for_moto(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters moto needs for a KMS operation whose keys the gate named by ARN."""
    key = params.get("KeyId")
    if operation in _KMS_BY_KEY_ID and isinstance(key, str) and ":key/" in key:
        return {**params, "KeyId": key.rsplit(":key/", 1)[1]}
    return params


def _disabled_kms_policy_check(self: Any, key_id: str, action: str) -> None:
    """moto's KMS applies a key policy's Deny statements to DescribeKey by itself, ignoring principals and
    conditions; the gate has already evaluated the key policy."""


# ---------------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------------


def backend_app() -> Any:
    """moto's WSGI app: the dispatcher that routes a request to a service by its Authorization header."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def request_handler_class() -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    return MotoRequestHandler


def _bucket_permission_neutral(self: Any, action: str, resource: str) -> Any:
    from moto.iam.access_control import PermissionResult

    return PermissionResult.NEUTRAL


class MotoSettings:
    """moto's own authorization turned off while a LocalCloud runs (the gate decides, moto only executes), and
    restored afterwards."""

    def __init__(self) -> None:
        self._environ: dict[str, str] = {}
        self._no_auth_count: Any = None
        self._get_permission: Any = None
        self._validate_key_policy: Any = None

    def configure(self) -> None:
        from moto import settings
        from moto.kms.responses import KmsResponse
        from moto.s3.models import FakeBucket

        for name in _ENV_OVERRIDES:
            if name in os.environ:
                self._environ[name] = os.environ.pop(name)
        # IAM enforcement (moto.core.authorization): off unless INITIAL_NO_AUTH_ACTION_COUNT is finite.
        self._no_auth_count = settings.INITIAL_NO_AUTH_ACTION_COUNT
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        # moto.s3 applies bucket-policy Deny statements to object requests by itself, ignoring their conditions
        # (a TLS-only policy would deny HTTPS requests too); the gate has already evaluated the bucket policy.
        self._get_permission = FakeBucket.__dict__.get("get_permission")
        FakeBucket.get_permission = _bucket_permission_neutral
        self._validate_key_policy = KmsResponse.__dict__.get("_validate_key_policy")
        KmsResponse._validate_key_policy = _disabled_kms_policy_check
        _give_delete_markers_dispose()
        install_recorder()

    def restore(self) -> None:
        from moto import settings
        from moto.kms.responses import KmsResponse
        from moto.s3.models import FakeBucket

        os.environ.update(self._environ)
        self._environ.clear()
        if self._no_auth_count is not None:
            settings.INITIAL_NO_AUTH_ACTION_COUNT = self._no_auth_count
            self._no_auth_count = None
        if self._get_permission is not None:
            FakeBucket.get_permission = self._get_permission
            self._get_permission = None
        if self._validate_key_policy is not None:
            KmsResponse._validate_key_policy = self._validate_key_policy
            self._validate_key_policy = None


def _give_delete_markers_dispose() -> None:
    """moto 5.2.5 disposes of every version of a key when its last one is deleted, delete markers included, which
    have no ``dispose``: deleting the remaining versions of a versioned bucket's key (a force-destroyed bucket, S3
    DeleteObjects by VersionId) failed with AttributeError. A delete marker holds no data: nothing to release."""
    from moto.s3.models import FakeDeleteMarker

    if not hasattr(FakeDeleteMarker, "dispose"):
        FakeDeleteMarker.dispose = lambda self, garbage=False: None  # pyrefly: ignore[missing-attribute]


def reset() -> None:
    """Empty every backend, as ``POST /moto-api/reset`` does."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.moto_api._internal.models import moto_api_backend
    from moto.s3.models import s3_backends

    moto_api_backend.reset()
    s3_backends.bucket_accounts.clear()
    ActionAuthenticatorMixin.request_count = 0


# ---------------------------------------------------------------------------------------------------------------
# What moto executed
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Execution:
    """One thing moto did for a request: ``kind`` "action" (its authorization hook: service, action, S3 bucket
    and key), "s3" (an S3 backend call: method, bucket, key), "kms" (a KMS backend call: method, ``key`` the key
    ARN it acts on) or "param" (a handler read parameter ``name``)."""

    kind: str
    service: str
    name: str  # the action, the backend method, or the parameter name
    bucket: str | None = None
    key: str | None = None
    value: str | None = None
    top: bool = True  # an S3 backend call moto's handler made itself, not one nested in another


_local = threading.local()


@contextmanager
def recording() -> Iterator[list[Execution]]:
    """Collect what moto executes on this thread until the block ends."""
    executions: list[Execution] = []
    previous = getattr(_local, "executions", None)
    _local.executions = executions
    try:
        yield executions
    finally:
        _local.executions = previous


def _record(execution: Execution) -> None:
    executions = getattr(_local, "executions", None)
    if executions is not None:
        executions.append(execution)


# S3 backend methods whose (bucket, key) is not simply their bucket_name and key_name arguments. For multipart
# calls the key is the one moto stored with the upload, which is what it will write.
def _multipart(arguments: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    name = arguments.get("bucket_name") or arguments.get("dest_bucket_name")
    key = multipart_key(name, arguments.get("multipart_id", "")) if name else None
    return [(name, key)]


def _copy_object(arguments: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    source = arguments.get("src_key")
    return [(arguments.get("dest_bucket_name"), arguments.get("dest_key_name")),
            (getattr(source, "bucket_name", None), getattr(source, "name", None))]


def _copy_part(arguments: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    return _multipart(arguments) + [(arguments.get("src_bucket_name"), arguments.get("src_key_name"))]


def _delete_objects(arguments: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    return [(arguments.get("bucket_name"), item.get("Key")) for item in arguments.get("objects") or []]


_S3_BACKEND_CALLS: dict[str, Any] = {
    "upload_part": _multipart,
    "complete_multipart_upload": _multipart,
    "abort_multipart_upload": _multipart,
    "list_parts": _multipart,
    "upload_part_copy": _copy_part,
    "copy_object": _copy_object,
    "delete_objects": _delete_objects,
}


def _default_locate(arguments: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    bucket_name = arguments.get("bucket_name")
    return [(bucket_name, arguments.get("key_name"))] if isinstance(bucket_name, str) else []


def _wrap_s3_backend(backend_class: type) -> None:
    """Record every public S3Backend call; ``top`` marks the calls moto's handler made itself (not nested)."""
    import inspect

    for method_name, original in list(vars(backend_class).items()):
        if method_name.startswith("_") or not inspect.isfunction(original):
            continue
        signature = inspect.signature(original)
        locate = _S3_BACKEND_CALLS.get(method_name, _default_locate)

        def make(original: Any, signature: inspect.Signature, method_name: str, locate: Any) -> Any:
            @wraps(original)
            def recorded(*args: Any, **kwargs: Any) -> Any:
                if getattr(_local, "executions", None) is None:
                    return original(*args, **kwargs)
                depth = getattr(_local, "depth", 0)
                arguments = dict(signature.bind_partial(*args, **kwargs).arguments)
                places = locate(arguments) or [(None, None)]
                for bucket_name, key in places:
                    _record(Execution("s3", "s3", method_name, bucket_name, key, top=depth == 0))
                _local.depth = depth + 1
                try:
                    return original(*args, **kwargs)
                finally:
                    _local.depth = depth
            return recorded

        setattr(backend_class, method_name, make(original, signature, method_name, locate))


# The KmsBackend arguments that name a key, and the ciphertext whose key a call decrypts with.
_KMS_KEY_ARGUMENTS = ("key_id", "target_key_id", "destination_key_id", "key_id_or_arn", "arn")


def _kms_keys_named(backend: Any, arguments: dict[str, Any]) -> list[str]:
    """The key ARNs a KmsBackend call acts on, as ``backend`` reads its arguments (aliases looked up without
    creating anything)."""
    names = [arguments[name] for name in _KMS_KEY_ARGUMENTS if isinstance(arguments.get(name), str)]
    blob = arguments.get("ciphertext_blob")
    if isinstance(blob, bytes):
        names.append(kms_ciphertext_key_id(blob) or "")
    found = []
    for name in names:
        alias = backend.get_alias_name(name)
        if alias.startswith("alias/"):
            key_id = next((key.id for key in list(backend.keys.values()) if alias in key.aliases), alias)
        else:
            key_id = backend.get_key_id(name)
        found.append(arns.kms_key(backend.region_name, backend.account_id, key_id))
    return found


def _wrap_kms_backend(backend_class: type) -> None:
    """Record the keys every public KmsBackend call acts on (Execution kind "kms", ``key`` the key ARN)."""
    import inspect

    for method_name, original in list(vars(backend_class).items()):
        if method_name.startswith("_") or not inspect.isfunction(original):
            continue
        signature = inspect.signature(original)

        def make(original: Any, signature: inspect.Signature, method_name: str) -> Any:
            @wraps(original)
            def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
                if getattr(_local, "executions", None) is not None:
                    arguments = dict(signature.bind_partial(self, *args, **kwargs).arguments)
                    for key_arn in _kms_keys_named(self, arguments):
                        _record(Execution("kms", "kms", method_name, key=key_arn))
                return original(self, *args, **kwargs)
            return recorded

        setattr(backend_class, method_name, make(original, signature, method_name))


@lru_cache(maxsize=1)
def install_recorder() -> None:
    """Wrap moto's authorization hooks, the S3 backend and ``_get_param`` (once per process)."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.responses import BaseResponse
    from moto.kms.models import KmsBackend
    from moto.kms.responses import KmsResponse
    from moto.s3.models import S3Backend

    normal = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
    s3_hook = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action
    get_param = BaseResponse._get_param
    kms_get_param = KmsResponse._get_param  # KMS reads its JSON body itself

    @wraps(normal)
    def normal_action(self: Any, resource: str = "*") -> None:
        _record(Execution("action", str(getattr(self, "service_name", "")), str(self._get_action())))
        return normal(self, resource)

    @wraps(s3_hook)
    def s3_action(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        _record(Execution("action", "s3", str(self.data.get("Action", "")), bucket_name, key_name))
        return s3_hook(self, bucket_name, key_name)

    @wraps(get_param)
    def read_param(self: Any, param_name: str, if_none: Any = None) -> Any:
        value = get_param(self, param_name, if_none)
        if isinstance(value, str):
            _record(Execution("param", str(getattr(self, "service_name", "")), param_name, value=value))
        return value

    @wraps(kms_get_param)
    def read_kms_param(self: Any, param_name: str, if_none: Any = None) -> Any:
        value = kms_get_param(self, param_name, if_none)
        if isinstance(value, str):
            _record(Execution("param", "kms", param_name, value=value))
        return value

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = normal_action
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = s3_action
    BaseResponse._get_param = read_param
    KmsResponse._get_param = read_kms_param
    _wrap_s3_backend(S3Backend)
    _wrap_kms_backend(KmsBackend)
