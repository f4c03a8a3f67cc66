"""The writer and reader Lambdas, shipped as this one package (the zip holds lambda_handler/*.py); the handler
settings are ``lambda_handler.handler.lambda_handler`` (writer) and ``lambda_handler.reader_handler.lambda_handler``
(reader).

    handler.py         the writer's entry point: module-level state reused by warm invocations
    writer.py          the writer's AWS boundary: the exactly-once PutObject
    reader_handler.py  the reader's entry point: module-level state, the object rendered as text or base64
    reader.py          the reader's AWS boundary: the size-checked GetObject
    role.py            shared: the target role's refreshable credentials, the clients signed with them, and
                       RoleS3, the S3 client that writer.py and reader.py build on
    invocation.py      shared: errors mapped to responses (in one place), the response, the one JSON log line
    events.py          shared: both events, validated into one object to write or one key to read (pure)
    config.py          shared: the environment variables, validated once
    errors.py          shared: one exception class per failure

boto3's botocore and the standard library only, as in the Lambda runtime.
"""
