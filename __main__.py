"""cross-account-s3: the prod stack owns the bucket and one role per grant; each consumer stack, the principals
of one consumer account that use its grant."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import settings
from components.assume_group import AssumeGroup, AssumeGroupArgs
from components.cli_profile import cli_profile_snippet
from components.grant_function import GrantFunction, GrantFunctionArgs
from components.grant_reference import GrantReference
from components.grant_role import GrantRole, GrantRoleArgs
from components.hardened_bucket import HardenedBucket, HardenedBucketArgs, bucket_kms

config = settings.load()

if isinstance(config, settings.ProdSettings):
    prod_account_id = aws.get_caller_identity_output().account_id
    bucket = HardenedBucket("data", HardenedBucketArgs(
        bucket_name=config.bucket_name,
        versioning=config.versioning,
        force_destroy=config.force_destroy,
        kms=bucket_kms(config, prod_account_id),
        tags=config.tags,
    ))
    roles = [GrantRole(grant.name, GrantRoleArgs(
        grant=grant,
        bucket_name=bucket.bucket_name,
        region=config.region,
        kms_key_arn=bucket.kms_key_arn,
        permissions_boundary_arn=config.permissions_boundary_arn,
        tags=config.tags,
    )) for grant in config.grants]
    grants = {grant.name: role.export for grant, role in zip(config.grants, roles)}
    pulumi.export("grants", grants)
    # Apart from grants: a secret inside grants would make the whole map secret for every consumer.
    pulumi.export("grantExternalIds", pulumi.Output.secret(
        {grant.name: grant.external_id for grant in config.grants if grant.external_id}))
    pulumi.export("bucketName", bucket.bucket_name)
    pulumi.export("bucketArn", bucket.bucket_arn)
    pulumi.export("region", config.region)
    pulumi.export("encryption", config.encryption.value)
    pulumi.export("kmsKeyArn", bucket.kms_key_arn)
    if config.kms_key_arn is not None:
        # The key is managed elsewhere: what its policy must allow, to paste there.
        pulumi.export("requiredKeyPolicy", bucket.key_policy)

else:
    consumer_account_id = aws.get_caller_identity_output().account_id
    grant = GrantReference(config, consumer_account_id)
    if config.workload is not settings.Workload.NONE:
        function = GrantFunction(config.workload.value, GrantFunctionArgs(
            workload=config.workload,
            function_name=config.function_name,
            execution_role_name=config.execution_role_name,
            code_dir=Path(__file__).parent / "lambda_handler",
            target_role_arn=grant.role_arn,
            target_bucket=grant.bucket_name,
            target_key_prefix=grant.key_prefix,
            target_region=grant.region,
            account_id=consumer_account_id,
            external_id=grant.external_id,
            session_tag_keys=grant.session_tag_keys,
            source_identity=grant.source_identity,
            timeout_seconds=config.lambda_timeout,
            memory_mb=config.lambda_memory,
            log_retention_days=config.log_retention_days,
            max_body_bytes=config.max_body_bytes,
            max_object_bytes=config.max_object_bytes,
            tags=config.tags,
        ))
        pulumi.export("functionName", function.function_name)
        pulumi.export("functionArn", function.function_arn)
        pulumi.export("executionRoleArn", function.execution_role_arn)
    group = AssumeGroup("humans", AssumeGroupArgs(
        group_name=config.group_name,
        user_names=config.group_users,
        target_role_arn=grant.role_arn,
        require_mfa=grant.mfa_required,
        external_id=grant.external_id,
        set_source_identity=grant.source_identity.apply(lambda mode: mode != "none"),
        tags=config.tags,
    ))
    pulumi.export("grant", config.grant)
    pulumi.export("access", grant.access)
    pulumi.export("roleArn", grant.role_arn)
    pulumi.export("assumeGroupName", group.group_name)
    pulumi.export("assumeGroupUserArns", group.user_arns)
    pulumi.export("cliProfile", pulumi.Output.all(
        grant.role_arn, consumer_account_id, grant.external_id, grant.mfa_required, grant.max_session_seconds,
        grant.source_identity,
    ).apply(lambda v: cli_profile_snippet(
        v[0], consumer_account_id=v[1], profile=f"prod-{config.grant}", source_profile=pulumi.get_stack(),
        external_id=v[2], require_mfa=bool(v[3]), duration_seconds=int(v[4]), source_identity=v[5],
    )))
