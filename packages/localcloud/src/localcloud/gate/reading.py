"""The gate's one reading of a request: ``read`` turns what arrived into one canonical request, or refuses it.

The canonical request is what the gate classifies and authorizes, and exactly what moto receives
(``moto_environ``): no second reading can differ, because there is nothing left to read differently.

- The authentication (Authorization header or presigned query) is gone: moto gets a fixed header naming only the
  access key and the credential scope (moto routes by its service and reads its region).
- Query protocol (STS, IAM): every parameter, from the query string or the form body, once, in a form body.
  A parameter given twice, or in both places, is refused (``Action``: InvalidAction; others: MalformedQueryString).
- JSON protocols: the body parsed once (a key given twice is refused) and written back; no query string at all
  for ``json`` (CloudWatch Logs), and no ``Action`` anywhere.
- S3: the bucket from the Host (virtual-hosted style: ``bucket.localhost``, ``bucket.s3[.region].amazonaws.com``)
  or else the path's first segment, validated as a bucket name; the key decoded once; a path-style URL rebuilt
  with every character outside ``A-Za-z0-9-_.~/`` percent-encoded (so ``;`` and ``#`` cannot split it again);
  ``x-amz-copy-source`` parsed once and rewritten the same way; an aws-chunked body decoded (chunk signatures
  verified) and sent as the plain payload, trailing checksums as headers.
- Headers: the Host becomes the endpoint's own; moto's private ``x-moto-*`` headers and the signing headers go.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlencode

from localcloud import sigv4
from localcloud.gate.errors import AmbiguousRequest

# Query parameters of SigV4 presigned requests (sigv4-query-string-auth.html); never operation parameters.
AUTH_QUERY_PARAMS = frozenset({
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Signature", "X-Amz-Security-Token",
})
# Headers the gate consumes: signing, and moto's own account switch (the gate sets that one itself).
_DROPPED_HEADERS = frozenset({"authorization", "host", "x-amz-security-token", "x-amz-date", "content-length"})
_CHUNKED_HEADERS = frozenset({"x-amz-decoded-content-length", "x-amz-trailer"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

# S3 bucket naming rules (bucketnamingrules.html): 3-63 characters, lower-case letters, digits, dots and hyphens,
# starting and ending with a letter or digit, no two adjacent dots, not an IP address.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
# Hosts that address the endpoint itself (path style), and the virtual-hosted forms (bucket in the Host).
_ENDPOINT_HOST = re.compile(
    r"^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\]|localhost|s3(\.dualstack)?(\.[a-z0-9-]+)?\.amazonaws\.com)$"
)
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+)\.(localhost|s3(\.dualstack)?(\.[a-z0-9-]+)?\.amazonaws\.com)$")
_KEY_SAFE = "/-_.~"


def read(http: sigv4.HttpRequest, signed: sigv4.SignedRequest, *, protocol: str, secret_key: str) -> sigv4.HttpRequest:
    """The canonical request for ``http`` (already authenticated as ``signed``), or ``AmbiguousRequest``."""
    pairs = _query_pairs(http, protocol)
    headers = {name: value for name, value in http.headers.items()
               if name not in _DROPPED_HEADERS and not name.startswith("x-moto-")}
    if protocol in ("query", "ec2"):
        return _read_query(http, pairs, headers)
    mimetype = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if http.body and mimetype in _FORM_TYPES:
        # moto's server reads a form-encoded body as request parameters whatever the operation (werkzeug's
        # request.form), so the gate and moto would read two requests; AWS reads the body as the payload.
        raise AmbiguousRequest(400, "InvalidArgument" if protocol == "rest-xml" else "SerializationException",
                               f"localcloud does not accept a {mimetype} body outside the query protocol: moto "
                               "would read it as request parameters. Send it with another Content-Type.",
                               extra={"ArgumentName": "Content-Type", "ArgumentValue": mimetype})
    if protocol == "json":
        return _read_json(http, pairs, headers)
    if signed.service in sigv4.S3_SERVICES:
        return _read_s3(http, signed, pairs, headers, secret_key)
    if any(name == "Action" for name, _ in pairs):
        raise AmbiguousRequest(400, "InvalidAction", "A REST request names its operation by its route; an "
                               "Action query parameter would name a second one.")
    # The body goes as it came: a REST-JSON body is either the payload (Invoke's event) or a JSON document that
    # the gate and moto both read with json.loads.
    return sigv4.HttpRequest(http.method, http.raw_path, urlencode(pairs, quote_via=quote), headers, http.body)


# --- query string ------------------------------------------------------------------------------------------------


def _decode(text: str, what: str) -> str:
    try:
        return unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise AmbiguousRequest(400, "InvalidURI", f"Couldn't parse the specified URI: the {what} is not "
                               "percent-encoded UTF-8.") from None


def _query_pairs(http: sigv4.HttpRequest, protocol: str) -> list[tuple[str, str]]:
    """The decoded query parameters other than the presigned-URL ones, each given once."""
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw_key, raw_value in http.query_pairs():
        if not raw_key and not raw_value:
            continue
        key, value = _decode(raw_key.replace("+", " "), "query"), _decode(raw_value.replace("+", " "), "query")
        if key in seen:
            raise _given_twice(key, protocol, "the query string")
        seen.add(key)
        if key not in AUTH_QUERY_PARAMS:
            pairs.append((key, value))
    return pairs


def _given_twice(name: str, protocol: str, where: str) -> AmbiguousRequest:
    if name == "Action":
        return AmbiguousRequest(400, "InvalidAction", f"The operation is named twice ({where}): Action is given "
                                "more than once.")
    if protocol == "rest-xml":
        return AmbiguousRequest(400, "InvalidArgument", f"The query parameter {name!r} is given more than once.",
                                extra={"ArgumentName": name})
    return AmbiguousRequest(400, "MalformedQueryString", f"The parameter {name!r} is given more than once ({where}).")


# --- query protocol (STS, IAM) -----------------------------------------------------------------------------------


def _read_query(http: sigv4.HttpRequest, pairs: list[tuple[str, str]], headers: dict[str, str]) -> sigv4.HttpRequest:
    params = dict(pairs)
    if http.body:
        content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type not in ("", "application/x-www-form-urlencoded"):
            raise AmbiguousRequest(400, "MalformedQueryString", f"A query-protocol request body must be "
                                   f"form-encoded, not {content_type!r}.")
        try:
            text = http.body.decode("utf-8")
        except UnicodeDecodeError:
            raise AmbiguousRequest(400, "MalformedQueryString", "The form body is not UTF-8.") from None
        for raw_key, _, raw_value in (item.partition("=") for item in text.split("&") if item):
            key = _decode(raw_key.replace("+", " "), "form body")
            if key in params:
                where = "the query string and the form body" if key in dict(pairs) else "the form body"
                raise _given_twice(key, "query", where)
            params[key] = _decode(raw_value.replace("+", " "), "form body")
    _check_member_lists(params)
    body = urlencode(list(params.items()), quote_via=quote).encode()
    headers = {**{k: v for k, v in headers.items() if k != "content-type"},
               "content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    return sigv4.HttpRequest("POST", "/", "", headers, body)


_MEMBER = re.compile(r"^(?P<list>.+?)\.member\.(?P<index>\d+)(?:\.|$)")


def _check_member_lists(params: Mapping[str, str]) -> None:
    """``Tags.member.N`` lists number their members 1, 2, ... without gaps: the gate counts from 1 and stops at
    the first gap, moto collects every index it finds, so a list with a gap would be two lists."""
    indices: dict[str, set[str]] = {}
    for name in params:
        found = _MEMBER.match(name)
        if found:
            indices.setdefault(found.group("list"), set()).add(found.group("index"))
    for name, found_indices in indices.items():
        if found_indices != {str(n) for n in range(1, len(found_indices) + 1)}:
            raise AmbiguousRequest(400, "MalformedQueryString", f"The members of {name} must be numbered 1 to N "
                                   f"without gaps; {sorted(found_indices, key=len)} were given.")


# --- JSON protocol -----------------------------------------------------------------------------------------------


def _read_json(http: sigv4.HttpRequest, pairs: list[tuple[str, str]], headers: dict[str, str]) -> sigv4.HttpRequest:
    if pairs:
        name = pairs[0][0]
        if name == "Action":
            raise AmbiguousRequest(400, "InvalidAction", "The operation is named twice: X-Amz-Target and an Action "
                                   "query parameter.")
        raise AmbiguousRequest(400, "InvalidQueryParameter", f"A JSON-protocol request takes no query parameters; "
                               f"{name!r} was given.")
    body = _canonical_json(http.body) if http.body else b""
    return sigv4.HttpRequest("POST", "/", "", headers, body)


def _no_duplicate_keys(items: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in items:
        if key in found:
            raise AmbiguousRequest(400, "SerializationException", f"The JSON body gives {key!r} more than once.")
        found[key] = value
    return found


def _canonical_json(body: bytes) -> bytes:
    try:
        parsed = json.loads(body, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, UnicodeDecodeError):
        raise AmbiguousRequest(400, "SerializationException", "The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise AmbiguousRequest(400, "SerializationException", "The request body must be a JSON object.")
    return json.dumps(parsed, separators=(",", ":")).encode()


# --- S3 ----------------------------------------------------------------------------------------------------------


def valid_bucket_name(name: str) -> bool:
    return bool(_BUCKET_NAME.match(name)) and ".." not in name and not _IP_ADDRESS.match(name)


def _invalid_bucket(name: str) -> AmbiguousRequest:
    return AmbiguousRequest(400, "InvalidBucketName", "The specified bucket is not valid.",
                            extra={"BucketName": name})


def _encode_path(path: str) -> str:
    return quote(path, safe=_KEY_SAFE, encoding="utf-8", errors="strict")


def bucket_from_host(host: str | None) -> str | None:
    """The bucket a virtual-hosted-style Host names, None for the endpoint itself; ``AmbiguousRequest`` for any
    other Host."""
    name = (host or "").strip().lower()
    name = re.sub(r":\d+$", "", name) if not name.endswith("]") else name
    if not name or _ENDPOINT_HOST.match(name):
        return None
    virtual = _VIRTUAL_HOST.match(name)
    if virtual:
        return virtual.group("bucket")
    raise AmbiguousRequest(400, "InvalidArgument", f"localcloud serves S3 at its endpoint (path style) and at "
                           f"BUCKET.localhost or BUCKET.s3.REGION.amazonaws.com (virtual-hosted style); the Host "
                           f"{host!r} is neither.", extra={"ArgumentName": "Host"})


def s3_bucket_and_key(http: sigv4.HttpRequest) -> tuple[str | None, str | None]:
    """(bucket, key) as the request names them, after the rules above; the key None for a bucket request."""
    virtual_bucket = bucket_from_host(http.header("host"))
    if not http.raw_path.startswith("/"):
        raise AmbiguousRequest(400, "InvalidURI", "Couldn't parse the specified URI.")
    if virtual_bucket is not None:
        bucket, key = virtual_bucket, _decode(http.raw_path[1:], "key")
    else:
        raw_bucket, separator, raw_key = http.raw_path[1:].partition("/")
        if not raw_bucket:
            if separator or raw_key:
                raise _invalid_bucket("")
            return None, None
        bucket, key = _decode(raw_bucket, "bucket"), _decode(raw_key, "key")
    if not valid_bucket_name(bucket):
        raise _invalid_bucket(bucket)
    return bucket, key or None


def canonical_copy_source(value: str) -> tuple[str, str, str | None]:
    """``x-amz-copy-source`` read once: one optional leading ``/``, a valid bucket, a non-empty key, and at most
    a ``versionId`` (CopyObject's documentation)."""
    raw_source, question, raw_query = value.partition("?")
    source = _decode(raw_source, "copy source")
    if source.startswith("/"):
        source = source[1:]
    bucket, _, key = source.partition("/")
    if not valid_bucket_name(bucket) or not key:
        raise AmbiguousRequest(400, "InvalidArgument", f"Invalid copy source: {value!r} does not name a bucket "
                               "and a key.", extra={"ArgumentName": "x-amz-copy-source", "ArgumentValue": value})
    version: str | None = None
    if question:
        pairs = [item.partition("=") for item in raw_query.split("&") if item]
        if len(pairs) != 1 or pairs[0][0] != "versionId" or not pairs[0][2]:
            raise AmbiguousRequest(400, "InvalidArgument", f"Invalid copy source: {value!r}; only ?versionId= may "
                                   "follow the key.", extra={"ArgumentName": "x-amz-copy-source"})
        version = _decode(pairs[0][2], "copy source version")
    return bucket, key, version


def _read_s3(http: sigv4.HttpRequest, signed: sigv4.SignedRequest, pairs: list[tuple[str, str]],
             headers: dict[str, str], secret_key: str) -> sigv4.HttpRequest:
    bucket, key = s3_bucket_and_key(http)
    path = "/" if bucket is None else "/" + bucket + ("/" + key if key is not None else "")  # "/b/" is "/b"
    copy_source = headers.get("x-amz-copy-source")
    if copy_source is not None:
        source_bucket, source_key, version = canonical_copy_source(copy_source)
        headers["x-amz-copy-source"] = f"/{source_bucket}/{_encode_path(source_key)}" + (
            f"?versionId={quote(version, safe='')}" if version else "")
    body = http.body
    if sigv4.is_aws_chunked(signed):
        decoded = sigv4.decode_aws_chunked(signed, secret_key)
        body = decoded.payload
        for name in _CHUNKED_HEADERS:
            headers.pop(name, None)
        encodings = [e.strip() for e in headers.pop("content-encoding", "").split(",") if e.strip()]
        encodings = [e for e in encodings if e.lower() != "aws-chunked"]
        if encodings:
            headers["content-encoding"] = ", ".join(encodings)
        for name, value in decoded.trailers.items():
            headers[name] = value
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    query = urlencode(pairs, quote_via=quote)
    return sigv4.HttpRequest(http.method, _encode_path(path), query, headers, body)


# --- what moto receives ------------------------------------------------------------------------------------------


def moto_environ(original: Mapping[str, Any], request: sigv4.HttpRequest, signed: sigv4.SignedRequest,
                 account: str, operation: str) -> dict[str, Any]:
    """A WSGI environ carrying exactly ``request``: the server's own keys from ``original``, nothing of the
    client's headers, path or body.

    A request without a query string gets ``x-id=OPERATION`` (what botocore sends for many S3 operations):
    moto reads the body as a query string when there is none (moto.core.responses.setup_class), and would find
    parameters, an ``Action`` even, inside a JSON document or an object's bytes."""
    form = (request.header("content-type") or "").startswith("application/x-www-form-urlencoded")
    if not request.raw_query and not form:
        request = sigv4.HttpRequest(request.method, request.raw_path, f"x-id={quote(operation, safe='')}",
                                    request.headers, request.body)

    environ = {key: value for key, value in original.items()
               if not key.startswith("HTTP_") and key not in ("CONTENT_TYPE", "CONTENT_LENGTH", "RAW_URI",
                                                               "REQUEST_URI", "PATH_INFO", "QUERY_STRING")}
    host = f"{original.get('SERVER_NAME', '127.0.0.1')}:{original.get('SERVER_PORT', '80')}"
    uri = request.raw_path + (f"?{request.raw_query}" if request.raw_query else "")
    environ.update({
        "REQUEST_METHOD": request.method,
        "PATH_INFO": unquote(request.raw_path).encode("utf-8").decode("latin-1"),
        "QUERY_STRING": request.raw_query,
        "RAW_URI": uri,
        "REQUEST_URI": uri,
        "CONTENT_LENGTH": str(len(request.body)),
        "wsgi.input": io.BytesIO(request.body),
        "HTTP_HOST": host,
        "HTTP_AUTHORIZATION": (
            f"{sigv4.ALGORITHM} Credential={signed.access_key_id}/{signed.credential.scope}, "
            f"SignedHeaders=host, Signature={'0' * 64}"
        ),
        "HTTP_X_MOTO_ACCOUNT_ID": account,
    })
    for name, value in request.headers.items():
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name != "content-length":
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ
