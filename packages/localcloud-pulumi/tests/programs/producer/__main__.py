"""Shares a role's ARN with other projects' stacks."""

import json

import pulumi
import pulumi_aws as aws

role = aws.iam.Role("shared", name="producer-shared", assume_role_policy=json.dumps({
    "Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": "sts:AssumeRole"}]}))

pulumi.export("roleArn", role.arn)
