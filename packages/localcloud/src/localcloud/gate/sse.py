"""Which KMS key an S3 request's object is (or will be) encrypted with, as S3 decides it.

Pages (Amazon S3 API Reference, as botocore's s3 model carries it, and the S3 User Guide):

- API_PutObject.html, SSEKMSKeyId: "If you specify x-amz-server-side-encryption:aws:kms ... but do not provide
  x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the Amazon Web Services managed key (aws/s3)"; the
  key ID may be a key ID, key ARN or alias, and "If the KMS key doesn't exist in the same account that's issuing the
  command, you must use the full Key ARN not the Key ID". Without encryption headers the bucket's default
  encryption applies (API_CopyObject.html, ServerSideEncryption: "if you don't specify encryption information in
  your copy request, the encryption setting of the target object is set to the default encryption configuration of
  the destination bucket"; API_CreateMultipartUpload.html likewise).
- API_PutBucketEncryption.html (ServerSideEncryptionByDefault, KMSMasterKeyID): "If you use a KMS key alias
  instead, then KMS resolves the key within the requester's account"; so does a key ID. bucket-encryption.html,
  "Using SSE-KMS encryption for cross-account operations": aws/s3 serves "IAM principals that are in the same AWS
  account as your KMS key"; which account's aws/s3 a requester of another account would get is not documented, so
  localcloud refuses that case.
- UsingKMSEncryption.html: "When you use SSE-KMS encryption with an S3 bucket, the AWS KMS keys must be in the same
  Region as the bucket"; the encryption context is aws:s3:arn, the object's ARN, or the bucket's with an S3 Bucket
  Key (bucket-key.html), plus the pairs of x-amz-server-side-encryption-context ("Amazon S3 appends the default
  encryption context of aws:s3:arn to the one that you provide").
- configuring-bucket-key-object.html: without x-amz-server-side-encryption-bucket-key-enabled, "Amazon S3 applies
  the S3 Bucket Key settings for the destination bucket to the object".
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from localcloud import arns, kms, kms_actions, moto_adapter
from localcloud.gate.errors import GateError
from localcloud.kms import KmsKey

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

SSE = "x-amz-server-side-encryption"
SSE_KEY = "x-amz-server-side-encryption-aws-kms-key-id"
SSE_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
SSE_CONTEXT = "x-amz-server-side-encryption-context"
SSE_HEADERS = (SSE, SSE_KEY, SSE_BUCKET_KEY, SSE_CONTEXT)
AWS_KMS, AES256, DSSE = "aws:kms", "AES256", "aws:kms:dsse"


@dataclass(frozen=True)
class Encryption:
    """An object's SSE-KMS encryption: its key, whether an S3 Bucket Key applies, the additional context."""

    key: KmsKey
    bucket_key: bool
    context: tuple[tuple[str, str], ...] = ()

    def encryption_context(self, bucket: str, key: str) -> dict[str, str]:
        """The encryption context S3 passes to KMS for this object (UsingKMSEncryption.html)."""
        arn = arns.s3(bucket) if self.bucket_key else arns.s3(bucket, key)
        return {**dict(self.context), "aws:s3:arn": arn}


class KmsFailure(Exception):
    """KMS's answer to the call S3 would make (a key that does not exist, of another Region): S3 passes it on as
    KMS.<code> (as LocalStack records S3's answers: "KMS.NotFoundException")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"KMS.{code}: {message}")
        self.error = GateError(400, f"KMS.{code}", message)


def _invalid(message: str, header: str, value: str | None = None) -> GateError:
    extra = {"ArgumentName": header, **({"ArgumentValue": value} if value is not None else {})}
    return GateError(400, "InvalidArgument", message, extra=extra)


def _bool_header(ex: Exchange, name: str) -> bool | None:
    assert ex.request is not None
    value = ex.request.header(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise _invalid(f"{name} must be true or false.", name, value)
    return value.lower() == "true"


def _extra_context(ex: Exchange) -> tuple[tuple[str, str], ...]:
    """x-amz-server-side-encryption-context: "a Base64 encoded string of a UTF-8 encoded JSON, which contains the
    encryption context as key-value pairs" (API_PutObject.html)."""
    assert ex.request is not None
    value = ex.request.header(SSE_CONTEXT)
    if value is None:
        return ()
    try:
        pairs = json.loads(base64.b64decode(value, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        pairs = None
    if not isinstance(pairs, dict) or not all(isinstance(v, str) for v in pairs.values()) or \
            any(str(k).startswith("aws:") for k in pairs):
        raise _invalid(f"{SSE_CONTEXT} must be base64-encoded UTF-8 JSON of string pairs, none of whose keys start "
                       "with \"aws:\" (S3 adds aws:s3:arn itself).", SSE_CONTEXT, value)
    return tuple(sorted((str(k), v) for k, v in pairs.items()))


def resolve_key(gate: Gate, ex: Exchange, bucket: str, name: str | None) -> KmsKey:
    """The key a write names (None: the AWS managed key aws/s3), resolved in the requester's account and the
    bucket's Region like any KMS KeyId."""
    assert ex.principal is not None
    requester = ex.principal.caller.account or ""
    region = gate.directory.bucket_region(bucket) or ""
    if name is None:
        if gate.directory.bucket_account(bucket) != requester:
            raise GateError(501, "NotImplemented", "localcloud does not emulate the AWS managed key aws/s3 for a "
                            "requester outside the bucket's account (AWS documents it for principals of the "
                            "key's own account only): name a customer managed key.", sender=False)
        name = kms.S3_MANAGED_ALIAS
    scope = kms_actions.KeyScope(requester, region, gate.directory)
    try:
        return kms_actions.resolve_key(name, scope, "S3 SSE-KMS", aliases=True, cross_account=True).key
    except kms_actions.KmsRequestError as error:
        raise KmsFailure(error.code, error.message) from None


def for_write(gate: Gate, ex: Exchange, bucket: str) -> Encryption | None:
    """The SSE-KMS encryption a new object (PutObject, CopyObject's destination, CreateMultipartUpload) gets, or
    None when it gets none or another (SSE-S3)."""
    assert ex.request is not None
    algorithm = ex.request.header(SSE)
    bucket_key = _bool_header(ex, SSE_BUCKET_KEY)
    default_algorithm, default_key, default_bucket_key = moto_adapter.bucket_default_encryption(bucket)
    if algorithm not in (None, AES256, AWS_KMS, DSSE):
        raise _invalid("The encryption method specified is not supported", SSE, algorithm)
    if algorithm is not None and algorithm != AWS_KMS and any(ex.request.header(h) is not None
                                                              for h in (SSE_KEY, SSE_CONTEXT)):
        raise _invalid("Server Side Encryption with AWS KMS managed key requires HTTP header "
                       f"{SSE} : {AWS_KMS}", SSE_KEY)
    if algorithm == DSSE or (algorithm is None and default_algorithm == DSSE):
        raise GateError(501, "NotImplemented", "localcloud does not emulate DSSE-KMS (aws:kms:dsse).", sender=False)
    if algorithm == AWS_KMS:
        name = ex.request.header(SSE_KEY)
    elif algorithm is None and default_algorithm == AWS_KMS:
        if ex.request.header(SSE_KEY) is not None:
            raise _invalid("Server Side Encryption with AWS KMS managed key requires HTTP header "
                           f"{SSE} : {AWS_KMS}", SSE_KEY)
        name = default_key
    else:
        if bucket_key is not None or ex.request.header(SSE_CONTEXT) is not None:
            raise _invalid(f"{SSE_BUCKET_KEY} and {SSE_CONTEXT} apply to SSE-KMS only; this object is not "
                           "encrypted with a KMS key.", SSE_BUCKET_KEY)
        return None
    context = _extra_context(ex)
    key = resolve_key(gate, ex, bucket, name)
    return Encryption(key, default_bucket_key if bucket_key is None else bucket_key, context)


def _stored(gate: Gate, bucket: str, stored: moto_adapter.StoredEncryption | None) -> Encryption | None:
    """The encryption moto stored, with its key (named by ARN: the gate wrote it so)."""
    if stored is None or stored.algorithm != AWS_KMS or not stored.kms_key_id:
        return None
    name = kms.parse_key_name(stored.kms_key_id)
    key = gate.directory.kms_key_by_arn(stored.kms_key_id) if name is not None and name.form == kms.KEY_ARN \
        else None
    if key is None:
        raise KmsFailure(kms_actions.NOT_FOUND, f"Key '{stored.kms_key_id}' does not exist")
    return Encryption(key, stored.bucket_key, stored.context)


def of_object(gate: Gate, bucket: str, key: str, version_id: str | None) -> Encryption | None:
    """The SSE-KMS encryption of a stored object (its current version, or ``version_id``), None without one."""
    return _stored(gate, bucket, moto_adapter.object_encryption(bucket, key, version_id))


def of_upload(gate: Gate, bucket: str, upload_id: str) -> tuple[Encryption | None, bool]:
    """A multipart upload's SSE-KMS encryption, and whether it was created with an additional checksum."""
    stored = moto_adapter.upload_encryption(bucket, upload_id)
    return _stored(gate, bucket, stored), bool(stored and stored.checksum_algorithm)
