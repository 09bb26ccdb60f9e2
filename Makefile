# lanchat build, test, benchmark and demo entry points.
GO      ?= go
BIN     ?= bin
PKGS    := ./...

.PHONY: all build test unit e2e lint bench demo fuzz clean cross dist wine-test

all: build

## build: compile the binaries into ./bin
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## test: everything CI runs: lint, unit tests with -race (fuzz seed corpora
## included), end-to-end tests with real processes
test: lint
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

## unit: unit tests only (no e2e)
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

## e2e: end-to-end tests only
e2e:
	$(GO) test -count=1 -v ./e2e/...

## lint: formatting and vet
lint:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: run every fuzz target for FUZZTIME each (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=200x $$pkg || exit 1; \
	  done; \
	done

## bench: run the benchmarks and print a table (not part of test)
bench: build
	./bench/run.sh

## demo: build, then run a server and two peers on this machine, on free
## loopback ports (DEMO_ADDR, DEMO_METRICS: HOST:PORT to choose them;
## DEMO_KEEP=1 keeps them running)
demo:
	@DEMO_BUILD=1 BIN=$(BIN) GO=$(GO) ./scripts/demo.sh

## cross: build every binary and vet every package (tests included) for
## each release target; bench/ holds Linux measuring tools and is left out
TARGETS    := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
CROSS_PKGS  = $$($(GO) list ./... | grep -v /lanchat/bench)
cross:
	@set -e; for t in $(TARGETS); do \
	  os=$${t%/*}; arch=$${t#*/}; echo "== $$os/$$arch"; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/... ; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) vet $(CROSS_PKGS); \
	done

## dist: reproducible release archives for each target in $(DIST)/, with
## SHA256SUMS: -trimpath, no build ID, no cgo, the commit and its time from
## git, every archive entry dated at the commit's time
DIST      ?= release
COMMIT    := $(shell git rev-parse HEAD 2>/dev/null)
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
EPOCH     := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
LDFLAGS   := -s -w -buildid= -X github.com/lanchat/lanchat/internal/buildinfo.version=$(VERSION) -X github.com/lanchat/lanchat/internal/buildinfo.commit=$(COMMIT)
DISTFILES := README.md $(wildcard LICENSE LICENSE.md COPYING) dist/systemd dist/launchd
dist:
	@set -e; rm -rf $(DIST); mkdir -p $(DIST); \
	$(GO) build -o $(DIST)/.distpack ./scripts/distpack; \
	for t in $(TARGETS); do \
	  os=$${t%/*}; arch=$${t#*/}; name=lanchat-$(VERSION)-$$os-$$arch; dir=$(DIST)/$$name; \
	  mkdir -p $$dir; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=true -ldflags '$(LDFLAGS)' -o $$dir/ ./cmd/... ; \
	  cp -R $(DISTFILES) $$dir/; \
	  if [ $$os = windows ]; then ext=zip; else ext=tar.gz; fi; \
	  $(DIST)/.distpack -mtime $(EPOCH) -o $(DIST)/$$name.$$ext $$dir; \
	  rm -rf $$dir; \
	done; \
	rm $(DIST)/.distpack; \
	cd $(DIST) && sha256sum lanchat-* > SHA256SUMS && cat SHA256SUMS

## wine-test: the unit tests of the packages with no Linux-only parts, built
## for windows/amd64 and run under Wine; skipped, saying why, where Wine is
## missing or too old to start a Go program (scripts/wine-test.sh)
WINE_PKGS := ./internal/buildinfo ./internal/envelope ./internal/keys ./internal/wire
wine-test:
	./scripts/wine-test.sh $(WINE_PKGS)

clean:
	rm -rf $(BIN) $(DIST)
