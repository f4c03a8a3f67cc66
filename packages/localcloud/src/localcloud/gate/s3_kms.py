"""S3 with SSE-KMS: the KMS calls S3 makes for the caller, authorized as the caller, and moto storing each object
with the key that was authorized.

S3 calls KMS with the requester's credentials (UsingKMSEncryption.html, "Permissions": "To upload an object
encrypted with an AWS KMS key to Amazon S3, you need kms:GenerateDataKey permissions on the key. To download an
object encrypted with an AWS KMS key, you need kms:Decrypt permissions"). Which operation needs which
(S3 API Reference, each operation's "Permissions"):

- PutObject, CopyObject's destination, CreateMultipartUpload: kms:GenerateDataKey ("The requester must also have
  permissions for the kms:GenerateDataKey action for the CreateMultipartUpload API");
- GetObject, CopyObject's and UploadPartCopy's source: kms:Decrypt;
- UploadPart, UploadPartCopy: kms:Decrypt on the upload's key ("Then, the requester needs permissions for the
  kms:Decrypt action on the UploadPart and UploadPartCopy APIs"); CompleteMultipartUpload only "If you provide an
  additional checksum value in your MultipartUpload requests" (mpuoverview.html sums it up: a multipart upload
  with a KMS key needs both permissions);
- HeadObject: none. Its API reference names KMS permissions for directory buckets only (with
  x-amz-checksum-mode); for general purpose buckets only s3:GetObject.

Each KMS check comes after the request's s3: checks, in the context of the KMS request (authorize.context_for):
kms:ViaService s3.<bucket Region>.amazonaws.com, kms:CallerAccount the requester's account, the encryption context
(``sse.Encryption.encryption_context``). A denial is S3's 403 AccessDenied with KMS's message, and nothing is
written. A key that does not exist, or is disabled or pending deletion, fails as S3 passes KMS's error on:
KMS.NotFoundException, KMS.DisabledException ("<key ARN> is disabled."), KMS.KMSInvalidStateException ("<key ARN>
is pending deletion.") (LocalStack's records of S3's answers; the S3 documentation names none), after the s3:
checks allowed.

moto stores what its request says (and falls back on the bucket's default only for what is missing, with the key
as written there), so the canonical request of a write names the encryption the gate authorized: aws:kms, the key's
ARN (which S3 reports back, x-amz-server-side-encryption-aws-kms-key-id) and the Bucket Key setting. What moto
keeps nowhere, localcloud records on moto's object through the adapter: the additional encryption context, and a
multipart upload's Bucket Key setting (moto takes the bucket's when the upload completes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud import kms, moto_adapter
from localcloud.actions import Check, parse_copy_source
from localcloud.gate import sse
from localcloud.gate.errors import GateError
from localcloud.gate.sse import Encryption, KmsFailure

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

_WRITES = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})
_READ_HEADERS_REFUSED = frozenset({"GetObject", "HeadObject"})
_USABLE = kms.StateRule(disabled=True, pending_deletion=True)  # key-state.html: Encrypt, Decrypt, GenerateDataKey


@dataclass
class Plan:
    """What ``plan_encryption`` found for the request: the new object's encryption, the object's it reads, and a
    failure KMS would answer once the s3: checks allow (``failure``)."""

    write: Encryption | None = None
    read: Encryption | None = None
    upload: Encryption | None = None
    failure: GateError | None = None
    context_header: str | None = None  # x-amz-server-side-encryption-context as the request gave it


def plan_encryption(gate: Gate, ex: Exchange) -> Response | None:
    """Before authorization: the KMS checks the request needs, after its s3: checks."""
    assert ex.plan is not None and ex.request is not None
    operation = ex.plan.operation
    bucket, key = ex.plan.params.get("Bucket"), ex.plan.params.get("Key")
    if operation in _READ_HEADERS_REFUSED and any(ex.request.header(h) is not None for h in sse.SSE_HEADERS):
        # UsingKMSEncryption.html: "If your object uses SSE-KMS, don't send encryption request headers for GET
        # requests and HEAD requests. Otherwise, you'll get an HTTP 400 Bad Request error."
        raise GateError(400, "InvalidArgument", "x-amz-server-side-encryption header is not supported for this "
                        "operation.", extra={"ArgumentName": sse.SSE})
    if not bucket or not key or gate.directory.bucket_account(str(bucket)) is None:
        return None
    bucket, key = str(bucket), str(key)
    plan = Plan(context_header=ex.request.header(sse.SSE_CONTEXT))
    checks: list[Check] = []
    try:
        if operation in _WRITES:
            if operation == "CreateMultipartUpload" and ex.request.header(sse.SSE_CONTEXT) is not None:
                raise GateError(501, "NotImplemented", f"localcloud does not emulate {sse.SSE_CONTEXT} on multipart "
                                "uploads (moto keeps no encryption context for them).", sender=False)
            plan.write = sse.for_write(gate, ex, bucket)
            if plan.write is not None:
                checks.append(_check(gate, ex, "kms:GenerateDataKey", plan.write, bucket, key, read=False))
        if operation in ("CopyObject", "UploadPartCopy") and ex.request.header("x-amz-copy-source"):
            source_bucket, source_key, version = parse_copy_source(ex.request.header("x-amz-copy-source") or "")
            source = sse.of_object(gate, source_bucket, source_key, version)
            if source is not None:
                checks.append(_check(gate, ex, "kms:Decrypt", source, source_bucket, source_key, read=True))
        if operation == "GetObject":
            plan.read = sse.of_object(gate, bucket, key, ex.plan.params.get("versionId"))
            if plan.read is not None:
                checks.append(_check(gate, ex, "kms:Decrypt", plan.read, bucket, key, read=True))
        if operation in ("UploadPart", "UploadPartCopy", "CompleteMultipartUpload"):
            plan.upload, checksum = sse.of_upload(gate, bucket, str(ex.plan.params.get("uploadId") or ""))
            if plan.upload is not None and (operation != "CompleteMultipartUpload" or checksum):
                checks.append(_check(gate, ex, "kms:Decrypt", plan.upload, bucket, key, read=True))
    except KmsFailure as failure:
        plan.failure = failure.error
    ex.sse = plan
    if checks:
        ex.plan = replace(ex.plan, checks=(*ex.plan.checks, *checks))
    return None


def _check(gate: Gate, ex: Exchange, action: str, encryption: Encryption, bucket: str, key: str, *,
           read: bool) -> Check:
    """The KMS request S3 makes as the caller, for the object ``bucket``/``key``."""
    assert ex.principal is not None
    caller_account = ex.principal.caller.account or ""
    region = gate.directory.bucket_region(bucket) or encryption.key.region
    context: dict[str, str | list[str]] = {
        **kms.key_condition_keys(encryption.key, caller_account),
        **kms.encryption_context_keys(encryption.encryption_context(bucket, key)),
        "kms:ViaService": kms.via_service("s3", region),
    }
    # A read decrypts the data key S3 stored with the object: KMS takes the key from that ciphertext.
    return Check(action, encryption.key.arn, encryption.key.account, context, key_policy=True,
                 via_service=kms.via_service("s3", region), from_ciphertext=read)


def apply_encryption(gate: Gate, ex: Exchange) -> Response | None:
    """After authorization: KMS's own refusals (no such key, a disabled key or one pending deletion), then the
    encryption the new object gets, written into the canonical request moto receives."""
    plan = ex.sse
    if not isinstance(plan, Plan):
        return None
    if plan.failure is not None:
        raise plan.failure
    assert ex.plan is not None and ex.request is not None
    for check in ex.plan.checks:
        if not check.key_policy:
            continue
        key = gate.directory.kms_key_by_arn(check.resource)
        refusal = kms.state_refusal(key, _USABLE) if key is not None else None
        if refusal is not None:
            raise GateError(400, f"KMS.{refusal[0]}", refusal[1])
    if plan.write is not None:
        headers = {name: value for name, value in ex.request.headers.items() if name not in sse.SSE_HEADERS}
        headers.update({sse.SSE: sse.AWS_KMS, sse.SSE_KEY: plan.write.key.arn,
                        sse.SSE_BUCKET_KEY: "true" if plan.write.bucket_key else "false"})
        ex.request = replace(ex.request, headers=headers)
    return None


# --- Answers ---------------------------------------------------------------------------------------------------


def write_object(gate: Gate, ex: Exchange) -> Response:
    """PutObject and CopyObject: moto writes; the request's encryption context is kept on the object and answered
    back (API_PutObject.html, x-amz-server-side-encryption-context: "If present, indicates the AWS KMS Encryption
    Context to use for object encryption")."""
    response = gate.forward(ex)
    plan = ex.sse
    if response.status_code != 200 or not isinstance(plan, Plan) or plan.write is None or not plan.write.context:
        return response
    assert ex.plan is not None
    moto_adapter.keep_object_encryption(str(ex.plan.params["Bucket"]), str(ex.plan.params["Key"]),
                                        response.headers.get("x-amz-version-id"), bucket_key=None,
                                        context=plan.write.context)
    response.headers[sse.SSE_CONTEXT] = plan.context_header or ""
    return response


_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


def create_upload(gate: Gate, ex: Exchange) -> Response:
    """CreateMultipartUpload: the upload remembers its S3 Bucket Key setting (moto does not), answered as S3 does
    (x-amz-server-side-encryption-bucket-key-enabled)."""
    response = gate.forward(ex)
    plan = ex.sse
    found = _UPLOAD_ID.search(response.get_data()) if response.status_code == 200 else None
    if found is None or not isinstance(plan, Plan) or plan.write is None:
        return response
    assert ex.plan is not None
    moto_adapter.keep_upload_bucket_key(str(ex.plan.params["Bucket"]), found.group(1).decode(), plan.write.bucket_key)
    if plan.write.bucket_key:
        response.headers[sse.SSE_BUCKET_KEY] = "true"
    return response


def complete_upload(gate: Gate, ex: Exchange) -> Response:
    """CompleteMultipartUpload: the object gets the upload's S3 Bucket Key setting, not the bucket's of now."""
    response = gate.forward(ex)
    plan = ex.sse
    if response.status_code != 200 or not isinstance(plan, Plan) or plan.upload is None:
        return response
    assert ex.plan is not None
    moto_adapter.keep_object_encryption(str(ex.plan.params["Bucket"]), str(ex.plan.params["Key"]),
                                        response.headers.get("x-amz-version-id"), bucket_key=plan.upload.bucket_key,
                                        context=())
    if plan.upload.bucket_key:
        response.headers[sse.SSE_BUCKET_KEY] = "true"
    return response


def verify_read(gate: Gate, ex: Exchange, response: Response) -> None:
    """GetObject: the object moto served was encrypted with the key whose kms:Decrypt was authorized; another one
    (the object replaced in between) is a reading mismatch, never data decrypted without permission."""
    if response.status_code not in (200, 206) or ex.plan is None or ex.plan.operation != "GetObject":
        return
    plan = ex.sse
    authorized = plan.read.key.arn if isinstance(plan, Plan) and plan.read is not None else None
    served = response.headers.get(sse.SSE_KEY) if response.headers.get(sse.SSE) == sse.AWS_KMS else None
    if served != authorized:
        gate.violation(f"s3:GetObject: moto served an object encrypted with {served!r}; the gate authorized "
                       f"kms:Decrypt on {authorized!r}")
