# grove — set-up, build, test. `make setup` then `make test` on a fresh Debian machine.
PREFIX ?= /usr/local
SWIFT ?= swift
APT_PACKAGES := libgit2-dev pkg-config libsqlite3-dev git python3 python3-venv time
# root runs apt-get itself; anyone else goes through sudo.
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && echo sudo)

.PHONY: setup demo deps build release debug test test-long bench bench-quick lint format install uninstall clean

## setup: install the system packages grove needs, then build the release binary
setup: deps release

## demo: setup, then grove's main job end to end on a repository it generates, each command shown
## before it runs (Fixtures/demo.sh; the demo stays in a new ${TMPDIR:-/tmp}/grove-demo.XXXXXX)
demo: deps release
	GROVE=$(RELEASE_GROVE) Fixtures/demo.sh

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

## install: the release binary to $(PREFIX)/bin, its man page (made by swift-argument-parser's
## generate-manual plugin) to share/man/man1, bash, zsh and fish completions; DESTDIR honoured
RELEASE_GROVE = "$$($(SWIFT) build -c release --show-bin-path)/grove"
MAN_PAGE := .build/plugins/GenerateManual/outputs/grove/grove.1
install: release
	$(SWIFT) package plugin generate-manual
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/man/man1" \
	  "$(DESTDIR)$(PREFIX)/share/bash-completion/completions" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions" \
	  "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d"
	install -m 0755 $(RELEASE_GROVE) "$(DESTDIR)$(PREFIX)/bin/grove"
	install -m 0644 $(MAN_PAGE) "$(DESTDIR)$(PREFIX)/share/man/man1/grove.1"
	$(RELEASE_GROVE) --generate-completion-script bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/grove"
	$(RELEASE_GROVE) --generate-completion-script zsh > "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_grove"
	$(RELEASE_GROVE) --generate-completion-script fish > "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/grove.fish"

## uninstall: remove what install put in place
uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/bin/grove" "$(DESTDIR)$(PREFIX)/share/man/man1/grove.1" \
	  "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/grove" "$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_grove" \
	  "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/grove.fish"

clean:
	rm -rf .build
