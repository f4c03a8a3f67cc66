# Everything runs from .venv, which uv builds from uv.lock with the Python found here (never a downloaded one).
# A fresh machine needs only Python 3.11+ and make: the first target that needs uv fetches the pinned uv from
# PyPI into .tools/ (pip, hash-checked), and uv then installs the locked dependencies (no-op when up to date).
PYTHON ?= python3
UV_VERSION := $(shell sed -n 's/^uv==\([0-9.]*\).*/\1/p' tools/uv-requirements.txt)
UV_DIR := .tools/uv-$(UV_VERSION)
UV := $(UV_DIR)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest -n auto --dist worksteal
# uv builds exactly this environment (a UV_PROJECT_ENVIRONMENT of the caller's would send it elsewhere).
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
# Python caches compiled modules in __pycache__; a shell that turns that off makes every process (each test
# worker, each Lambda worker, each CLI run) compile pulumi, moto and botocore again, about 2.5 s apiece.
unexport PYTHONDONTWRITEBYTECODE
# $(PYTHON) checked, then named by its full path: uv reads a bare "python3" as "any Python 3" and might pick
# another interpreter than the one checked here.
FOUND_PYTHON = $$($(PYTHON) -c 'import importlib.util, sys; v = sys.version_info[:2]; sys.exit( \
  "$(PYTHON) is Python %d.%d; this project needs 3.11 or newer (make PYTHON=python3.12 ...)" % v if v < (3, 11) \
  else "$(PYTHON) has no pip, which make needs once to fetch uv (Debian, Ubuntu: apt install python3-pip)" \
  if importlib.util.find_spec("pip") is None else print(sys.executable))')

.PHONY: test demo up revoke unit integration bench bench-fresh snapshots typecheck venv program-venv lock uv-bin clean

$(UV): tools/uv-requirements.txt
	@python="$(FOUND_PYTHON)" && \
	rm -rf .tools/uv-* && \
	"$$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
	  --only-binary :all: --require-hashes --target $(UV_DIR) -r tools/uv-requirements.txt && \
	test -x $@ && touch $@

# An existing .venv keeps its interpreter (checked when it was made; `make clean` to change it), so the usual
# no-op sync starts no Python at all.
SYNC = if [ -x $(PY) ]; then $(UV) sync --locked --quiet $(1); \
  else python="$(FOUND_PYTHON)" && $(UV) sync --locked --quiet $(1) --python "$$python"; fi

## make venv: create or update .venv from uv.lock, with the dev group (every other target does this first)
venv: $(UV)
	@$(call SYNC,--group dev)

## make program-venv: only what the Pulumi program needs (the preview and deploy workflows)
program-venv: $(UV)
	@$(call SYNC,)

## make test: install (once), then run the whole suite across every core: unit, localcloud and end-to-end tests
test: venv
	$(PYTEST)

## make demo: start the offline two-account cloud, deploy prod then dev, invoke the Lambda, verify the object
demo: venv
	$(PY) -m offline demo

## make up: the same cloud, left running for the AWS CLI (. .localcloud/env.sh)
up: venv
	$(PY) -m offline up

## make revoke GRANT=name: deny every session of that grant's role issued until now (sets its
## revokeSessionsIssuedBefore in Pulumi.prod.yaml; review the diff, then pulumi up -s prod)
revoke: venv
	@test -n "$(GRANT)" || { echo "usage: make revoke GRANT=<grant name>" >&2; exit 2; }
	$(PY) -m ops.revoke --grant "$(GRANT)"

unit: venv
	$(PYTEST) -m "not integration"

integration: venv
	$(PYTEST) -m integration

## make bench: the quick benchmarks; make bench-fresh adds fresh clone, make test and .ci/run (minutes)
bench: venv
	$(PY) bench/run.py

bench-fresh: venv
	$(PY) bench/run.py --fresh

## make typecheck: every package of both Pulumi programs, localcloud and the handler, against pulumi-aws's types
typecheck: venv
	$(VENV)/bin/pyrefly check --config pyrefly.toml --python-interpreter-path $(PY)

## make snapshots: regenerate tests/snapshots/STACK.json of every stack file from the program (review the diff, commit it)
snapshots: venv
	for stack in $(patsubst Pulumi.%.yaml,%,$(wildcard Pulumi.*.yaml)); do \
	  $(PY) -m localcloud synth -s $$stack > tests/snapshots/$$stack.json.tmp && \
	  mv tests/snapshots/$$stack.json.tmp tests/snapshots/$$stack.json || { rm -f tests/snapshots/$$stack.json.tmp; exit 1; }; \
	done

## make lock: re-resolve uv.lock after changing pyproject.toml's dependencies (make lock ARGS=--upgrade moves all)
lock: $(UV)
	$(UV) lock $(ARGS)

## make uv-bin: the directory of the pinned uv, for PATH (the workflows add it, so Pulumi's uv toolchain finds it)
uv-bin: $(UV)
	@echo $(abspath $(UV_DIR)/bin)

clean:
	rm -rf $(VENV) .tools .localcloud .pytest_cache
