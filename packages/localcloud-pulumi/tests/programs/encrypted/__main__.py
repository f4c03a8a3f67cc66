"""A bucket whose default encryption is SSE-KMS with a customer managed key of its own, and a second bucket that
names the same key by its alias."""

import pulumi
import pulumi_aws as aws

account = aws.get_caller_identity()

# The account may use the key as its IAM policies allow: the key policy AWS would write by default, made explicit.
key_policy = aws.iam.get_policy_document(statements=[aws.iam.GetPolicyDocumentStatementArgs(
    sid="EnableIamPolicies",
    principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(
        type="AWS", identifiers=[f"arn:aws:iam::{account.account_id}:root"])],
    actions=["kms:*"],
    resources=["*"],
)])

key = aws.kms.Key("data", description="Default encryption of the data buckets", enable_key_rotation=True,
                  policy=key_policy.json, tags={"purpose": "data"})
alias = aws.kms.Alias("data", name="alias/encrypted-data", target_key_id=key.key_id)


def encrypted_bucket(name: str, key_id: pulumi.Input[str]) -> aws.s3.Bucket:
    bucket = aws.s3.Bucket(name)
    aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-sse", bucket=bucket.id, rules=[
        aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3
            .BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=key_id),
            bucket_key_enabled=True,
        )])
    return bucket


bucket = encrypted_bucket("data", key.arn)
by_alias = encrypted_bucket("by-alias", alias.name)

pulumi.export("keyArn", key.arn)
pulumi.export("aliasName", alias.name)
pulumi.export("bucket", bucket.id)
pulumi.export("byAlias", by_alias.id)
