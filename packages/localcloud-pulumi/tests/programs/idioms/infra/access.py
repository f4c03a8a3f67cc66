"""IAM for the function: its execution role (logging as AWS's managed policy for Lambda grants it, attached with
managed_policy_arns) and a policy that reads one bucket's objects."""

import json

import pulumi
import pulumi_aws as aws

LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def function_role(name: str) -> aws.iam.Role:
    return aws.iam.Role(name, name=name, assume_role_policy=LAMBDA_TRUST,
                        managed_policy_arns=[aws.iam.ManagedPolicy.AWS_LAMBDA_BASIC_EXECUTION_ROLE])


def read_policy(name: str, bucket_arn: pulumi.Input[str]) -> aws.iam.Policy:
    return aws.iam.Policy(name, name=name, policy=pulumi.Output.from_input(bucket_arn).apply(lambda arn: json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/*"}]})))
