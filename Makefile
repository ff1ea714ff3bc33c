# `make help` lists the targets. `make demo` and `make test` are all a fresh machine needs.
CARGO ?= cargo
SERVER := scripts/with-token-server.sh
REDIS := scripts/with-redis.sh
PG := scripts/with-postgres.sh
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

.DEFAULT_GOAL := help
.PHONY: help build demo run-demo test generate lint test-rust redis-server postgres-server python test-python node test-node c test-c test-mixed install bench fuzz leak-reset test-dist

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build the core, the token server and the examples
	$(CARGO) build --all-targets

# Everything the suites and examples print goes to $(LEAK)/*.log too, and the token servers
# journal every secret they see; `make test` then scans the logs, the Redis dumps and the
# files left in the suites' TMPDIR for those values (scripts/scan-leaks.sh).
LEAK := $(CURDIR)/target/leak
TEE = 2>&1 | tee -a $(LEAK)/$(1).log

demo: build python node c-demo redis-server postgres-server ## Refresh a token in every language against the local token server, share one through Redis, hold many accounts, keep them in PostgreSQL
	mkdir -p $(LEAK)
	$(MAKE) --no-print-directory run-demo $(call TEE,demo)

run-demo:
	$(SERVER) $(CARGO) run -q -p oauth-refresh --example demo
	$(SERVER) $(PY) bindings-python/examples/demo.py
	$(SERVER) node bindings-node/examples/demo.js
	$(SERVER) target/c-tests/demo
	@echo "many accounts: one AccountTokens per language, refreshing ahead, with events and health"
	$(SERVER) $(CARGO) run -q -p oauth-refresh --example many_accounts
	$(SERVER) $(PY) bindings-python/examples/many_accounts.py
	$(SERVER) node bindings-node/examples/many_accounts.js
	$(SERVER) target/c-tests/many_accounts
	@echo "durable: two hosts per language keeping companies' tokens in PostgreSQL, encrypted"
	export TOKEN_ENCRYPTION_KEY=$$(python3 -c 'import secrets; print(secrets.token_hex(32))'); \
	$(SERVER) $(PG) bash -c '[ -n "$${POSTGRES_URL:-}" ] || { echo "durable: skipped: $$POSTGRES_SKIP"; exit 0; }; \
	  $(CARGO) run -q -p oauth-refresh --features postgres --example postgres_accounts && \
	  $(PY) bindings-python/examples/postgres_accounts.py && node bindings-node/examples/postgres_accounts.js && \
	  target/c-tests/postgres_accounts'
	@echo "many hosts: two managers per language sharing one token through Redis, encrypted"
	export TOKEN_ENCRYPTION_KEY=$$(python3 -c 'import secrets; print(secrets.token_hex(32))'); \
	$(SERVER) $(REDIS) bash -c '[ -n "$${REDIS_URL:-}" ] || { echo "many hosts: skipped: $$REDIS_SKIP"; exit 0; }; \
	  $(CARGO) run -q -p oauth-refresh --features redis --example many_hosts && \
	  $(PY) bindings-python/examples/many_hosts.py && node bindings-node/examples/many_hosts.js && \
	  target/c-tests/many_hosts'

test: export TOKEN_SERVER_JOURNAL = $(LEAK)/journal
test: export TMPDIR = $(LEAK)/tmp
test: export LEAK_DIR = $(LEAK)
test: leak-reset lint test-rust test-python test-node test-c test-mixed demo test-dist ## Lint, run every suite and example, then scan all they printed and stored for secrets
	scripts/scan-leaks.sh --self-test
	scripts/scan-leaks.sh $(LEAK)
	@echo "make test: all suites passed"

leak-reset:
	rm -rf $(LEAK)
	mkdir -p $(LEAK)/tmp

# Files written from the core's option tables and error codes (and the C header, by cbindgen).
GENERATED := bindings-c/include/oauth_refresh.h bindings-node/generated.d.ts \
  bindings-python/python/oauth_refresh/_options.py bindings-python/python/oauth_refresh/_error_classes.py

generate: ## Write the generated files: the C header, Python's option dicts and error classes, Node's option and error-code types
	$(CARGO) run -q -p oauth-refresh-generate

lint: generate ## rustfmt, clippy with warnings as errors, and the drift check of every generated file
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	git diff --exit-code -- $(GENERATED)

test-rust: redis-server postgres-server ## The Rust suites: unit, conformance (TLS, proxies), errors, secrets, proxies, stores
	mkdir -p $(LEAK)
	$(PG) $(CARGO) test --features oauth-refresh/redis,oauth-refresh/postgres -- --nocapture $(call TEE,rust)

# The Redis tests start their own redis-server on loopback; without one (and not root to
# install it) they say that they were skipped and why. Under CI a missing one fails them.
redis-server:
	scripts/ensure-packages.sh redis-server || echo "the Redis tests will be skipped"

# Likewise the PostgreSQL tests: their own server (initdb into a temp dir, a free loopback
# port), from the Debian package postgresql.
postgres-server:
	scripts/ensure-packages.sh postgresql || echo "the PostgreSQL tests will be skipped"

# Python: a venv at .venv with maturin, pytest and mypy; the wheel is built and installed in it.
VENV := .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: bindings-python/requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r bindings-python/requirements-dev.txt
	touch $@

# The wheel is the one `make dist` ships: linked by zig (the ziglang package) against glibc 2.17,
# so it is tagged manylinux2014; its own target dir, as zig's linker and C compiler differ.
python: $(VENV)/.installed ## Build the Python wheel (manylinux2014, abi3) and install it into .venv
	rm -rf target/wheels
	CARGO_ZIGBUILD_PYTHON_PATH=$(CURDIR)/$(PY) CARGO_TARGET_DIR=target/manylinux $(VENV)/bin/maturin build --release -q \
	  --zig --compatibility manylinux2014 -i $(PY) -m bindings-python/Cargo.toml -o target/wheels
	$(PY) -m pip install -q --force-reinstall --no-deps target/wheels/*.whl

test-python: python build redis-server postgres-server ## The Python suite (pytest), the stub check (mypy.stubtest) and a typed program (mypy --strict)
	mkdir -p $(LEAK)
	cd bindings-python/tests && ../../$(PG) ../../$(REDIS) ../../$(PY) -m pytest -q -s -p no:cacheprovider -rs . $(call TEE,python)
	cd bindings-python/tests && ../../$(PY) -m mypy.stubtest oauth_refresh --allowlist ../stubtest-allowlist.txt
	cd bindings-python/tests && ../../$(PY) -m mypy --strict typed_usage.py

# Node: npm ci, then `napi build`, which also regenerates index.js and index.d.ts; CI fails
# when they differ from the committed ones.
NAPI_BUILD := npx napi build --platform --release --dts-header "$$(cat dts-header.d.ts generated.d.ts)"

node: ## Build the Node addon (npm ci, napi build) and regenerate index.js / index.d.ts
	cd bindings-node && npm ci --no-audit --no-fund --loglevel=error
	cd bindings-node && $(NAPI_BUILD)

test-node: node build redis-server postgres-server ## The Node suite (node --test), the .d.ts check (tsc) and the drift check
	git diff --exit-code -- bindings-node/index.js bindings-node/index.d.ts
	mkdir -p $(LEAK)
	cd bindings-node && ../$(PG) ../$(REDIS) node --test --test-reporter=tap tests/ $(call TEE,node) | tee ../target/node-tests.tap
	grep -Eq '^# pass [1-9]' target/node-tests.tap
	grep -Eq '^# fail 0$$' target/node-tests.tap
	cd bindings-node && npx tsc -p tests/types/tsconfig.json

# C: the library (debug for the tests, release for install), test programs linked statically,
# dynamically, with ASan+UBSan, and run under valgrind.
C_TESTS := target/c-tests
C_FLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -Ibindings-c/include -I$(C_TESTS)
STATIC_LIBS := -lpthread -ldl -lm -lrt -lutil -lgcc_s
C_PROGRAMS := api conformance manager redis_store accounts
VALGRIND := valgrind -q --suppressions=bindings-c/tests/valgrind.supp --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=1
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

c: ## Build liboauth_refresh (.a and .so); `make generate` writes its header
	$(CARGO) build -p oauth-refresh-c

install: ## Install header, libraries and oauth_refresh.pc under PREFIX (default /usr/local)
	$(CARGO) build --release -p oauth-refresh-c
	install -d $(PREFIX)/include $(PREFIX)/lib/pkgconfig
	install -m 644 bindings-c/include/oauth_refresh.h $(PREFIX)/include/
	install -m 644 target/release/liboauth_refresh.a $(PREFIX)/lib/
	install -m 755 target/release/liboauth_refresh.so $(PREFIX)/lib/liboauth_refresh.so.$(VERSION)
	ln -sf liboauth_refresh.so.$(VERSION) $(PREFIX)/lib/liboauth_refresh.so.$(SOVERSION)
	ln -sf liboauth_refresh.so.$(SOVERSION) $(PREFIX)/lib/liboauth_refresh.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@STATIC_LIBS@|$(STATIC_LIBS)|' \
	  bindings-c/oauth_refresh.pc.in > $(PREFIX)/lib/pkgconfig/oauth_refresh.pc

# The demo is built the way users build: from an installed prefix, through pkg-config.
c-demo:
	scripts/ensure-packages.sh pkg-config
	$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/target/c-prefix
	mkdir -p $(C_TESTS)
	cc -std=c11 -Wall -Wextra -Werror -pedantic bindings-c/examples/demo.c \
	  $$(PKG_CONFIG_PATH=$(CURDIR)/target/c-prefix/lib/pkgconfig pkg-config --cflags --libs oauth_refresh) \
	  -Wl,-rpath,$(CURDIR)/target/c-prefix/lib -o $(C_TESTS)/demo
	cc -std=c11 -Wall -Wextra -Werror -pedantic bindings-c/examples/many_hosts.c \
	  $$(PKG_CONFIG_PATH=$(CURDIR)/target/c-prefix/lib/pkgconfig pkg-config --cflags --libs oauth_refresh) \
	  -Wl,-rpath,$(CURDIR)/target/c-prefix/lib -o $(C_TESTS)/many_hosts
	for example in many_accounts postgres_accounts; do \
	  cc -std=c11 -Wall -Wextra -Werror -pedantic bindings-c/examples/$$example.c \
	    $$(PKG_CONFIG_PATH=$(CURDIR)/target/c-prefix/lib/pkgconfig pkg-config --cflags --libs oauth_refresh) \
	    -Wl,-rpath,$(CURDIR)/target/c-prefix/lib -o $(C_TESTS)/$$example; \
	done

test-c: c build c-demo redis-server postgres-server ## The C suite: static, dynamic, ASan+UBSan, valgrind, and the pkg-config build
	scripts/ensure-packages.sh valgrind
	python3 bindings-c/tests/check_surface.py target/debug/liboauth_refresh.so
	python3 bindings-c/tests/gen_cases.py > $(C_TESTS)/cases.h
	for p in $(C_PROGRAMS) postgres_store; do \
	  src="bindings-c/tests/$$p.c bindings-c/tests/support.c"; \
	  cc $(C_FLAGS) $$src target/debug/liboauth_refresh.a $(STATIC_LIBS) -o $(C_TESTS)/$$p-static; \
	  cc $(C_FLAGS) $$src -Ltarget/debug -loauth_refresh -Wl,-rpath,$(CURDIR)/target/debug -o $(C_TESTS)/$$p-dynamic; \
	  cc $(C_FLAGS) -g -fsanitize=address,undefined -fno-omit-frame-pointer $$src \
	    target/debug/liboauth_refresh.a $(STATIC_LIBS) -o $(C_TESTS)/$$p-asan; \
	done
	for p in $(C_PROGRAMS); do \
	  $(SERVER) $(REDIS) $(C_TESTS)/$$p-static; \
	  export OAUTH_REFRESH_TEST_SECONDS=4; \
	  $(SERVER) $(REDIS) $(C_TESTS)/$$p-dynamic; \
	  UBSAN_OPTIONS=halt_on_error=1 $(SERVER) $(REDIS) $(C_TESTS)/$$p-asan; \
	  $(SERVER) $(REDIS) $(VALGRIND) $(C_TESTS)/$$p-static; \
	  unset OAUTH_REFRESH_TEST_SECONDS; \
	done $(call TEE,c)
	$(PG) bash -c '$(SERVER) $(C_TESTS)/postgres_store-static && $(SERVER) $(C_TESTS)/postgres_store-dynamic && \
	  UBSAN_OPTIONS=halt_on_error=1 $(SERVER) $(C_TESTS)/postgres_store-asan && \
	  $(SERVER) $(VALGRIND) $(C_TESTS)/postgres_store-static' $(call TEE,c)

# Python, Node and C processes sharing one account through one PostgresStore.
test-mixed: python node c-demo postgres-server ## Python, Node and C processes share one account through PostgreSQL; none sends a consumed token
	mkdir -p $(LEAK)
	cc -std=c11 -Wall -Wextra -Werror -pedantic tests/mixed/worker.c \
	  $$(PKG_CONFIG_PATH=$(CURDIR)/target/c-prefix/lib/pkgconfig pkg-config --cflags --libs oauth_refresh) \
	  -Wl,-rpath,$(CURDIR)/target/c-prefix/lib -o $(C_TESTS)/mixed-worker
	$(SERVER) $(PG) $(PY) tests/mixed/run.py $(PY) $(C_TESTS)/mixed-worker $(call TEE,mixed)

# The property tests run a few hundred cases in `make test`; before a release, many more.
FUZZ_CASES ?= 50000
fuzz: ## Property tests over response classification and token parsing, with FUZZ_CASES cases each (default 50000)
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --release -p oauth-refresh --features redis --lib props

# Benchmarks (not part of `make test`): peers are installed into bench/peers (ignored).
bench: python node redis-server postgres-server ## Benchmark every language's refresh against its peers, TokenManager and AccountTokens with every store; writes bench/results/latest.md
	scripts/ensure-packages.sh valgrind
	scripts/ensure-packages.sh libcurl4-openssl-dev libcjson-dev
	$(CARGO) build --release -p token-server -p oauth-refresh-bench
	$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/target/c-prefix
	test -x bench/peers/venv/bin/python || python3 -m venv bench/peers/venv
	bench/peers/venv/bin/pip install -q -r bench/requirements-peers.txt
	bench/peers/venv/bin/pip install -q --force-reinstall --no-deps target/wheels/*.whl
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error
	cc -O2 -std=c11 -Wall -Wextra -Werror -Itarget/c-prefix/include bench/c_bench.c \
	  target/c-prefix/lib/liboauth_refresh.a $(STATIC_LIBS) -lcurl -lcjson -o bench/peers/c_bench
	taskset -c 0 $(PG) $(REDIS) python3 bench/run.py $(BENCH_ARGS)  # the servers on CPU 0 with the rest

# make dist, make test-dist: the wheel, the npm packages and the C tarball (dist.mk).
include dist.mk
