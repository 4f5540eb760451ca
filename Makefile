# The two commands: `make run` (local stack) and `make test` (whole suite). Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
STAGE ?= dev

AXE := .cache/node/node_modules/axe-core/axe.min.js

.PHONY: run test lint typecheck unit bench soak package deploy clean axe

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check 'pip<26.3'
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

# axe-core for the browser tests (tests/e2e/test_browser.py), from npm, once.
$(AXE):
	npm install --prefix .cache/node --no-audit --no-fund --silent axe-core@4

axe: $(AXE)

run: $(STAMP)
	exec $(PY) -m infra.local.stack

test: $(STAMP) $(AXE) lint typecheck
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy chalicelib app.py

unit: $(STAMP)
	$(PY) -m pytest tests/unit

# Benchmarks print figures and never assert them (shared machines are noisy). CI runs both
# once at a small size so they cannot rot: `make bench BENCH_ITEMS=2000`,
# `make soak SOAK_ARGS="--bookings 100 --block 50 --race 16"`.
BENCH_ITEMS ?= 20000
SOAK_ARGS ?= --bookings 2000 --block 500 --race 64

bench: $(STAMP)
	$(PY) -m tests.bench.bench_slots
	$(PY) -m tests.bench.bench_availability_calls
	$(PY) -m tests.bench.bench_emulator --items $(BENCH_ITEMS)
	$(PY) -m tests.bench.bench_cold_start
	$(PY) -m tests.bench.bench_reports

# A day of traffic on `make run`'s program: latency, memory, mail delay, a race, the stop.
soak: $(STAMP)
	$(PY) -m tests.bench.soak $(SOAK_ARGS)

# Chalice's SAM output merged with infra/template.json, ready for `aws cloudformation deploy`.
package: $(STAMP)
	rm -rf build/$(STAGE)
	$(VENV)/bin/chalice package --stage $(STAGE) --merge-template infra/template.json build/$(STAGE)
	$(VENV)/bin/cfn-lint build/$(STAGE)/sam.json

deploy: package
	aws cloudformation package --template-file build/$(STAGE)/sam.json \
		--s3-bucket $(DEPLOY_BUCKET) --output-template-file build/$(STAGE)/packaged.yaml
	aws cloudformation deploy --template-file build/$(STAGE)/packaged.yaml \
		--stack-name scheduling-$(STAGE) --capabilities CAPABILITY_IAM \
		--parameter-overrides Stage=$(STAGE) $(if $(MAIL_FROM),MailFrom=$(MAIL_FROM))

clean:
	rm -rf build .local .mypy_cache .ruff_cache .hypothesis
