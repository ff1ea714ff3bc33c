# `make help` lists the targets. `make demo` and `make test` are all a fresh machine needs.
CARGO ?= cargo
SERVER := scripts/with-token-server.sh

.DEFAULT_GOAL := help
.PHONY: help build demo test lint test-rust

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build the core, the token server and the examples
	$(CARGO) build --all-targets

demo: build ## Refresh a token in every language against the local token server
	$(SERVER) $(CARGO) run -q -p oauth-refresh --example demo

test: lint test-rust ## Lint, then run every suite
	@echo "make test: all suites passed"

lint: ## rustfmt and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust: ## The Rust suites: unit, conformance, errors, secrets
	$(CARGO) test
