# cellsweep: every developer and CI entry point. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_TEST := node --import tsx --test --test-concurrency=2
TEST_FILES = $(shell find tests -name '*.test.ts' | sort)
PYTHON_REF := /usr/bin/python3

.PHONY: help install demo test test-unit typecheck proto check-proto lint-proto fixtures clean

help:
	@echo "make demo         install dependencies and run the embedded demo sweep"
	@echo "make test         install dependencies and run every check and test"
	@echo "make proto        regenerate proto/gen from proto/ (ts-proto via buf)"
	@echo "make fixtures     recompute the reference fixtures (Debian python3-sklearn, -torch, -pot, -scipy, -h5py, -anndata)"

# npm ci is skipped when the lock file has not changed since the last install.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: node_modules/.installed

demo: install
	node bin/cellsweep.mjs sweep

test: install check-proto typecheck
	$(NODE_TEST) $(TEST_FILES)

test-unit: install
	$(NODE_TEST) $(filter-out tests/e2e/%,$(TEST_FILES))

typecheck: install
	npx tsc --noEmit -p .

# Generated code is produced here and nowhere else; never edit proto/gen by hand.
proto: install
	rm -rf proto/gen
	npx buf generate

lint-proto: install
	npx buf lint

# Fails when proto/gen is not what `make proto` produces from the .proto files.
check-proto: install lint-proto
	@tmp=$$(mktemp -d) && npx buf generate -o "$$tmp" && \
	if diff -r "$$tmp/proto/gen" proto/gen >/dev/null; then rm -rf "$$tmp"; echo "proto/gen is up to date"; \
	else diff -r "$$tmp/proto/gen" proto/gen | head -20; rm -rf "$$tmp"; \
	echo "proto/gen is stale: run 'make proto' and commit the result"; exit 1; fi

fixtures:
	$(PYTHON_REF) bench/reference/metrics_fixtures.py > tests/fixtures/metrics.json
	$(PYTHON_REF) bench/reference/sctl_reference.py tests/fixtures/sctl
	$(PYTHON_REF) bench/reference/h5ad_fixtures.py tests/fixtures/h5ad
	$(PYTHON_REF) bench/reference/markers_fixtures.py > tests/fixtures/interpret/markers.json

clean:
	rm -rf node_modules runs .tmp
