"""cross-account-s3: the prod stack owns the bucket and the role, the dev stack the principals that use it."""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components import settings
from components.assume_group import AssumeGroup, AssumeGroupArgs
from components.cli_profile import cli_profile_snippet
from components.hardened_bucket import HardenedBucket, HardenedBucketArgs
from components.writer_function import WriterFunction, WriterFunctionArgs
from components.writer_role import WriterRole, WriterRoleArgs

config = settings.load()

if isinstance(config, settings.ProdSettings):
    bucket = HardenedBucket("data", HardenedBucketArgs(
        bucket_name=config.bucket_name,
        versioning=config.versioning,
        force_destroy=config.force_destroy,
        tags=config.tags,
    ))
    role = WriterRole("writer", WriterRoleArgs(
        role_name=config.role_name,
        dev_account_id=config.dev_account_id,
        trusted_role_names=config.trusted_role_names,
        trusted_user_names=config.trusted_user_names,
        bucket_name=bucket.bucket_name,
        key_prefix=config.key_prefix,
        allow_read=config.allow_read,
        external_id=config.external_id,
        require_mfa=config.require_mfa,
        max_session_seconds=config.max_session_seconds,
        permissions_boundary_arn=config.permissions_boundary_arn,
        tags=config.tags,
    ))
    pulumi.export("roleArn", role.role_arn)
    pulumi.export("roleName", role.role_name)
    pulumi.export("bucketName", bucket.bucket_name)
    pulumi.export("bucketArn", bucket.bucket_arn)
    pulumi.export("keyPrefix", config.key_prefix)
    pulumi.export("region", config.region)
    pulumi.export("mfaRequired", config.require_mfa)
    pulumi.export("maxSessionDuration", config.max_session_seconds)
    if config.external_id:
        pulumi.export("externalId", pulumi.Output.secret(config.external_id))

else:
    prod = pulumi.StackReference(config.prod_stack)
    role_arn = prod.require_output("roleArn")
    external_id = prod.get_output("externalId")
    writer = WriterFunction("writer", WriterFunctionArgs(
        function_name=config.function_name,
        execution_role_name=config.execution_role_name,
        code_dir=Path(__file__).parent / "lambda_handler",
        target_role_arn=role_arn,
        target_bucket=prod.require_output("bucketName"),
        target_key_prefix=prod.require_output("keyPrefix"),
        target_region=prod.require_output("region"),
        external_id=external_id,
        timeout_seconds=config.lambda_timeout,
        memory_mb=config.lambda_memory,
        log_retention_days=config.log_retention_days,
        max_body_bytes=config.max_body_bytes,
        tags=config.tags,
    ))
    mfa_required = prod.require_output("mfaRequired")
    group = AssumeGroup("humans", AssumeGroupArgs(
        group_name=config.group_name,
        user_names=config.group_users,
        target_role_arn=role_arn,
        require_mfa=mfa_required,
        tags=config.tags,
    ))
    dev_account_id = aws.get_caller_identity_output().account_id
    pulumi.export("functionName", writer.function_name)
    pulumi.export("functionArn", writer.function_arn)
    pulumi.export("executionRoleArn", writer.execution_role_arn)
    pulumi.export("assumeGroupName", group.group_name)
    pulumi.export("assumeGroupUserArns", group.user_arns)
    pulumi.export("cliProfile", pulumi.Output.all(
        role_arn, dev_account_id, external_id, mfa_required, prod.require_output("maxSessionDuration")
    ).apply(lambda v: cli_profile_snippet(
        v[0], dev_account_id=v[1], external_id=v[2], require_mfa=bool(v[3]), duration_seconds=int(v[4]),
    )))
