"""A load run against a localcloud workspace: shared by bench/run.py (full size) and the tests (small)."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from localcloud_pulumi.workspace import Workspace


@dataclass(frozen=True)
class LoadResult:
    invocations: int
    callers: int
    failures: int
    objects: int  # objects under this run's prefix
    right_bytes: int  # of those, how many hold exactly the body their invocation sent
    versions: int  # object versions under the prefix: more than objects would mean a duplicated write
    assume_calls: int  # AssumeRole calls the gate saw during the run
    workers: int  # workers the Lambda runtime started during the run (cold starts)
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_load(workspace: Workspace, total: int, callers: int) -> LoadResult:
    """`total` invocations from `callers` threads, from cold; then every object is read back and checked."""
    lam = workspace.cloud.client("lambda", "dev")
    function = workspace.output("dev", "functionName")
    run = f"load-{uuid.uuid4().hex[:8]}"
    workspace.runtime.recycle()
    assert workspace.cloud.gate is not None  # a Workspace's cloud is started
    assumes_before = workspace.cloud.gate.calls["sts:AssumeRole"]
    colds_before = sum(workspace.runtime.cold_starts.values())

    def call(n: int) -> bool:
        response = lam.invoke(FunctionName=function, Payload=json.dumps({"key": f"{run}/{n}", "body": f"{run}:{n}"}))
        result = json.loads(response["Payload"].read())
        return not response.get("FunctionError") and result.get("statusCode") == 200

    began = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        succeeded = sum(pool.map(call, range(total)))
    seconds = time.perf_counter() - began

    s3 = workspace.cloud.client("s3", "prod")
    bucket = workspace.output("prod", "bucketName")
    grant = workspace.output("prod", "grants")[workspace.output("dev", "grant")]
    prefix = f"{grant['keyPrefix']}{run}/"
    versions = [v for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
                for v in page.get("Versions", [])]
    keys = sorted({v["Key"] for v in versions})
    right = sum(s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"{run}:{key.rsplit('/', 1)[1]}".encode()
                for key in keys)
    return LoadResult(total, callers, total - succeeded, len(keys), right, len(versions),
                      workspace.cloud.gate.calls["sts:AssumeRole"] - assumes_before,
                      sum(workspace.runtime.cold_starts.values()) - colds_before, round(seconds, 2))
