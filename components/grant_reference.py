"""A consumer stack's grant, read from the prod stack through a StackReference and checked against the consumer.

A consumer names its grant; prod decides what the grant is. The grant must exist, be for the account the consumer
deploys into, and allow what the consumer's function does; otherwise the preview fails naming both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.settings import Access, ConsumerSettings, Workload


class GrantReferenceError(pulumi.RunError):
    """The consumer's grant does not fit what prod exports. A RunError: `pulumi preview` prints it plainly."""


def select_grant(grants: Mapping[str, Any] | None, name: str, *, prod_stack: str, consumer_account_id: str,
                 workload: Workload) -> Mapping[str, Any]:
    """The grant ``name`` of prod's ``grants`` output, checked against this consumer."""
    grants = grants or {}
    if name not in grants:
        raise GrantReferenceError(
            f"grant {name!r} (cross-account-s3:grant of this stack) is not a grant of {prod_stack}, whose grants "
            f"are {', '.join(sorted(grants)) or 'none'}")
    grant = grants[name]
    if grant["accountId"] != consumer_account_id:
        raise GrantReferenceError(
            f"grant {name!r} of {prod_stack} is for account {grant['accountId']}, but this stack deploys into "
            f"{consumer_account_id}")
    access = Access(grant["access"])
    if not workload.allowed_by(access):
        raise GrantReferenceError(
            f"this stack runs a {workload.value} (cross-account-s3:workload), but grant {name!r} of {prod_stack} "
            f"allows {access.value} only")
    return grant


class GrantReference:
    """What a consumer uses of its grant: the role to assume, the bucket, prefix and region, MFA, session length,
    the external ID (a secret), and what its principals may bring to a session (tags, a source identity)."""

    def __init__(self, settings: ConsumerSettings, consumer_account_id: pulumi.Input[str]):
        prod = pulumi.StackReference(settings.prod_stack)
        # get_output: a prod without grants (not yet updated from one consumer) is "no such grant", named as such.
        grant = pulumi.Output.all(prod.get_output("grants"), consumer_account_id).apply(
            lambda v: select_grant(v[0], settings.grant, prod_stack=settings.prod_stack, consumer_account_id=v[1],
                                   workload=settings.workload))
        self.role_arn: pulumi.Output[str] = grant.apply(lambda g: g["roleArn"])
        self.key_prefix: pulumi.Output[str] = grant.apply(lambda g: g["keyPrefix"])
        self.access: pulumi.Output[str] = grant.apply(lambda g: g["access"])
        self.mfa_required: pulumi.Output[bool] = grant.apply(lambda g: bool(g["mfaRequired"]))
        self.max_session_seconds: pulumi.Output[int] = grant.apply(lambda g: int(g["maxSessionDuration"]))
        # A prod exported before the trust options were: none of them (.get), as that prod's roles have none.
        self.session_tag_keys: pulumi.Output[list[str] | None] = grant.apply(
            lambda g: g.get("sessionTagKeys") if g.get("sessionTagsAllowed") else None)
        self.source_identity: pulumi.Output[str] = grant.apply(lambda g: g.get("sourceIdentity") or "none")
        # Read only for a grant that has one: grantExternalIds is a secret as a whole, and whatever is derived from
        # it (the assume policies, the function's environment) is then hidden in previews.
        self.external_id: pulumi.Output[str | None] = grant.apply(
            lambda g: prod.get_output("grantExternalIds").apply(lambda ids: (ids or {}).get(settings.grant))
            if g["externalIdRequired"] else None)
        self.bucket_name: pulumi.Output[str] = prod.require_output("bucketName")
        self.region: pulumi.Output[str] = prod.require_output("region")
