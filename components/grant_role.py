"""A grant's role in the data account: named principals of one consumer account assume it to act under one prefix."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.grants import Grant
from components.policies import (
    bucket_access_policy,
    grant_trust_policy,
    revoke_older_sessions_policy,
    suspended_grant_policy,
)


@dataclass(frozen=True)
class GrantRoleArgs:
    grant: Grant
    bucket_name: pulumi.Input[str]
    region: str  # the bucket's
    kms_key_arn: pulumi.Input[str] | None = None  # the bucket's KMS key, with SSE-KMS
    permissions_boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)  # the stack's; the grant's own tags override them


class GrantRole(pulumi.ComponentResource):
    """One role per grant: its trust stays small (IAM's trust policy size limit), one consumer is revoked without
    touching the others, and each consumer's calls show as its own role in CloudTrail."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    export: dict[str, pulumi.Input[Any]]

    def __init__(self, name: str, args: GrantRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cross-account-s3:access:GrantRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        grant = args.grant
        tags = {**args.tags, **grant.tags, "grant": grant.name}

        role = aws.iam.Role(
            f"{name}-role",
            name=grant.role_name,
            description=f"Grant {grant.name}: {grant.access.value} under {grant.key_prefix} for named principals "
                        f"of account {grant.account_id}",
            assume_role_policy=grant_trust_policy(grant).to_json(),
            max_session_duration=grant.max_session_seconds,
            permissions_boundary=args.permissions_boundary_arn,
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-bucket-access",
            name="bucket-access",
            role=role.id,
            policy=pulumi.Output.all(args.bucket_name, args.kms_key_arn).apply(
                lambda v: bucket_access_policy(v[0], grant.key_prefix, grant.access, kms_key_arn=v[1],
                                               region=args.region).to_json()
            ),
            opts=child,
        )
        # Revocation is configuration: each switch is a policy of its own, added or removed, so the preview (and
        # the snapshot diff) shows exactly it, and turning it off removes only it.
        if grant.revoke_sessions_issued_before is not None:
            aws.iam.RolePolicy(
                f"{name}-revoke-older-sessions",
                name="revoke-older-sessions",
                role=role.id,
                policy=revoke_older_sessions_policy(grant.revoke_sessions_issued_before).to_json(),
                opts=child,
            )
        if grant.suspended:
            aws.iam.RolePolicy(
                f"{name}-suspended",
                name="grant-suspended",
                role=role.id,
                policy=suspended_grant_policy().to_json(),
                opts=child,
            )

        self.role_arn = role.arn
        self.role_name = role.name
        # What a consumer reads of its grant, through prod's `grants` output (components/grant_reference.py).
        # The external ID is not here: it is exported apart, as a secret (see __main__.py).
        self.export: dict[str, pulumi.Input[Any]] = {
            "roleArn": role.arn,
            "roleName": role.name,
            "accountId": grant.account_id,
            "keyPrefix": grant.key_prefix,
            "access": grant.access.value,
            "mfaRequired": grant.require_mfa,
            "maxSessionDuration": grant.max_session_seconds,
            "externalIdRequired": grant.external_id is not None,
            # What the consumer's principals may bring to the session (their assume permission allows the same).
            "sessionTagKeys": None if grant.session_tags is None else list(grant.session_tags.keys),
            "sessionTagsAllowed": grant.session_tags is not None,
            "sourceIdentity": grant.source_identity.value,
            "principalOrgId": grant.principal_org_id,
            "suspended": grant.suspended,
            "revokeSessionsIssuedBefore": grant.revoke_sessions_issued_before,
        }
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
