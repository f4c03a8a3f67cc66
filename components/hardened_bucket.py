"""A private, encrypted, versioned S3 bucket that refuses plain HTTP; encrypted with SSE-S3, or with SSE-KMS and a
key of its own (or an existing one), refusing writes that ask for any other encryption."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.bucket_key import BucketKey, BucketKeyArgs
from components.policies import KeyUse, bucket_key_policy, data_key_uses, tls_only_bucket_policy
from components.settings import Encryption, ProdSettings


@dataclass(frozen=True)
class BucketKms:
    """SSE-KMS: ``key_arn``, an existing key (whose policy is its owner's: see ``key_policy``), or else a key of the
    bucket's own whose policy allows ``uses`` and nothing else."""

    account_id: pulumi.Input[str]  # the bucket's account
    region: str
    uses: pulumi.Input[Sequence[KeyUse]] = ()
    key_arn: str | None = None
    alias: str = "cross-account-s3-data"
    deletion_window_days: int = 30


def bucket_kms(settings: ProdSettings, account_id: pulumi.Output[str]) -> BucketKms | None:
    """The bucket's SSE-KMS as prod's settings have it (its grants' and key users' uses of the key), or None."""
    if settings.encryption is not Encryption.KMS:
        return None
    return BucketKms(
        account_id=account_id,
        region=settings.region,
        uses=account_id.apply(lambda account: data_key_uses(settings.grants, account, settings.kms_key_users)),
        key_arn=settings.kms_key_arn,
        deletion_window_days=settings.kms_deletion_window_days,
    )


@dataclass(frozen=True)
class HardenedBucketArgs:
    bucket_name: str | None = None  # None: Pulumi generates a unique name from the resource name
    versioning: bool = True
    force_destroy: bool = False  # leave False in prod: `pulumi destroy` must not delete data
    kms: BucketKms | None = None  # None: SSE-S3 (AES256)
    tags: Mapping[str, str] = field(default_factory=dict)


class HardenedBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str] | None  # with SSE-KMS
    key_policy: pulumi.Output[str] | None  # with SSE-KMS: the key policy its uses need (the bucket's own key has it)

    def __init__(self, name: str, args: HardenedBucketArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("cross-account-s3:storage:HardenedBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        bucket = aws.s3.Bucket(
            name,
            bucket=args.bucket_name,
            force_destroy=args.force_destroy,
            tags=dict(args.tags) or None,
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        key_arn: pulumi.Output[str] | None = None
        key_policy: pulumi.Output[str] | None = None
        if args.kms is not None:
            kms = args.kms
            key_policy = pulumi.Output.all(kms.account_id, bucket.id, kms.uses).apply(
                lambda v: bucket_key_policy(v[0], kms.region, v[1], v[2]).to_json())
            if kms.key_arn is None:
                key = BucketKey(f"{name}-kms", BucketKeyArgs(alias=kms.alias, policy=key_policy,
                                                             deletion_window_days=kms.deletion_window_days,
                                                             tags=args.tags), opts=child)
                key_arn = key.key_arn
            else:
                key_arn = pulumi.Output.from_input(kms.key_arn)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256" if key_arn is None else "aws:kms",
                        kms_master_key_id=key_arn,
                    ),
                    # S3 Bucket Keys: one KMS call per bucket-level key instead of one per object (bucket-key.html).
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                # A bucket that was ever versioned can only be suspended, never unversioned again.
                status="Enabled" if args.versioning else "Suspended",
            ),
            opts=child,
        )
        # After the public access block, so S3 judges the policy with the block already in place.
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.id, key_arn).apply(
                lambda v: tls_only_bucket_policy(v[0], kms_key_arn=v[1]).to_json()),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )

        self.bucket_name = bucket.id
        self.bucket_arn = bucket.arn
        self.kms_key_arn = key_arn
        self.key_policy = key_policy
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn,
                               "kms_key_arn": self.kms_key_arn})
