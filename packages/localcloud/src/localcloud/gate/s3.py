"""S3 as AWS runs it, where moto does not: the bucket's region in the signature, Content-MD5, multipart uploads
bound to their key, and DeleteObjects with per-key denials."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import replace
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

from localcloud import arns, moto_adapter, sigv4
from localcloud.actions import Check
from localcloud.gate import authorize, reading, s3_kms
from localcloud.gate.errors import AccessDenied, GateError, render

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_UPLOAD_OPERATIONS = frozenset({"UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload",
                                "ListParts"})


def check_emulated(gate: Gate, ex: Exchange) -> Response | None:
    """Only operations moto runs as themselves reach it (moto_adapter.S3_OPERATIONS); for others moto would run a
    default branch instead (a GET ?retention as GetObject, a DELETE ?metrics as DeleteBucket)."""
    assert ex.plan is not None
    if ex.plan.operation not in moto_adapter.S3_OPERATIONS:
        raise GateError(501, "NotImplemented", f"localcloud does not emulate S3 {ex.plan.operation}: moto would "
                        "run another operation for it.", sender=False)
    return None


def check_region(gate: Gate, ex: Exchange) -> Response | None:
    """One endpoint serves every region; but S3 answers a request for an existing bucket signed for another region
    with AuthorizationHeaderMalformed naming the bucket's (UsingBucket.html, "Making requests")."""
    assert ex.plan is not None and ex.signed is not None
    bucket = ex.plan.params.get("Bucket")
    if not bucket or ex.plan.operation == "CreateBucket":
        return None
    expected = gate.directory.bucket_region(bucket)
    if expected is None or expected == ex.signed.region:
        return None
    if ex.signed.presigned:
        raise GateError(400, "AuthorizationQueryParametersError", f"Error parsing the X-Amz-Credential parameter; "
                        f"the region '{ex.signed.region}' is wrong; expecting '{expected}'",
                        extra={"Region": expected})
    raise GateError(400, "AuthorizationHeaderMalformed", f"The authorization header is malformed; the region "
                    f"'{ex.signed.region}' is wrong; expecting '{expected}'", extra={"Region": expected})


def check_content_md5(gate: Gate, ex: Exchange) -> Response | None:
    """S3 refuses a body that does not match its Content-MD5, so a damaged upload is never stored."""
    assert ex.request is not None
    declared = ex.request.header("content-md5")
    if not declared:
        return None
    try:
        expected = base64.b64decode(declared, validate=True)
    except (binascii.Error, ValueError):
        expected = b""
    if len(expected) != 16:
        raise GateError(400, "InvalidDigest", "The Content-MD5 you specified was not valid.")
    if hashlib.md5(ex.request.body).digest() != expected:  # noqa: S324 - S3's integrity check, not security
        raise GateError(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
    return None


def bind_upload(gate: Gate, ex: Exchange) -> Response | None:
    """A multipart upload ID belongs to the bucket and key it was created for (moto would use its own key)."""
    assert ex.plan is not None
    if ex.plan.operation not in _UPLOAD_OPERATIONS:
        return None
    bucket, key, upload_id = (ex.plan.params.get(name) for name in ("Bucket", "Key", "uploadId"))
    if not bucket or not upload_id or gate.directory.multipart_key(bucket, upload_id) != key:
        raise GateError(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, "
                        "or the upload may have been aborted or completed.", extra={"UploadId": upload_id or ""})
    return None


def delete_objects(gate: Gate, ex: Exchange) -> Response:
    """Forward the keys that were allowed, in a body the gate writes; report the denied ones as S3 does."""
    assert ex.plan is not None and ex.request is not None
    denied = {(item.get("Key"), item.get("VersionId")) for item in ex.denied_items}
    allowed = [check.item for check in ex.plan.checks
               if check.item is not None and (check.item.get("Key"), check.item.get("VersionId")) not in denied]
    errors = "".join(
        f"<Error><Key>{escape(item.get('Key', ''))}</Key>"
        + (f"<VersionId>{escape(item['VersionId'])}</VersionId>" if item.get("VersionId") else "")
        + "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        for item in ex.denied_items
    )
    if not allowed:
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="{S3_XMLNS}">{errors}</DeleteResult>'
        return Response(body.encode(), status=200, headers={"Content-Type": "application/xml",
                                                            "x-amz-request-id": ex.request_id})
    quiet = re.search(rb"<Quiet>\s*true\s*</Quiet>", ex.request.body) is not None
    objects = "".join(
        f"<Object><Key>{escape(item['Key'])}</Key>"
        + (f"<VersionId>{escape(item['VersionId'])}</VersionId>" if item.get("VersionId") else "")
        + "</Object>"
        for item in allowed
    )
    new_body = f'<Delete xmlns="{S3_XMLNS}">{objects}{"<Quiet>true</Quiet>" if quiet else ""}</Delete>'.encode()
    headers = {name: value for name, value in ex.request.headers.items()
               if not name.startswith("x-amz-checksum-") and name not in ("content-md5", "x-amz-sdk-checksum-algorithm")}
    ex.request = replace(ex.request, headers=headers, body=new_body)
    response = gate.forward(ex)
    if response.status_code == 200 and errors:
        data = re.sub(rb"</DeleteResult>\s*$", errors.encode() + b"</DeleteResult>", response.get_data())
        response.set_data(data)
    return response


# --- CORS preflight (cors.html, "How does Amazon S3 evaluate the CORS configuration on a bucket?") ---------------

_CORS_NOT_ALLOWED = (
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request "
    "method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the "
    "resource's CORS spec."
)


def _wildcard(pattern: str, value: str) -> bool:
    """An AllowedOrigin or AllowedHeader with at most one ``*``; headers compare case-insensitively."""
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), value, flags=re.IGNORECASE) is not None


def cors_preflight(gate: Gate, ex: Exchange) -> Response | None:
    """An unauthenticated OPTIONS preflight to S3, answered from the bucket's CORS configuration; the request
    never reaches moto."""
    assert ex.http is not None
    if ex.http.method != "OPTIONS" or sigv4.is_signed(ex.http) or gate.protocol_of(ex) != "rest-xml":
        return None
    bucket, _ = reading.s3_bucket_and_key(ex.http)
    origin = ex.http.header("origin")
    method = ex.http.header("access-control-request-method")
    if not origin or not method:
        raise GateError(400, "BadRequest", "Insufficient information. Origin request header needed.")
    rules = moto_adapter.bucket_cors_rules(bucket) if bucket else None
    if rules is None:
        raise GateError(404, "NoSuchBucket", "The specified bucket does not exist", extra={"BucketName": bucket or ""})
    if not rules:
        raise GateError(403, "AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.",
                        extra={"Method": method, "ResourceType": "BUCKET"})
    requested = [h.strip() for h in (ex.http.header("access-control-request-headers") or "").split(",") if h.strip()]
    for rule in rules:
        origins, methods = rule.allowed_origins or [], rule.allowed_methods or []
        allowed_headers = rule.allowed_headers or []
        if not any(_wildcard(o, origin) for o in origins) or method not in methods:
            continue
        if not all(any(_wildcard(a, h) for a in allowed_headers) for h in requested):
            continue
        headers = {
            "Access-Control-Allow-Origin": "*" if "*" in origins else origin,
            "Access-Control-Allow-Methods": ", ".join(methods),
            "Vary": "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
            "x-amz-request-id": ex.request_id,
        }
        if "*" not in origins:
            headers["Access-Control-Allow-Credentials"] = "true"
        if requested:
            headers["Access-Control-Allow-Headers"] = ", ".join(requested)
        if rule.exposed_headers:
            headers["Access-Control-Expose-Headers"] = ", ".join(rule.exposed_headers)
        if rule.max_age_seconds:
            headers["Access-Control-Max-Age"] = str(rule.max_age_seconds)
        return Response(b"", status=200, headers=headers)
    raise GateError(403, "AccessForbidden", _CORS_NOT_ALLOWED, extra={"Method": method, "ResourceType": "OBJECT"})


def read_object(gate: Gate, ex: Exchange) -> Response:
    """GetObject and HeadObject, answered by moto; but for a key that does not exist S3 answers 404 NoSuchKey only
    to a caller who may list the bucket, and 403 AccessDenied to anyone else (API_GetObject.html, "Permissions":
    "If the object you request doesn't exist, the error that Amazon S3 returns depends on whether you also have the
    s3:ListBucket permission"). The listing permission is evaluated as for this request, so a grant of
    s3:ListBucket limited by s3:prefix (absent from a GetObject) does not count."""
    assert ex.plan is not None
    response = gate.forward(ex)
    s3_kms.verify_read(gate, ex, response)
    bucket = str(ex.plan.params.get("Bucket") or "")
    if response.status_code != 404 or not _missing_key(gate, ex, response, bucket):
        return response
    check = Check("s3:ListBucket", arns.s3(bucket), gate.directory.bucket_account(bucket), bucket=bucket)
    context = authorize.context_for(ex, check)
    decision = authorize.decide(gate, ex, check, context)
    gate.record(ex, check, decision, context)
    if decision.allowed:
        return response
    return render(AccessDenied("Access Denied"), "rest-xml", request_id=ex.request_id, service="s3", head=ex.head)


def _missing_key(gate: Gate, ex: Exchange, response: Response, bucket: str) -> bool:
    """A 404 for the key, not for the bucket (a HEAD's answer has no body to say which) or a version."""
    if gate.directory.bucket_account(bucket) is None or ex.plan is None or ex.plan.params.get("VersionId"):
        return False
    return ex.head or b"<Code>NoSuchKey</Code>" in response.get_data()
