"""A grant removed from prod stops its consumer at once, sessions already issued included, and no other consumer.

Removing a grant deletes its role (and the role's policy). A role session carries no permissions of its own:
every request it signs is evaluated against the role's policies as they are now (IAM User Guide,
id_credentials_temp_control-access_disable-perms.html: "Permissions assigned to temporary security credentials
are evaluated each time they are used"), so a session of a deleted role may do nothing, even before it expires.

These tests break prod on purpose, so they run in a cloud of this module's own; each restores prod's committed
grants when it is done.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Generator

import pytest

from components.grant_reference import GrantReferenceError
from localcloud_pulumi.workspace import Workspace
from offline.stacks import CONSUMERS, DATA_STACK
from tests.integration.conftest import (
    GRANT_OF,
    CloudSpec,
    DeployedGrant,
    assert_denied,
    assume,
    function_event,
    invoke_consumer,
    own_cloud,
    prod_grants,
    recycle_workers,
    use_grant,
)
from tests.project import stack_config

pytestmark = [pytest.mark.integration, own_cloud(CloudSpec("grant-removal"))]

GRANTS = list(GRANT_OF.values())


@contextlib.contextmanager
def grant_removed(workspace: Workspace, name: str) -> Generator[list[str]]:
    """prod deployed without grant ``name`` (the changes made), then with its committed grants again; the
    consumers' warm workers are dropped after the restore, so the next test starts from sessions of the new role."""
    config = stack_config(DATA_STACK)
    grants = [g for g in prod_grants() if g["name"] != name]
    try:
        yield workspace.deploy(DATA_STACK, config | {"cross-account-s3:grants": json.dumps(grants)})
    finally:
        workspace.deploy(DATA_STACK, config)
        for stack in CONSUMERS:
            recycle_workers(workspace, stack)


@pytest.mark.parametrize("removed", GRANTS)
def test_removing_a_grant_stops_its_consumer_at_once_sessions_already_issued_included(
        workspace, grant, role_session, user_credentials, prod_s3, bucket, bucket_unchanged, removed):
    gone: DeployedGrant = grant(removed)
    # Before: the consumer's function is warm and holds a session of the grant's role; its user holds one too.
    assert invoke_consumer(workspace, gone.consumer, function_event(prod_s3, bucket, gone))[0] == 200
    human = role_session(gone)
    use_grant(human, prod_s3, bucket, gone)
    gate = workspace.cloud.gate
    assert gate is not None

    with grant_removed(workspace, removed) as changes:
        # And the bucket key's policy loses the grant's statement.
        assert sorted(changes) == [f"- delete aws:iam/role:Role {removed}-role",
                                   f"- delete aws:iam/rolePolicy:RolePolicy {removed}-bucket-access",
                                   "~ update aws:kms/key:Key data-kms-key"]
        assert removed not in workspace.output(DATA_STACK, "grants")
        event = function_event(prod_s3, bucket, gone)  # for a reader, an object that is there to read
        existing = gone.key()
        prod_s3.put_object(Bucket=bucket, Key=existing, Body=b"x")
        assume_calls = gate.calls["sts:AssumeRole"]
        with bucket_unchanged():
            status, body = invoke_consumer(workspace, gone.consumer, event)
            assert (status, body["error"]) == (403, "AccessDenied"), body
            # The warm worker was refused with the session it already held, not a new one.
            assert gate.calls["sts:AssumeRole"] == assume_calls
            assert_denied(lambda: human.put_object(Bucket=bucket, Key=gone.key(), Body=b"x"))
            assert_denied(lambda: human.get_object(Bucket=bucket, Key=existing))
            assert_denied(lambda: human.list_objects_v2(Bucket=bucket, Prefix=gone.key_prefix))
            # And no new session: the role is gone.
            assert_denied(lambda: assume(workspace, user_credentials(gone.consumer), gone))


@pytest.mark.parametrize("removed", GRANTS)
def test_removing_a_grant_leaves_every_other_grant_working(workspace, grant, role_session, prod_s3, bucket,
                                                          removed):
    others = [grant(name) for name in GRANTS if name != removed]
    sessions = {other.name: role_session(other) for other in others}  # issued before the removal
    for other in others:
        assert invoke_consumer(workspace, other.consumer, function_event(prod_s3, bucket, other))[0] == 200
    with grant_removed(workspace, removed):
        for other in others:
            status, body = invoke_consumer(workspace, other.consumer, function_event(prod_s3, bucket, other))
            assert status == 200, body
            use_grant(sessions[other.name], prod_s3, bucket, other)
            use_grant(role_session(other), prod_s3, bucket, other)


@pytest.mark.parametrize("removed", GRANTS)
def test_a_consumer_whose_grant_was_removed_cannot_deploy_and_keeps_what_it_had(workspace, grant, removed):
    consumer = grant(removed).consumer
    function = workspace.cloud.client("lambda", consumer).get_function(
        FunctionName=workspace.output(consumer, "functionName"))["Configuration"]
    with grant_removed(workspace, removed):
        with pytest.raises(GrantReferenceError,
                           match=rf"grant '{removed}' .* is not a grant of .*/prod, whose grants are "):
            workspace.deploy(consumer)
        after = workspace.cloud.client("lambda", consumer).get_function(
            FunctionName=function["FunctionName"])["Configuration"]
        assert (after["CodeSha256"], after["Environment"]) == (function["CodeSha256"], function["Environment"])
