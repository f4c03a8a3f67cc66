"""Run the real program under Pulumi's mock runtime, against an in-memory record of resources.

The mocks answer like the provider would for what the program reads back (ids, ARNs, names) and record every
resource with the inputs the program declared, which is what these tests assert on.

A consumer stack's StackReference is answered with what the prod program itself exports when run from the committed
Pulumi.prod.yaml (run once per worker, copied for each test), secret outputs still secret: the fake prod a consumer
reads cannot drift from the real one. A test that needs another prod changes a copy (``prod_outputs()``).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from components.settings import PROJECT, ConsumerSettings, ConfigError, ProdSettings, parse_consumer, parse_prod
from localcloud_pulumi.program import StackOutput, known_stacks, stack_account_id
from localcloud_pulumi.synth import RecordingMocks
from offline.stacks import PROJECT_DIR
from tests.project import run_program, stack_config, synth

PROD_ACCOUNT = "111111111111"
DEV_ACCOUNT = "222222222222"
ANALYTICS_ACCOUNT = "333333333333"
PROD_STACK = f"organization/{PROJECT}/prod"
NS = f"{PROJECT}:"
# Every stack file but prod's is a consumer's; a new one is covered by every test parametrized over these.
CONSUMER_STACKS = tuple(stack for stack in known_stacks(PROJECT_DIR) if stack != "prod")
STACKS = ("prod", *CONSUMER_STACKS)

# The recording mocks are localcloud_pulumi.synth's (one implementation for the unit tests and the snapshots): they
# record each resource (.typ, .name, .inputs with secrets revealed, .raw_inputs with the markers, .parent) and every
# invoke (.calls), and answer with deterministic placeholders. FakeCloud(account_id) is the name these tests know
# them by.
FakeCloud = RecordingMocks


@dataclass
class ProgramRun:
    cloud: FakeCloud
    exports: dict[str, StackOutput]

    def export(self, name: str) -> Any:
        return self.exports[name].value


@functools.cache
def _prod_exports() -> dict[str, StackOutput]:
    cloud = FakeCloud(PROD_ACCOUNT)
    return run_program("prod", cloud, monitor=cloud.monitor())


def prod_outputs() -> dict[str, Any]:
    """A copy of what prod exports (from the committed Pulumi.prod.yaml), as a StackReference reads it."""
    return {name: copy.deepcopy(out.value) for name, out in _prod_exports().items()}


def prod_secret_outputs() -> list[str]:
    """The names of prod's secret exports (grantExternalIds): the StackReference answers them as secrets."""
    return sorted(name for name, out in _prod_exports().items() if out.secret)


def with_grant(outputs: dict[str, Any], grant_name: str, /, **changes: Any) -> dict[str, Any]:
    """`outputs` with grant `grant_name` of its `grants` export changed (added when prod has none by that name)."""
    changed = copy.deepcopy(outputs)
    changed["grants"][grant_name] = {**changed["grants"].get(grant_name, {}), **changes}
    return changed


def run_stack(stack: str, config: Mapping[str, str] | None = None, *, prod: dict | None = None,
              prod_secrets: Collection[str] | None = None, account: str | None = None,
              preview: bool = False) -> ProgramRun:
    """Run a stack from its stack file (or `config`), in its account (the first of aws:allowedAccountIds);
    a consumer's StackReference answers with `prod` (by default what prod exports, ``prod_outputs()``), the outputs
    named in `prod_secrets` as secrets (by default prod's own secret exports)."""
    values = dict(stack_config(stack) if config is None else config)
    outputs = prod_outputs() if prod is None else prod
    secrets = prod_secret_outputs() if prod_secrets is None else sorted(prod_secrets)
    cloud = FakeCloud(account or stack_account_id(stack, values), stack_outputs={PROD_STACK: outputs},
                      secret_outputs={PROD_STACK: secrets})
    exports = run_program(stack, cloud, config=values, monitor=cloud.monitor(), preview=preview)
    return ProgramRun(cloud, exports)


def synthesized(stack: str) -> dict:
    """synth(stack) from the committed stack files, run once per worker (snapshots and policy lint share it)."""
    return copy.deepcopy(_synthesized(stack))


@functools.cache
def _synthesized(stack: str) -> dict:
    return synth(stack)


# --- config as the parsers take it ---------------------------------------------------------------------------


def raw(config: Mapping[str, str]) -> dict[str, str]:
    """A stack's config in our namespace, without the namespace: what parse_prod and parse_consumer take."""
    return {k[len(NS):]: v for k, v in config.items() if k.startswith(NS)}


def grants_of(config: Mapping[str, str]) -> list[dict[str, Any]]:
    """The grants of a prod config, as the objects the stack file writes."""
    return json.loads(config[f"{NS}grants"])


def with_grants(config: Mapping[str, str], grants: list[Any]) -> dict[str, str]:
    """A prod config (full keys) with its grants replaced (by anything a stack file could hold)."""
    return {**config, f"{NS}grants": json.dumps(grants)}


def changed_grant(config: Mapping[str, str], grant_name: str, /, **changes: Any) -> dict[str, str]:
    """A prod config (full keys) with grant `grant_name` changed; a change to None removes the key."""
    grants = grants_of(config)
    (grant,) = [g for g in grants if g["name"] == grant_name]
    for key, value in changes.items():
        if value is None:
            grant.pop(key, None)
        else:
            grant[key] = value
    return with_grants(config, grants)


def problems_of(parse: Any, values: Mapping[str, str], region: str | None = "eu-west-1") -> list[str]:
    """The problems `parse` (parse_prod or parse_consumer) reports for `values`; fails if it accepts them."""
    with pytest.raises(ConfigError) as caught:
        parse(values, region)
    return caught.value.problems


def committed_prod() -> ProdSettings:
    config = stack_config("prod")
    return parse_prod(raw(config), config["aws:region"])


def committed_consumer(stack: str) -> ConsumerSettings:
    config = stack_config(stack)
    return parse_consumer(raw(config), config["aws:region"], stack)


# --- fixtures ------------------------------------------------------------------------------------------------


@pytest.fixture
def prod_config() -> dict[str, str]:
    return stack_config("prod")


@pytest.fixture
def dev_config() -> dict[str, str]:
    return stack_config("dev")


@pytest.fixture
def analytics_config() -> dict[str, str]:
    return stack_config("analytics")


@pytest.fixture(scope="module")
def prod_run() -> ProgramRun:
    return run_stack("prod")


@pytest.fixture(scope="module")
def dev_run() -> ProgramRun:
    return run_stack("dev")


@pytest.fixture(scope="module")
def analytics_run() -> ProgramRun:
    return run_stack("analytics")


@pytest.fixture(scope="module", params=CONSUMER_STACKS)
def consumer_run(request: pytest.FixtureRequest) -> tuple[str, ProgramRun]:
    """Each consumer stack, run from its stack file: (stack name, run)."""
    return request.param, run_stack(request.param)
