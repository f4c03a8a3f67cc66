"""The bucket's own KMS key: a customer managed key with rotation on, a deletion window and an alias, whose policy
names every use of it (components/policies.py bucket_key_policy)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class BucketKeyArgs:
    alias: str  # without "alias/"
    policy: pulumi.Input[str]  # the key policy's JSON
    deletion_window_days: int = 30  # KMS's range is 7-30; the longest leaves the most time to undo a mistake
    tags: Mapping[str, str] = field(default_factory=dict)


class BucketKey(pulumi.ComponentResource):
    key_arn: pulumi.Output[str]
    alias_arn: pulumi.Output[str]

    def __init__(self, name: str, args: BucketKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cross-account-s3:storage:BucketKey", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Default encryption of the data bucket ({args.alias})",
            enable_key_rotation=True,
            deletion_window_in_days=args.deletion_window_days,
            policy=args.policy,
            tags=dict(args.tags) or None,
            opts=child,
        )
        alias = aws.kms.Alias(f"{name}-alias", name=f"alias/{args.alias}", target_key_id=key.key_id, opts=child)
        self.key_arn = key.arn
        self.alias_arn = alias.arn
        self.register_outputs({"key_arn": self.key_arn, "alias_arn": self.alias_arn})
