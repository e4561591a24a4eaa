# The two commands a newcomer needs: `make run` and `make test`. Both install what they need on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPS := $(VENV)/.deps-installed

.PHONY: run test bench reconcile loadtest package clean

$(DEPS): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(DEPS)

run: $(DEPS)
	$(PY) -m devstack

test: $(DEPS)
	$(PY) -m pytest

bench: $(DEPS)
	$(PY) bench/vote_path.py

# The one CloudFormation (SAM) template for AWS, in build/package/ (sam.json + deployment.zip): see README, Deploying.
package: $(DEPS)
	$(PY) infra/build_template.py --package build/package

# Defaults finish in under 3 minutes on 2 cores; API_URL=... targets a deployed stage (see README).
USERS ?= 20
DURATION ?= 60s
VOTERS ?= 2000
loadtest: $(DEPS)
	$(PY) -m loadtest --users $(USERS) --duration $(DURATION) --voters $(VOTERS)

reconcile: $(DEPS)
	@test -n "$(POLL)" || { echo "usage: make reconcile POLL=<poll_id> [REPAIR=1]"; exit 2; }
	$(PY) -m devstack.reconcile --poll $(POLL) $(if $(REPAIR),--repair)

clean:
	rm -rf $(VENV) .devstack .pytest_cache
