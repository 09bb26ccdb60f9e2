# lanchat build, test, benchmark and demo entry points.
GO      ?= go
BIN     ?= bin
PKGS    := ./...

.PHONY: all build test unit e2e lint bench demo fuzz clean

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

## demo: start a server (and peers, once they exist) on this machine
demo: build
	./scripts/demo.sh

clean:
	rm -rf $(BIN)
