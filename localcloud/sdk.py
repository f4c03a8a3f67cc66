"""boto3 sessions that share one botocore loader, so each service model is parsed once per process.

Creating a client is most of the cost of a small API call (the service model and endpoint rules are parsed, the
event handlers copied), and the deploy driver and the cloud's own clients create many. Clients are safe to share
across threads; creating them from one session is not, hence ``CLIENT_LOCK``.
"""

from __future__ import annotations

import functools
import threading

import boto3
import botocore.loaders
import botocore.session

CLIENT_LOCK = threading.Lock()


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def session(**kwargs: str) -> boto3.Session:
    """``boto3.Session(**kwargs)`` whose service models come from the shared loader."""
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return boto3.Session(botocore_session=core, **kwargs)
