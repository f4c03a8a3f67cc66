"""Reads the object settings.json names from the bucket BUCKET names (in another account)."""

import json
import os

import boto3

SETTINGS = json.loads(open(os.path.join(os.path.dirname(__file__), "settings.json")).read())
s3 = boto3.client("s3")


def handler(event, context):
    body = s3.get_object(Bucket=os.environ["BUCKET"], Key=SETTINGS["key"])["Body"].read()
    return {"text": body.decode()}
