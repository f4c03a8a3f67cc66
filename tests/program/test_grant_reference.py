"""A consumer names its grant; prod decides what the grant is. A grant prod does not have, a grant for another
account, or a grant whose access does not allow the consumer's workload fails the consumer's preview, naming both
sides: the grant (and the consumer's key) and the prod stack.

``select_grant`` is that check on its own; the program tests run it the way ``pulumi preview`` does (the mock
runtime with preview on): ``run_stack`` raises.
"""

from __future__ import annotations

import re

import pytest

from components.grant_reference import GrantReferenceError, select_grant
from components.settings import Workload
from tests.program.conftest import (
    ANALYTICS_ACCOUNT,
    CONSUMER_STACKS,
    DEV_ACCOUNT,
    NS,
    PROD_STACK,
    prod_outputs,
    run_stack,
    with_grant,
)
from tests.project import stack_config

GRANTS = {
    "dev-writer": {"accountId": DEV_ACCOUNT, "access": "write", "roleArn": "arn:aws:iam::111111111111:role/w"},
    "analytics-reader": {"accountId": ANALYTICS_ACCOUNT, "access": "read", "roleArn": "arn:aws:iam::111111111111:role/r"},
    "both": {"accountId": DEV_ACCOUNT, "access": "read-write", "roleArn": "arn:aws:iam::111111111111:role/b"},
}


def select(name: str, account: str = DEV_ACCOUNT, workload: Workload = Workload.WRITER, grants=GRANTS):
    return select_grant(grants, name, prod_stack=PROD_STACK, consumer_account_id=account, workload=workload)


# --- select_grant ----------------------------------------------------------------------------------------------


def test_the_named_grant_is_selected():
    assert select("dev-writer") is GRANTS["dev-writer"]


def test_a_grant_prod_does_not_have_is_refused_naming_it_prod_and_prods_grants():
    with pytest.raises(GrantReferenceError) as caught:
        select("dev-writr")
    assert str(caught.value) == (f"grant 'dev-writr' (cross-account-s3:grant of this stack) is not a grant of "
                                 f"{PROD_STACK}, whose grants are analytics-reader, both, dev-writer")


@pytest.mark.parametrize("grants", [{}, None], ids=["no grants", "no grants output"])
def test_a_prod_without_grants_says_so(grants):
    with pytest.raises(GrantReferenceError, match=f"is not a grant of {PROD_STACK}, whose grants are none"):
        select("dev-writer", grants=grants)


def test_a_grant_for_another_account_is_refused_naming_both_accounts():
    with pytest.raises(GrantReferenceError) as caught:
        select("analytics-reader", account=DEV_ACCOUNT, workload=Workload.READER)
    assert str(caught.value) == (f"grant 'analytics-reader' of {PROD_STACK} is for account {ANALYTICS_ACCOUNT}, but "
                                 f"this stack deploys into {DEV_ACCOUNT}")


def test_a_reader_on_a_write_grant_is_refused():
    with pytest.raises(GrantReferenceError) as caught:
        select("dev-writer", workload=Workload.READER)
    assert str(caught.value) == (f"this stack runs a reader (cross-account-s3:workload), but grant 'dev-writer' of "
                                 f"{PROD_STACK} allows write only")


def test_a_writer_on_a_read_grant_is_refused():
    with pytest.raises(GrantReferenceError, match="runs a writer .* grant 'analytics-reader' .* allows read only"):
        select("analytics-reader", account=ANALYTICS_ACCOUNT, workload=Workload.WRITER)


@pytest.mark.parametrize("workload", list(Workload), ids=lambda w: w.value)
def test_a_read_write_grant_allows_every_workload(workload):
    assert select("both", workload=workload) is GRANTS["both"]


@pytest.mark.parametrize("name", ["dev-writer", "analytics-reader"])
def test_a_consumer_without_a_workload_may_use_any_grant_of_its_account(name):
    account = GRANTS[name]["accountId"]
    assert select(name, account=account, workload=Workload.NONE) is GRANTS[name]


def test_the_account_is_checked_before_the_access():
    # Another account's grant is refused as that, whatever the workload.
    with pytest.raises(GrantReferenceError, match="is for account"):
        select("analytics-reader", account=DEV_ACCOUNT, workload=Workload.WRITER)


# --- the program: the consumer's preview fails ------------------------------------------------------------------


def preview_fails(stack: str, config: dict[str, str], prod: dict | None = None) -> str:
    with pytest.raises(GrantReferenceError) as caught:
        run_stack(stack, config, prod=prod, preview=True)
    return str(caught.value)


def names_both_sides(message: str, grant: str) -> bool:
    return f"grant '{grant}'" in message and PROD_STACK in message


def test_a_consumer_naming_a_grant_prod_does_not_have_fails_at_preview(dev_config):
    message = preview_fails("dev", dev_config | {f"{NS}grant": "dev-reader"})
    assert names_both_sides(message, "dev-reader"), message
    assert "whose grants are analytics-reader, dev-writer" in message


def test_a_consumer_of_a_prod_not_yet_updated_to_grants_fails_at_preview(dev_config):
    old_prod = {"roleArn": "arn:aws:iam::111111111111:role/cross-account-s3-writer", "bucketName": "b",
                "region": "eu-west-1", "keyPrefix": "incoming/"}
    message = preview_fails("dev", dev_config, prod=old_prod)
    assert names_both_sides(message, "dev-writer") and "whose grants are none" in message, message


def test_a_consumer_naming_another_accounts_grant_fails_at_preview(analytics_config):
    # The analytics account (333333333333) naming dev's grant (for 222222222222), with dev's workload.
    message = preview_fails("analytics", analytics_config | {f"{NS}grant": "dev-writer", f"{NS}workload": "writer"})
    assert names_both_sides(message, "dev-writer"), message
    assert re.search(rf"for account {DEV_ACCOUNT}, but this stack deploys into {ANALYTICS_ACCOUNT}", message)


def test_a_consumer_deployed_into_another_account_than_its_grants_fails_at_preview(dev_config):
    message = preview_fails("dev", dev_config | {"aws:allowedAccountIds": f'["{ANALYTICS_ACCOUNT}"]'})
    assert names_both_sides(message, "dev-writer") and f"deploys into {ANALYTICS_ACCOUNT}" in message, message


def test_a_reader_workload_on_a_write_grant_fails_at_preview(dev_config):
    message = preview_fails("dev", dev_config | {f"{NS}workload": "reader"})
    assert names_both_sides(message, "dev-writer") and "allows write only" in message, message


def test_a_writer_workload_on_a_read_grant_fails_at_preview(analytics_config):
    message = preview_fails("analytics", analytics_config | {f"{NS}workload": "writer"})
    assert names_both_sides(message, "analytics-reader") and "allows read only" in message, message


def test_a_reader_on_a_read_write_grant_previews(dev_config):
    prod = with_grant(prod_outputs(), "dev-writer", access="read-write")
    run = run_stack("dev", dev_config | {f"{NS}workload": "reader"}, prod=prod, preview=True)
    assert run.export("access") == "read-write"


@pytest.mark.parametrize("stack", CONSUMER_STACKS)
def test_each_committed_consumer_previews(stack):
    config = stack_config(stack)
    assert run_stack(stack, config, preview=True).export("grant") == config[f"{NS}grant"]
