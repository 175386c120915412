# tierserve: build, fetch data, run, test and benchmark. `make help` lists the targets.

# Where `make data` copies datasets from; when this directory does not exist, they are downloaded.
DATA_SOURCE ?= ../shared/data
DATA_DIR ?= data
VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: help deps venv data build release demo stack test test-swift test-python bench train format lint clean

help:
	@echo "make demo    build, run the job on both datasets, then the local stack checked by submit"
	@echo "make stack   build, and run the local stack (cluster, tier services, gateway) until Ctrl-C"
	@echo "make test    install what is missing, fetch data, build, and run every test (Swift and Python)"
	@echo "make bench   the job against a fresh PyTorch process on the same weights and data"
	@echo "make train   retrain both models into Models/ (takes a few minutes)"
	@echo "make data    fill $(DATA_DIR)/ from $(DATA_SOURCE), or download when it does not exist"
	@echo "make lint    check the Swift sources against .swift-format"

deps:
	scripts/install-deps

$(PYTHON): Training/requirements.txt Tests/ManifestChecks/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r Training/requirements.txt -r Tests/ManifestChecks/requirements.txt
	touch $(PYTHON)

venv: deps $(PYTHON)

data:
	@if [ -d "$(DATA_SOURCE)" ]; then \
		python3 Training/fetch_data.py --data-dir $(DATA_DIR) --from "$(DATA_SOURCE)"; \
	else \
		python3 Training/fetch_data.py --data-dir $(DATA_DIR) --download; \
	fi

build: deps
	swift build

release: deps
	swift build -c release

# The job on both evaluation splits, then the whole local stack checked end to end by `submit`.
demo: release data
	@for model in "mnist ff" "kmnist cnn"; do \
		set -- $$model; \
		echo "== DATASET=$$1 TYPE=$$2"; \
		OPENBLAS_NUM_THREADS=1 DATASET=$$1 TYPE=$$2 MODEL_DIR=Models DATA_DIR=$(DATA_DIR) .build/release/job || exit 1; \
	done
	@echo "== the local stack, checked by submit"
	@mkdir -p state
	scripts/demo-stack

# Both suites run even when the first fails, so one failure never hides the other's results.
stack: release data
	.build/release/stack up

test: venv data build
	@status=0; $(MAKE) --no-print-directory lint || status=1; \
		$(MAKE) --no-print-directory test-swift || status=1; \
		$(MAKE) --no-print-directory test-python || status=1; exit $$status

# One test at a time: many tests serve or call HTTP on loopback through Swift's cooperative thread pool,
# which is as wide as the machine has cores (two here), and tests that block a thread (scoring a dataset,
# waiting for a child process) would otherwise starve their neighbours into timeouts. About 35 s either way.
test-swift:
	TIERSERVE_DATA_DIR=$(abspath $(DATA_DIR)) swift test --no-parallel

test-python:
	TIERSERVE_DATA_DIR=$(abspath $(DATA_DIR)) TIERSERVE_JOB_BINARY=.build/debug/job $(PYTHON) -m pytest -q Training/tests Tests/ManifestChecks

bench: venv data release
	$(PYTHON) Bench/job_vs_pytorch.py --job-binary .build/release/job --data-dir $(DATA_DIR)

train: venv data
	$(PYTHON) Training/train.py --model mnist-ff --data-dir $(DATA_DIR)
	$(PYTHON) Training/train.py --model kmnist-cnn --data-dir $(DATA_DIR)

format:
	swift format -i -r Package.swift Sources Tests

lint:
	swift format lint --strict -r Package.swift Sources Tests

clean:
	rm -rf .build $(VENV)
