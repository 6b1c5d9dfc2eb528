# grove — set-up, build, test. `make setup` then `make test` on a fresh Debian machine.
PREFIX ?= /usr/local
SWIFT ?= swift
APT_PACKAGES := libgit2-dev pkg-config libsqlite3-dev git python3 python3-venv time
# root runs apt-get itself; anyone else goes through sudo.
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && echo sudo)

.PHONY: setup deps build release debug test test-long bench bench-quick lint format install uninstall clean

## setup: install the system packages grove needs, then build the release binary
setup: deps release

## deps: apt-get install the C libraries and tools (runs apt-get update only when needed)
deps:
	@if dpkg-query -W -f='$${Status}\n' $(APT_PACKAGES) 2>/dev/null | grep -qv 'install ok installed' \
	   || [ "$$(dpkg-query -W -f='$${Status}\n' $(APT_PACKAGES) 2>/dev/null | wc -l)" -ne $(words $(APT_PACKAGES)) ]; then \
	  echo "installing $(APT_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get install -y -q $(APT_PACKAGES) \
	    || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q $(APT_PACKAGES); }; \
	else echo "system packages present: $(APT_PACKAGES)"; fi

## release: build .build/release/grove
release:
	$(SWIFT) build -c release --product grove

build debug:
	$(SWIFT) build

## test: the whole test suite (Swift Testing)
test:
	$(SWIFT) test --disable-xctest

## test-long: the fuzz, property and fault suites at full volume (GROVE_TEST_LONG=1); not part of CI
test-long:
	GROVE_TEST_LONG=1 $(SWIFT) test --disable-xctest --filter 'Fuzz|Property|FaultTests|MergeRecovery'

## bench: grove against same-run baselines, scenarios B1-B7 (Benchmarks/run.sh; a Markdown
## table on stdout, bench-results.json); REPEAT=N pairs per scenario (default 5)
bench: release
	REPEAT="$(REPEAT)" Benchmarks/run.sh

## bench-quick: the same scenarios on small fixtures, 2 pairs: a ~1 minute smoke run
bench-quick: release
	REPEAT="$(REPEAT)" Benchmarks/run.sh --quick

## lint: swift format's strict lint over sources and tests
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

## install: copy the release binary to $(PREFIX)/bin
install: release
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 "$$($(SWIFT) build -c release --show-bin-path)/grove" "$(DESTDIR)$(PREFIX)/bin/grove"

uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/grove"

clean:
	rm -rf .build
