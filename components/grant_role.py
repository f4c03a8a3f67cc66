"""The prod role that named dev principals assume to write under one prefix of one bucket."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import arns
from components.policies import bucket_access_policy, trust_policy_for


@dataclass(frozen=True)
class WriterRoleArgs:
    role_name: str
    dev_account_id: str
    trusted_role_names: tuple[str, ...]  # workloads in dev, such as the writer Lambda's execution role
    trusted_user_names: tuple[str, ...]  # humans in dev, who assume the role from the AWS CLI
    bucket_name: pulumi.Input[str]
    key_prefix: str
    allow_read: bool = False
    external_id: str | None = None
    require_mfa: bool = True  # of the humans; workloads cannot present MFA
    max_session_seconds: int = 3600
    permissions_boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def trusted_principal_arns(self) -> tuple[str, ...]:
        return self.workload_arns + self.human_arns

    @property
    def workload_arns(self) -> tuple[str, ...]:
        return tuple(arns.role(self.dev_account_id, n) for n in self.trusted_role_names)

    @property
    def human_arns(self) -> tuple[str, ...]:
        return tuple(arns.user(self.dev_account_id, n) for n in self.trusted_user_names)


class WriterRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(self, name: str, args: WriterRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cross-account-s3:access:WriterRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        trust = trust_policy_for(
            args.dev_account_id,
            args.workload_arns,
            args.human_arns,
            external_id=args.external_id,
            require_mfa_for_humans=args.require_mfa,
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description="Assumed by named dev-account principals to write into the prod bucket",
            assume_role_policy=trust.to_json(),
            max_session_duration=args.max_session_seconds,
            permissions_boundary=args.permissions_boundary_arn,
            tags=dict(args.tags) or None,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-bucket-access",
            name="bucket-access",
            role=role.id,
            policy=pulumi.Output.from_input(args.bucket_name).apply(
                lambda bucket: bucket_access_policy(bucket, args.key_prefix, allow_read=args.allow_read).to_json()
            ),
            opts=child,
        )

        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
