"""The writer Lambda, shipped as this package (the zip holds lambda_handler/*.py); the handler setting is
``lambda_handler.handler.lambda_handler``.

    handler.py   the entry point: module-level state reused by warm invocations, errors mapped to responses
    events.py    the event, validated into one object to write (pure)
    config.py    the environment variables, validated once
    writer.py    the AWS boundary: refreshable role credentials and the exactly-once PutObject
    errors.py    one exception class per failure

boto3's botocore and the standard library only, as in the Lambda runtime.
"""
