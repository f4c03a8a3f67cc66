"""boto3 sessions that share one botocore loader, so each service model is parsed once per process.

Creating a client is most of the cost of a small API call (the service model and endpoint rules are parsed, the
event handlers copied), and the deploy driver and the cloud's own clients create many; the gate reads the same
models to classify requests. A new session also parses botocore's endpoint table, so sessions are kept per set of
arguments: a session holds credentials and what it loaded, nothing of any one call. Clients are safe to share
across threads; creating them, or loading models, is not: hold ``LOADER_LOCK`` for both.
"""

from __future__ import annotations

import functools
import threading

import boto3
import botocore.loaders
import botocore.session

LOADER_LOCK = threading.Lock()


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def _botocore_session() -> botocore.session.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return core


@functools.cache
def botocore_session() -> botocore.session.Session:
    """A botocore session for reading service models."""
    return _botocore_session()


def session(**kwargs: str) -> boto3.Session:
    """``boto3.Session(**kwargs)`` whose service models come from the shared loader; the same one each time."""
    return _session(tuple(sorted(kwargs.items())))


@functools.lru_cache(maxsize=64)
def _session(kwargs: tuple[tuple[str, str], ...]) -> boto3.Session:
    with LOADER_LOCK:
        created = boto3.Session(botocore_session=_botocore_session(), **dict(kwargs))
        # Each boto3 session appends boto3's own data folder to the loader's search path: keep it once.
        paths = _shared_loader().search_paths
        paths[:] = list(dict.fromkeys(paths))
    return created
