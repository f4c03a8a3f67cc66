"""Prod's grants and the consumer stacks come from separate files; they must not drift apart.

For every consumer stack file: the principals it creates are exactly those its grant trusts in prod, it deploys
into its grant's account, its workload is one its grant's access allows, and it references this project's prod.
A consumer stack added later is checked the same way, with nothing to add here.
"""

from __future__ import annotations

import json

import pytest

from components.settings import PROJECT, Grant, Workload
from offline.stacks import ORGANIZATION_ID
from tests.program.conftest import CONSUMER_STACKS, committed_consumer, committed_prod
from tests.project import stack_config


def grant_of(stack: str) -> Grant:
    consumer = committed_consumer(stack)
    grants = {g.name: g for g in committed_prod().grants}
    assert consumer.grant in grants, f"{stack} names grant {consumer.grant!r}, which Pulumi.prod.yaml lacks"
    return grants[consumer.grant]


def test_there_are_consumer_stacks():
    assert set(CONSUMER_STACKS) >= {"dev", "analytics"}


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_prod_trusts_exactly_the_execution_role_the_consumer_creates(stack):
    consumer, grant = committed_consumer(stack), grant_of(stack)
    created = (consumer.execution_role_name,) if consumer.workload is not Workload.NONE else ()
    assert sorted(grant.role_names) == sorted(created)


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_prod_trusts_exactly_the_users_of_the_consumers_group(stack):
    assert sorted(grant_of(stack).user_names) == sorted(committed_consumer(stack).group_users)


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_the_consumer_deploys_into_its_grants_account(stack):
    assert json.loads(stack_config(stack)["aws:allowedAccountIds"]) == [grant_of(stack).account_id]


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_the_consumers_workload_is_allowed_by_its_grants_access(stack):
    consumer, grant = committed_consumer(stack), grant_of(stack)
    assert consumer.workload.allowed_by(grant.access), (consumer.workload, grant.access)


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_the_consumer_references_the_prod_stack_of_this_project(stack):
    assert committed_consumer(stack).prod_stack.split("/")[-2:] == [PROJECT, "prod"]


def test_the_committed_organization_guards_name_the_offline_clouds_organization():
    # Offline, every committed account is in offline.stacks.ORGANIZATION_ID; a grant naming another would lock
    # its consumer out of `make demo` (on AWS, put your organization's ID in Pulumi.prod.yaml).
    guards = {g.principal_org_id for g in committed_prod().grants} - {None}
    assert guards == {ORGANIZATION_ID}


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_a_consumer_whose_grant_requires_a_source_identity_can_set_one(stack):
    # The functions set their name (2-64 of [\w+=,.@-]) and the users theirs: both must be valid source identities.
    consumer, grant = committed_consumer(stack), grant_of(stack)
    if grant.source_identity.value == "required":
        names = [consumer.function_name] * (consumer.workload is not Workload.NONE) + list(consumer.group_users)
        assert all(2 <= len(name) <= 64 for name in names), names
