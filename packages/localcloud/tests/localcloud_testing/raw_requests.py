"""A raw AWS client for adversarial tests: requests built exactly as written, signed with botocore, sent unchanged.

    request = Raw("PUT", "/bucket/key", body=b"x")
    signed = sign(request, credentials, "s3")                    # botocore's S3SigV4Auth (SigV4Auth for others)
    signed = signed.with_authorization(lambda a: a + ", Credential=" + ...)   # mutate after signing
    answer = send(cloud, signed)                                 # http.client, plain HTTP, nothing normalised
    answer.status, answer.code, answer.body

Nothing here knows the gate: what goes on the wire is what the test built. The query is an ordered list of pairs
(keys may repeat; ``encoded=True`` pairs go as written), headers are a list (names may repeat, and the Host is the
test's own when it gives one), and the path is sent byte for byte. Signing goes through botocore's own signers with
only these knobs: the payload hash they sign (``payload_hash``), the headers they leave out (``unsigned_headers``,
e.g. ``host``), and the service/region of the credential scope. ``chunked`` builds an aws-chunked
(STREAMING-AWS4-HMAC-SHA256-PAYLOAD) body with every chunk signature, which a test may then damage.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = "eu-west-1"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
S3_SERVICES = ("s3",)
FORM = "application/x-www-form-urlencoded; charset=utf-8"
LOGS_JSON = "application/x-amz-json-1.1"


def enc(text: str) -> str:
    """SigV4's URI encoding of one query key or value (RFC 3986 unreserved characters kept)."""
    return quote(text, safe="-_.~")


def form(*pairs: tuple[str, str]) -> bytes:
    """A form-encoded body; pairs may repeat."""
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def credentials_of(credentials: Mapping[str, str]) -> Credentials:
    """botocore Credentials from boto3 keyword names or an STS ``Credentials`` dict."""
    if "AccessKeyId" in credentials:
        return Credentials(credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials.get("SessionToken"))
    return Credentials(credentials["aws_access_key_id"], credentials["aws_secret_access_key"],
                       credentials.get("aws_session_token"))


# --- the request -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """An HTTP request as it will be sent. ``query`` pairs are percent-encoded when sent unless ``encoded``."""

    method: str
    path: str = "/"
    query: Sequence[tuple[str, str]] = ()
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    encoded: bool = False  # query pairs are already percent-encoded (sent and signed as written)

    @property
    def query_string(self) -> str:
        parts = []
        for key, value in self.query:
            if self.encoded:
                parts.append(f"{key}={value}" if value is not None else key)
            else:
                parts.append(f"{enc(key)}={enc(value)}")
        return "&".join(parts)

    @property
    def target(self) -> str:
        """The request-target: the path as written and the query string."""
        return self.path + (f"?{self.query_string}" if self.query else "")

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def with_headers(self, *headers: tuple[str, str]) -> Raw:
        return replace(self, headers=[*self.headers, *headers])

    def without_header(self, name: str) -> Raw:
        return replace(self, headers=[(k, v) for k, v in self.headers if k.lower() != name.lower()])

    def replacing_header(self, name: str, value: str) -> Raw:
        return self.without_header(name).with_headers((name, value))

    def with_query(self, *pairs: tuple[str, str]) -> Raw:
        return replace(self, query=[*self.query, *pairs])

    @property
    def authorization(self) -> str:
        value = self.header("authorization")
        assert value is not None, "the request is not header-signed"
        return value

    def with_authorization(self, change: Callable[[str], str]) -> Raw:
        """The same request with its Authorization header rewritten by ``change`` (after signing)."""
        return self.replacing_header("Authorization", change(self.authorization))


def authorization_parts(authorization: str) -> tuple[str, str, str]:
    """(Credential, SignedHeaders, Signature) values of a header botocore wrote."""
    found = dict(item.strip().split("=", 1) for item in authorization.split(" ", 1)[1].split(","))
    return found["Credential"], found["SignedHeaders"], found["Signature"]


def authorization(credential: str, signed_headers: str, signature: str, *extra: str) -> str:
    """An Authorization header from its components, in this order, followed by ``extra`` raw components."""
    items = [f"Credential={credential}", f"SignedHeaders={signed_headers}", f"Signature={signature}", *extra]
    return "AWS4-HMAC-SHA256 " + ", ".join(items)


def rescoped(credential: str, service: str) -> str:
    """A Credential value naming another service in its scope (the same key, date and region)."""
    key, date, region, _, terminal = credential.split("/")
    return "/".join((key, date, region, service, terminal))


# --- signing -----------------------------------------------------------------------------------------------------


def _signer_class(base: type[SigV4Auth], payload_hash: str | None, unsigned: frozenset[str]) -> type[SigV4Auth]:
    class Signer(base):  # type: ignore[misc, valid-type]
        def payload(self, request: AWSRequest) -> str:
            return payload_hash if payload_hash is not None else super().payload(request)

        def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
            chosen = super().headers_to_sign(request)
            for name in unsigned:
                del chosen[name]
            return chosen

    return Signer


def _aws_request(raw: Raw, base_url: str) -> AWSRequest:
    headers = HTTPHeaders()
    for name, value in raw.headers:
        headers[name] = value  # HTTPHeaders keeps repeated names, as the wire will
    return AWSRequest(method=raw.method, url=base_url + raw.target, headers=headers, data=raw.body)


@dataclass
class Signed:
    """A signed request and what a test needs to sign more of it (aws-chunked bodies)."""

    raw: Raw
    signer: SigV4Auth
    request: AWSRequest
    scope: str = field(default="")

    def sign_string(self, string_to_sign: str) -> str:
        return str(self.signer.signature(string_to_sign, self.request))

    @property
    def timestamp(self) -> str:
        return str(self.request.context["timestamp"])


def sign_request(
    raw: Raw,
    credentials: Mapping[str, str],
    service: str,
    *,
    region: str = REGION,
    host: str = "127.0.0.1",
    payload_hash: str | None = None,
    unsigned_headers: Iterable[str] = (),
) -> Signed:
    """Sign ``raw`` in the Authorization header; the Host is ``raw``'s own Host header or ``host``.

    S3 (S3SigV4Auth) signs the path as written and sends ``x-amz-content-sha256`` (``payload_hash``, or the
    body's digest); other services (SigV4Auth) sign the normalised path and the body's digest, unless
    ``payload_hash`` is given: then ``x-amz-content-sha256: payload_hash`` is sent and signed as the payload hash.
    """
    creds = credentials_of(credentials)
    unsigned = frozenset(name.lower() for name in unsigned_headers)
    s3 = service in S3_SERVICES
    if not s3 and payload_hash is not None:
        raw = raw.replacing_header("X-Amz-Content-SHA256", payload_hash)
    signer = _signer_class(S3SigV4Auth if s3 else SigV4Auth, payload_hash if s3 else None, unsigned)(
        creds, service, region)
    request = _aws_request(raw, f"http://{raw.header('host') or host}")
    signer.add_auth(request)
    headers = list(request.headers.items())
    if raw.header("host") is None:
        headers.insert(0, ("Host", host))
    return Signed(replace(raw, headers=headers), signer, request, scope=signer.scope(request))


def sign(raw: Raw, credentials: Mapping[str, str], service: str, **options: Any) -> Raw:
    return sign_request(raw, credentials, service, **options).raw


class _NoExpires(S3SigV4QueryAuth):
    def _modify_request_before_signing(self, request: AWSRequest) -> None:
        super()._modify_request_before_signing(request)
        parts = urlsplit(request.url)
        kept = "&".join(pair for pair in parts.query.split("&") if not pair.startswith("X-Amz-Expires="))
        request.url = parts._replace(query=kept).geturl()


def presign(raw: Raw, credentials: Mapping[str, str], *, expires: int | None = 300, region: str = REGION,
            host: str = "127.0.0.1") -> Raw:
    """A presigned S3 request (botocore's S3SigV4QueryAuth); ``expires=None``: signed without X-Amz-Expires."""
    creds = credentials_of(credentials)
    signer = _NoExpires(creds, "s3", region) if expires is None else S3SigV4QueryAuth(creds, "s3", region,
                                                                                       expires=expires)
    request = _aws_request(replace(raw, body=b""), f"http://{raw.header('host') or host}")  # the body is not signed
    signer.add_auth(request)
    parts = urlsplit(request.url)
    query = [tuple(pair.split("=", 1)) for pair in parts.query.split("&") if pair]
    headers = [(k, v) for k, v in raw.headers]
    if raw.header("host") is None:
        headers.insert(0, ("Host", host))
    return replace(raw, path=parts.path, query=query, headers=headers, encoded=True)  # type: ignore[arg-type]


def chunked(raw: Raw, credentials: Mapping[str, str], chunks: Sequence[bytes], *,
            damage: Callable[[int, str], str] | None = None, region: str = REGION) -> Raw:
    """An S3 upload of ``chunks`` as an aws-chunked body (sigv4-streaming.html): the seed signature in the
    Authorization header, each chunk's signature chained from the previous, then the empty final chunk.
    ``damage(index, signature)`` may replace the signature written for chunk ``index`` (the final one included)."""
    payload = b"".join(chunks)
    pieces = [*chunks, b""]
    lengths = sum(len(f"{len(c):x};chunk-signature={'0' * 64}\r\n") + len(c) + 2 for c in pieces)
    streaming = raw.with_headers(
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", str(len(payload))),
        ("Content-Length", str(lengths)),
    )
    signed = sign_request(replace(streaming, body=b""), credentials, "s3", payload_hash=STREAMING, region=region)
    previous = authorization_parts(signed.raw.authorization)[2]
    body = b""
    for index, chunk in enumerate(pieces):
        string_to_sign = "\n".join(("AWS4-HMAC-SHA256-PAYLOAD", signed.timestamp, signed.scope.split("/", 1)[1],
                                    previous, EMPTY_SHA256, sha256_hex(chunk)))
        signature = signed.sign_string(string_to_sign)
        previous = signature
        written = damage(index, signature) if damage else signature
        body += f"{len(chunk):x};chunk-signature={written}\r\n".encode() + chunk + b"\r\n"
    assert len(body) == lengths
    return replace(signed.raw, body=body)


# --- sending -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def code(self) -> str | None:
        """The AWS error code: XML ``<Code>``, JSON ``__type``, or ``x-amzn-ErrorType`` (namespace stripped)."""
        match = re.search(rb"<Code>([^<]*)</Code>", self.body)
        if match:
            return match.group(1).decode()
        try:
            document = json.loads(self.body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            for key in ("__type", "code"):  # a REST-JSON body's "Type" is the fault (User/Service), not the code
                if isinstance(document.get(key), str):
                    return document[key].rsplit("#", 1)[-1]
        error_type = self.header("x-amzn-errortype")
        if error_type:
            return error_type.split(":", 1)[0]
        return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __str__(self) -> str:
        return f"{self.status} {self.code} {self.text[:300]!r}"


def send(cloud: Any, raw: Raw, *, timeout: float = 10.0) -> Answer:
    """Send ``raw`` to ``cloud.http_endpoint`` exactly as built: the request-target byte for byte, every header in
    order (repeats too), a Content-Length for the body unless the request gives its own."""
    port = urlsplit(cloud.http_endpoint).port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest(raw.method, raw.target, skip_host=True, skip_accept_encoding=True)
        names = {name.lower() for name, _ in raw.headers}
        for name, value in raw.headers:
            connection.putheader(name, value)
        if "content-length" not in names and (raw.body or raw.method in ("PUT", "POST")):
            connection.putheader("Content-Length", str(len(raw.body)))
        connection.endheaders(raw.body or None)
        response = connection.getresponse()
        return Answer(response.status, list(response.getheaders()), response.read())
    finally:
        connection.close()


def signed_send(cloud: Any, raw: Raw, credentials: Mapping[str, str], service: str, **options: Any) -> Answer:
    return send(cloud, sign(raw, credentials, service, **options))


# --- requests of the base operations -----------------------------------------------------------------------------


def query_call(action: str, version: str, *params: tuple[str, str]) -> Raw:
    """A query-protocol call (STS, IAM) with its parameters in a form body."""
    return Raw("POST", "/", headers=[("Content-Type", FORM)],
               body=form(("Action", action), ("Version", version), *params))


def sts_call(action: str, *params: tuple[str, str]) -> Raw:
    return query_call(action, "2011-06-15", *params)


def iam_call(action: str, *params: tuple[str, str]) -> Raw:
    return query_call(action, "2010-05-08", *params)


def logs_call(operation: str, document: Mapping[str, Any]) -> Raw:
    return Raw("POST", "/", headers=[("Content-Type", LOGS_JSON), ("X-Amz-Target", f"Logs_20140328.{operation}")],
               body=json.dumps(document).encode())


# --- state, through the deployers' ordinary clients --------------------------------------------------------------

_CLIENTS: dict[tuple[int, str, str], Any] = {}


def deployer_client(cloud: Any, service: str, account: str) -> Any:
    """The account deployer's ordinary boto3 client (plain HTTP, kept for the LocalCloud's life: snapshots are
    taken around every example of the property tests)."""
    key = (id(cloud), service, account)
    client = _CLIENTS.get(key)
    if client is None or client.meta.endpoint_url != cloud.http_endpoint:
        client = _CLIENTS[key] = cloud.client(service, account, secure=False)
    return client


def object_body(cloud: Any, account: str, bucket: str, key: str) -> bytes | None:
    """The object's content, or None when it does not exist."""
    try:
        return bytes(deployer_client(cloud, "s3", account).get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404", "NoSuchBucket"):
            return None
        raise


def object_exists(cloud: Any, account: str, bucket: str, key: str) -> bool:
    return object_body(cloud, account, bucket, key) is not None


def bucket_keys(cloud: Any, account: str, bucket: str) -> dict[str, str]:
    """Every key of the bucket and its ETag."""
    pages = deployer_client(cloud, "s3", account).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}


def bucket_policy(cloud: Any, account: str, bucket: str) -> str | None:
    try:
        return str(deployer_client(cloud, "s3", account).get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return None
        raise


def bucket_snapshot(cloud: Any, account: str, bucket: str) -> dict[str, Any]:
    """What a write could change in a bucket: its keys and ETags, policy, tags, ACL and open multipart uploads."""
    s3 = deployer_client(cloud, "s3", account)
    try:
        tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except ClientError:
        tags = []
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return {
        "keys": bucket_keys(cloud, account, bucket),
        "policy": bucket_policy(cloud, account, bucket),
        "tags": tags,
        "acl": s3.get_bucket_acl(Bucket=bucket)["Grants"],
        "uploads": sorted((u["Key"], u["UploadId"]) for u in uploads),
    }


def iam_snapshot(cloud: Any, account: str) -> dict[str, Any]:
    """Every user, group, role and customer managed policy of the account, with inline policy documents,
    attached policies, trust policies and managed policy versions (one GetAccountAuthorizationDetails)."""
    iam = deployer_client(cloud, "iam", account)
    details = iam.get_account_authorization_details()
    state: dict[str, Any] = {}
    for user in details.get("UserDetailList", []):
        state[f"user/{user['UserName']}"] = (
            sorted((p["PolicyName"], json.dumps(p["PolicyDocument"], sort_keys=True))
                   for p in user.get("UserPolicyList", [])),
            sorted(p["PolicyArn"] for p in user.get("AttachedManagedPolicies", [])),
            sorted(user.get("GroupList", [])),
        )
    for role in details.get("RoleDetailList", []):
        state[f"role/{role['RoleName']}"] = (
            json.dumps(role.get("AssumeRolePolicyDocument"), sort_keys=True),
            sorted((p["PolicyName"], json.dumps(p["PolicyDocument"], sort_keys=True))
                   for p in role.get("RolePolicyList", [])),
            sorted(p["PolicyArn"] for p in role.get("AttachedManagedPolicies", [])),
        )
    for group in details.get("GroupDetailList", []):
        state[f"group/{group['GroupName']}"] = sorted(p["PolicyName"] for p in group.get("GroupPolicyList", []))
    for managed in details.get("Policies", []):
        state[f"policy/{managed['Arn']}"] = sorted(
            (v["VersionId"], json.dumps(v.get("Document"), sort_keys=True), v["IsDefaultVersion"])
            for v in managed.get("PolicyVersionList", []))
    return state


def log_groups(cloud: Any, account: str, prefix: str) -> list[str]:
    groups = deployer_client(cloud, "logs", account).describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    return sorted(group["logGroupName"] for group in groups)


def issued_credentials(answer: Answer) -> bool:
    """True when an STS answer carries credentials (a session was issued)."""
    return b"<AccessKeyId>" in answer.body or b"SecretAccessKey" in answer.body


# --- the scenario: an attacker in dev, victims in prod and in dev --------------------------------------------------


def _policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _unique(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class World:
    """The attacker ``writer``: a dev IAM user allowed s3:* on its own dev bucket ``own``, s3:PutObject on
    ``*/incoming/*`` (which prod's ``victim`` bucket policy also grants it), s3:PutObjectTagging and
    s3:PutBucketTagging anywhere (no victim bucket policy grants them unless a test adds it), lambda:ListFunctions
    and lambda:GetFunction, iam:* on the dev role
    ``allowed_role`` only, logs:CreateLogGroup, and sts:AssumeRole. The dev deployer (admin in dev only) is the
    other attacker. Victims: prod's ``victim`` bucket (``secret.txt`` in it), the dev user ``forbidden_user``
    (inline policy ``keep``) and the dev role ``other_role``."""

    cloud: Any
    prod: str
    dev: str
    writer_name: str
    writer: dict[str, str]
    own: str
    victim: str
    allowed_role: str
    other_role: str
    forbidden_user: str

    @property
    def writer_arn(self) -> str:
        return f"arn:aws:iam::{self.dev}:user/{self.writer_name}"

    @property
    def dev_deployer(self) -> dict[str, str]:
        return dict(self.cloud.deployer_credentials("dev"))

    def victim_policy(self, bucket: str, *extra: Mapping[str, Any]) -> str:
        return _policy(
            {"Effect": "Allow", "Principal": {"AWS": self.writer_arn}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{bucket}/incoming/*"},
            *extra,
        )

    def new_victim_bucket(self, *extra: Mapping[str, Any]) -> str:
        """A fresh prod bucket with the victim's policy (plus ``extra`` statements) and ``secret.txt``."""
        s3 = self.cloud.client("s3", "prod")
        name = _unique("victim")
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_policy(Bucket=name, Policy=self.victim_policy(name, *extra))
        s3.put_object(Bucket=name, Key="secret.txt", Body=b"prod secret")
        return name


def make_world(cloud: Any) -> World:
    prod, dev = cloud.account_id("prod"), cloud.account_id("dev")
    iam = cloud.client("iam", "dev")
    s3 = cloud.client("s3", "dev")
    own = _unique("own")
    s3.create_bucket(Bucket=own, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=own, Key="mine.txt", Body=b"my own data")
    trust = _policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{dev}:root"}, "Action": "sts:AssumeRole"})
    allowed_role, other_role = _unique("allowed"), _unique("other")
    for role in (allowed_role, other_role):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
    forbidden_user = _unique("forbidden")
    iam.create_user(UserName=forbidden_user)
    iam.put_user_policy(UserName=forbidden_user, PolicyName="keep",
                        PolicyDocument=_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    writer_name = _unique("writer")
    iam.create_user(UserName=writer_name)
    iam.put_user_policy(UserName=writer_name, PolicyName="permissions", PolicyDocument=_policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{own}", f"arn:aws:s3:::{own}/*"]},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/incoming/*"},
        {"Effect": "Allow", "Action": ["s3:PutObjectTagging", "s3:PutBucketTagging"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["lambda:ListFunctions", "lambda:GetFunction"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:*", "Resource": f"arn:aws:iam::{dev}:role/{allowed_role}"},
        {"Effect": "Allow", "Action": "logs:CreateLogGroup", "Resource": "*"},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
    ))
    key = iam.create_access_key(UserName=writer_name)["AccessKey"]
    writer = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    world = World(cloud, prod, dev, writer_name, writer, own, "", allowed_role, other_role, forbidden_user)
    world.victim = world.new_victim_bucket()
    return world
