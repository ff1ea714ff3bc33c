# `make help` lists the targets. `make demo` and `make test` are all a fresh machine needs.
CARGO ?= cargo
SERVER := scripts/with-token-server.sh
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

.DEFAULT_GOAL := help
.PHONY: help build demo test lint test-rust python test-python node test-node

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build the core, the token server and the examples
	$(CARGO) build --all-targets

demo: build python node ## Refresh a token in every language against the local token server
	$(SERVER) $(CARGO) run -q -p oauth-refresh --example demo
	$(SERVER) $(PY) bindings-python/examples/demo.py
	$(SERVER) node bindings-node/examples/demo.js

test: lint test-rust test-python test-node ## Lint, then run every suite
	@echo "make test: all suites passed"

lint: ## rustfmt and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust: ## The Rust suites: unit, conformance, errors, secrets
	$(CARGO) test

# Python: a venv at .venv with maturin, pytest and mypy; the wheel is built and installed in it.
VENV := .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: bindings-python/requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r bindings-python/requirements-dev.txt
	touch $@

python: $(VENV)/.installed ## Build the Python wheel and install it into .venv
	rm -rf target/wheels
	$(VENV)/bin/maturin build --release -q -i $(PY) -m bindings-python/Cargo.toml -o target/wheels
	$(PY) -m pip install -q --force-reinstall --no-deps target/wheels/*.whl

test-python: python build ## The Python suite (pytest) and the stub check (mypy.stubtest)
	cd bindings-python/tests && ../../$(PY) -m pytest -q -p no:cacheprovider .
	cd bindings-python/tests && ../../$(PY) -m mypy.stubtest oauth_refresh --allowlist ../stubtest-allowlist.txt

# Node: npm ci, then `napi build`, which also regenerates index.js and index.d.ts; CI fails
# when they differ from the committed ones.
NAPI_BUILD := npx napi build --platform --release --dts-header "$$(cat dts-header.d.ts)"

node: ## Build the Node addon (npm ci, napi build) and regenerate index.js / index.d.ts
	cd bindings-node && npm ci --no-audit --no-fund --loglevel=error
	cd bindings-node && $(NAPI_BUILD)

test-node: node build ## The Node suite (node --test), the .d.ts check (tsc) and the drift check
	git diff --exit-code -- bindings-node/index.js bindings-node/index.d.ts
	cd bindings-node && node --test --test-reporter=tap tests/ | tee ../target/node-tests.tap
	grep -Eq '^# pass [1-9]' target/node-tests.tap
	grep -Eq '^# fail 0$$' target/node-tests.tap
	cd bindings-node && npx tsc -p tests/types/tsconfig.json
