"""Fault injection in the gate (localcloud.faults): each fault answers like AWS, fires as often as armed, is
recorded, and disarms when its block ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from localcloud.faults import DROP_AFTER, DROP_BEFORE, EXPIRED_TOKEN, THROTTLE, FaultPlan, install_faults
from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, PROD, Builder, allow, trust, unique

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def faults(cloud: LocalCloud) -> Iterator[FaultPlan]:
    assert cloud.gate is not None
    plan = install_faults(cloud.gate)
    yield plan
    plan.clear()
    plan.fired.clear()


@pytest.fixture
def writer(build: Builder) -> dict[str, str]:
    """A versioned prod bucket and a prod role that dev may assume and that may do anything with the bucket."""
    bucket = build.bucket("prod")
    build.cloud.client("s3", "prod").put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    role_arn = build.role("prod", [trust({"AWS": f"arn:aws:iam::{DEV}:root"})],
                          permissions=[allow("s3:*", [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])])
    return {"bucket": bucket, "role_arn": role_arn}


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def versions(cloud: LocalCloud, bucket: str, key: str) -> list[dict[str, Any]]:
    listed = cloud.client("s3", "prod").list_object_versions(Bucket=bucket, Prefix=key)
    return [v for v in listed.get("Versions", []) if v["Key"] == key]


def role_s3(cloud: LocalCloud, build: Builder, role_arn: str, config: Config | None = None) -> tuple[Any, str]:
    credentials = build.assume(role_arn, account="dev")
    extra = {"config": config} if config is not None else {}
    return cloud.client("s3", credentials=credentials, **extra), credentials["AccessKeyId"]


def test_installing_twice_adds_one_handler(cloud: LocalCloud, faults: FaultPlan) -> None:
    assert cloud.gate is not None
    assert install_faults(cloud.gate) is faults is cloud.gate.faults
    names = [getattr(handler, "__name__", "") for handler in cloud.gate.request_handlers]
    assert names.count("inject_faults") == 1
    assert names.index("inject_faults") == names.index("authorize") - 1


def test_assume_role_is_throttled_as_many_times_as_armed(
    cloud: LocalCloud, build: Builder, faults: FaultPlan, writer: dict[str, str]
) -> None:
    assert cloud.gate is not None
    sts = cloud.client("sts", "dev", config=NO_RETRIES)
    before = cloud.gate.calls["sts:AssumeRole"]

    with faults.throttle("sts:AssumeRole", times=2) as fault:
        for _ in range(2):
            with pytest.raises(ClientError) as raised:
                sts.assume_role(RoleArn=writer["role_arn"], RoleSessionName="throttled")
            assert error_of(raised) == (400, "Throttling", "Rate exceeded")
        sts.assume_role(RoleArn=writer["role_arn"], RoleSessionName="third-time")  # the budget is spent
        assert fault.fired == 2 and fault not in faults.armed

    assert cloud.gate.calls["sts:AssumeRole"] - before == 3  # throttled requests are still counted
    assert faults.fired_count(THROTTLE, "sts:AssumeRole") == 2
    assert {record.principal for record in faults.fired} == {f"arn:aws:iam::{DEV}:user/deployer"}


def test_sdk_retries_through_throttling_within_its_budget(
    cloud: LocalCloud, faults: FaultPlan, writer: dict[str, str]
) -> None:
    sts = cloud.client("sts", "dev", config=Config(retries={"total_max_attempts": 3, "mode": "standard"}))

    with faults.throttle("sts:AssumeRole", times=2):
        response = sts.assume_role(RoleArn=writer["role_arn"], RoleSessionName="patient")

    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert faults.fired_count(THROTTLE) == 2


def test_put_object_gets_s3_slow_down_and_nothing_is_stored(
    cloud: LocalCloud, build: Builder, faults: FaultPlan, writer: dict[str, str]
) -> None:
    s3, _ = role_s3(cloud, build, writer["role_arn"], NO_RETRIES)
    key = unique("slow") + ".txt"

    with faults.throttle("s3:PutObject", times=1):
        s3.list_objects_v2(Bucket=writer["bucket"])  # another action passes
        with pytest.raises(ClientError) as raised:
            s3.put_object(Bucket=writer["bucket"], Key=key, Body=b"x")

    assert error_of(raised) == (503, "SlowDown", "Please reduce your request rate.")
    assert versions(cloud, writer["bucket"], key) == []
    assert [(r.kind, r.action) for r in faults.fired] == [(THROTTLE, "s3:PutObject")]


def test_a_fault_for_another_principal_does_not_fire(
    cloud: LocalCloud, build: Builder, faults: FaultPlan, writer: dict[str, str]
) -> None:
    s3, access_key = role_s3(cloud, build, writer["role_arn"], NO_RETRIES)

    with faults.throttle("s3:PutObject", principal=f"arn:aws:iam::{PROD}:role/someone-else"):
        s3.put_object(Bucket=writer["bucket"], Key="other.txt", Body=b"x")
    with faults.throttle("s3:PutObject", principal=writer["role_arn"]), pytest.raises(ClientError):
        s3.put_object(Bucket=writer["bucket"], Key="mine.txt", Body=b"x")  # the role ARN matches its sessions

    assert [r.access_key_id for r in faults.fired] == [access_key]


def test_dropped_before_moto_nothing_is_written_and_the_server_lives_on(
    cloud: LocalCloud, build: Builder, faults: FaultPlan, writer: dict[str, str]
) -> None:
    s3, _ = role_s3(cloud, build, writer["role_arn"], NO_RETRIES)
    key = unique("dropped-before") + ".txt"

    with faults.drop_connection("s3:PutObject", when="before"), pytest.raises(ConnectionClosedError):
        s3.put_object(Bucket=writer["bucket"], Key=key, Body=b"x")

    assert versions(cloud, writer["bucket"], key) == []
    assert faults.fired_count(DROP_BEFORE) == 1
    s3.put_object(Bucket=writer["bucket"], Key=key, Body=b"x")  # the same server answers the next request
    assert len(versions(cloud, writer["bucket"], key)) == 1


def test_dropped_after_moto_the_object_is_written_but_the_client_never_hears(
    cloud: LocalCloud, build: Builder, faults: FaultPlan, writer: dict[str, str]
) -> None:
    s3, _ = role_s3(cloud, build, writer["role_arn"], NO_RETRIES)
    key = unique("dropped-after") + ".txt"

    with faults.drop_connection("s3:PutObject", when="after"), pytest.raises(ConnectionClosedError):
        s3.put_object(Bucket=writer["bucket"], Key=key, Body=b"written")

    [version] = versions(cloud, writer["bucket"], key)
    body = cloud.client("s3", "prod").get_object(Bucket=writer["bucket"], Key=key)["Body"].read()
    assert body == b"written"
    [record] = faults.fired
    assert (record.kind, record.status) == (DROP_AFTER, "200 OK")


@pytest.mark.parametrize(("conditional", "expected_versions"), [(False, 2), (True, 1)],
                         ids=["plain-put-writes-twice", "if-none-match-writes-once"])
def test_a_retry_after_a_lost_response_writes_again_unless_the_put_is_conditional(
    cloud: LocalCloud, build: Builder, faults: FaultPlan, writer: dict[str, str],
    conditional: bool, expected_versions: int,
) -> None:
    one_retry = Config(retries={"total_max_attempts": 2, "mode": "standard"})
    s3, _ = role_s3(cloud, build, writer["role_arn"], one_retry)
    key = unique("retried") + ".txt"
    put = {"Bucket": writer["bucket"], "Key": key, "Body": b"x"} | ({"IfNoneMatch": "*"} if conditional else {})

    with faults.drop_connection("s3:PutObject", when="after"):
        if conditional:
            with pytest.raises(ClientError) as raised:  # botocore's retry finds its own first write
                s3.put_object(**put)
            assert error_of(raised)[:2] == (412, "PreconditionFailed")
            assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 1
        else:
            s3.put_object(**put)

    assert len(versions(cloud, writer["bucket"], key)) == expected_versions


def test_expired_session_gets_expired_token_until_disarmed(
    cloud: LocalCloud, build: Builder, faults: FaultPlan, writer: dict[str, str]
) -> None:
    credentials = build.assume(writer["role_arn"], account="dev")
    s3 = cloud.client("s3", credentials=credentials, config=NO_RETRIES)
    sts = cloud.client("sts", credentials=credentials, config=NO_RETRIES)
    other_s3, _ = role_s3(cloud, build, writer["role_arn"], NO_RETRIES)

    with faults.expire_credentials(credentials["AccessKeyId"]):
        with pytest.raises(ClientError) as s3_error:
            s3.put_object(Bucket=writer["bucket"], Key="expired.txt", Body=b"x")
        with pytest.raises(ClientError) as sts_error:
            sts.get_caller_identity()
        with pytest.raises(ClientError):
            s3.put_object(Bucket=writer["bucket"], Key="expired.txt", Body=b"x")  # from now on, not once
        other_s3.put_object(Bucket=writer["bucket"], Key="other-session.txt", Body=b"x")

    assert error_of(s3_error) == (400, "ExpiredToken", "The provided token has expired.")
    assert error_of(sts_error)[:2] == (403, "ExpiredToken")
    assert faults.fired_count(EXPIRED_TOKEN) == 3
    s3.put_object(Bucket=writer["bucket"], Key="expired.txt", Body=b"x")  # disarmed
    assert len(versions(cloud, writer["bucket"], "expired.txt")) == 1


def test_expiring_a_role_expires_its_sessions_of_now_not_later_ones(
    cloud: LocalCloud, build: Builder, faults: FaultPlan, writer: dict[str, str]
) -> None:
    old_s3, _ = role_s3(cloud, build, writer["role_arn"], NO_RETRIES)
    other_role = build.role("prod", [trust({"AWS": f"arn:aws:iam::{DEV}:root"})],
                            permissions=[allow("s3:*", f"arn:aws:s3:::{writer['bucket']}/*")])
    other_s3, _ = role_s3(cloud, build, other_role, NO_RETRIES)

    with faults.expire_credentials(principal=writer["role_arn"]):
        with pytest.raises(ClientError) as raised:
            old_s3.put_object(Bucket=writer["bucket"], Key="old.txt", Body=b"x")
        new_s3, _ = role_s3(cloud, build, writer["role_arn"], NO_RETRIES)  # assuming again recovers
        new_s3.put_object(Bucket=writer["bucket"], Key="new.txt", Body=b"x")
        other_s3.put_object(Bucket=writer["bucket"], Key="other-role.txt", Body=b"x")

    assert error_of(raised)[1] == "ExpiredToken"
    assert faults.fired_count(EXPIRED_TOKEN) == 1


def test_a_fault_is_disarmed_when_its_block_ends_even_on_error(
    cloud: LocalCloud, faults: FaultPlan, writer: dict[str, str]
) -> None:
    with pytest.raises(RuntimeError), faults.throttle("sts:AssumeRole", times=5):
        raise RuntimeError("the test failed half-way")
    assert faults.armed == []

    faults.throttle("sts:AssumeRole", times=5)
    faults.drop_connection("s3:PutObject")
    faults.clear()
    assert faults.armed == []
    cloud.client("sts", "dev", config=NO_RETRIES).assume_role(RoleArn=writer["role_arn"], RoleSessionName="calm")
    assert faults.fired == []


def test_arming_checks_its_arguments(faults: FaultPlan) -> None:
    with pytest.raises(ValueError, match="before' or 'after"):
        faults.drop_connection("s3:PutObject", when="during")
    with pytest.raises(ValueError, match="at least 1"):
        faults.throttle("s3:PutObject", times=0)
