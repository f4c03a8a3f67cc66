"""Requests signed by botocore's own signers at a fixed moment, as a server receives them (the SigV4 tests' input)."""

from __future__ import annotations

from datetime import datetime, timezone
from unittest import mock
from urllib.parse import urlsplit

from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localcloud import sigv4

ACCESS_KEY = "AKIAEXAMPLEEXAMPLE01"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
SIGNED_AT = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def signed_with_botocore(
    signer_class: type,
    service: str,
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    token: str | None = None,
    context: dict[str, object] | None = None,
    **signer_kwargs: object,
) -> sigv4.HttpRequest:
    """Sign with botocore at SIGNED_AT and return what a server would receive."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    request.context.update(context or {})
    signer = signer_class(Credentials(ACCESS_KEY, SECRET, token), service, "eu-west-1", **signer_kwargs)
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT.replace(tzinfo=None)):
        signer.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    received = {name.lower(): value for name, value in prepared.headers.items()}
    received.setdefault("host", parts.netloc)
    return sigv4.HttpRequest(
        method=method, raw_path=parts.path or "/", raw_query=parts.query, headers=received, body=body
    )


def verify(request: sigv4.HttpRequest, secret: str = SECRET, now: datetime = SIGNED_AT) -> sigv4.SignedRequest:
    signed = sigv4.parse(request)
    sigv4.verify(signed, secret, now)
    return signed
