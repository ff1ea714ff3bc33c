# Release artifacts (included by the Makefile). `make dist` writes them all into $(DIST):
#   oauth_refresh-V-cp39-abi3-manylinux_2_17_x86_64.whl (and its sdist, oauth_refresh-V.tar.gz)
#   oauth-refresh-V.tgz + oauth-refresh-linux-x64-gnu-V.tgz (npm pack; the second holds the addon)
#   oauth_refresh-V-x86_64-linux-gnu.tar.gz (C: include/, lib/ with .a, .so.V, pkgconfig, cmake)
# They reuse the builds of `make python`, `make node` and `make install`; nothing is compiled
# twice. `make test-dist` installs each where no Rust toolchain is on PATH and uses it.
DIST := target/dist
DIST_TEST := target/dist-test
# The soname's number: liboauth_refresh.so.$(SOVERSION) (bindings-c/build.rs derives the same).
SOVERSION := $(firstword $(subst ., ,$(VERSION)))
NO_RUST := scripts/dist/no-rust.sh

.PHONY: dist c-release test-dist versions set-version static-libs

versions: ## Check that every copy of the version (package.json, package-lock.json, index.js, Cargo.lock) is Cargo.toml's
	scripts/dist/version.sh check

# `make lint` (and so `make test`) catches a version that drifted.
lint: versions

set-version: ## Set the version of every artifact: make set-version V=X.Y.Z (then add its CHANGELOG section)
	scripts/dist/version.sh set $(V)

c-release:
	$(CARGO) build --release -p oauth-refresh-c

dist: versions python node c-release ## Build the release artifacts into target/dist: the manylinux wheel and sdist, the npm packages, the C tarball
	rm -rf $(DIST) && mkdir -p $(DIST)
	VENV=$(VENV) scripts/dist/python.sh $(DIST)
	scripts/dist/node.sh $(DIST)
	STATIC_LIBS="$(STATIC_LIBS)" scripts/dist/c.sh $(DIST)
	cd $(DIST) && sha256sum -- * > SHA256SUMS
	@echo "make dist: $(DIST) (version $(VERSION))" && ls -l $(DIST)

# The sdist is built with pip where Rust exists (its own target dir, kept between runs); the
# rest runs under $(NO_RUST): PATH without cargo or rustc, next to a fresh token server.
test-dist: dist ## Install each artifact where no Rust is on PATH and use it: a venv (+ mypy --strict), an npm project (CJS, ESM, tsc --strict), C via pkg-config, CMake and static (+ valgrind)
	scripts/ensure-packages.sh cmake pkg-config valgrind
	$(CARGO) build -q -p token-server
	rm -rf $(DIST_TEST) && mkdir -p $(DIST_TEST) $(LEAK)
	scripts/dist/test-sdist.sh $(DIST) $(DIST_TEST) $(VENV) $(call TEE,dist)
	VALGRIND="$(VALGRIND)" $(SERVER) $(NO_RUST) scripts/dist/test-dist.sh $(DIST) $(DIST_TEST) $(call TEE,dist)

# Where STATIC_LIBS (the README's and oauth_refresh.pc's static link line) comes from. Not
# part of `make test`: it compiles the C library once more, in its own target dir.
static-libs: ## Print the system libraries the static C library needs, as rustc reports them, beside STATIC_LIBS
	$(CARGO) rustc -q --release -p oauth-refresh-c --crate-type staticlib --target-dir target/native-static-libs \
	  -- --print native-static-libs 2>&1 | grep native-static-libs
	@echo "STATIC_LIBS: $(STATIC_LIBS)"
