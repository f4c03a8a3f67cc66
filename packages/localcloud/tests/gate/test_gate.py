"""The gate, end to end: boto3 clients against a running LocalCloud with accounts prod and dev.

Each test reads as a rule AWS enforces and moto alone does not.
"""

from __future__ import annotations

import io
import json
import ssl
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud.principals import MotoDirectory, totp
from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, OTHER, PROD, Builder, allow, policy, trust, unique


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = raised.value.response["Error"]
    return error["Code"], error.get("Message", ""), raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def raw_request(cloud: LocalCloud, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(cloud.ca_bundle))
    request = urllib.request.Request(cloud.endpoint + path, data=body, method=method)
    try:
        with urllib.request.urlopen(request, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def object_exists(cloud: LocalCloud, account: str, bucket: str, key: str) -> bool:
    try:
        cloud.client("s3", account).head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
    return True


# --- authentication ----------------------------------------------------------------------------------------------


def test_unsigned_request_is_rejected(cloud: LocalCloud) -> None:
    anonymous = Config(signature_version=UNSIGNED)
    with pytest.raises(ClientError) as s3_error:
        cloud.client("s3", "dev", config=anonymous).list_buckets()
    with pytest.raises(ClientError) as sts_error:
        cloud.client("sts", "dev", config=anonymous).get_caller_identity()

    assert error_of(s3_error) == ("AccessDenied", "Access Denied", 403)
    assert error_of(sts_error)[0::2] == ("MissingAuthenticationToken", 403)


def test_unknown_access_key_is_rejected(cloud: LocalCloud) -> None:
    stranger = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "x" * 40}
    with pytest.raises(ClientError) as s3_error:
        cloud.client("s3", credentials=stranger).list_buckets()
    with pytest.raises(ClientError) as sts_error:
        cloud.client("sts", credentials=stranger).get_caller_identity()

    assert error_of(s3_error)[0::2] == ("InvalidAccessKeyId", 403)
    assert error_of(sts_error)[0::2] == ("InvalidClientTokenId", 403)


def test_bad_signature_is_rejected(cloud: LocalCloud) -> None:
    wrong_secret = {**cloud.deployer_credentials("dev"), "aws_secret_access_key": "y" * 40}
    with pytest.raises(ClientError) as s3_error:
        cloud.client("s3", credentials=wrong_secret).list_buckets()
    with pytest.raises(ClientError) as sts_error:
        cloud.client("sts", credentials=wrong_secret).get_caller_identity()

    assert error_of(s3_error)[0::2] == ("SignatureDoesNotMatch", 403)
    assert error_of(sts_error)[0::2] == ("SignatureDoesNotMatch", 403)


def test_request_signed_more_than_15_minutes_ago_is_rejected(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cloud.gate is not None
    monkeypatch.setattr(cloud.gate, "clock", lambda: datetime.now(timezone.utc) + timedelta(minutes=20))
    with pytest.raises(ClientError) as s3_error:
        cloud.client("s3", "dev").list_buckets()
    with pytest.raises(ClientError) as sts_error:
        cloud.client("sts", "dev").get_caller_identity()

    assert error_of(s3_error)[0::2] == ("RequestTimeTooSkewed", 403)
    code, message, _ = error_of(sts_error)
    assert code == "SignatureDoesNotMatch" and message.startswith("Signature expired:")


def test_session_credentials_need_their_own_session_token(cloud: LocalCloud, build: Builder) -> None:
    role_arn = build.role("dev", [trust({"AWS": DEV})])
    credentials = build.assume(role_arn, account="dev")
    wrong_token = {**credentials, "SessionToken": credentials["SessionToken"][:-4] + "AAAA"}

    with pytest.raises(ClientError) as raised:
        cloud.client("sts", credentials=wrong_token).get_caller_identity()

    assert error_of(raised)[0::2] == ("InvalidClientTokenId", 403)


def test_presigned_url_is_verified(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("prod")
    s3 = cloud.client("s3", "prod")
    s3.put_object(Bucket=bucket, Key="report.txt", Body=b"quarterly")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "report.txt"}, ExpiresIn=300)
    path = url.removeprefix(cloud.endpoint)

    assert raw_request(cloud, "GET", path) == (200, b"quarterly")
    tampered_status, tampered_body = raw_request(cloud, "GET", path.replace("report.txt", "other.txt"))
    assert tampered_status == 403 and b"SignatureDoesNotMatch" in tampered_body


# --- the deployers and the account boundary ----------------------------------------------------------------------


def test_deployer_administers_its_own_account(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    s3 = cloud.client("s3", "dev")
    s3.put_object(Bucket=bucket, Key="artifact.zip", Body=b"zip")
    role_arn = build.role("dev", [trust({"Service": "lambda.amazonaws.com"})])

    assert s3.get_object(Bucket=bucket, Key="artifact.zip")["Body"].read() == b"zip"
    assert cloud.client("sts", "dev").get_caller_identity()["Arn"] == f"arn:aws:iam::{DEV}:user/deployer"
    assert role_arn.startswith(f"arn:aws:iam::{DEV}:role/")
    assert MotoDirectory().bucket_account(bucket) == DEV


def test_dev_deployer_cannot_write_to_prod_bucket_without_bucket_policy(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("prod")

    with pytest.raises(ClientError) as raised:
        cloud.client("s3", "dev").put_object(Bucket=bucket, Key="drop.txt", Body=b"x")

    code, message, status = error_of(raised)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{DEV}:user/deployer is not authorized to perform: s3:PutObject on resource: "
        f'"arn:aws:s3:::{bucket}/drop.txt" because no resource-based policy allows the s3:PutObject action'
    )


def test_denied_request_never_reaches_moto(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("prod")

    with pytest.raises(ClientError):
        cloud.client("s3", "dev").put_object(Bucket=bucket, Key="smuggled.txt", Body=b"x")

    assert not object_exists(cloud, "prod", bucket, "smuggled.txt")


def test_dev_writes_to_prod_bucket_when_bucket_policy_and_identity_allow(cloud: LocalCloud, build: Builder) -> None:
    writer, credentials = build.user("dev", [allow("s3:PutObject", "arn:aws:s3:::*/incoming/*")])
    bucket = build.bucket(
        "prod",
        [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:user/{writer}"}, "Action": "s3:PutObject",
          "Resource": "arn:aws:s3:::*/incoming/*"}],
    )
    s3 = cloud.client("s3", credentials=credentials)

    s3.put_object(Bucket=bucket, Key="incoming/data.csv", Body=b"1,2")
    with pytest.raises(ClientError) as outside_prefix:
        s3.put_object(Bucket=bucket, Key="elsewhere/data.csv", Body=b"1,2")

    assert object_exists(cloud, "prod", bucket, "incoming/data.csv")
    assert error_of(outside_prefix)[0] == "AccessDenied"


def test_client_cannot_choose_the_moto_account(cloud: LocalCloud) -> None:
    s3 = cloud.client("s3", "dev")

    def claim_prod(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = PROD

    s3.meta.events.register("before-sign.s3.CreateBucket", claim_prod)
    bucket = unique("claimed")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    assert MotoDirectory().bucket_account(bucket) == DEV


def test_moto_api_is_not_reachable_through_the_gate(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("prod")

    status, body = raw_request(cloud, "POST", "/moto-api/reset", b"")

    assert status == 403 and b"AccessDenied" in body
    assert MotoDirectory().bucket_account(bucket) == PROD


def test_tls_only_bucket_policy_denies_plain_http(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket(
        "prod",
        [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"],
          "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
    )

    cloud.client("s3", "prod").put_object(Bucket=bucket, Key="over-tls.txt", Body=b"x")
    with pytest.raises(ClientError) as raised:
        cloud.client("s3", "prod", secure=False).put_object(Bucket=bucket, Key="in-clear.txt", Body=b"x")

    code, message, _ = error_of(raised)
    assert code == "AccessDenied" and "explicit deny in a resource-based policy" in message
    assert not object_exists(cloud, "prod", bucket, "in-clear.txt")


def test_get_caller_identity_is_allowed_even_under_explicit_deny(cloud: LocalCloud, build: Builder) -> None:
    _, credentials = build.user("dev", [{"Effect": "Deny", "Action": "*", "Resource": "*"}])

    identity = cloud.client("sts", credentials=credentials).get_caller_identity()

    assert identity["Account"] == DEV


# --- sts:AssumeRole ----------------------------------------------------------------------------------------------


def test_cross_account_assume_denied_when_trust_names_another_account(cloud: LocalCloud, build: Builder) -> None:
    role_arn = build.role("prod", [trust({"AWS": f"arn:aws:iam::{OTHER}:root"})])

    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, account="dev")

    code, message, status = error_of(raised)
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:iam::{DEV}:user/deployer is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )


def test_cross_account_assume_allowed_when_trust_and_identity_allow(cloud: LocalCloud, build: Builder) -> None:
    role_arn = build.role("prod", [trust({"AWS": f"arn:aws:iam::{DEV}:root"})])
    _, credentials = build.user("dev", [allow("sts:AssumeRole", role_arn)])

    session = build.assume(role_arn, credentials=credentials)
    identity = cloud.client("sts", credentials=session).get_caller_identity()

    assert identity["Account"] == PROD
    assert identity["Arn"].startswith(f"arn:aws:sts::{PROD}:assumed-role/{role_arn.rsplit('/', 1)[1]}/")


def test_assume_denied_without_caller_identity_allow(cloud: LocalCloud, build: Builder) -> None:
    name, credentials = build.user("dev")  # no identity policy at all
    role_arn = build.role("prod", [trust({"AWS": f"arn:aws:iam::{DEV}:user/{name}"})])

    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, credentials=credentials)

    assert error_of(raised)[0] == "AccessDenied"


def test_assume_of_missing_role_is_denied(cloud: LocalCloud, build: Builder) -> None:
    with pytest.raises(ClientError) as raised:
        build.assume(f"arn:aws:iam::{PROD}:role/{unique('absent')}", account="dev")

    assert error_of(raised)[0::2] == ("AccessDenied", 403)


def test_external_id_condition_enforced(cloud: LocalCloud, build: Builder) -> None:
    role_arn = build.role(
        "prod", [trust({"AWS": DEV}, Condition={"StringEquals": {"sts:ExternalId": "ci-7f3a"}})]
    )

    with pytest.raises(ClientError) as without:
        build.assume(role_arn, account="dev")
    with pytest.raises(ClientError) as wrong:
        build.assume(role_arn, account="dev", ExternalId="guess")
    session = build.assume(role_arn, account="dev", ExternalId="ci-7f3a")

    assert error_of(without)[0] == error_of(wrong)[0] == "AccessDenied"
    assert session["AccessKeyId"].startswith("ASIA")


def test_role_chaining_duration_over_one_hour_is_rejected(cloud: LocalCloud, build: Builder) -> None:
    first = build.role("prod", [trust({"AWS": DEV})], permissions=[allow("sts:AssumeRole", "*")])
    second = build.role("prod", [trust({"AWS": PROD})], max_session_duration=43200)
    session = build.assume(first, account="dev")

    with pytest.raises(ClientError) as raised:
        build.assume(second, credentials=session, DurationSeconds=7200)
    chained = build.assume(second, credentials=session, DurationSeconds=3600)

    assert error_of(raised) == (
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        400,
    )
    assert chained["AccessKeyId"]


def test_duration_over_max_session_duration_is_rejected(cloud: LocalCloud, build: Builder) -> None:
    role_arn = build.role("dev", [trust({"AWS": DEV})], max_session_duration=3600)

    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, account="dev", DurationSeconds=7200)

    assert error_of(raised)[0:2] == (
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )


def test_role_session_is_limited_by_its_session_policy(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    role_arn = build.role("dev", [trust({"AWS": DEV})], permissions=[allow("s3:*", "*")])
    session = build.assume(role_arn, account="dev", Policy=policy(allow("s3:GetObject", "*")))

    with pytest.raises(ClientError) as raised:
        cloud.client("s3", credentials=session).put_object(Bucket=bucket, Key="k", Body=b"x")

    assert "because no session policy allows the s3:PutObject action" in error_of(raised)[1]


def test_sessions_issued_before_a_revocation_are_denied(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    role_name = unique("revoked")
    role_arn = build.role("dev", [trust({"AWS": DEV})], permissions=[allow("s3:*", "*")], name=role_name)
    session = build.assume(role_arn, account="dev")
    revoked_at = (datetime.now(timezone.utc) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cloud.client("iam", "dev").put_role_policy(
        RoleName=role_name,
        PolicyName="AWSRevokeOlderSessions",
        PolicyDocument=policy({"Effect": "Deny", "Action": "*", "Resource": "*",
                               "Condition": {"DateLessThan": {"aws:TokenIssueTime": revoked_at}}}),
    )

    with pytest.raises(ClientError) as raised:
        cloud.client("s3", credentials=session).put_object(Bucket=bucket, Key="k", Body=b"x")

    assert "with an explicit deny in an identity-based policy" in error_of(raised)[1]


def test_assume_role_calls_are_counted(cloud: LocalCloud, build: Builder) -> None:
    assert cloud.gate is not None
    role_arn = build.role("dev", [trust({"AWS": DEV})])
    before = cloud.gate.calls["sts:AssumeRole"]

    build.assume(role_arn, account="dev")
    build.assume(role_arn, account="dev")

    assert cloud.gate.calls["sts:AssumeRole"] - before == 2
    assert cloud.gate.decisions_for("sts:AssumeRole")[-1].resource == role_arn


# --- MFA and sts:GetSessionToken ---------------------------------------------------------------------------------


def mfa_user(
    cloud: LocalCloud, build: Builder, statements: list[Mapping[str, Any]]
) -> tuple[dict[str, str], str, str]:
    """A dev user with a virtual MFA device: (credentials, serial number, base32 seed)."""
    name, credentials = build.user("dev", statements)
    iam = cloud.client("iam", "dev")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=unique("mfa"))["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    now = datetime.now(timezone.utc)
    iam.enable_mfa_device(
        UserName=name,
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1=totp(seed, now - timedelta(seconds=30)),
        AuthenticationCode2=totp(seed, now),
    )
    return credentials, device["SerialNumber"], seed


MFA_PRESENT = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_mfa_session_token_sets_multifactor_present(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    role_arn = build.role(
        "dev", [trust({"AWS": DEV}, Condition=MFA_PRESENT)],
        permissions=[{**allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*"), "Condition": MFA_PRESENT}],
    )
    credentials, serial, seed = mfa_user(cloud, build, [allow("sts:AssumeRole", role_arn)])
    code = totp(seed, datetime.now(timezone.utc))

    session_token = cloud.client("sts", credentials=credentials).get_session_token(
        SerialNumber=serial, TokenCode=code
    )["Credentials"]
    role_session = build.assume(role_arn, credentials=session_token)
    cloud.client("s3", credentials=role_session).put_object(Bucket=bucket, Key="with-mfa.txt", Body=b"x")

    assert session_token["AccessKeyId"].startswith("ASIA")
    assert object_exists(cloud, "dev", bucket, "with-mfa.txt")


def test_session_token_without_mfa_is_not_multifactor(cloud: LocalCloud, build: Builder) -> None:
    role_arn = build.role("dev", [trust({"AWS": DEV}, Condition=MFA_PRESENT)])
    credentials, _, _ = mfa_user(cloud, build, [allow("sts:AssumeRole", role_arn)])

    session_token = cloud.client("sts", credentials=credentials).get_session_token()["Credentials"]
    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, credentials=session_token)

    assert error_of(raised)[0] == "AccessDenied"
    identity = cloud.client("sts", credentials=session_token).get_caller_identity()
    assert identity["Arn"].startswith(f"arn:aws:iam::{DEV}:user/user-")


def test_wrong_totp_code_is_rejected(cloud: LocalCloud, build: Builder) -> None:
    credentials, serial, seed = mfa_user(cloud, build, [])
    right = totp(seed, datetime.now(timezone.utc))
    wrong = f"{(int(right) + 500000) % 1000000:06d}"

    with pytest.raises(ClientError) as raised:
        cloud.client("sts", credentials=credentials).get_session_token(SerialNumber=serial, TokenCode=wrong)

    assert error_of(raised) == (
        "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ", 403
    )


def test_assume_role_with_mfa_code_satisfies_an_mfa_trust_policy(cloud: LocalCloud, build: Builder) -> None:
    role_arn = build.role("dev", [trust({"AWS": DEV}, Condition=MFA_PRESENT)])
    credentials, serial, seed = mfa_user(cloud, build, [allow("sts:AssumeRole", role_arn)])

    with pytest.raises(ClientError):
        build.assume(role_arn, credentials=credentials)
    session = build.assume(
        role_arn, credentials=credentials, SerialNumber=serial, TokenCode=totp(seed, datetime.now(timezone.utc))
    )

    assert session["AccessKeyId"].startswith("ASIA")


# --- other services ----------------------------------------------------------------------------------------------


def test_delete_objects_reports_denied_keys_and_keeps_them(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    s3 = cloud.client("s3", "dev")
    for key in ("tmp/scratch", "keep/important"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    _, credentials = build.user("dev", [allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}/tmp/*")])

    result = cloud.client("s3", credentials=credentials).delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "tmp/scratch"}, {"Key": "keep/important"}]}
    )

    assert [deleted["Key"] for deleted in result.get("Deleted", [])] == ["tmp/scratch"]
    assert [(error["Key"], error["Code"]) for error in result["Errors"]] == [("keep/important", "AccessDenied")]
    assert object_exists(cloud, "dev", bucket, "keep/important")


def test_copy_object_needs_read_on_the_source(cloud: LocalCloud, build: Builder) -> None:
    source = build.bucket("dev")
    target = build.bucket("dev")
    cloud.client("s3", "dev").put_object(Bucket=source, Key="secret", Body=b"x")
    _, credentials = build.user("dev", [allow("s3:PutObject", f"arn:aws:s3:::{target}/*")])

    with pytest.raises(ClientError) as raised:
        cloud.client("s3", credentials=credentials).copy_object(
            Bucket=target, Key="copy", CopySource={"Bucket": source, "Key": "secret"}
        )

    assert f"s3:GetObject on resource: \"arn:aws:s3:::{source}/secret\"" in error_of(raised)[1]
    assert not object_exists(cloud, "dev", target, "copy")


def test_logs_actions_are_authorized_on_the_log_group(cloud: LocalCloud, build: Builder) -> None:
    group = f"/app/{unique('group')}"
    _, credentials = build.user(
        "dev", [allow("logs:CreateLogGroup", f"arn:aws:logs:eu-west-1:{DEV}:log-group:{group}:*")]
    )
    logs = cloud.client("logs", credentials=credentials)

    logs.create_log_group(logGroupName=group)
    with pytest.raises(ClientError) as raised:
        logs.create_log_group(logGroupName=f"{group}-other")

    assert error_of(raised)[0::2] == ("AccessDeniedException", 400)


def lambda_function(cloud: LocalCloud, account: str) -> str:
    role_arn = cloud.client("iam", account).create_role(
        RoleName=unique("fn-role"),
        AssumeRolePolicyDocument=policy(trust({"Service": "lambda.amazonaws.com"})),
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("handler.py", "def handler(event, context):\n    return event\n")
    name = unique("fn")
    cloud.client("lambda", account).create_function(
        FunctionName=name, Runtime="python3.12", Role=role_arn, Handler="handler.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    return name


def test_lambda_invoke_runs_through_the_invoker(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cloud.gate is not None
    calls: list[tuple[str, str, str, bytes]] = []

    def invoker(account: str, region: str, name: str, payload: bytes, headers: Any) -> tuple[int, list, bytes]:
        calls.append((account, region, name, payload))
        return 200, [("Content-Type", "application/json")], b'{"echo": true}'

    monkeypatch.setattr(cloud.gate, "invoker", invoker)
    name = lambda_function(cloud, "dev")

    response = cloud.client("lambda", "dev").invoke(FunctionName=name, Payload=b'{"n": 1}')

    assert json.loads(response["Payload"].read()) == {"echo": True}
    assert calls == [(DEV, "eu-west-1", name, b'{"n": 1}')]


def test_lambda_invoke_without_invoker_says_so(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cloud.gate is not None
    monkeypatch.setattr(cloud.gate, "invoker", None)
    name = lambda_function(cloud, "dev")

    with pytest.raises(ClientError) as raised:
        cloud.client("lambda", "dev", config=Config(retries={"max_attempts": 1})).invoke(FunctionName=name)

    code, message, status = error_of(raised)
    assert (code, status) == ("ServiceException", 501) and "invoker" in message


def test_lambda_invoke_needs_invoke_permission(cloud: LocalCloud, build: Builder) -> None:
    name = lambda_function(cloud, "dev")
    _, credentials = build.user("dev", [allow("lambda:GetFunction", "*")])

    with pytest.raises(ClientError) as raised:
        cloud.client("lambda", credentials=credentials).invoke(FunctionName=name)

    code, message, status = error_of(raised)
    assert (code, status) == ("AccessDeniedException", 403)
    assert f"lambda:InvokeFunction on resource: arn:aws:lambda:eu-west-1:{DEV}:function:{name}" in message


def test_session_token_credentials_cannot_call_iam_without_mfa(cloud: LocalCloud, build: Builder) -> None:
    _, credentials = build.user("dev", [allow("iam:*", "*")])
    session_token = cloud.client("sts", credentials=credentials).get_session_token()["Credentials"]

    with pytest.raises(ClientError) as raised:
        cloud.client("iam", credentials=session_token).list_roles()

    assert error_of(raised)[0::2] == ("AccessDenied", 403)


def test_expired_session_credentials_are_rejected(
    cloud: LocalCloud, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cloud.gate is not None
    role_arn = build.role("dev", [trust({"AWS": DEV})])
    session = build.assume(role_arn, account="dev", DurationSeconds=900)
    later = datetime.now(timezone.utc) + timedelta(minutes=16)
    monkeypatch.setattr(cloud.gate, "clock", lambda: later)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *_, **__: later.replace(tzinfo=None))

    with pytest.raises(ClientError) as raised:
        cloud.client("sts", credentials=session).get_caller_identity()

    assert error_of(raised)[0::2] == ("ExpiredToken", 403)


# --- the gate's own interface ------------------------------------------------------------------------------------


def test_decisions_are_logged_and_kept(cloud: LocalCloud, build: Builder, caplog: pytest.LogCaptureFixture) -> None:
    assert cloud.gate is not None
    bucket = build.bucket("prod")

    with caplog.at_level("DEBUG", logger="localcloud.gate"), pytest.raises(ClientError):
        cloud.client("s3", "dev").get_object(Bucket=bucket, Key="k")

    last = cloud.gate.decisions[-1]
    assert (last.principal, last.action, last.resource, last.allowed) == (
        f"arn:aws:iam::{DEV}:user/deployer", "s3:GetObject", f"arn:aws:s3:::{bucket}/k", False
    )
    assert any(
        "action=s3:GetObject" in record.getMessage() and "allowed=False" in record.getMessage()
        for record in caplog.records
    )


def test_a_handler_can_be_added_before_authorization(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    from werkzeug.wrappers import Response

    from localcloud.gate import Exchange, Gate

    assert cloud.gate is not None
    monkeypatch.setattr(cloud.gate.chain, "request_handlers", list(cloud.gate.request_handlers))

    def throttle_assume_role(gate: Gate, exchange: Exchange) -> Response | None:
        if exchange.plan is not None and exchange.plan.action == "sts:AssumeRole":
            return Response(b"<ErrorResponse><Error><Code>Throttling</Code><Message>slow down</Message></Error>"
                            b"</ErrorResponse>", status=400, content_type="text/xml")
        return None

    cloud.gate.add_handler(throttle_assume_role, before="authorize")
    sts = cloud.client("sts", "dev", config=Config(retries={"max_attempts": 1}))

    with pytest.raises(ClientError) as raised:
        sts.assume_role(RoleArn=f"arn:aws:iam::{DEV}:role/any", RoleSessionName="throttled")

    assert error_of(raised)[0] == "Throttling"
    assert sts.get_caller_identity()["Account"] == DEV


def test_a_plain_sdk_client_configured_from_env_uses_path_style(
    cloud: LocalCloud, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    bucket = build.bucket("dev")
    for name, value in cloud.env("dev").items():
        monkeypatch.setenv(name, value)
    s3 = boto3.session.Session().client("s3")  # endpoint, CA bundle, region and key all from the environment
    sent: list[str] = []
    s3.meta.events.register("before-send", lambda request, **_: sent.append(request.url))

    s3.put_object(Bucket=bucket, Key="from-env.txt", Body=b"x")

    assert sent == [f"{cloud.endpoint}/{bucket}/from-env.txt"]
    assert object_exists(cloud, "dev", bucket, "from-env.txt")


def test_body_not_matching_its_content_md5_is_refused_and_not_stored(cloud: LocalCloud, build: Builder) -> None:
    import base64
    import hashlib

    bucket = build.bucket("prod")
    s3 = cloud.client("s3", "prod")
    wrong = base64.b64encode(hashlib.md5(b"another body").digest()).decode()
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="damaged.txt", Body=b"the body", ContentMD5=wrong)
    assert caught.value.response["Error"]["Code"] == "BadDigest"
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    right = base64.b64encode(hashlib.md5(b"the body").digest()).decode()
    s3.put_object(Bucket=bucket, Key="intact.txt", Body=b"the body", ContentMD5=right)
    assert s3.get_object(Bucket=bucket, Key="intact.txt")["Body"].read() == b"the body"
