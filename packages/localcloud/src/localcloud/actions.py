"""What a request asks for: its operation, the IAM action(s) it needs, on which resource, in which account.

``classify(request, service=..., region=..., caller_account=..., directory=...)`` returns an ``ActionPlan`` with one
``Check`` per authorization the request needs (most need one; ``CopyObject`` needs two, ``DeleteObjects`` one per key,
``CreateFunction`` an ``iam:PassRole`` as well). The service is the SigV4 signing name from the credential scope.
The gate classifies its one canonical reading of a request (``localcloud.gate.reading``); a parameter the
operation does not define, or an S3 sub-resource of another operation, raises ``UnexpectedParameter`` rather than
being ignored (another reader could take it to name another operation or resource).

- Query protocol (STS, IAM): the ``Action`` parameter; resources from ``RoleArn``, ``RoleName``, ``UserName``, ...
- JSON protocol (CloudWatch Logs): ``X-Amz-Target``; resources from ``logGroupName`` / ``logStreamName``.
  KMS: ``localcloud.kms_actions``, which resolves the key a request names (key ID, key ARN, alias) to its ARN.
- REST (S3, Lambda): method and path matched against botocore's service model (``http.requestUri`` plus required
  query-string and header members), then ``S3_ACTIONS`` where S3's IAM action differs from the operation name.

Pure apart from ``Directory``, which answers questions about existing resources (who owns a bucket, a role's path).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, unquote

from localcloud import arns, sdk
from localcloud.kms import KmsKey
from localcloud.sigv4 import HttpRequest


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One authorization: may the caller perform ``action`` on ``resource`` (owned by ``resource_account``)?"""

    action: str
    resource: str
    resource_account: str | None
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    bucket: str | None = None  # S3: whose bucket policy applies
    item: Mapping[str, str] | None = None  # DeleteObjects: the <Object> this check is for
    key_policy: bool = False  # KMS: ``resource`` is a key ARN, and its key policy must allow
    via_service: str | None = None  # a service makes this request for the caller (kms:ViaService, e.g. S3's)
    from_ciphertext: bool = False  # KMS: the key was read from a ciphertext, not named by the request


@dataclass(frozen=True)
class ActionPlan:
    """A classified request."""

    service: str  # the IAM service prefix ("s3", "sts", "logs", ...)
    operation: str  # the API operation ("PutObject", "AssumeRole", ...)
    protocol: str  # botocore's protocol name: rest-xml, rest-json, query, json
    checks: tuple[Check, ...]
    params: Mapping[str, Any] = field(default_factory=dict)  # decoded request parameters (query/JSON/URI members)
    per_item: bool = False  # DeleteObjects: a denied check fails its item, not the request

    @property
    def action(self) -> str:
        return self.checks[0].action if self.checks else f"{self.service}:{self.operation}"

    @property
    def resource(self) -> str:
        return self.checks[0].resource if self.checks else "*"


class Directory(Protocol):
    """What ``classify`` needs to know about existing resources (``localcloud.principals.MotoDirectory``)."""

    def bucket_account(self, bucket: str) -> str | None: ...

    def role_arn(self, account: str, name: str) -> str | None: ...

    def user_arn(self, account: str, name: str) -> str | None: ...

    def group_arn(self, account: str, name: str) -> str | None: ...

    def kms_key(self, account: str, region: str, key_id: str) -> KmsKey | None: ...

    def kms_alias_target(self, account: str, region: str, alias_name: str) -> str | None: ...

    def kms_ciphertext_keys(self, region: str, blob: bytes) -> list[KmsKey] | None: ...

    def kms_aws_managed_key(self, account: str, region: str, alias_name: str) -> KmsKey | None: ...


class UnknownOperation(Exception):
    """The request matches no operation of the service's model."""


BODY = "the request body"  # UnexpectedParameter.name when an operation that takes no body is sent one


class UnexpectedParameter(Exception):
    """The request carries a parameter (or S3 sub-resource) its operation does not define: a second reading of
    it could name another operation or resource, so it is refused rather than ignored."""

    def __init__(self, operation: str, name: str, *, names_resource: bool = False) -> None:
        super().__init__(f"{operation} does not take the parameter {name!r}")
        self.operation, self.name, self.names_resource = operation, name, names_resource


# ---------------------------------------------------------------------------------------------------------------
# S3: the one table of IAM actions (S3 User Guide, using-with-s3-policy-actions.html; cross-checked against the
# permissions each operation's documentation in botocore's S3 model names)
# ---------------------------------------------------------------------------------------------------------------

S3ResourceKind = Literal["bucket", "object", "account"]


@dataclass(frozen=True)
class S3Action:
    action: str  # the IAM action checked
    resource: S3ResourceKind  # bucket ARN, object ARN, or "*" (account-level)
    version_action: str | None = None  # checked instead when the request names a versionId


def _b(action: str) -> S3Action:
    return S3Action(f"s3:{action}", "bucket")


def _o(action: str, version_action: str | None = None) -> S3Action:
    return S3Action(f"s3:{action}", "object", f"s3:{version_action}" if version_action else None)


S3_ACTIONS: dict[str, S3Action] = {
    # Account level
    "ListBuckets": S3Action("s3:ListAllMyBuckets", "account"),
    "ListDirectoryBuckets": S3Action("s3express:ListAllMyDirectoryBuckets", "account"),
    # Buckets
    "CreateBucket": _b("CreateBucket"),
    "DeleteBucket": _b("DeleteBucket"),
    "HeadBucket": _b("ListBucket"),
    "ListObjects": _b("ListBucket"),
    "ListObjectsV2": _b("ListBucket"),
    "ListObjectVersions": _b("ListBucketVersions"),
    "ListMultipartUploads": _b("ListBucketMultipartUploads"),
    "GetBucketLocation": _b("GetBucketLocation"),
    "CreateSession": S3Action("s3express:CreateSession", "bucket"),
    "GetBucketPolicy": _b("GetBucketPolicy"),
    "PutBucketPolicy": _b("PutBucketPolicy"),
    "DeleteBucketPolicy": _b("DeleteBucketPolicy"),
    "GetBucketPolicyStatus": _b("GetBucketPolicyStatus"),
    "GetBucketAcl": _b("GetBucketAcl"),
    "PutBucketAcl": _b("PutBucketAcl"),
    "GetBucketVersioning": _b("GetBucketVersioning"),
    "PutBucketVersioning": _b("PutBucketVersioning"),
    "GetBucketEncryption": _b("GetEncryptionConfiguration"),
    "PutBucketEncryption": _b("PutEncryptionConfiguration"),
    "DeleteBucketEncryption": _b("PutEncryptionConfiguration"),
    "GetPublicAccessBlock": _b("GetBucketPublicAccessBlock"),
    "PutPublicAccessBlock": _b("PutBucketPublicAccessBlock"),
    "DeletePublicAccessBlock": _b("PutBucketPublicAccessBlock"),
    "GetBucketOwnershipControls": _b("GetBucketOwnershipControls"),
    "PutBucketOwnershipControls": _b("PutBucketOwnershipControls"),
    "DeleteBucketOwnershipControls": _b("PutBucketOwnershipControls"),
    "GetBucketTagging": _b("GetBucketTagging"),
    "PutBucketTagging": _b("PutBucketTagging"),
    "DeleteBucketTagging": _b("PutBucketTagging"),
    "GetBucketCors": _b("GetBucketCORS"),
    "PutBucketCors": _b("PutBucketCORS"),
    "DeleteBucketCors": _b("PutBucketCORS"),
    "GetBucketLifecycle": _b("GetLifecycleConfiguration"),
    "GetBucketLifecycleConfiguration": _b("GetLifecycleConfiguration"),
    "PutBucketLifecycle": _b("PutLifecycleConfiguration"),
    "PutBucketLifecycleConfiguration": _b("PutLifecycleConfiguration"),
    "DeleteBucketLifecycle": _b("PutLifecycleConfiguration"),
    "GetBucketReplication": _b("GetReplicationConfiguration"),
    "PutBucketReplication": _b("PutReplicationConfiguration"),
    "DeleteBucketReplication": _b("PutReplicationConfiguration"),
    "GetBucketNotification": _b("GetBucketNotification"),
    "GetBucketNotificationConfiguration": _b("GetBucketNotification"),
    "PutBucketNotification": _b("PutBucketNotification"),
    "PutBucketNotificationConfiguration": _b("PutBucketNotification"),
    "GetBucketLogging": _b("GetBucketLogging"),
    "PutBucketLogging": _b("PutBucketLogging"),
    "GetBucketWebsite": _b("GetBucketWebsite"),
    "PutBucketWebsite": _b("PutBucketWebsite"),
    "DeleteBucketWebsite": _b("DeleteBucketWebsite"),
    "GetBucketRequestPayment": _b("GetBucketRequestPayment"),
    "PutBucketRequestPayment": _b("PutBucketRequestPayment"),
    "GetBucketAccelerateConfiguration": _b("GetAccelerateConfiguration"),
    "PutBucketAccelerateConfiguration": _b("PutAccelerateConfiguration"),
    "GetBucketAnalyticsConfiguration": _b("GetAnalyticsConfiguration"),
    "ListBucketAnalyticsConfigurations": _b("GetAnalyticsConfiguration"),
    "PutBucketAnalyticsConfiguration": _b("PutAnalyticsConfiguration"),
    "DeleteBucketAnalyticsConfiguration": _b("PutAnalyticsConfiguration"),
    "GetBucketInventoryConfiguration": _b("GetInventoryConfiguration"),
    "ListBucketInventoryConfigurations": _b("GetInventoryConfiguration"),
    "PutBucketInventoryConfiguration": _b("PutInventoryConfiguration"),
    "DeleteBucketInventoryConfiguration": _b("PutInventoryConfiguration"),
    "GetBucketMetricsConfiguration": _b("GetMetricsConfiguration"),
    "ListBucketMetricsConfigurations": _b("GetMetricsConfiguration"),
    "PutBucketMetricsConfiguration": _b("PutMetricsConfiguration"),
    "DeleteBucketMetricsConfiguration": _b("PutMetricsConfiguration"),
    "GetBucketIntelligentTieringConfiguration": _b("GetIntelligentTieringConfiguration"),
    "ListBucketIntelligentTieringConfigurations": _b("GetIntelligentTieringConfiguration"),
    "PutBucketIntelligentTieringConfiguration": _b("PutIntelligentTieringConfiguration"),
    "DeleteBucketIntelligentTieringConfiguration": _b("PutIntelligentTieringConfiguration"),
    "GetObjectLockConfiguration": _b("GetBucketObjectLockConfiguration"),
    "PutObjectLockConfiguration": _b("PutBucketObjectLockConfiguration"),
    "GetBucketAbac": _b("GetBucketABAC"),
    "PutBucketAbac": _b("PutBucketABAC"),
    "CreateBucketMetadataConfiguration": _b("CreateBucketMetadataTableConfiguration"),
    "CreateBucketMetadataTableConfiguration": _b("CreateBucketMetadataTableConfiguration"),
    "GetBucketMetadataConfiguration": _b("GetBucketMetadataTableConfiguration"),
    "GetBucketMetadataTableConfiguration": _b("GetBucketMetadataTableConfiguration"),
    "DeleteBucketMetadataConfiguration": _b("DeleteBucketMetadataTableConfiguration"),
    "DeleteBucketMetadataTableConfiguration": _b("DeleteBucketMetadataTableConfiguration"),
    "UpdateBucketMetadataAnnotationTableConfiguration": _b("UpdateBucketMetadataAnnotationTableConfiguration"),
    "UpdateBucketMetadataInventoryTableConfiguration": _b("UpdateBucketMetadataInventoryTableConfiguration"),
    "UpdateBucketMetadataJournalTableConfiguration": _b("UpdateBucketMetadataJournalTableConfiguration"),
    # Objects
    "GetObject": _o("GetObject", "GetObjectVersion"),
    "HeadObject": _o("GetObject", "GetObjectVersion"),
    "GetObjectAttributes": _o("GetObjectAttributes", "GetObjectVersionAttributes"),
    "GetObjectTorrent": _o("GetObjectTorrent", "GetObjectVersionTorrent"),
    "SelectObjectContent": _o("GetObject"),
    "PutObject": _o("PutObject"),
    "CopyObject": _o("PutObject"),  # plus s3:GetObject on the source, see _s3_checks
    "CreateMultipartUpload": _o("PutObject"),
    "UploadPart": _o("PutObject"),
    "UploadPartCopy": _o("PutObject"),  # plus s3:GetObject on the source
    "CompleteMultipartUpload": _o("PutObject"),
    "AbortMultipartUpload": _o("AbortMultipartUpload"),
    "ListParts": _o("ListMultipartUploadParts"),
    "DeleteObject": _o("DeleteObject", "DeleteObjectVersion"),
    "DeleteObjects": _o("DeleteObject", "DeleteObjectVersion"),  # one check per <Object> in the body
    "RenameObject": _o("PutObject"),
    "RestoreObject": _o("RestoreObject"),
    "GetObjectAcl": _o("GetObjectAcl", "GetObjectVersionAcl"),
    "PutObjectAcl": _o("PutObjectAcl", "PutObjectVersionAcl"),
    "GetObjectTagging": _o("GetObjectTagging", "GetObjectVersionTagging"),
    "PutObjectTagging": _o("PutObjectTagging", "PutObjectVersionTagging"),
    "DeleteObjectTagging": _o("DeleteObjectTagging", "DeleteObjectVersionTagging"),
    "GetObjectRetention": _o("GetObjectRetention"),
    "PutObjectRetention": _o("PutObjectRetention"),
    "GetObjectLegalHold": _o("GetObjectLegalHold"),
    "PutObjectLegalHold": _o("PutObjectLegalHold"),
    "UpdateObjectEncryption": _o("UpdateObjectEncryption"),
    "GetObjectAnnotation": _o("GetObjectAnnotation"),
    "PutObjectAnnotation": _o("PutObjectAnnotation"),
    "DeleteObjectAnnotation": _o("DeleteObjectAnnotation"),
    "ListObjectAnnotations": _o("ListObjectAnnotations"),
    "WriteGetObjectResponse": S3Action("s3-object-lambda:WriteGetObjectResponse", "account"),
}

# Request headers that S3 exposes as condition keys (S3 Service Authorization Reference).
_S3_HEADER_KEYS = (
    "x-amz-acl",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-storage-class",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-grant-read",
    "x-amz-grant-write",
    "x-amz-grant-read-acp",
    "x-amz-grant-write-acp",
    "x-amz-grant-full-control",
    "x-amz-object-ownership",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
)
_ACL_HEADERS = ("x-amz-acl",) + tuple(h for h in _S3_HEADER_KEYS if h.startswith("x-amz-grant-"))


s3_arn = arns.s3


# ---------------------------------------------------------------------------------------------------------------
# botocore's service models: protocol and REST routes
# ---------------------------------------------------------------------------------------------------------------

# Signing names whose botocore model or IAM prefix has another name.
_MODEL_NAMES = {"monitoring": "cloudwatch", "email": "ses", "states": "stepfunctions", "execute-api": "apigateway"}
_IAM_PREFIXES = {"monitoring": "cloudwatch", "email": "ses"}


@lru_cache(maxsize=64)
def _service_model(service: str) -> Any | None:
    # The gate classifies on many threads, and botocore's loader (shared with every client) is not thread-safe.
    with sdk.LOADER_LOCK:
        try:
            return sdk.botocore_session().get_service_model(_MODEL_NAMES.get(service, service))
        except Exception:  # noqa: BLE001 - unknown service: classified by the request's shape alone
            return None


def service_protocol(service: str) -> str | None:
    """botocore's protocol of a service (by its signing name), None for a service it has no model of."""
    model = _service_model(service)
    return str(model.protocol) if model is not None else None


@lru_cache(maxsize=64)
def shape_enum(service: str, shape: str) -> tuple[str, ...]:
    """The values an enum shape of a service's model allows, in the model's order; () if there is no such shape."""
    model = _service_model(service)
    try:
        return tuple(model.shape_for(shape).enum or ()) if model is not None else ()
    except Exception:  # noqa: BLE001 - botocore's NoShapeFoundError: no such shape
        return ()


def preload(services: tuple[str, ...] = ("s3", "sts", "iam", "logs", "lambda")) -> None:
    """Load the service models and REST routes ahead of the first request."""
    for service in services:
        _routes(service)


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    literal_segments: int
    query_literals: tuple[tuple[str, str | None], ...]
    required_query: tuple[str, ...]
    required_headers: tuple[str, ...]
    query_members: tuple[str, ...]  # the query-string members of the input shape (wire names)
    body_members: frozenset[str]  # rest-json: the members that travel in the JSON body (no location)
    has_payload: bool  # the input takes a body (a payload member, or body members)
    labels: tuple[str, ...]  # the URI labels, in the order the pattern captures them
    uri_members: tuple[tuple[str, str], ...]  # (URI label, member name)
    deprecated: bool


def _route(operation_model: Any) -> _Route:
    http = operation_model.http
    path, _, query = http["requestUri"].partition("?")
    pattern = "^"
    literal_segments = 0
    labels: list[str] = []
    for segment in path.strip("/").split("/") if path.strip("/") else []:
        greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
        label = re.fullmatch(r"\{(\w+)\}", segment)
        if greedy:
            pattern += "/(.+)"
            labels.append(greedy.group(1))
        elif label:
            pattern += "/([^/]+)"
            labels.append(label.group(1))
        else:
            pattern += "/" + re.escape(segment)
            literal_segments += 1
    pattern += "/?$" if pattern != "^" else "/$"
    query_literals = tuple(
        (key, value if sep else None) for key, sep, value in (item.partition("=") for item in query.split("&") if item)
    )
    shape = operation_model.input_shape
    required_query: list[str] = []
    required_headers: list[str] = []
    query_members: list[str] = []
    body_members: list[str] = []
    uri_members: list[tuple[str, str]] = []
    if shape is not None:
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "uri":
                uri_members.append((wire_name, name))
            if location == "querystring":
                query_members.append(wire_name)
            if location is None and name != shape.serialization.get("payload"):
                body_members.append(wire_name)
            if name not in shape.required_members:
                continue
            if location == "querystring":
                required_query.append(wire_name)
            elif location == "header":
                required_headers.append(wire_name.lower())
    return _Route(
        operation=operation_model.name,
        method=http["method"].upper(),
        pattern=re.compile(pattern),
        literal_segments=literal_segments,
        query_literals=query_literals,
        required_query=tuple(required_query),
        required_headers=tuple(required_headers),
        query_members=tuple(query_members),
        body_members=frozenset(body_members),
        has_payload=bool(shape is not None and (shape.serialization.get("payload") or body_members)),
        labels=tuple(labels),
        uri_members=tuple(uri_members),
        deprecated=bool(operation_model.deprecated),
    )


@lru_cache(maxsize=16)
def _routes(service: str) -> tuple[_Route, ...]:
    model = _service_model(service)
    if model is None:
        return ()
    return tuple(_route(model.operation_model(name)) for name in model.operation_names)


# Operations that share a route with a more common one and are never what a path-style request means.
_ROUTE_LAST = frozenset({"ListDirectoryBuckets", "CreateSession"})


def match_rest_operation(service: str, request: HttpRequest) -> tuple[str, dict[str, str]]:
    """The operation a REST request calls, and its URI members (decoded), by botocore's model of ``service``."""
    query = request.query_params()
    best: tuple[tuple[int, ...], _Route, dict[str, str]] | None = None
    for route in _routes(service):
        if route.method != request.method:
            continue
        found = route.pattern.match(request.raw_path)
        if not found:
            continue
        if any(key not in query or (value is not None and query[key] != value) for key, value in route.query_literals):
            continue
        if any(key not in query for key in route.required_query):
            continue
        if any(request.header(name) is None for name in route.required_headers):
            continue
        members = dict(route.uri_members)
        values = {members.get(label, label): unquote(raw) for label, raw in zip(route.labels, found.groups())}
        score = (
            0 if route.operation in _ROUTE_LAST else 1,
            len(route.query_literals) + len(route.required_query) + len(route.required_headers),
            route.literal_segments,
            0 if route.deprecated else 1,
        )
        if best is None or score > best[0]:
            best = (score, route, values)
    if best is None:
        raise UnknownOperation(f"{request.method} {request.raw_path} matches no {service} operation")
    route = best[1]
    known = {key for key, _ in route.query_literals} | set(route.query_members)
    for key in query:
        if key not in known:
            raise UnexpectedParameter(route.operation, key)
    _check_body(service, route, request)
    return route.operation, best[2]


def _check_body(service: str, route: _Route, request: HttpRequest) -> None:
    """A body only where the operation takes one; for REST-JSON only keys the model puts in the body (moto reads
    a query or path member from the body too, when the query lacks it)."""
    if not request.body:
        return
    if not route.has_payload:
        raise UnexpectedParameter(route.operation, BODY)
    model = _service_model(service)
    if model is None or model.protocol != "rest-json" or not route.body_members:
        return  # the body is the operation's payload (Invoke's event, PutObject's bytes)
    document = _json_body(request)
    for key in document:
        if key not in route.body_members:
            raise UnexpectedParameter(route.operation, key)


# ---------------------------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------------------------


def _iam_prefix(service: str) -> str:
    return _IAM_PREFIXES.get(service, service)


def _form_params(request: HttpRequest) -> dict[str, str]:
    params = dict(request.query_params())
    content_type = (request.header("content-type") or "").lower()
    if request.body and ("x-www-form-urlencoded" in content_type or not content_type):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        for key, value in parse_qsl(text, keep_blank_values=True):
            params.setdefault(key, value)
    return params


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        parsed = json.loads(request.body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def classify(
    request: HttpRequest,
    *,
    service: str,
    region: str,
    caller_account: str,
    directory: Directory,
    caller_arn: str | None = None,
) -> ActionPlan:
    """Classify a signed request (``service`` and ``region`` from its credential scope). ``caller_arn`` names
    the resource of IAM calls on the caller's own user (``GetUser`` or ``CreateAccessKey`` without UserName)."""
    model = _service_model(service)
    protocol = model.protocol if model is not None else _guess_protocol(request)
    if service == "s3":
        return _classify_s3(request, region=region, caller_account=caller_account, directory=directory)
    if service == "kms":
        from localcloud import kms_actions  # it builds on this module's Check and ActionPlan

        return kms_actions.classify(request, region=region, caller_account=caller_account, directory=directory)
    if protocol in ("query", "ec2"):
        params = _form_params(request)
        operation = params.get("Action", "")
        if not operation:
            raise UnknownOperation("query request without an Action parameter")
        _check_query_members(service, operation, params)
        if service == "sts":
            checks = _sts_checks(operation, params, caller_account)
        elif service == "iam":
            own_user = caller_arn if caller_arn and ":user/" in caller_arn else None
            checks = _iam_checks(operation, params, caller_account, directory, own_user)
        else:
            checks = (Check(f"{_iam_prefix(service)}:{operation}", "*", caller_account),)
        return ActionPlan(_iam_prefix(service), operation, protocol, checks, params)
    if protocol == "json" or request.header("x-amz-target"):
        target = request.header("x-amz-target") or ""
        operation = target.rpartition(".")[2]
        if not operation:
            raise UnknownOperation("JSON request without an X-Amz-Target header")
        body = _json_body(request)
        if service == "logs":
            checks = _logs_checks(operation, body, region, caller_account)
        else:
            checks = (Check(f"{_iam_prefix(service)}:{operation}", "*", caller_account),)
        return ActionPlan(_iam_prefix(service), operation, "json", checks, body)
    operation, uri_params = match_rest_operation(service, request)
    body = _json_body(request) if protocol == "rest-json" else {}
    params = {**request.query_params(), **body, **uri_params}
    if service == "lambda":
        checks = _lambda_checks(operation, params, region, caller_account)
    else:
        checks = (Check(f"{_iam_prefix(service)}:{operation}", "*", caller_account),)
    return ActionPlan(_iam_prefix(service), operation, protocol or "rest-json", checks, params)


# Query-protocol parameters that are not members of any input shape.
_QUERY_ENVELOPE = frozenset({"Action", "Version"})
# Parameters that name the resource a request acts on: one of them out of place is a second target, and one that
# moto reads otherwise than the gate is another resource (localcloud.gate.invariant).
RESOURCE_PARAMETERS = frozenset({
    "InstanceProfileName", "GroupName", "RoleName", "UserName", "PolicyArn", "VirtualMFADeviceName", "SerialNumber",
    "OpenIDConnectProviderArn", "SAMLProviderArn", "ServerCertificateName", "RoleArn", "PolicyName",
    "logGroupName", "logStreamName", "logGroupIdentifier", "resourceArn", "FunctionName", "Qualifier",
})


@lru_cache(maxsize=512)
def input_members(service: str, operation: str) -> frozenset[str] | None:
    """The top-level input members of an operation (None for a service botocore has no model of)."""
    model = _service_model(service)
    if model is None:
        return None
    if operation not in model.operation_names:
        raise UnknownOperation(f"{service} has no operation {operation!r}")
    shape = model.operation_model(operation).input_shape
    return frozenset(shape.members) if shape is not None else frozenset()


def _check_query_members(service: str, operation: str, params: Mapping[str, str]) -> None:
    """Every parameter of a query-protocol request is a member of its operation's input (``Tags.member.1.Key``
    counts as ``Tags``)."""
    members = input_members(service, operation)
    if members is None:
        return
    for name in params:
        top = name.split(".", 1)[0]
        if top not in members and name not in _QUERY_ENVELOPE:
            raise UnexpectedParameter(operation, name, names_resource=top in RESOURCE_PARAMETERS)


def _guess_protocol(request: HttpRequest) -> str:
    if request.header("x-amz-target"):
        return "json"
    if "Action" in _form_params(request):
        return "query"
    return "rest-json"


# --- STS ---------------------------------------------------------------------------------------------------------


_account_of_arn = arns.account_of


def _sts_checks(operation: str, params: Mapping[str, str], caller_account: str) -> tuple[Check, ...]:
    if operation in ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"):
        role_arn = params.get("RoleArn", "")
        context: dict[str, str | list[str]] = {}
        if "RoleSessionName" in params:
            context["sts:RoleSessionName"] = params["RoleSessionName"]
        if "ExternalId" in params:
            context["sts:ExternalId"] = params["ExternalId"]
        if "SourceIdentity" in params:
            context["sts:SourceIdentity"] = params["SourceIdentity"]
        tag_keys = member_list(params, "Tags", "Key")
        transitive = member_list(params, "TransitiveTagKeys", "")
        if tag_keys:
            context["aws:TagKeys"] = tag_keys
            for key, value in zip(tag_keys, member_list(params, "Tags", "Value")):
                context[f"aws:RequestTag/{key}"] = value
        if transitive:
            context["sts:TransitiveTagKeys"] = transitive
        account = _account_of_arn(role_arn) or caller_account
        checks = [Check(f"sts:{operation}", role_arn, account, context)]
        # Passing session tags needs sts:TagSession, setting a source identity sts:SetSourceIdentity, both in the
        # trust policy (and across accounts in the caller's identity policy too): id_session-tags.html,
        # id_credentials_temp_control-access_monitor.html.
        if tag_keys or transitive:
            checks.append(Check("sts:TagSession", role_arn, account, context))
        if "SourceIdentity" in params:
            checks.append(Check("sts:SetSourceIdentity", role_arn, account, context))
        return tuple(checks)
    if operation == "GetFederationToken":
        name = params.get("Name", "")
        return (Check("sts:GetFederationToken", arns.federated_user(caller_account, name),
                      caller_account),)
    return (Check(f"sts:{operation}", "*", caller_account),)


def member_list(params: Mapping[str, str], name: str, field_name: str = "") -> list[str]:
    """The values of a query-protocol list: ``Tags.member.1.Key``, ``Tags.member.2.Key``, ... (``field_name``
    "Key"), or ``TransitiveTagKeys.member.1``, ... (no field)."""
    values = []
    index = 1
    suffix = f".{field_name}" if field_name else ""
    while f"{name}.member.{index}{suffix}" in params:
        values.append(params[f"{name}.member.{index}{suffix}"])
        index += 1
    return values


# --- IAM ---------------------------------------------------------------------------------------------------------

# Which request parameter names the resource, tried in this order; operations listed in _IAM_RESOURCE_OVERRIDES
# start from another parameter.
_IAM_RESOURCE_ORDER = (
    "InstanceProfileName",
    "GroupName",
    "RoleName",
    "UserName",
    "PolicyArn",
    "VirtualMFADeviceName",
    "SerialNumber",
    "OpenIDConnectProviderArn",
    "SAMLProviderArn",
    "ServerCertificateName",
)
_IAM_RESOURCE_OVERRIDES = {
    "ListGroupsForUser": "UserName",
    "ListInstanceProfilesForRole": "RoleName",
}
# Operations on the caller's own user when UserName is left out (IAM API reference).
_IAM_SELF_OPERATIONS = frozenset(
    {
        "CreateAccessKey", "DeleteAccessKey", "ListAccessKeys", "UpdateAccessKey", "GetUser", "ListMFADevices",
        "ListSigningCertificates", "ListSSHPublicKeys", "ListServiceSpecificCredentials", "ChangePassword",
    }
)


_iam_arn = arns.iam


def _iam_resource(
    operation: str, params: Mapping[str, str], account: str, directory: Directory, caller_arn_if_user: str | None
) -> str:
    if operation == "CreatePolicy":
        return _iam_arn(account, "policy", params.get("PolicyName", ""), params.get("Path"))
    order = list(_IAM_RESOURCE_ORDER)
    override = _IAM_RESOURCE_OVERRIDES.get(operation)
    if override:
        order.remove(override)
        order.insert(0, override)
    for name in order:
        value = params.get(name)
        if not value:
            continue
        creating = operation.startswith("Create")
        if name == "RoleName":
            found = None if creating else directory.role_arn(account, value)
            return found or _iam_arn(account, "role", value, params.get("Path") if creating else None)
        if name == "UserName":
            found = None if creating else directory.user_arn(account, value)
            return found or _iam_arn(account, "user", value, params.get("Path") if creating else None)
        if name == "GroupName":
            found = None if creating else directory.group_arn(account, value)
            return found or _iam_arn(account, "group", value, params.get("Path") if creating else None)
        if name == "InstanceProfileName":
            return _iam_arn(account, "instance-profile", value, params.get("Path") if creating else None)
        if name == "VirtualMFADeviceName":
            return _iam_arn(account, "mfa", value, params.get("Path"))
        if name == "ServerCertificateName":
            return _iam_arn(account, "server-certificate", value, params.get("Path") if creating else None)
        return value  # already an ARN (PolicyArn, SerialNumber, provider ARNs)
    if operation in _IAM_SELF_OPERATIONS and caller_arn_if_user:
        return caller_arn_if_user
    return "*"


def _iam_checks(
    operation: str, params: Mapping[str, str], caller_account: str, directory: Directory, own_user: str | None
) -> tuple[Check, ...]:
    context: dict[str, str | list[str]] = {}
    if "PolicyArn" in params and re.match(r"^(Attach|Detach)(User|Role|Group)Policy$", operation):
        context["iam:PolicyARN"] = params["PolicyArn"]
    if "PermissionsBoundary" in params:
        context["iam:PermissionsBoundary"] = params["PermissionsBoundary"]
    resource = _iam_resource(operation, params, caller_account, directory, own_user)
    return (Check(f"iam:{operation}", resource, caller_account, context),)


# --- CloudWatch Logs ---------------------------------------------------------------------------------------------


def _logs_checks(operation: str, body: Mapping[str, Any], region: str, caller_account: str) -> tuple[Check, ...]:
    account = caller_account
    group = body.get("logGroupName")
    identifier = body.get("logGroupIdentifier") or body.get("resourceArn")
    if not group and isinstance(identifier, str):
        if identifier.startswith("arn:"):
            account = _account_of_arn(identifier) or caller_account
            group = identifier.split(":log-group:", 1)[-1].removesuffix(":*")
        else:
            group = identifier
    stream = body.get("logStreamName")
    if not group:
        return (Check(f"logs:{operation}", "*", account),)
    base = arns.log_group(region, account, group)
    # CloudWatch Logs authorizes group operations on "...:log-group:NAME:log-stream:" (as its denials show).
    resource = f"{base}:log-stream:{stream}" if isinstance(stream, str) else f"{base}:log-stream:"
    return (Check(f"logs:{operation}", resource, account),)


# --- Lambda ------------------------------------------------------------------------------------------------------

_LAMBDA_ACTIONS = {
    "Invoke": "lambda:InvokeFunction",
    "InvokeWithResponseStream": "lambda:InvokeFunction",
    "InvokeAsync": "lambda:InvokeAsync",
}


@dataclass(frozen=True)
class LambdaTarget:
    """A function named in a request: by name, partial ARN or ARN, with an optional qualifier."""

    account: str
    region: str
    name: str
    qualifier: str | None

    @property
    def arn(self) -> str:
        return arns.lambda_function(self.region, self.account, self.name, self.qualifier)


def lambda_target(function: str, qualifier: str | None, region: str, caller_account: str) -> LambdaTarget:
    """The function a request names. A name Lambda would not accept is authorized as that literal name in the
    caller's account, which names no function moto has either."""
    parsed = arns.parse_function_name(function)
    if parsed is None:
        return LambdaTarget(caller_account, region, function, qualifier)
    return LambdaTarget(parsed.account or caller_account, parsed.region or region, parsed.name,
                        qualifier or parsed.qualifier)


def _lambda_checks(operation: str, params: Mapping[str, Any], region: str, caller_account: str) -> tuple[Check, ...]:
    action = _LAMBDA_ACTIONS.get(operation, f"lambda:{operation}")
    function = params.get("FunctionName")
    resource_arn = params.get("Resource") or params.get("ResourceArn")
    checks: list[Check] = []
    if isinstance(function, str) and function:
        target = lambda_target(function, params.get("Qualifier"), region, caller_account)
        checks.append(Check(action, target.arn, target.account))
    elif isinstance(resource_arn, str) and resource_arn.startswith("arn:"):
        checks.append(Check(action, resource_arn, _account_of_arn(resource_arn) or caller_account))
    else:
        checks.append(Check(action, "*", caller_account))
    role = params.get("Role")
    if operation in ("CreateFunction", "UpdateFunctionConfiguration") and isinstance(role, str) and role:
        checks.append(
            Check("iam:PassRole", role, caller_account, {"iam:PassedToService": "lambda.amazonaws.com"})
        )
    return tuple(checks)


# --- S3 ----------------------------------------------------------------------------------------------------------


def _s3_bucket_and_key(request: HttpRequest) -> tuple[str | None, str | None]:
    path = request.raw_path.lstrip("/")
    if not path:
        return None, None
    bucket, sep, key = path.partition("/")
    return unquote(bucket), (unquote(key) if sep and key else None)


def parse_copy_source(value: str) -> tuple[str, str, str | None]:
    """``x-amz-copy-source`` -> (bucket, key, versionId)."""
    source, _, query = value.partition("?")
    source = unquote(source).lstrip("/")
    bucket, _, key = source.partition("/")
    version = dict(parse_qsl(query)).get("versionId")
    return bucket, key, version


def parse_delete_objects(body: bytes) -> list[dict[str, str]]:
    """The ``<Object>`` entries (Key, VersionId) of a DeleteObjects request body."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return []
    objects = []
    for element in root.iter():
        if element.tag.rpartition("}")[2] != "Object":
            continue
        entry: dict[str, str] = {}
        for child in element:
            name = child.tag.rpartition("}")[2]
            if name in ("Key", "VersionId"):
                entry[name] = child.text or ""
        if "Key" in entry:
            objects.append(entry)
    return objects


def _s3_context(request: HttpRequest, operation: str, version_id: str | None) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {}
    for header in _S3_HEADER_KEYS:
        value = request.header(header)
        if value is not None:
            context[f"s3:{header}"] = value
    query = request.query_params()
    if operation in ("ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads"):
        for param, key in (("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys")):
            if param in query:
                context[key] = query[param]
    if version_id is not None:
        context["s3:versionid"] = version_id
    return context


def _classify_s3(request: HttpRequest, *, region: str, caller_account: str, directory: Directory) -> ActionPlan:
    operation, uri_params = match_rest_operation("s3", request)
    bucket, key = _s3_bucket_and_key(request)
    query = request.query_params()
    entry = S3_ACTIONS.get(operation) or S3Action(f"s3:{operation}", "object" if key else "bucket")
    version_id = query.get("versionId")
    context = _s3_context(request, operation, version_id)
    owner = (directory.bucket_account(bucket) if bucket else None) or caller_account

    def check(action: str, resource_key: str | None, extra: Mapping[str, str | list[str]] | None = None,
              item: Mapping[str, str] | None = None) -> Check:
        if entry.resource == "account" or bucket is None:
            return Check(action, "*", caller_account, dict(context))
        resource = s3_arn(bucket, resource_key) if entry.resource == "object" else s3_arn(bucket)
        merged = {**context, "s3:ResourceAccount": owner, **(extra or {})}
        return Check(action, resource, owner, merged, bucket=bucket, item=item)

    params: dict[str, Any] = {**query, **uri_params}
    if bucket:
        params.setdefault("Bucket", bucket)
    if key:
        params.setdefault("Key", key)

    if operation == "DeleteObjects" and bucket:
        checks = []
        for item in parse_delete_objects(request.body):
            version = item.get("VersionId")
            action = entry.version_action if version and entry.version_action else entry.action
            extra = {"s3:versionid": version} if version else None
            checks.append(check(action, item["Key"], extra, item))
            if (request.header("x-amz-bypass-governance-retention") or "").lower() == "true":
                checks.append(check("s3:BypassGovernanceRetention", item["Key"], extra, item))
        if not checks:  # an empty or unreadable body: authorize like one DeleteObject on the bucket
            checks.append(check(entry.action, None))
        return ActionPlan("s3", operation, "rest-xml", tuple(checks), params, per_item=True)

    action = entry.version_action if version_id is not None and entry.version_action else entry.action
    checks = [check(action, key)]
    if operation in ("CopyObject", "UploadPartCopy") and request.header("x-amz-copy-source"):
        source_bucket, source_key, source_version = parse_copy_source(request.header("x-amz-copy-source") or "")
        source_owner = directory.bucket_account(source_bucket) or caller_account
        source_context = {**context, "s3:ResourceAccount": source_owner}
        if source_version:
            source_context["s3:versionid"] = source_version
        checks.append(
            Check(
                "s3:GetObjectVersion" if source_version else "s3:GetObject",
                s3_arn(source_bucket, source_key),
                source_owner,
                source_context,
                bucket=source_bucket,
            )
        )
    if operation in ("PutObject", "CopyObject", "CreateMultipartUpload") and key:
        if any(request.header(h) is not None for h in _ACL_HEADERS):
            checks.append(check("s3:PutObjectAcl", key))
        if request.header("x-amz-tagging") is not None:
            checks.append(check("s3:PutObjectTagging", key))
        # Object Lock on upload (object-lock-managing.html, "Required permissions"): a retention needs
        # s3:PutObjectRetention, a legal hold s3:PutObjectLegalHold.
        if request.header("x-amz-object-lock-mode") is not None or \
                request.header("x-amz-object-lock-retain-until-date") is not None:
            checks.append(check("s3:PutObjectRetention", key))
        if request.header("x-amz-object-lock-legal-hold") is not None:
            checks.append(check("s3:PutObjectLegalHold", key))
    # Bypassing governance-mode retention needs s3:BypassGovernanceRetention (object-lock-managing.html,
    # "Bypassing governance mode"; DeleteObject, DeleteObjects and PutObjectRetention take the header).
    if operation in ("DeleteObject", "PutObjectRetention") and key and \
            (request.header("x-amz-bypass-governance-retention") or "").lower() == "true":
        checks.append(check("s3:BypassGovernanceRetention", key))
    if operation == "CreateBucket" and bucket:
        if any(request.header(h) is not None for h in _ACL_HEADERS):
            checks.append(check("s3:PutBucketAcl", None))
        if (request.header("x-amz-bucket-object-lock-enabled") or "").lower() == "true":
            checks.append(check("s3:PutBucketObjectLockConfiguration", None))
            checks.append(check("s3:PutBucketVersioning", None))
        if request.header("x-amz-object-ownership") is not None:
            checks.append(check("s3:PutBucketOwnershipControls", None))
    return ActionPlan("s3", operation, "rest-xml", tuple(checks), params)
