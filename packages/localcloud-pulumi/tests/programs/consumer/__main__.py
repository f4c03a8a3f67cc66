"""Lets its own role assume the producer's shared role, named through a StackReference to another project."""

import json

import pulumi
import pulumi_aws as aws

producer = pulumi.StackReference(pulumi.Config().require("producerStack"))
role = aws.iam.Role("consumer", name="consumer-dev", assume_role_policy=json.dumps({
    "Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
aws.iam.RolePolicy("assume-shared", role=role.name, policy=producer.get_output("roleArn").apply(lambda arn: json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}]})))

pulumi.export("sharedRoleArn", producer.get_output("roleArn"))
