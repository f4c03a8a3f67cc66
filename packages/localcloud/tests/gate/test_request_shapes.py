"""The gate authorizes exactly what it executes: adversarial request shapes, correctly signed, over plain HTTP.

The attacker holds valid keys of its own (``world.writer``, a dev IAM user with a narrow policy; the dev deployer,
admin in dev only) and signs every mutated request correctly, so a refusal is never just a bad signature unless the
mutation is about signing. Each denial is proved twice: the answer is a refusal (the code the gate is built to
give, where one is specified), and, read back through the deployers' ordinary boto3 clients, nothing was written,
changed or deleted where the attacker had no right. Each class has a positive control: the same request without
the mutation, signed the same way, succeeds, so the battery cannot pass by refusing everything.

Only the HTTP surface is used (tests/localcloud/raw_requests.py): nothing here knows how the gate is built.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from localcloud.server import LocalCloud
from localcloud_testing.raw_requests import (
    FORM,
    STREAMING,
    Answer,
    Raw,
    World,
    authorization,
    authorization_parts,
    bucket_snapshot,
    chunked,
    enc,
    form,
    iam_call,
    issued_credentials,
    log_groups,
    logs_call,
    make_world,
    object_body,
    object_exists,
    presign,
    rescoped,
    send,
    sha256_hex,
    sign,
    sts_call,
)

OTHER = "333333333333"
ADMIN_DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                                     "Resource": "*"}]})


def u(prefix: str = "k") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def refused(answer: Answer, status: int | None = None, code: str | None = None) -> None:
    """A 4xx answer; with ``status``/``code``, exactly those."""
    assert 400 <= answer.status < 500, f"not refused: {answer}"
    if status is not None:
        assert answer.status == status, f"expected {status} {code}: {answer}"
    if code is not None:
        assert answer.code == code, f"expected {status} {code}: {answer}"


def succeeded(answer: Answer) -> None:
    assert 200 <= answer.status < 300, f"control failed: {answer}"


@pytest.fixture(scope="module")
def world(cloud: LocalCloud) -> World:
    return make_world(cloud)


@pytest.fixture(scope="module")
def untrusting_role(cloud: LocalCloud) -> str:
    """A prod role whose trust policy trusts only an account that is neither prod nor dev."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "sts:AssumeRole"}]})
    name = u("untrusting")
    return str(cloud.client("iam", "prod").create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"])


def role_policies(cloud: LocalCloud, role: str) -> list[str]:
    return sorted(cloud.client("iam", "dev").list_role_policies(RoleName=role)["PolicyNames"])


def user_policies(cloud: LocalCloud, user: str) -> list[str]:
    return sorted(cloud.client("iam", "dev").list_user_policies(UserName=user)["PolicyNames"])


def attached_user_policies(cloud: LocalCloud, user: str) -> list[str]:
    attached = cloud.client("iam", "dev").list_attached_user_policies(UserName=user)["AttachedPolicies"]
    return sorted(p["PolicyArn"] for p in attached)


# =================================================================================================================
# 1. An ambiguous Authorization header
# =================================================================================================================


@dataclass(frozen=True)
class Shape:
    """A base request the writer may make, its service, the refusal the gate gives an unreadable signature, and
    whether its effect happened (for an allowed request: it did; for a refused one: it must not have)."""

    name: str
    service: str
    build: Callable[[World, str], Raw]
    happened: Callable[[World, str], bool]
    malformed: tuple[int, str]


SHAPES = [
    Shape("s3-put-own-object", "s3",
          lambda w, n: Raw("PUT", f"/{w.own}/{n}", body=b"payload"),
          lambda w, n: object_exists(w.cloud, "dev", w.own, n),
          (400, "AuthorizationHeaderMalformed")),
    Shape("iam-put-allowed-role-policy", "iam",
          lambda w, n: iam_call("PutRolePolicy", ("RoleName", w.allowed_role), ("PolicyName", n),
                                ("PolicyDocument", ADMIN_DOCUMENT)),
          lambda w, n: n in role_policies(w.cloud, w.allowed_role),
          (400, "IncompleteSignature")),
    Shape("logs-create-own-group", "logs",
          lambda w, n: logs_call("CreateLogGroup", {"logGroupName": n}),
          lambda w, n: n in log_groups(w.cloud, "dev", n),
          (400, "IncompleteSignatureException")),
    Shape("sts-get-caller-identity", "sts",
          lambda w, n: sts_call("GetCallerIdentity"),
          lambda w, n: False,
          (400, "IncompleteSignature")),
]


def _twice(component: str) -> Callable[[str], str]:
    def change(header: str) -> str:
        credential, signed_headers, signature = authorization_parts(header)
        value = {"Credential": credential, "SignedHeaders": signed_headers, "Signature": signature}[component]
        return f"{header}, {component}={value}"
    return change


def _junk_signature_first(header: str) -> str:
    credential, signed_headers, signature = authorization_parts(header)
    return authorization(credential, signed_headers, "0" * 64, f"Signature={signature}")


def _unknown_component(header: str) -> str:
    return f"{header}, Region=eu-west-1"


def _decoy_credential_first(header: str) -> str:
    credential, signed_headers, signature = authorization_parts(header)
    decoy = rescoped(credential, "sts")
    return "AWS4-HMAC-SHA256 " + ", ".join(
        (f"Credential={decoy}", f"Credential={credential}", f"SignedHeaders={signed_headers}",
         f"Signature={signature}"))


AUTH_MUTATIONS: dict[str, Callable[[str], str]] = {
    "same-credential-twice": _twice("Credential"),
    "decoy-credential-first": _decoy_credential_first,
    "signed-headers-twice": _twice("SignedHeaders"),
    "signature-twice": _twice("Signature"),
    "junk-signature-then-valid": _junk_signature_first,
    "unknown-component": _unknown_component,
}


@pytest.mark.parametrize("mutation", list(AUTH_MUTATIONS))
@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_repeated_or_unknown_authorization_component_is_refused(world: World, shape: Shape, mutation: str) -> None:
    name = u("auth")
    raw = sign(shape.build(world, name), world.writer, shape.service).with_authorization(AUTH_MUTATIONS[mutation])

    answer = send(world.cloud, raw)

    refused(answer, *shape.malformed)
    assert not shape.happened(world, name)


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_second_authorization_header_is_refused(world: World, shape: Shape) -> None:
    name = u("auth")
    raw = sign(shape.build(world, name), world.writer, shape.service)
    raw = raw.with_headers(("Authorization", raw.authorization))

    answer = send(world.cloud, raw)

    refused(answer, *shape.malformed)
    assert not shape.happened(world, name)


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_untouched_authorization_header_is_accepted(world: World, shape: Shape) -> None:
    """Positive control for the class: the same requests, unmutated, do what they say."""
    name = u("auth")

    answer = send(world.cloud, sign(shape.build(world, name), world.writer, shape.service))

    succeeded(answer)
    assert shape.happened(world, name) or shape.service == "sts"


@pytest.mark.parametrize("signed_position", ["last", "first"])
def test_second_credential_component_is_refused(world: World, signed_position: str) -> None:
    """The issue's shape: signed for sts (GetCallerIdentity is always allowed), a second Credential naming s3. A
    reader taking the signed one would authorize an STS call while an S3 router executes a PutObject in prod."""
    key = u("two-credentials")
    raw = sign(Raw("PUT", f"/{world.victim}/{key}", body=b"smuggled"), world.dev_deployer, "sts")
    credential, signed_headers, signature = authorization_parts(raw.authorization)
    decoy = rescoped(credential, "s3")
    first, second = (decoy, credential) if signed_position == "last" else (credential, decoy)
    raw = raw.replacing_header("Authorization", "AWS4-HMAC-SHA256 " + ", ".join(
        (f"Credential={first}", f"Credential={second}", f"SignedHeaders={signed_headers}", f"Signature={signature}")))

    answer = send(world.cloud, raw)

    refused(answer, 400, "AuthorizationHeaderMalformed")
    assert not object_exists(world.cloud, "prod", world.victim, key)


@pytest.mark.parametrize("signed_position", ["last", "first"])
def test_second_credential_component_cannot_turn_sts_into_iam(world: World, signed_position: str) -> None:
    raw = sign(iam_call("PutUserPolicy", ("UserName", world.forbidden_user), ("PolicyName", "escalated"),
                        ("PolicyDocument", ADMIN_DOCUMENT)), world.writer, "sts")
    credential, signed_headers, signature = authorization_parts(raw.authorization)
    decoy = rescoped(credential, "iam")
    first, second = (decoy, credential) if signed_position == "last" else (credential, decoy)
    raw = raw.replacing_header("Authorization", "AWS4-HMAC-SHA256 " + ", ".join(
        (f"Credential={first}", f"Credential={second}", f"SignedHeaders={signed_headers}", f"Signature={signature}")))

    answer = send(world.cloud, raw)

    refused(answer, 400, "IncompleteSignature")
    assert user_policies(world.cloud, world.forbidden_user) == ["keep"]


# =================================================================================================================
# 2. The operation named twice
# =================================================================================================================


def _assume_params(role_arn: str) -> list[tuple[str, str]]:
    return [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", role_arn),
            ("RoleSessionName", u("session"))]


@pytest.mark.parametrize("assume_in", ["query", "body"])
def test_action_in_query_and_body_is_refused(world: World, untrusting_role: str, assume_in: str) -> None:
    assume = _assume_params(untrusting_role)
    identity = [("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]
    query, body = (assume, identity) if assume_in == "query" else (identity, assume)
    raw = Raw("POST", "/", query=query, headers=[("Content-Type", FORM)], body=form(*body))

    answer = send(world.cloud, sign(raw, world.writer, "sts"))

    refused(answer, 400, "InvalidAction")
    assert not issued_credentials(answer)


@pytest.mark.parametrize("where", ["query", "body"])
def test_action_given_twice_in_one_place_is_refused(world: World, untrusting_role: str, where: str) -> None:
    params = [("Action", "GetCallerIdentity"), *_assume_params(untrusting_role)]
    if where == "query":
        raw = Raw("POST", "/", query=params, headers=[("Content-Type", FORM)])
    else:
        raw = Raw("POST", "/", headers=[("Content-Type", FORM)], body=form(*params))

    answer = send(world.cloud, sign(raw, world.writer, "sts"))

    refused(answer, 400, "InvalidAction")
    assert not issued_credentials(answer)


def test_iam_action_in_query_and_body_is_refused(world: World) -> None:
    query = [("Action", "ListAttachedRolePolicies"), ("Version", "2010-05-08"), ("RoleName", world.allowed_role)]
    body = form(("Action", "PutUserPolicy"), ("UserName", world.forbidden_user), ("PolicyName", "escalated"),
                ("PolicyDocument", ADMIN_DOCUMENT))
    raw = Raw("POST", "/", query=query, headers=[("Content-Type", FORM)], body=body)

    answer = send(world.cloud, sign(raw, world.writer, "iam"))

    refused(answer, 400, "InvalidAction")
    assert user_policies(world.cloud, world.forbidden_user) == ["keep"]


def test_operation_named_by_query_and_body_is_accepted_once(world: World, untrusting_role: str) -> None:
    """Positive control: the query protocol takes its parameters from the query string or the body (once)."""
    in_query = Raw("POST", "/", query=[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
                   headers=[("Content-Type", FORM)])
    in_body = sts_call("GetCallerIdentity")
    split = Raw("POST", "/", query=[("Action", "ListAttachedRolePolicies")], headers=[("Content-Type", FORM)],
                body=form(("Version", "2010-05-08"), ("RoleName", world.allowed_role)))

    for raw, service in ((in_query, "sts"), (in_body, "sts"), (split, "iam")):
        answer = send(world.cloud, sign(raw, world.writer, service))
        succeeded(answer)
    assert b"<Arn>" + world.writer_arn.encode() in send(world.cloud, sign(in_body, world.writer, "sts")).body


@pytest.fixture
def victim_log_group(cloud: LocalCloud) -> str:
    """A dev log group the writer may not delete (its policy allows logs:CreateLogGroup only)."""
    name = u("victim-group")
    cloud.client("logs", "dev").create_log_group(logGroupName=name)
    return name


def test_action_query_parameter_next_to_x_amz_target_is_refused(world: World, victim_log_group: str) -> None:
    mine = u("attacker-group")
    raw = logs_call("CreateLogGroup", {"logGroupName": mine}).with_query(
        ("Action", "DeleteLogGroup"), ("logGroupName", victim_log_group))

    answer = send(world.cloud, sign(raw, world.writer, "logs"))

    refused(answer, 400, "InvalidAction")
    assert log_groups(world.cloud, "dev", victim_log_group) == [victim_log_group]
    assert log_groups(world.cloud, "dev", mine) == []


def test_x_amz_target_naming_a_denied_operation_is_not_rescued_by_action(world: World, victim_log_group: str) -> None:
    raw = logs_call("DeleteLogGroup", {"logGroupName": victim_log_group}).with_query(
        ("Action", "CreateLogGroup"), ("logGroupName", u("attacker-group")))

    answer = send(world.cloud, sign(raw, world.writer, "logs"))

    refused(answer, 400, "InvalidAction")
    assert log_groups(world.cloud, "dev", victim_log_group) == [victim_log_group]


def test_logs_without_query_is_accepted(world: World, victim_log_group: str) -> None:
    """Positive control: the target alone; and the denied target alone is denied as what it is."""
    mine = u("attacker-group")

    created = send(world.cloud, sign(logs_call("CreateLogGroup", {"logGroupName": mine}), world.writer, "logs"))
    deleted = send(world.cloud, sign(logs_call("DeleteLogGroup", {"logGroupName": victim_log_group}), world.writer,
                                     "logs"))

    succeeded(created)
    assert log_groups(world.cloud, "dev", mine) == [mine]
    refused(deleted, 400, "AccessDeniedException")
    assert log_groups(world.cloud, "dev", victim_log_group) == [victim_log_group]


@pytest.mark.parametrize("content_type", ["application/x-amz-json-1.1", None, "text/plain",
                                          "application/x-www-form-urlencoded"])
def test_json_body_is_not_also_read_as_a_form(world: World, victim_log_group: str, content_type: str | None) -> None:
    """A JSON string value holding ``&Action=DeleteLogGroup&logGroupName=victim&``: the body is one JSON document
    naming CreateLogGroup; no reader may find a second operation in it. Either refused, or a CreateLogGroup of the
    attacker's own group; never the victim's group deleted."""
    mine = u("attacker-group")
    smuggled = f"&Action=DeleteLogGroup&logGroupName={victim_log_group}&"
    body = json.dumps({"logGroupName": mine, "tags": {"note": smuggled}}).encode()
    headers = [("X-Amz-Target", "Logs_20140328.CreateLogGroup")]
    raw = Raw("POST", "/", headers=headers + ([("Content-Type", content_type)] if content_type else []), body=body)

    answer = send(world.cloud, sign(raw, world.writer, "logs"))

    assert answer.status < 500, answer
    assert log_groups(world.cloud, "dev", victim_log_group) == [victim_log_group]
    if answer.status < 300:
        assert log_groups(world.cloud, "dev", mine) == [mine]
    else:
        refused(answer)


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_put_object_stores_its_body_whatever_its_content_type(world: World, content_type: str | None) -> None:
    """PutObject authorized with a body is executed with that body (a form-looking body is not a form): stored as
    sent, or refused (S3 itself stores it; localcloud may refuse the form-encoded one), never stored otherwise."""
    key = u("typed")
    body = b"partNumber=1&uploadId=abc&acl="
    raw = Raw("PUT", f"/{world.own}/{key}", headers=[("Content-Type", content_type)] if content_type else [],
              body=body)

    answer = send(world.cloud, sign(raw, world.writer, "s3"))

    if content_type == "application/x-www-form-urlencoded" and answer.status >= 400:
        refused(answer, 400, "InvalidArgument")
        assert not object_exists(world.cloud, "dev", world.own, key)
    else:
        succeeded(answer)
        assert object_body(world.cloud, "dev", world.own, key) == body


@pytest.fixture(scope="module")
def victim_function(cloud: LocalCloud) -> str:
    """A dev Lambda function the writer may read (lambda:GetFunction) but not delete."""
    import io
    import zipfile

    iam = cloud.client("iam", "dev")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName=u("fn-role"), AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", "def handler(event, context):\n    return event\n")
    name = u("victim-fn")
    cloud.client("lambda", "dev").create_function(FunctionName=name, Runtime="python3.12", Role=role,
                                                  Handler="handler.handler", Code={"ZipFile": archive.getvalue()})
    return name


def function_exists(cloud: LocalCloud, name: str) -> bool:
    names = [f["FunctionName"] for f in cloud.client("lambda", "dev").list_functions()["Functions"]]
    return name in names


@pytest.mark.parametrize("route", ["list", "get"])
def test_action_query_parameter_on_a_lambda_route_is_refused(world: World, victim_function: str, route: str) -> None:
    path = "/2015-03-31/functions/" if route == "list" else f"/2015-03-31/functions/{victim_function}"
    raw = Raw("GET", path, query=[("Action", "DeleteFunction"), ("FunctionName", victim_function)])

    answer = send(world.cloud, sign(raw, world.writer, "lambda"))

    refused(answer, 400, "InvalidAction")
    assert function_exists(world.cloud, victim_function)


def test_lambda_route_without_action_is_accepted(world: World, victim_function: str) -> None:
    """Positive control: the same routes, no Action, do what they say; DeleteFunction itself is denied."""
    listed = send(world.cloud, sign(Raw("GET", "/2015-03-31/functions/"), world.writer, "lambda"))
    got = send(world.cloud, sign(Raw("GET", f"/2015-03-31/functions/{victim_function}"), world.writer, "lambda"))
    deleted = send(world.cloud, sign(Raw("DELETE", f"/2015-03-31/functions/{victim_function}"), world.writer,
                                     "lambda"))

    succeeded(listed)
    succeeded(got)
    assert victim_function.encode() in listed.body and victim_function.encode() in got.body
    refused(deleted, 403)
    assert function_exists(world.cloud, victim_function)


# =================================================================================================================
# 3. The bucket named twice: Host and path
# =================================================================================================================


def _port(world: World) -> int:
    return int(world.cloud.http_endpoint.rsplit(":", 1)[1])


VIRTUAL_HOSTS: dict[str, Callable[[str, int], str]] = {
    "localhost": lambda bucket, port: f"{bucket}.localhost:{port}",
    "regional": lambda bucket, port: f"{bucket}.s3.eu-west-1.amazonaws.com",
    "global": lambda bucket, port: f"{bucket}.s3.amazonaws.com",
    "upper-case": lambda bucket, port: f"{bucket}.LOCALHOST:{port}".upper(),
}


@pytest.mark.parametrize("form_", list(VIRTUAL_HOSTS))
def test_virtual_hosted_bucket_is_the_host_s_and_the_whole_path_is_the_key(world: World, form_: str) -> None:
    """``Host: victim...`` with ``/own/key``: a PutObject of victim's key ``own/key``, denied to the writer as that."""
    key = u("vhost")
    host = VIRTUAL_HOSTS[form_](world.victim, _port(world))
    raw = Raw("PUT", f"/{world.own}/{key}", headers=[("Host", host)], body=b"smuggled")

    answer = send(world.cloud, sign(raw, world.writer, "s3"))

    refused(answer, 403, "AccessDenied")
    assert not object_exists(world.cloud, "prod", world.victim, f"{world.own}/{key}")
    assert not object_exists(world.cloud, "prod", world.victim, key)
    assert not object_exists(world.cloud, "dev", world.own, key)


def test_path_naming_the_victim_under_an_own_host_stays_in_the_own_bucket(world: World) -> None:
    """``Host: own...`` with ``/victim/key``: authorized and executed as own's key ``victim/key``."""
    key = u("vhost")
    host = f"{world.own}.localhost:{_port(world)}"

    put = send(world.cloud, sign(Raw("PUT", f"/{world.victim}/{key}", headers=[("Host", host)], body=b"mine"),
                                 world.writer, "s3"))
    read = send(world.cloud, sign(Raw("GET", f"/{world.victim}/secret.txt", headers=[("Host", host)]),
                                  world.dev_deployer, "s3"))

    succeeded(put)
    assert object_body(world.cloud, "dev", world.own, f"{world.victim}/{key}") == b"mine"
    assert not object_exists(world.cloud, "prod", world.victim, key)
    refused(read, 404, "NoSuchKey")
    assert b"prod secret" not in read.body


def test_virtual_hosted_request_is_authorized_as_what_it_does(world: World) -> None:
    """Positive control: virtual-hosted style is emulated, for the own bucket and for victim's incoming/."""
    key = u("vhost")
    port = _port(world)

    own = send(world.cloud, sign(Raw("PUT", f"/{key}", headers=[("Host", f"{world.own}.localhost:{port}")],
                                     body=b"own"), world.writer, "s3"))
    incoming = send(world.cloud, sign(Raw("PUT", f"/incoming/{key}", headers=[
        ("Host", f"{world.victim}.s3.eu-west-1.amazonaws.com")], body=b"delivered"), world.writer, "s3"))

    succeeded(own)
    succeeded(incoming)
    assert object_body(world.cloud, "dev", world.own, key) == b"own"
    assert object_body(world.cloud, "prod", world.victim, f"incoming/{key}") == b"delivered"


@pytest.mark.parametrize("host", ["evil.example.com", "{victim}.s3.example.com", "{victim}.evil:{port}",
                                  "s3.amazonaws.com.evil.example"])
def test_host_that_is_neither_endpoint_nor_virtual_hosted_is_refused(world: World, host: str) -> None:
    key = u("host")
    host = host.format(victim=world.victim, port=_port(world))
    raw = Raw("PUT", f"/{world.own}/{key}", headers=[("Host", host)], body=b"x")

    answer = send(world.cloud, sign(raw, world.writer, "s3"))

    refused(answer, 400, "InvalidArgument")
    assert not object_exists(world.cloud, "dev", world.own, key)
    assert not object_exists(world.cloud, "prod", world.victim, f"{world.own}/{key}")


def test_two_host_headers_are_refused(world: World) -> None:
    key = u("host")
    port = _port(world)
    raw = Raw("PUT", f"/{world.own}/{key}", headers=[("Host", f"127.0.0.1:{port}"),
                                                     ("Host", f"{world.victim}.localhost:{port}")], body=b"x")

    answer = send(world.cloud, sign(raw, world.writer, "s3"))

    refused(answer)
    assert not object_exists(world.cloud, "dev", world.own, key)
    assert not object_exists(world.cloud, "prod", world.victim, f"{world.own}/{key}")


# =================================================================================================================
# 4. Names that could be normalised differently
# =================================================================================================================


@pytest.fixture
def fresh_victim(world: World) -> Iterator[str]:
    """A prod bucket of its own for tests whose failure would change the bucket's policy or ACL."""
    yield world.new_victim_bucket()


@pytest.mark.parametrize(("method", "target", "body"), [
    ("PUT", "/{victim};x/{key}", b"smuggled"),
    ("PUT", "/{victim};x/incoming/../{key}", b"smuggled"),
    ("PUT", "/{victim};x?policy", ADMIN_DOCUMENT.encode()),
    ("DELETE", "/{victim};x?policy", b""),
    ("DELETE", "/{victim};x/secret.txt", b""),
    ("PUT", "/{victim}%3Bx/{key}", b"smuggled"),
    ("PUT", "/{victim};/{key}", b"smuggled"),
], ids=["put-object", "put-object-dot-segment", "put-policy", "delete-policy", "delete-object", "encoded-semicolon",
        "bare-semicolon"])
def test_semicolon_in_the_bucket_segment_is_refused(world: World, fresh_victim: str, method: str, target: str,
                                                    body: bytes) -> None:
    """The dev deployer is admin in dev: a bucket named ``victim;x`` that some reader took for a dev bucket must
    not become prod's ``victim`` for another."""
    before = bucket_snapshot(world.cloud, "prod", fresh_victim)
    path, _, query = target.format(victim=fresh_victim, key=u("semi")).partition("?")
    raw = Raw(method, path, query=[(query, "")] if query else [], body=body)
    raw = replace(raw, query=[(query, "")], encoded=True) if query else raw

    answer = send(world.cloud, sign(raw, world.dev_deployer, "s3"))

    refused(answer, 400, "InvalidBucketName")
    assert bucket_snapshot(world.cloud, "prod", fresh_victim) == before


def test_semicolon_read_of_the_victim_is_refused(world: World) -> None:
    answer = send(world.cloud, sign(Raw("GET", f"/{world.victim};x/secret.txt"), world.dev_deployer, "s3"))

    refused(answer, 400, "InvalidBucketName")
    assert b"prod secret" not in answer.body


@pytest.mark.parametrize("bucket_segment", ["{first}%{hex}{rest}", "{upper}"], ids=["percent-encoded", "upper-case"])
def test_bucket_name_spelt_differently_is_the_same_bucket_or_invalid(world: World, bucket_segment: str) -> None:
    victim = world.victim
    segment = bucket_segment.format(first="", hex=f"{ord(victim[0]):02X}", rest=victim[1:], upper=victim.upper())
    key = u("spelt")

    answer = send(world.cloud, sign(Raw("PUT", f"/{segment}/{key}", body=b"smuggled"), world.dev_deployer, "s3"))

    if segment.startswith("%"):
        refused(answer, 403, "AccessDenied")  # authorized as victim's PutObject, and denied as that
    else:
        refused(answer, 400, "InvalidBucketName")
    assert not object_exists(world.cloud, "prod", victim, key)


@pytest.mark.parametrize("path", ["/{own}%2F..%2F{victim}/{key}", "/{own}%2F{victim}/{key}", "//{victim}/{key}",
                                  "/./{victim}/{key}", "/{own}/../{victim}/{key}"],
                         ids=["encoded-dot-segment", "encoded-slash", "doubled-slash", "dot-bucket", "dot-segment"])
def test_slashes_and_dots_do_not_move_a_request_to_another_bucket(world: World, path: str) -> None:
    key = u("slash")
    target = path.format(own=world.own, victim=world.victim, key=key)

    answer = send(world.cloud, sign(Raw("PUT", target, body=b"smuggled"), world.dev_deployer, "s3"))

    assert not object_exists(world.cloud, "prod", world.victim, key)
    if "/../" in target:  # a dot segment inside the key is the key's (S3 does not resolve it)
        succeeded(answer)
        assert object_body(world.cloud, "dev", world.own, f"../{world.victim}/{key}") == b"smuggled"
    elif target.startswith("//"):
        refused(answer)  # Python's http.server collapses a leading "//" before any WSGI app sees the request
    else:
        refused(answer, 400, "InvalidBucketName")


COPY_SOURCES: dict[str, tuple[str, int, str]] = {
    "doubled-leading-slash": ("//{own}/{victim}/secret.txt", 400, "InvalidArgument"),
    "semicolon-bucket": ("/{own};x/{victim}/secret.txt", 400, "InvalidArgument"),
    "empty-bucket": ("//{victim}/secret.txt", 400, "InvalidArgument"),
    "extra-query": ("/{victim}/secret.txt?versionId=null&x=1", 400, "InvalidArgument"),
    "no-key": ("/{victim}", 400, "InvalidArgument"),
    "encoded-slashes": ("%2F{victim}%2Fsecret.txt", 403, "AccessDenied"),
    "plain-victim": ("/{victim}/secret.txt", 403, "AccessDenied"),
}


@pytest.mark.parametrize("case", list(COPY_SOURCES))
def test_copy_source_is_read_once_and_authorized_as_read(world: World, case: str) -> None:
    template, status, code = COPY_SOURCES[case]
    key = u("stolen")
    source = template.format(own=world.own, victim=world.victim)
    raw = Raw("PUT", f"/{world.own}/{key}", headers=[("x-amz-copy-source", source)])

    answer = send(world.cloud, sign(raw, world.dev_deployer, "s3"))

    refused(answer, status, code)
    assert object_body(world.cloud, "dev", world.own, key) is None


def test_copy_source_within_own_bucket_is_accepted(world: World) -> None:
    """Positive control: a well-formed copy source the caller may read."""
    key = u("copy")
    raw = Raw("PUT", f"/{world.own}/{key}", headers=[("x-amz-copy-source", f"/{world.own}/mine.txt")])

    answer = send(world.cloud, sign(raw, world.writer, "s3"))

    succeeded(answer)
    assert object_body(world.cloud, "dev", world.own, key) == b"my own data"


# =================================================================================================================
# 5. A multipart upload ID bound to its key
# =================================================================================================================


def _create_upload(world: World, credentials: dict[str, str], bucket: str, key: str) -> str:
    answer = send(world.cloud, sign(Raw("POST", f"/{bucket}/{key}", query=[("uploads", "")], encoded=True),
                                    credentials, "s3"))
    succeeded(answer)
    match = re.search(rb"<UploadId>([^<]+)</UploadId>", answer.body)
    assert match, answer
    return match.group(1).decode()


def _upload_part(key: str, bucket: str, upload_id: str, body: bytes = b"part one") -> Raw:
    return Raw("PUT", f"/{bucket}/{key}", query=[("partNumber", "1"), ("uploadId", upload_id)], body=body)


def _complete(key: str, bucket: str, upload_id: str, etag: str) -> Raw:
    body = (f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>"
            f"</CompleteMultipartUpload>").encode()
    return Raw("POST", f"/{bucket}/{key}", query=[("uploadId", upload_id)], body=body)


def _parts(world: World, bucket: str, key: str, upload_id: str) -> list[int]:
    listed = world.cloud.client("s3", "prod").list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    return [part["PartNumber"] for part in listed.get("Parts", [])]


def _upload_open(world: World, bucket: str, key: str, upload_id: str) -> bool:
    uploads = world.cloud.client("s3", "prod").list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return (key, upload_id) in {(item["Key"], item["UploadId"]) for item in uploads}


@pytest.fixture
def victim_upload(world: World) -> tuple[str, str]:
    """prod's own multipart upload of ``reports/<id>`` (its ID leaked to the writer), part 1 uploaded."""
    key = u("reports/q")
    s3 = world.cloud.client("s3", "prod")
    upload_id = s3.create_multipart_upload(Bucket=world.victim, Key=key)["UploadId"]
    return key, upload_id


def test_upload_id_is_bound_to_its_key(world: World, victim_upload: tuple[str, str]) -> None:
    """The writer may put incoming/*: an UploadPart under incoming/ with prod's upload ID of reports/ is refused."""
    victim_key, upload_id = victim_upload
    mine = u("incoming/x")

    answer = send(world.cloud, sign(_upload_part(mine, world.victim, upload_id), world.writer, "s3"))

    refused(answer, 404, "NoSuchUpload")
    assert _parts(world, world.victim, victim_key, upload_id) == []


def test_upload_id_cannot_complete_under_another_key(world: World, victim_upload: tuple[str, str]) -> None:
    victim_key, upload_id = victim_upload
    etag = world.cloud.client("s3", "prod").upload_part(Bucket=world.victim, Key=victim_key, UploadId=upload_id,
                                                        PartNumber=1, Body=b"prod part")["ETag"]
    mine = u("incoming/x")

    answer = send(world.cloud, sign(_complete(mine, world.victim, upload_id, etag), world.writer, "s3"))

    refused(answer, 404, "NoSuchUpload")
    assert not object_exists(world.cloud, "prod", world.victim, victim_key)
    assert not object_exists(world.cloud, "prod", world.victim, mine)
    assert _upload_open(world, world.victim, victim_key, upload_id)


def test_upload_id_of_an_allowed_key_does_not_reach_a_forbidden_key(world: World) -> None:
    allowed = u("incoming/a")
    upload_id = _create_upload(world, world.writer, world.victim, allowed)
    outside = u("outside/a")

    part = send(world.cloud, sign(_upload_part(outside, world.victim, upload_id), world.writer, "s3"))
    done = send(world.cloud, sign(_complete(outside, world.victim, upload_id, '"x"'), world.writer, "s3"))

    for answer in (part, done):
        refused(answer)
        assert answer.code in ("AccessDenied", "NoSuchUpload"), answer
    assert not object_exists(world.cloud, "prod", world.victim, outside)
    assert _parts(world, world.victim, allowed, upload_id) == []


def test_upload_id_is_bound_to_its_bucket(world: World) -> None:
    """An upload of victim's incoming/ used in the writer's own bucket (where everything is allowed)."""
    key = u("incoming/b")
    upload_id = _create_upload(world, world.writer, world.victim, key)

    answer = send(world.cloud, sign(_upload_part(key, world.own, upload_id), world.writer, "s3"))

    refused(answer, 404, "NoSuchUpload")
    assert _parts(world, world.victim, key, upload_id) == []


def test_multipart_upload_under_its_own_key_is_accepted(world: World) -> None:
    """Positive control: create, upload a part and complete, all under the same allowed key."""
    key = u("incoming/c")
    upload_id = _create_upload(world, world.writer, world.victim, key)

    part = send(world.cloud, sign(_upload_part(key, world.victim, upload_id, b"whole"), world.writer, "s3"))
    succeeded(part)
    done = send(world.cloud, sign(_complete(key, world.victim, upload_id, part.header("ETag") or ""), world.writer,
                                  "s3"))

    succeeded(done)
    assert object_body(world.cloud, "prod", world.victim, key) == b"whole"


# =================================================================================================================
# 6. An IAM request naming a user and a role
# =================================================================================================================


def test_role_operation_naming_a_user_too_is_refused(world: World) -> None:
    """The writer has iam:* on one role only: PutRolePolicy naming it and a user must not write the user's policy."""
    name = u("escalated")
    for order in ("role-first", "user-first"):
        role, user = ("RoleName", world.allowed_role), ("UserName", world.forbidden_user)
        params = (role, user) if order == "role-first" else (user, role)
        raw = iam_call("PutRolePolicy", *params, ("PolicyName", name), ("PolicyDocument", ADMIN_DOCUMENT))

        answer = send(world.cloud, sign(raw, world.writer, "iam"))

        refused(answer, 400, "InvalidParameterCombination")
    assert user_policies(world.cloud, world.forbidden_user) == ["keep"]
    assert name not in role_policies(world.cloud, world.allowed_role)


def test_user_operation_naming_an_allowed_role_is_refused(world: World) -> None:
    deleted = send(world.cloud, sign(iam_call("DeleteUserPolicy", ("UserName", world.forbidden_user),
                                              ("PolicyName", "keep"), ("RoleName", world.allowed_role)),
                                     world.writer, "iam"))
    attached = send(world.cloud, sign(iam_call("AttachUserPolicy", ("RoleName", world.allowed_role),
                                               ("UserName", world.forbidden_user),
                                               ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess")),
                                      world.writer, "iam"))

    refused(deleted, 400, "InvalidParameterCombination")
    refused(attached, 400, "InvalidParameterCombination")
    assert user_policies(world.cloud, world.forbidden_user) == ["keep"]
    assert attached_user_policies(world.cloud, world.forbidden_user) == []


def test_read_of_a_role_naming_a_user_too_is_refused(world: World) -> None:
    raw = iam_call("ListAttachedRolePolicies", ("RoleName", world.allowed_role), ("UserName", world.forbidden_user))

    answer = send(world.cloud, sign(raw, world.writer, "iam"))

    refused(answer, 400, "InvalidParameterCombination")


def test_role_name_split_between_query_and_body_is_refused(world: World) -> None:
    """The user in the query string, the role in the body (or the other way): still two resources."""
    name = u("escalated")
    raw = Raw("POST", "/", query=[("UserName", world.forbidden_user)], headers=[("Content-Type", FORM)],
              body=form(("Action", "PutRolePolicy"), ("Version", "2010-05-08"), ("RoleName", world.allowed_role),
                        ("PolicyName", name), ("PolicyDocument", ADMIN_DOCUMENT)))

    answer = send(world.cloud, sign(raw, world.writer, "iam"))

    refused(answer, 400, "InvalidParameterCombination")
    assert user_policies(world.cloud, world.forbidden_user) == ["keep"]
    assert name not in role_policies(world.cloud, world.allowed_role)


@pytest.mark.parametrize("split", [False, True], ids=["body-twice", "query-and-body"])
def test_role_name_given_twice_is_refused(world: World, split: bool) -> None:
    name = u("escalated")
    rest = [("Action", "PutRolePolicy"), ("Version", "2010-05-08"), ("PolicyName", name),
            ("PolicyDocument", ADMIN_DOCUMENT)]
    if split:
        raw = Raw("POST", "/", query=[("RoleName", world.other_role)], headers=[("Content-Type", FORM)],
                  body=form(("RoleName", world.allowed_role), *rest))
    else:
        raw = Raw("POST", "/", headers=[("Content-Type", FORM)],
                  body=form(("RoleName", world.allowed_role), ("RoleName", world.other_role), *rest))

    answer = send(world.cloud, sign(raw, world.writer, "iam"))

    refused(answer, 400, "MalformedQueryString")
    assert name not in role_policies(world.cloud, world.other_role)
    assert name not in role_policies(world.cloud, world.allowed_role)


def test_unknown_parameter_is_refused(world: World) -> None:
    name = u("extra")
    raw = iam_call("PutRolePolicy", ("RoleName", world.allowed_role), ("PolicyName", name),
                   ("PolicyDocument", ADMIN_DOCUMENT), ("Marker", "x"))

    answer = send(world.cloud, sign(raw, world.writer, "iam"))

    refused(answer, 400, "InvalidQueryParameter")
    assert name not in role_policies(world.cloud, world.allowed_role)


def test_role_operations_on_the_allowed_role_are_accepted(world: World) -> None:
    """Positive control: the same operations naming only the role; the user alone is denied as the user."""
    name = u("allowed")
    put = send(world.cloud, sign(iam_call("PutRolePolicy", ("RoleName", world.allowed_role), ("PolicyName", name),
                                          ("PolicyDocument", ADMIN_DOCUMENT)), world.writer, "iam"))
    listed = send(world.cloud, sign(iam_call("ListAttachedRolePolicies", ("RoleName", world.allowed_role)),
                                    world.writer, "iam"))
    user = send(world.cloud, sign(iam_call("DeleteUserPolicy", ("UserName", world.forbidden_user),
                                           ("PolicyName", "keep")), world.writer, "iam"))

    succeeded(put)
    succeeded(listed)
    assert name in role_policies(world.cloud, world.allowed_role)
    refused(user, 403, "AccessDenied")
    assert user_policies(world.cloud, world.forbidden_user) == ["keep"]


# =================================================================================================================
# 7. Sub-resources combined
# =================================================================================================================

TAGGING = b"<Tagging><TagSet><Tag><Key>team</Key><Value>red</Value></Tag></TagSet></Tagging>"
RESTORE = b"<RestoreRequest><Days>1</Days></RestoreRequest>"


def _grant_tagging(world: World, bucket: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": world.writer_arn},
            "Action": ["s3:PutObjectTagging", "s3:PutBucketTagging"],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}


@pytest.fixture
def tagging_victim(world: World) -> str:
    """A prod bucket whose policy lets the writer tag (bucket and objects) and put incoming/*, nothing else."""
    s3 = world.cloud.client("s3", "prod")
    name = world.new_victim_bucket()
    s3.put_bucket_policy(Bucket=name, Policy=world.victim_policy(name, _grant_tagging(world, name)))
    s3.put_object(Bucket=name, Key="incoming/shared.txt", Body=b"shared")
    s3.put_object(Bucket=name, Key="incoming/archived", Body=b"cold", StorageClass="GLACIER")
    return name


@pytest.mark.parametrize("query", ["uploads&restore", "restore&uploads"])
def test_uploads_combined_with_restore_is_refused(world: World, tagging_victim: str, query: str) -> None:
    before = bucket_snapshot(world.cloud, "prod", tagging_victim)
    raw = Raw("POST", f"/{tagging_victim}/incoming/archived", query=[(q, "") for q in query.split("&")],
              encoded=True, body=RESTORE)

    answer = send(world.cloud, sign(raw, world.writer, "s3"))

    refused(answer, 400, "InvalidArgument")
    head = world.cloud.client("s3", "prod").head_object(Bucket=tagging_victim, Key="incoming/archived")
    assert "Restore" not in head
    assert bucket_snapshot(world.cloud, "prod", tagging_victim) == before


@pytest.mark.parametrize(("method", "query", "body"), [
    ("PUT", "tagging&acl", TAGGING),
    ("PUT", "acl&tagging", TAGGING),
    ("PUT", "tagging&policy", ADMIN_DOCUMENT.encode()),
    ("PUT", "policy&tagging", ADMIN_DOCUMENT.encode()),
    ("DELETE", "tagging&policy", b""),
    ("PUT", "tagging&versioning", TAGGING),
], ids=["object-tagging-acl", "object-acl-tagging", "bucket-tagging-policy", "bucket-policy-tagging",
        "delete-tagging-policy", "bucket-tagging-versioning"])
def test_sub_resources_naming_different_operations_are_refused(world: World, tagging_victim: str, method: str,
                                                               query: str, body: bytes) -> None:
    """The writer may tag; with a second sub-resource the request would also be an ACL, policy or versioning
    write."""
    on_object = query.startswith(("tagging&acl", "acl&"))
    path = f"/{tagging_victim}/incoming/shared.txt" if on_object else f"/{tagging_victim}"
    s3 = world.cloud.client("s3", "prod")
    before = bucket_snapshot(world.cloud, "prod", tagging_victim)
    object_acl = s3.get_object_acl(Bucket=tagging_victim, Key="incoming/shared.txt")["Grants"]
    versioning = s3.get_bucket_versioning(Bucket=tagging_victim).get("Status")
    headers = [("x-amz-acl", "public-read-write")] if "acl" in query else []
    raw = Raw(method, path, query=[(q, "") for q in query.split("&")], encoded=True, headers=headers, body=body)

    answer = send(world.cloud, sign(raw, world.writer, "s3"))

    refused(answer, 400, "InvalidArgument")
    assert bucket_snapshot(world.cloud, "prod", tagging_victim) == before
    assert s3.get_object_acl(Bucket=tagging_victim, Key="incoming/shared.txt")["Grants"] == object_acl
    assert s3.get_object_tagging(Bucket=tagging_victim, Key="incoming/shared.txt")["TagSet"] == []
    assert s3.get_bucket_versioning(Bucket=tagging_victim).get("Status") == versioning


def test_single_sub_resources_are_accepted(world: World, tagging_victim: str) -> None:
    """Positive control: tagging alone (in the writer's own bucket) and uploads alone (victim's incoming/) do what
    they say; the policy alone is denied as PutBucketPolicy."""
    s3 = world.cloud.client("s3", "prod")
    policy_before = s3.get_bucket_policy(Bucket=tagging_victim)["Policy"]

    tagged = send(world.cloud, sign(Raw("PUT", f"/{world.own}/mine.txt", query=[("tagging", "")], encoded=True,
                                        body=TAGGING), world.writer, "s3"))
    upload = send(world.cloud, sign(Raw("POST", f"/{tagging_victim}/incoming/new", query=[("uploads", "")],
                                        encoded=True), world.writer, "s3"))
    policy = send(world.cloud, sign(Raw("PUT", f"/{tagging_victim}", query=[("policy", "")], encoded=True,
                                        body=ADMIN_DOCUMENT.encode()), world.writer, "s3"))

    succeeded(tagged)
    succeeded(upload)
    tags = world.cloud.client("s3", "dev").get_object_tagging(Bucket=world.own, Key="mine.txt")["TagSet"]
    assert tags == [{"Key": "team", "Value": "red"}]
    assert re.search(rb"<UploadId>[^<]+</UploadId>", upload.body)
    refused(policy, 403, "AccessDenied")
    assert s3.get_bucket_policy(Bucket=tagging_victim)["Policy"] == policy_before


def test_cross_account_object_tagging_lands_on_the_named_object(world: World, tagging_victim: str) -> None:
    """Authorized AS WHAT IT DOES: the writer's PutObjectTagging on prod's object, allowed by both policies, is
    answered 200; the tags must then be prod's object's tags (and not kept somewhere else)."""
    s3 = world.cloud.client("s3", "prod")

    tagged = send(world.cloud, sign(Raw("PUT", f"/{tagging_victim}/incoming/shared.txt", query=[("tagging", "")],
                                        encoded=True, body=TAGGING), world.writer, "s3"))

    succeeded(tagged)
    assert s3.get_object_tagging(Bucket=tagging_victim, Key="incoming/shared.txt")["TagSet"] == [
        {"Key": "team", "Value": "red"}]


# =================================================================================================================
# 8. AssumeRole: session policies narrow; tags and source identity need permission
# =================================================================================================================


@dataclass(frozen=True)
class Roles:
    plain: str  # trusts dev for sts:AssumeRole only; s3:* on the victim bucket
    tagging: str  # trusts dev for sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity
    read_only_policy: str  # a prod managed policy: s3:GetObject on the victim bucket


@pytest.fixture(scope="module")
def roles(cloud: LocalCloud, world: World) -> Roles:
    iam = cloud.client("iam", "prod")
    dev_root = {"AWS": f"arn:aws:iam::{world.dev}:root"}
    access = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{world.victim}", f"arn:aws:s3:::{world.victim}/*"]}]})
    arns = []
    for actions in (["sts:AssumeRole"], ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]):
        name = u("session-role")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": dev_root, "Action": actions}]})
        arns.append(iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"])
        iam.put_role_policy(RoleName=name, PolicyName="access", PolicyDocument=access)
    read_only = iam.create_policy(PolicyName=u("read-only"), PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{world.victim}/*"}]}))
    return Roles(arns[0], arns[1], read_only["Policy"]["Arn"])


def _assume(role_arn: str, *extra: tuple[str, str]) -> Raw:
    return sts_call("AssumeRole", ("RoleArn", role_arn), ("RoleSessionName", u("session")), *extra)


def _session(answer: Answer) -> dict[str, str]:
    found = {name: re.search(f"<{name}>([^<]+)</{name}>".encode(), answer.body) for name in
             ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    assert all(found.values()), answer
    return {name: match.group(1).decode() for name, match in found.items() if match}


def test_session_policy_arns_narrow_the_session(world: World, roles: Roles) -> None:
    """Legitimately emulated: the session may read (the managed session policy allows it) but not write."""
    answer = send(world.cloud, sign(_assume(roles.plain, ("PolicyArns.member.1.arn", roles.read_only_policy)),
                                    world.writer, "sts"))
    succeeded(answer)
    session = _session(answer)
    key = u("narrowed")

    put = send(world.cloud, sign(Raw("PUT", f"/{world.victim}/{key}", body=b"x"), session, "s3"))
    read = send(world.cloud, sign(Raw("GET", f"/{world.victim}/secret.txt"), session, "s3"))

    refused(put, 403, "AccessDenied")
    assert not object_exists(world.cloud, "prod", world.victim, key)
    succeeded(read)
    assert read.body == b"prod secret"


def test_session_without_policy_arns_has_the_role_s_permissions(world: World, roles: Roles) -> None:
    """Positive control: the same role, no session policy: the write is allowed."""
    answer = send(world.cloud, sign(_assume(roles.plain), world.writer, "sts"))
    succeeded(answer)
    key = u("broad")

    put = send(world.cloud, sign(Raw("PUT", f"/{world.victim}/{key}", body=b"x"), _session(answer), "s3"))

    succeeded(put)
    assert object_exists(world.cloud, "prod", world.victim, key)


def test_session_policy_arn_given_twice_is_refused(world: World, roles: Roles) -> None:
    raw = Raw("POST", "/", query=[("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/AdministratorAccess")],
              headers=[("Content-Type", FORM)],
              body=_assume(roles.plain, ("PolicyArns.member.1.arn", roles.read_only_policy)).body)

    answer = send(world.cloud, sign(raw, world.writer, "sts"))

    refused(answer, 400, "MalformedQueryString")
    assert not issued_credentials(answer)


SESSION_EXTRAS: dict[str, list[tuple[str, str]]] = {
    "tags": [("Tags.member.1.Key", "team"), ("Tags.member.1.Value", "admins")],
    "transitive-tags": [("Tags.member.1.Key", "team"), ("Tags.member.1.Value", "admins"),
                        ("TransitiveTagKeys.member.1", "team")],
    "source-identity": [("SourceIdentity", "alice")],
}


@pytest.mark.parametrize("extra", list(SESSION_EXTRAS))
def test_session_tags_and_source_identity_need_the_trust_policy(world: World, roles: Roles, extra: str) -> None:
    answer = send(world.cloud, sign(_assume(roles.plain, *SESSION_EXTRAS[extra]), world.writer, "sts"))

    refused(answer, 403, "AccessDenied")
    assert not issued_credentials(answer)


def test_session_tags_in_the_query_string_are_session_tags(world: World, roles: Roles) -> None:
    raw = Raw("POST", "/", query=SESSION_EXTRAS["tags"], headers=[("Content-Type", FORM)],
              body=_assume(roles.plain).body)

    answer = send(world.cloud, sign(raw, world.writer, "sts"))

    refused(answer, 403, "AccessDenied")
    assert not issued_credentials(answer)


def test_transitive_tag_keys_without_tags_are_refused(world: World, roles: Roles) -> None:
    answer = send(world.cloud, sign(_assume(roles.plain, ("TransitiveTagKeys.member.1", "team")), world.writer,
                                    "sts"))

    refused(answer)
    assert not issued_credentials(answer)


@pytest.mark.parametrize("extra", list(SESSION_EXTRAS))
def test_cross_account_tags_need_the_caller_s_identity_policy_too(world: World, roles: Roles, extra: str) -> None:
    """The trust policy allows sts:TagSession and sts:SetSourceIdentity; the writer's own policy does not."""
    answer = send(world.cloud, sign(_assume(roles.tagging, *SESSION_EXTRAS[extra]), world.writer, "sts"))

    refused(answer, 403, "AccessDenied")
    assert not issued_credentials(answer)


@pytest.mark.parametrize("extra", list(SESSION_EXTRAS))
def test_session_tags_and_source_identity_allowed_by_both_policies_are_accepted(world: World, roles: Roles,
                                                                                extra: str) -> None:
    """Positive control: the dev deployer (admin in dev) assuming the role that trusts TagSession and
    SetSourceIdentity; and the writer assuming it without them."""
    with_extra = send(world.cloud, sign(_assume(roles.tagging, *SESSION_EXTRAS[extra]), world.dev_deployer, "sts"))
    plain = send(world.cloud, sign(_assume(roles.tagging), world.writer, "sts"))

    succeeded(with_extra)
    succeeded(plain)
    assert issued_credentials(with_extra) and issued_credentials(plain)


# =================================================================================================================
# 9. SigV4 laxness
# =================================================================================================================


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_host_must_be_signed(world: World, shape: Shape) -> None:
    name = u("unsigned-host")

    answer = send(world.cloud, sign(shape.build(world, name), world.writer, shape.service, unsigned_headers=["host"]))

    refused(answer, *shape.malformed)
    assert not shape.happened(world, name)


S3_PAYLOAD_HASHES: dict[str, tuple[Callable[[bytes], str], int, str]] = {
    "upper-case-digest": (lambda body: sha256_hex(body).upper(), 400, "InvalidArgument"),
    "junk": (lambda body: "not-a-digest", 400, "InvalidArgument"),
    "short-hex": (lambda body: sha256_hex(body)[:40], 400, "InvalidArgument"),
    "digest-of-another-body": (lambda body: sha256_hex(b"something else"), 400, "XAmzContentSHA256Mismatch"),
    "empty-body-digest": (lambda body: sha256_hex(b""), 400, "XAmzContentSHA256Mismatch"),
    "streaming-but-not-chunked": (lambda body: STREAMING, 400, ""),
}


@pytest.mark.parametrize("case", list(S3_PAYLOAD_HASHES))
def test_s3_payload_hash_must_be_a_lower_case_digest_of_the_body(world: World, case: str) -> None:
    declared, status, code = S3_PAYLOAD_HASHES[case]
    key = u("payload")
    body = b"the real body"

    answer = send(world.cloud, sign(Raw("PUT", f"/{world.own}/{key}", body=body), world.writer, "s3",
                                    payload_hash=declared(body)))

    refused(answer, status, code or None)
    assert not object_exists(world.cloud, "dev", world.own, key)


@pytest.mark.parametrize("declared", ["digest", "UNSIGNED-PAYLOAD"])
def test_s3_payload_hash_control_is_accepted(world: World, declared: str) -> None:
    """Positive control: the body's lower-case digest, and UNSIGNED-PAYLOAD (S3 allows it)."""
    key = u("payload")
    body = b"the real body"
    payload_hash = sha256_hex(body) if declared == "digest" else "UNSIGNED-PAYLOAD"

    answer = send(world.cloud, sign(Raw("PUT", f"/{world.own}/{key}", body=body), world.writer, "s3",
                                    payload_hash=payload_hash))

    succeeded(answer)
    assert object_body(world.cloud, "dev", world.own, key) == body


OTHER_SHAPES = [shape for shape in SHAPES if shape.service in ("iam", "logs")]


@pytest.mark.parametrize("declared", ["digest-of-another-body", "UNSIGNED-PAYLOAD", "upper-case-digest"])
@pytest.mark.parametrize("shape", OTHER_SHAPES, ids=[s.name for s in OTHER_SHAPES])
def test_other_services_verify_the_body_not_a_declared_hash(world: World, shape: Shape, declared: str) -> None:
    name = u("declared")
    raw = shape.build(world, name)
    payload_hash = {"digest-of-another-body": sha256_hex(b"Action=GetCallerIdentity&Version=2011-06-15"),
                    "UNSIGNED-PAYLOAD": "UNSIGNED-PAYLOAD",
                    "upper-case-digest": sha256_hex(raw.body).upper()}[declared]

    answer = send(world.cloud, sign(raw, world.writer, shape.service, payload_hash=payload_hash))

    refused(answer)
    if shape.service == "logs":
        assert (answer.status, answer.code) in ((403, "SignatureDoesNotMatch"), (400, "InvalidSignatureException")), \
            answer
    else:
        assert (answer.status, answer.code) == (403, "SignatureDoesNotMatch"), answer
    assert not shape.happened(world, name)


@pytest.mark.parametrize("shape", OTHER_SHAPES, ids=[s.name for s in OTHER_SHAPES])
def test_other_services_accept_a_declared_hash_that_is_the_body_s(world: World, shape: Shape) -> None:
    """Positive control: x-amz-content-sha256, signed and equal to the body's digest, is fine."""
    name = u("declared")
    raw = shape.build(world, name)

    answer = send(world.cloud, sign(raw, world.writer, shape.service, payload_hash=sha256_hex(raw.body)))

    succeeded(answer)
    assert shape.happened(world, name)


def test_presigned_url_without_expires_is_refused(world: World) -> None:
    key = u("presigned")
    read = send(world.cloud, presign(Raw("GET", f"/{world.own}/mine.txt"), world.writer, expires=None))
    write = send(world.cloud, presign(Raw("PUT", f"/{world.own}/{key}", body=b"x"), world.writer, expires=None))

    refused(read, 400, "AuthorizationQueryParametersError")
    assert b"my own data" not in read.body
    refused(write, 400, "AuthorizationQueryParametersError")
    assert not object_exists(world.cloud, "dev", world.own, key)


def test_presigned_query_and_authorization_header_together_are_refused(world: World) -> None:
    key = u("both")
    presigned = presign(Raw("PUT", f"/{world.own}/{key}", body=b"x"), world.writer)
    header_signed = sign(Raw("PUT", f"/{world.own}/{key}", body=b"x"), world.writer, "s3")
    both = replace(header_signed, query=presigned.query, encoded=True)

    answer = send(world.cloud, both)

    refused(answer, 400, "InvalidArgument")
    assert not object_exists(world.cloud, "dev", world.own, key)


def test_presigned_url_with_expires_is_accepted(world: World) -> None:
    """Positive control."""
    key = u("presigned")

    read = send(world.cloud, presign(Raw("GET", f"/{world.own}/mine.txt"), world.writer))
    write = send(world.cloud, presign(Raw("PUT", f"/{world.own}/{key}", body=b"x"), world.writer))

    assert (read.status, read.body) == (200, b"my own data")
    succeeded(write)
    assert object_body(world.cloud, "dev", world.own, key) == b"x"


CHUNKS = [b"a" * 65536, b"b" * 1000]


def _flip(signature: str) -> str:
    return ("1" if signature[0] != "1" else "2") + signature[1:]


@pytest.mark.parametrize("damaged", [0, 1, 2], ids=["first-chunk", "second-chunk", "final-chunk"])
def test_chunk_signatures_of_a_streamed_upload_are_verified(world: World, damaged: int) -> None:
    key = u("streamed")
    raw = chunked(Raw("PUT", f"/{world.own}/{key}"), world.writer, CHUNKS,
                  damage=lambda index, signature: _flip(signature) if index == damaged else signature)

    answer = send(world.cloud, raw)

    refused(answer, 403, "SignatureDoesNotMatch")
    assert not object_exists(world.cloud, "dev", world.own, key)


def test_chunk_data_changed_after_signing_is_refused(world: World) -> None:
    key = u("streamed")
    raw = chunked(Raw("PUT", f"/{world.own}/{key}"), world.writer, CHUNKS)
    tampered = replace(raw, body=raw.body.replace(b"b" * 1000, b"c" * 1000))

    answer = send(world.cloud, tampered)

    refused(answer, 403, "SignatureDoesNotMatch")
    assert not object_exists(world.cloud, "dev", world.own, key)


def test_streamed_upload_with_valid_chunk_signatures_is_accepted(world: World) -> None:
    """Positive control: the same aws-chunked upload, undamaged, stores the decoded payload."""
    key = u("streamed")

    answer = send(world.cloud, chunked(Raw("PUT", f"/{world.own}/{key}"), world.writer, CHUNKS))

    succeeded(answer)
    assert object_body(world.cloud, "dev", world.own, key) == b"".join(CHUNKS)


def test_raw_client_encodes_query_as_sigv4_does() -> None:
    """The support module itself: repeated keys kept in order, values encoded once."""
    raw = Raw("GET", "/b/k", query=[("a", "x y"), ("a", "z/")])

    assert raw.target == "/b/k?a=x%20y&a=z%2F"
    assert enc("a+b") == "a%2Bb"
