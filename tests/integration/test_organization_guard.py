"""The organization guard (``principalOrgId``): a grant's role trusts its principals only while their account is in
the organization, so an account ID mistyped in the config (or an account that left) is refused even though it is
named. aws:PrincipalOrgID is the organization of the calling principal's account
(reference_policies_condition-keys.html#condition-keys-principalorgid); a principal of an account outside any
organization has no such key, and a condition on a key missing from the request context does not match
(reference_policies_elements_condition.html).

Here the analytics account is outside the organization (dev and prod inside), in a cloud of this module's own;
every refusal also checks that nothing was written.
"""

from __future__ import annotations

import pytest

from offline.stacks import DATA_STACK
from tests.integration.conftest import (
    READER_STACK,
    WRITER_STACK,
    CloudSpec,
    DeployedGrant,
    assert_denied,
    assume,
    function_event,
    invoke_consumer,
    own_cloud,
    prod_deployed_with,
    recycle_workers,
)

OUTSIDE = CloudSpec("analytics-outside-the-organization", outside_organization=(READER_STACK,))

pytestmark = [pytest.mark.integration, own_cloud(OUTSIDE)]


def test_the_cloud_has_analytics_outside_the_organization_and_dev_inside(workspace, analytics_reader, dev_writer):
    organization = workspace.cloud.organization
    assert organization is not None
    assert not organization.is_member(workspace.cloud.account_id(READER_STACK))
    assert organization.is_member(workspace.cloud.account_id(WRITER_STACK))
    assert workspace.output(DATA_STACK, "grants")[analytics_reader.name]["principalOrgId"] == organization.id
    assert workspace.output(DATA_STACK, "grants")[dev_writer.name]["principalOrgId"] == organization.id


def test_the_reader_of_an_account_outside_the_organization_is_refused_and_reads_nothing(
        workspace, analytics_reader: DeployedGrant, prod_s3, bucket, bucket_unchanged):
    gate = workspace.cloud.gate
    assert gate is not None
    event = function_event(prod_s3, bucket, analytics_reader)  # an object that is there to read
    reads = gate.calls["s3:GetObject"]
    with bucket_unchanged():
        status, body = invoke_consumer(workspace, READER_STACK, event)
    assert (status, body["error"]) == (403, "AccessDenied"), body
    assert analytics_reader.role_arn in body["message"]  # refused at the assume
    assert gate.calls["s3:GetObject"] == reads  # it never had a session to read with


def test_a_person_of_an_account_outside_the_organization_cannot_assume_the_grants_role(
        workspace, analytics_reader: DeployedGrant, user_credentials, bucket_unchanged):
    # With everything else the trust asks: MFA, the external ID, their own name as source identity.
    with bucket_unchanged():
        assert_denied(lambda: assume(workspace, user_credentials(READER_STACK), analytics_reader))


def test_the_writer_and_people_of_an_account_inside_the_organization_still_work(
        workspace, dev_writer: DeployedGrant, role_session, prod_s3, bucket):
    status, body = invoke_consumer(workspace, WRITER_STACK, function_event(prod_s3, bucket, dev_writer))
    assert status == 200, body
    role_session(dev_writer).put_object(Bucket=bucket, Key=dev_writer.key(), Body=b"x")


def test_without_the_guard_the_same_reader_and_person_are_let_in(
        workspace, analytics_reader: DeployedGrant, user_credentials, prod_s3, bucket):
    """The control of the two refusals above: they were the guard's, not anything else of the trust."""
    with prod_deployed_with(workspace, analytics_reader.name, principalOrgId=None) as changes:
        assert changes == [f"~ update aws:iam/role:Role {analytics_reader.name}-role"]  # its trust, in place
        recycle_workers(workspace, READER_STACK)
        status, body = invoke_consumer(workspace, READER_STACK, function_event(prod_s3, bucket, analytics_reader))
        assert status == 200, body
        assume(workspace, user_credentials(READER_STACK), analytics_reader)
