# cellsweep: every developer and CI entry point. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_TEST := node --import tsx --test --test-concurrency=2
TEST_FILES = $(shell find tests -name '*.test.ts' | sort)
PYTHON_REF := /usr/bin/python3

.PHONY: help install system-deps demo test cluster-up cluster-down test-unit typecheck proto check-proto lint-proto fixtures bench-trainer bench-tpe bench-tpe-latency bench-tpe-tabular bench-transfer bench-cluster clean

help:
	@echo "make demo         install dependencies and run the embedded demo sweep"
	@echo "make test         install dependencies and run every check and test"
	@echo "make test-unit    the in-process tests only (no nats-server, Prometheus, helm or process fleets)"
	@echo "make typecheck    tsc --noEmit"
	@echo "make install      npm ci (skipped when package-lock.json has not changed)"
	@echo "make system-deps  nats-server (apt) and Prometheus (Debian package, unpacked into .tools/) for the tests"
	@echo "make cluster-up   nats-server + coordinator + TRAINERS=2 trainers as local processes (docs/cluster.md)"
	@echo "make cluster-down stop them (the JetStream store in .cluster/ is kept)"
	@echo "make proto        regenerate proto/gen from proto/ (ts-proto via buf)"
	@echo "make check-proto  fail if proto/gen differs from what make proto generates (after make lint-proto: buf lint)"
	@echo "make fixtures     recompute the reference fixtures (Debian python3-sklearn, -torch, -pot, -scipy, -h5py, -anndata)"
	@echo "make bench-trainer      SCTL step time, TensorFlow.js wasm against PyTorch (bench/results/trainer-speed.md)"
	@echo "make bench-tpe          TPE against Optuna on test problems (bench/results/tpe-head-to-head.md)"
	@echo "make bench-tpe-latency  TPE suggestion latency against Optuna (bench/results/tpe-latency.md)"
	@echo "make bench-tpe-tabular  TPE against Optuna and random on the SCTL grid table (TABLE defaults to bench/tpe/tabular-sctl-trials.csv; TABULAR_ARGS=\"--seeds 100 --first-seed 100\")"
	@echo "make bench-cluster      cluster dispatch: runs/s, latency, coordinator CPU and memory against raw JetStream (bench/results/cluster-*.md)"
	@echo "make bench-transfer     SCTL against bulk-only and its ablations on synthetic data (bench/results/transfer.md)"
	@echo "make clean        remove node_modules, runs/ and .tmp/"

# npm ci is skipped when the lock file has not changed since the last install.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: node_modules/.installed

# nats-server (Debian's) for the cluster and fault tests and make cluster-up;
# Debian's Prometheus and promtool unpacked into .tools/prometheus (no service
# is installed or started) for the observability tests.
PROMETHEUS_DIR := .tools/prometheus
system-deps:
	@sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then \
	  echo "installing nats-server (apt) for the cluster tests"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq nats-server >/dev/null; \
	fi; \
	if [ ! -x $(PROMETHEUS_DIR)/usr/bin/prometheus ]; then \
	  echo "fetching Debian's prometheus package into $(PROMETHEUS_DIR) for the observability tests"; \
	  rm -rf .tools/deb && mkdir -p .tools/deb && cd .tools/deb && \
	  { apt-get download prometheus 2>/dev/null || { $$sudo apt-get update -qq && apt-get download prometheus 2>/dev/null; }; } && \
	  cd ../.. && dpkg-deb -x .tools/deb/prometheus_*.deb $(PROMETHEUS_DIR) && rm -rf .tools/deb; \
	fi

demo: install
	node bin/cellsweep.mjs sweep

# Cluster, fault and load tests run real process fleets against wall-clock
# deadlines (ack waits, heartbeats). They go first, so that they run beside
# each other rather than beside the CPU-heavy training tests (the transfer
# test's trainers starved them on 2 cores). One runner, one summary line.
CLUSTER_TEST_FILES = $(filter tests/cluster/% tests/fault/% tests/load/%,$(TEST_FILES))
ORDERED_TEST_FILES = $(CLUSTER_TEST_FILES) $(filter-out $(CLUSTER_TEST_FILES),$(TEST_FILES))

test: install system-deps check-proto typecheck
	$(NODE_TEST) $(ORDERED_TEST_FILES)

# In-process tests only: no nats-server, Prometheus, helm or process fleets.
PROCESS_TEST_DIRS = tests/cluster/% tests/fault/% tests/load/% tests/e2e/% tests/integration/% tests/deploy/%
test-unit: install
	$(NODE_TEST) $(filter-out $(PROCESS_TEST_DIRS),$(TEST_FILES))

cluster-up: install system-deps
	TRAINERS=$(or $(TRAINERS),2) deploy/local/cluster.sh up

cluster-down:
	deploy/local/cluster.sh down

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
	$(PYTHON_REF) bench/reference/layers_fixtures.py > tests/fixtures/layers_torch.json
	$(PYTHON_REF) bench/reference/tpe31_fixtures.py tests/fixtures/tpe/parzen-3.1.json

# Benchmarks: each compares against its reference tool in the same run and
# prints the figures that BENCHMARKS.md records (with this command and the date).
bench-trainer: install
	node --import tsx bench/trainer/run.ts

bench-tpe: install
	node --import tsx bench/tpe/head-to-head.ts

bench-tpe-latency: install
	node --import tsx bench/tpe/latency.ts --iters 100 --warmup 100

TABLE ?= bench/tpe/tabular-sctl-trials.csv
# e.g. TABULAR_ARGS="--seeds 100 --first-seed 100" (fresh seeds for a setting chosen on 0-99)
TABULAR_ARGS ?=
bench-tpe-tabular: install
	node --import tsx bench/tpe/tabular.ts --table $(TABLE) $(TABULAR_ARGS)

bench-transfer: install
	node --import tsx bench/transfer/ablation.ts --synthetic data1 --genes 300 --data-seed 1 --scenario subclonal \
		--sctl encoder_hidden=256,iterations=800,l3=5,depth=3 --bulk depth=3

# Cluster dispatch (docs/cluster.md): 64 simulated trainers, raw JetStream in the same run.
# First the API with 200 watchers on a 19,200-run sweep, then memory after 100,032 runs.
bench-cluster: install system-deps
	mkdir -p bench/results
	node --import tsx bench/cluster/run.ts --trials 400 --watchers 200 --out bench/results/cluster-api.md
	node --import tsx bench/cluster/run.ts --trials 2084 --watchers 0 --raw-messages 20000 --out bench/results/cluster-100k.md
	node --import tsx bench/cluster/run.ts --trials 2084 --watchers 0 --raw-messages 20000 --no-metrics --out bench/results/cluster-100k-no-metrics.md

clean:
	rm -rf node_modules runs .tmp
