"""The write-up's handler, as a baseline: AssumeRole and a new client on every invocation.

Its one bug is fixed so that it works at all: it exported the credentials as AWS_ACCESS_KEY/AWS_SECRET_KEY,
which boto3 never reads; here they are passed to the client. Everything else is as the write-up does it.
"""

import json
import os
import uuid

import boto3


def lambda_handler(event, context):
    sts = boto3.client("sts")
    credentials = sts.assume_role(
        RoleArn=os.environ["TARGET_ROLE_ARN"],
        RoleSessionName="RoleSessionDemo",
        ExternalId=os.environ.get("EXTERNAL_ID"),
    )["Credentials"]
    s3 = boto3.client(
        "s3",
        region_name=os.environ["TARGET_REGION"],
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    key = os.environ["TARGET_KEY_PREFIX"] + (event.get("key") or str(uuid.uuid4()))
    s3.put_object(Bucket=os.environ["TARGET_BUCKET"], Key=key, Body=event.get("body", "Hello HaiTran").encode())
    return {"statusCode": 200, "body": json.dumps({"key": key})}
