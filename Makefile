# Everything runs from a virtualenv in .venv built from the pinned requirement files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: test demo up unit integration bench snapshots typecheck constraints clean

$(INSTALLED): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $@

## make test: install (once), then run the whole suite: unit, localcloud and end-to-end integration tests
test: $(INSTALLED)
	$(PY) -m pytest

## make demo: start the offline two-account cloud, deploy prod then dev, invoke the Lambda, verify the object
demo: $(INSTALLED)
	$(PY) -m localcloud demo

## make up: the same cloud, left running for the AWS CLI (. .localcloud/env.sh)
up: $(INSTALLED)
	$(PY) -m localcloud up

unit: $(INSTALLED)
	$(PY) -m pytest -m "not integration"

integration: $(INSTALLED)
	$(PY) -m pytest -m integration

bench: $(INSTALLED)
	$(PY) bench/run.py

## make typecheck: both Pulumi programs against pulumi-aws's types (slow the first time: the SDK is large)
typecheck: $(INSTALLED)
	$(VENV)/bin/mypy __main__.py components/
	$(VENV)/bin/mypy -m bootstrap.__main__ -m bootstrap.policies -m bootstrap.settings

## make snapshots: regenerate tests/snapshots/{prod,dev}.json from the program (review the diff, commit it)
snapshots: $(INSTALLED)
	for stack in prod dev; do \
	  $(PY) -m localcloud synth --stack $$stack > tests/snapshots/$$stack.json.tmp && \
	  mv tests/snapshots/$$stack.json.tmp tests/snapshots/$$stack.json || { rm -f tests/snapshots/$$stack.json.tmp; exit 1; }; \
	done

## make constraints: re-pin every transitive dependency after changing a requirements file
constraints: $(INSTALLED)
	{ echo "# Exact versions of everything installed, so a fresh clone installs what CI tested."; \
	  echo "# Refresh: make constraints"; $(VENV)/bin/pip freeze; } > constraints.txt

clean:
	rm -rf $(VENV) .localcloud .pytest_cache
