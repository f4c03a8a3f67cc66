"""IAM for the function: its execution role (its logging permissions in a customer managed policy, attached with
managed_policy_arns) and a policy that reads one bucket's objects."""

import json

import pulumi
import pulumi_aws as aws

LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def function_role(name: str) -> aws.iam.Role:
    logs = aws.iam.Policy(f"{name}-logs", name=f"{name}-logs", policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}))
    return aws.iam.Role(name, name=name, assume_role_policy=LAMBDA_TRUST, managed_policy_arns=[logs.arn])


def read_policy(name: str, bucket_arn: pulumi.Input[str]) -> aws.iam.Policy:
    return aws.iam.Policy(name, name=name, policy=pulumi.Output.from_input(bucket_arn).apply(lambda arn: json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{arn}/*"}]})))
