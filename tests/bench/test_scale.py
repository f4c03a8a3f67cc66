"""bench/scale.py's plumbing, at tiny sizes: the generated project is one the program accepts, the figures add up,
and a failed verification fails the run. No timing is asserted: speed goals are printed by the bench, never tested."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import scale
from components import settings
from localcloud_pulumi.program import stack_account_id, stack_config
from offline.stacks import PROJECT_DIR


def test_the_generated_project_grants_each_consumer_what_its_stack_uses(tmp_path: Path):
    consumers = scale.generate_project(tmp_path, 3)
    assert consumers == ["c01", "c02", "c03"]
    assert {p.name for p in tmp_path.iterdir()} >= {"__main__.py", "Pulumi.yaml", "components", "lambda_handler"}
    prod_config = stack_config("prod", tmp_path)
    prod = settings.parse_prod(_namespace(prod_config), prod_config.get("aws:region"))
    grants = {grant.name: grant for grant in prod.grants}
    assert sorted(grants) == consumers
    for index, name in enumerate(consumers, start=1):
        config = stack_config(name, tmp_path)
        consumer = settings.parse_consumer(_namespace(config), config.get("aws:region"), name)
        grant = grants[consumer.grant]
        assert consumer.workload is settings.Workload.WRITER and grant.access.writes
        assert stack_account_id(name, config) == grant.account_id == f"4000000000{index:02d}"
        assert grant.role_names == (consumer.execution_role_name,) and grant.key_prefix == f"{name}/"
        assert consumer.group_users == () == grant.user_names
    # Each consumer has names of its own.
    configs = [settings.parse_consumer(_namespace(stack_config(n, tmp_path)), "eu-west-1", n) for n in consumers]
    for field in ("function_name", "execution_role_name", "group_name"):
        assert len({getattr(c, field) for c in configs}) == len(consumers)


def _namespace(config: dict[str, str]) -> dict[str, str | None]:
    prefix = f"{settings.PROJECT}:"
    return {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}


def _run(n: int, total: float, verified: int | None = None) -> dict:
    return {"consumers": n, "start": 0.5, "deploy_prod": 1.0, "deploy_consumers": total - 2.0, "invoke_verify": 0.5,
            "total": total, "verified": n if verified is None else verified, "failures": []}


def test_the_summary_has_the_totals_by_n_and_the_slope_per_added_consumer():
    runs = {1: _run(1, 3.0), 5: _run(5, 7.0), 20: _run(20, 40.0)}
    summary = scale.summary(runs)
    assert summary["consumers_scale"] == {"1": 3.0, "5": 7.0, "20": 40.0}
    assert summary["consumers_scale_per_added_s"] == pytest.approx({"1-5": 1.0, "5-20": 2.2, "overall": 37 / 19})
    assert set(summary["consumers_scale_phases_s"]["5"]) >= set(scale.PHASES)
    json.dumps(summary)  # --json prints it as is
    met = {goal["goal"]: goal["met"] for goal in summary["consumers_scale_goals"]}
    assert list(met.values()) == [False, False, False]  # not linear, over 1 s per consumer, over 30 s at 20
    table = scale.table(summary)
    assert table.count("MISSED") == 3 and "20/20" in table
    assert not scale.failed(runs)


def test_an_object_that_did_not_verify_fails_the_run_and_is_printed():
    runs = {1: _run(1, 3.0), 2: {**_run(2, 4.0, verified=1), "failures": ["c02: the writer answered 500"]}}
    assert scale.failed(runs)
    assert "FAILED (N=2): c02: the writer answered 500" in scale.table(scale.summary(runs))


def test_rounds_merge_into_medians_and_count_every_object():
    merged = scale.merge([_run(2, 4.0), _run(2, 6.0), {**_run(2, 5.0, verified=1), "failures": ["c01: lost"]}])
    assert merged["total"] == 5.0 and merged["rounds"] == 3
    assert merged["verified"] == 5 and merged["failures"] == ["c01: lost"]
    assert scale.failed({2: merged})
    assert scale.summary({2: merged})["consumers_scale_verified"]["2"]["of"] == 6


@pytest.mark.integration
def test_one_consumer_end_to_end_prints_the_json_and_exits_zero():
    done = subprocess.run([sys.executable, "bench/scale.py", "--consumers", "1", "--json"], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert list(result["consumers_scale"]) == ["1"]
    assert result["consumers_scale_verified"]["1"] == {"verified": 1, "of": 1, "failures": []}
    assert set(result["consumers_scale_phases_s"]["1"]["deploy_each"]) == {"c01"}
