"""iam.get_policy_document computed locally (localcloud_pulumi.policy_document), as the provider renders it."""

from __future__ import annotations

import json

import pytest

from localcloud_pulumi.policy_document import UnsupportedPolicyDocument, policy_document


def test_single_values_are_strings_and_sets_are_sorted_lists() -> None:
    rendered = json.loads(policy_document({"statements": [{
        "sid": "Read", "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*", "arn:aws:s3:::a/*"],
        "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::222222222222:root"]}],
        "conditions": [{"test": "StringEquals", "variable": "sts:ExternalId", "values": ["x"]}],
    }]})["json"])
    assert rendered == {"Version": "2012-10-17", "Statement": [{
        "Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"],
        "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Condition": {"StringEquals": {"sts:ExternalId": "x"}},
    }]}


def test_the_wildcard_principal_and_deny() -> None:
    rendered = json.loads(policy_document({"statements": [{"effect": "Deny", "actions": ["s3:*"],
                                                           "principals": [{"type": "*", "identifiers": ["*"]}]}]})
                          ["minifiedJson"])
    assert rendered["Statement"][0] == {"Effect": "Deny", "Action": "s3:*", "Principal": "*"}


def test_the_id_is_the_same_for_the_same_document() -> None:
    args = {"statements": [{"actions": ["s3:GetObject"], "resources": ["*"]}]}
    assert policy_document(args)["id"] == policy_document(dict(args))["id"]


def test_merging_other_documents_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedPolicyDocument, match="sourcePolicyDocuments"):
        policy_document({"sourcePolicyDocuments": ["{}"], "statements": []})
