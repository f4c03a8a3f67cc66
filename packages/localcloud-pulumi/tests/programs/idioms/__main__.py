"""A function in this account that reads a bucket in another, deployed the way such programs usually are."""

import json

import pulumi
import pulumi_aws as aws

from infra import access

config = pulumi.Config()
prefix = config.require("prefix")

# The data account, through a role this account's deployer may assume: a plain dict in snake_case, as pulumi-aws
# accepts it.
data_account = aws.Provider("data", region="eu-west-1", assume_roles=[{
    "role_arn": config.require("dataDeployRoleArn"),
    "session_name": f"{prefix}-deploy",
    "duration": "15m",
}])
in_data_account = pulumi.ResourceOptions(provider=data_account)

bucket = aws.s3.BucketV2("data", bucket=f"{prefix}-data-111111111111", force_destroy=True, opts=in_data_account)
aws.s3.BucketVersioningV2("data", bucket=bucket.id, versioning_configuration={"status": "Enabled"},
                          opts=in_data_account)
aws.s3.BucketObjectv2("greeting", bucket=bucket.id, key="greeting.txt", content="hello from the data account",
                      content_type="text/plain", opts=in_data_account)

role = access.function_role(f"{prefix}-reader")
reader = access.read_policy(f"{prefix}-read", bucket.arn)
# A resource passed as an input: the engine sends its ID (the role's name), as for role=role.name.
aws.iam.RolePolicyAttachment("read", role=role, policy_arn=reader.arn)

function = aws.lambda_.Function(
    "reader",
    name=f"{prefix}-reader",
    role=role.arn,
    runtime="python3.12",
    handler="handler.handler",
    code=pulumi.AssetArchive({
        ".": pulumi.FileArchive("./app"),
        "settings.json": pulumi.StringAsset(json.dumps({"key": "greeting.txt"})),
    }),
    environment={"variables": {"BUCKET": bucket.bucket}},
    timeout=10,
)

ci = aws.iam.User("ci", name=f"{prefix}-ci")
key = aws.iam.AccessKey("ci", user=ci.name)

# The data account lets the function's role read: across accounts, both the bucket policy and the role's policy must.
aws.s3.BucketPolicy("data", bucket=bucket.id, policy=pulumi.Output.all(bucket.arn, role.arn).apply(
    lambda arns: json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": arns[1]}, "Action": "s3:GetObject", "Resource": f"{arns[0]}/*"}]})),
    opts=in_data_account)

pulumi.export("bucketName", bucket.bucket)
pulumi.export("functionName", function.name)
pulumi.export("roleName", role.name)
pulumi.export("accessKeyId", key.id)
pulumi.export("secretAccessKey", key.secret)
