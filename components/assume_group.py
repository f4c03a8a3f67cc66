"""An IAM group in a consumer account whose members may assume their grant's role from the AWS CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.policies import assume_role_policy


@dataclass(frozen=True)
class AssumeGroupArgs:
    group_name: str
    user_names: tuple[str, ...]  # created here, so prod's trust policy can name them before they exist
    target_role_arn: pulumi.Input[str]
    require_mfa: pulumi.Input[bool] = True
    external_id: pulumi.Input[str | None] = None  # required of callers too when the grant has one
    set_source_identity: pulumi.Input[bool] = False  # the grant allows (or requires) a source identity
    tags: Mapping[str, str] = field(default_factory=dict)


class AssumeGroup(pulumi.ComponentResource):
    group_name: pulumi.Output[str]
    user_arns: pulumi.Output[list[str]]

    def __init__(self, name: str, args: AssumeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cross-account-s3:access:AssumeGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        group = aws.iam.Group(f"{name}-group", name=args.group_name, opts=child)
        aws.iam.GroupPolicy(
            f"{name}-assume-grant-role",
            name="assume-grant-role",
            group=group.id,
            # No sts:TagSession: the grant's trust lets only its workloads tag their sessions.
            policy=pulumi.Output.all(args.target_role_arn, args.require_mfa, args.external_id,
                                     args.set_source_identity).apply(
                lambda v: assume_role_policy(v[0], require_mfa=bool(v[1]), external_id=v[2],
                                             set_source_identity=bool(v[3])).to_json()
            ),
            opts=child,
        )
        # Users without passwords or keys: people add their own credentials (or come through SSO).
        users = [
            aws.iam.User(f"{name}-user-{user}", name=user, tags=dict(args.tags) or None, opts=child)
            for user in args.user_names
        ]
        if users:
            aws.iam.GroupMembership(
                f"{name}-members",
                group=group.id,
                users=[u.name for u in users],
                opts=child,
            )

        self.group_name = group.name
        self.user_arns = pulumi.Output.all(*[u.arn for u in users])
        self.register_outputs({"group_name": self.group_name, "user_arns": self.user_arns})
