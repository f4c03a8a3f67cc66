"""The principals prod trusts and the ones dev creates come from two files; they must not drift apart."""

import json

from components.settings import parse_dev, parse_prod
from tests.program.test_settings import raw


def test_prod_trusts_exactly_the_role_the_dev_stack_creates(prod_config, dev_config):
    prod = parse_prod(raw(prod_config), prod_config["aws:region"])
    dev = parse_dev(raw(dev_config), dev_config["aws:region"])
    assert prod.trusted_role_names == (dev.execution_role_name,)


def test_prod_trusts_exactly_the_users_of_the_dev_group(prod_config, dev_config):
    prod = parse_prod(raw(prod_config), prod_config["aws:region"])
    dev = parse_dev(raw(dev_config), dev_config["aws:region"])
    assert sorted(prod.trusted_user_names) == sorted(dev.group_users)


def test_prod_names_the_account_the_dev_stack_deploys_to(prod_config, dev_config):
    prod = parse_prod(raw(prod_config), prod_config["aws:region"])
    assert json.loads(dev_config["aws:allowedAccountIds"]) == [prod.dev_account_id]


def test_dev_references_the_prod_stack_of_this_project(dev_config):
    assert dev_config["cross-account-s3:prodStack"].split("/")[-2:] == ["cross-account-s3", "prod"]
