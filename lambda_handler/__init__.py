"""Lambda code run in the DEV account: assume the PROD role and write one object into the PROD bucket.

This directory is the root of the Lambda zip; the handler setting is ``handler.lambda_handler``.
Everything lives in ``handler.py`` so the module works both as the top-level ``handler`` (in Lambda)
and as ``lambda_handler.handler`` (in tests).
"""
