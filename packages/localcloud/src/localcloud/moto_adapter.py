"""The one module that reaches into moto's internals: its state, its server app, and what it executed.

Everything else in localcloud talks to moto through the functions here, so a moto upgrade that moves a backend or
renames an attribute breaks one file. Three parts:

- State lookups (read-only, except the deployer users ``create_user_with_key`` makes): IAM users, roles, groups and
  MFA devices, STS sessions, S3 bucket owners, policies and multipart uploads, Lambda functions.
- The server: ``backend_app()`` (moto's WSGI dispatcher), ``configure``/``restore`` (moto's own authorization off,
  because the gate decides), ``reset``.
- What moto executed. ``recording()`` collects, for the requests the calling thread hands to moto, every
  ``Execution``: moto's own authorization hooks (each request names its action and, for S3, its bucket and key
  there, right before moto acts), the S3 backend calls that touch a bucket or key, and the parameters moto's
  handlers read. The gate compares them with what it authorized (``localcloud.gate.invariant``): a request that
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

from localcloud import arns

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

    def configure(self) -> None:
        from moto import settings
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
        _give_delete_markers_dispose()
        install_recorder()

    def restore(self) -> None:
        from moto import settings
        from moto.s3.models import FakeBucket

        os.environ.update(self._environ)
        self._environ.clear()
        if self._no_auth_count is not None:
            settings.INITIAL_NO_AUTH_ACTION_COUNT = self._no_auth_count
            self._no_auth_count = None
        if self._get_permission is not None:
            FakeBucket.get_permission = self._get_permission
            self._get_permission = None


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
    and key), "s3" (an S3 backend call: method, bucket, key) or "param" (a handler read parameter ``name``)."""

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


@lru_cache(maxsize=1)
def install_recorder() -> None:
    """Wrap moto's authorization hooks, the S3 backend and ``_get_param`` (once per process)."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.responses import BaseResponse
    from moto.s3.models import S3Backend

    normal = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action
    s3_hook = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action
    get_param = BaseResponse._get_param

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

    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = normal_action
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = s3_action
    BaseResponse._get_param = read_param
    _wrap_s3_backend(S3Backend)
