# The two commands a newcomer needs: `make run` and `make test`. Both install what they need on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPS := $(VENV)/.deps-installed
# checkov (tests/package/test_checkov.py) pins boto3, networkx and packaging below the project's: its own venv.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/.deps-installed

.PHONY: run test bench reconcile loadtest clean dashboard package reset preflight deploy

# Debian's python3 makes a venv only with python3-venv (ensurepip): as root, installed here.
# A venv without pip (a failed creation) is made again.
# The pinned packages, then the project itself, editable and without dependencies (pyproject.toml lists none):
# every tool then runs as `python -m <package>...`.
$(DEPS): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(VENV)/bin/pip || $(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	  test "$$(id -u)" = 0 && command -v apt-get >/dev/null || \
	    { echo "$(PYTHON) cannot make a venv (no ensurepip): sudo apt-get install -y python3-venv"; exit 1; }; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv; }
	test -x $(VENV)/bin/pip || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(DEPS)

$(CHECKOV): requirements-checkov.txt $(DEPS)
	test -x $(CHECKOV_VENV)/bin/pip || { rm -rf $(CHECKOV_VENV) && $(PYTHON) -m venv $(CHECKOV_VENV); }
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(CHECKOV)

# ---- the dashboard: Chart.js and amazon-cognito-identity-js pinned in dashboard/package-lock.json, copied into
# dashboard/vendor/ (not committed).
# npm ci runs again only when the lock file (or the build script) changes.
DASHBOARD_BUILT := dashboard/vendor/.built
# The browser the dashboard tests drive: Debian's Chromium through Playwright (no browser download).
CHROMIUM := /usr/bin/chromium
# The QR decoder the join tests read the dashboard's and the audience screen's QR codes with (Debian's zbar-tools).
ZBARIMG := /usr/bin/zbarimg

$(DASHBOARD_BUILT): dashboard/package.json dashboard/package-lock.json dashboard/scripts/build.mjs
	command -v npm >/dev/null || { apt-get update && apt-get install -y nodejs npm; }
	cd dashboard && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build
	touch $@

dashboard: $(DASHBOARD_BUILT)

$(CHROMIUM):
	@test "$$(id -u)" = 0 || { echo "The dashboard tests need Chromium: sudo apt-get install -y chromium"; exit 1; }
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

$(ZBARIMG):
	@test "$$(id -u)" = 0 || { echo "The QR code tests need zbarimg: sudo apt-get install -y zbar-tools"; exit 1; }
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y zbar-tools
# ---- end of the dashboard's part

run: $(DEPS) $(DASHBOARD_BUILT)
	$(PY) -m devstack

# The test files in two processes (pytest-xdist), a file's tests together in one so that its module's stack and
# browser are started once: most end-to-end time is waiting on a clock (a close, a read interval), which a second
# process fills. PYTEST_WORKERS= (empty) runs them in one.
PYTEST_WORKERS ?= -n 2 --dist loadfile
test: $(DEPS) $(CHECKOV) $(DASHBOARD_BUILT) $(CHROMIUM) $(ZBARIMG)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest $(PYTEST_WORKERS)

bench: $(DEPS)
	$(PY) -m bench.vote_path

# The one CloudFormation (SAM) template for AWS, in build/package/ (sam.json + deployment.zip): see README, Deploying.
package: $(DEPS)
	$(PY) -m infra.build_template --package build/package

# Does the account's quotas carry the deployment and its expected peak? docs/deploying.md. BIG_VOTE=1 (or after)
# checks the big vote's parameters and audience; PEAK= (votes/s), EXPECTED_VOTERS= and INVITATIONS_PER_DAY= (a
# roll's mailed invitations) size the audience;
# PARAMS="Name=value ..." as for deploy; STACK= gives back what an existing stack holds.
DEPLOY_OPTIONS = $(if $(REGION), --region $(REGION))$(if $(BIG_VOTE), --big-vote $(BIG_VOTE))$(if $(PARAMS), --params "$(PARAMS)")$(if $(PEAK), --peak $(PEAK))$(if $(EXPECTED_VOTERS), --voters $(EXPECTED_VOTERS))$(if $(INVITATIONS_PER_DAY), --invitations-per-day $(INVITATIONS_PER_DAY))
preflight: $(DEPS)
	$(PY) -m infra.preflight$(if $(STACK), --stack $(STACK))$(DEPLOY_OPTIONS)

# Preflight, package, upload to BUCKET, create or update STACK, wait, print the outputs and the next steps.
deploy: $(DEPS)
	@test -n "$(STACK)" -a -n "$(BUCKET)" || { echo 'usage: make deploy STACK=<name> BUCKET=<artifacts bucket> [REGION=] [PARAMS="Name=value ..."] [BIG_VOTE=1|after]'; exit 2; }
	$(PY) -m infra.deploy --stack $(STACK) --bucket $(BUCKET)$(DEPLOY_OPTIONS)

# Defaults: at most 60 s of load, plus start-up and voter provisioning (33 s in all on a quiet 2-core machine,
# 61 s on a busy one: bench/RESULTS.md). API_URL=... targets a deployed stage (see README).
# SURGE=1: every user starts in the first second (spawn rate = users), all on the one poll; 200 users by default.
USERS ?= $(if $(SURGE),200,20)
DURATION ?= 60s
VOTERS ?= 2000
loadtest: $(DEPS)
	$(PY) -m loadtest --users $(USERS) --duration $(DURATION) --voters $(VOTERS)$(if $(SURGE), --surge)$(if $(ROLL), --roll)$(if $(STACK), --stack $(STACK))

# STATE_DIR= names a local stack other than `make run`'s (the --state-dir it was started with).
reconcile: $(DEPS)
	@test -n "$(POLL)" || { echo "usage: make reconcile POLL=<poll_id> [STATE_DIR=<local stack's state dir> | STACK=<stack name>] [REPAIR=1]"; exit 2; }
	$(PY) -m cli.reconcile --poll $(POLL) $(if $(STACK),--stack $(STACK)) $(if $(STATE_DIR),--state-dir $(STATE_DIR)) $(if $(REPAIR),--repair)

# The local platform keeps its data in .devstack/ between runs: this drops it (polls, ballots, results, voters),
# so that the next `make run` starts empty. It refuses while a stack runs from there. STATE_DIR= resets another
# stack's state directory (usage: make reset [STATE_DIR=<dir>]).
reset: $(DEPS)
	@echo "make reset: dropping the data kept in $(or $(STATE_DIR),.devstack/) (usage: make reset [STATE_DIR=<dir>])"
	$(PY) -m devstack.state reset $(if $(STATE_DIR),--state-dir $(STATE_DIR))

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .devstack .pytest_cache dashboard/node_modules dashboard/vendor tally.egg-info
