# bulkcancel — every task a developer runs. Only Go is needed.
#   make demo    build, start the fake API, cancel testdata/demo.csv, print the summary
#   make demo-limit  the same against a fake API with a 150/s limit, at the default rate
#   make test    go vet + every test with the race detector
#   make bench   the performance tables (see README "Performance")
#   make bench-rate  only the adaptive-rate cells of make bench
#   make fuzz    each fuzz target for FUZZTIME
#   make lint    gofmt + go vet
#   make crashloop  KILLS kill -9s and resumes against a faulty fake, then what must hold

GO       ?= go
BIN      := bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
FUZZTIME ?= 30s
DEMO_OUT := demo-out

.PHONY: all build install test race vet lint demo demo-faults demo-limit bench bench-rate fuzz crashloop clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/bulkcancel ./cmd/bulkcancel
	$(GO) build -trimpath -o $(BIN)/fakesubverse ./cmd/fakesubverse

# install puts bulkcancel in $(go env GOBIN), or $(go env GOPATH)/bin.
install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/bulkcancel

vet:
	$(GO) vet ./...

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: vet
	$(GO) test -race -count=1 ./...

# The demo: a fake API with 3,000 calls in a realistic mix of statuses, and
# an input mixing queued, placed, unknown, duplicate and invalid IDs.
demo: build
	@mkdir -p $(DEMO_OUT)
	@FAKE_ARGS="--calls-file testdata/demo-calls.csv" INPUT=testdata/demo.csv \
	  BULK_ARGS="--rate 200 --concurrency 8" OUT=$(DEMO_OUT) BIN=$(BIN) sh testdata/demo.sh

# The same with a fake that fails about 30% of first attempts in mixed ways.
demo-faults: build
	@mkdir -p $(DEMO_OUT)
	@FAKE_ARGS="--calls-file testdata/demo-calls.csv --fault-first-n 1 --p500 0.06 --p503 0.06 --p429 0.02 --p502 0.07 --p-drop-before 0.04 --p-drop-after 0.05 --retry-after 0" \
	  INPUT=testdata/demo.csv BULK_ARGS="--rate 200 --concurrency 8 --timeout 5s" OUT=$(DEMO_OUT) BIN=$(BIN) sh testdata/demo.sh

# A fake API with a limit of its own (150/s token bucket, burst 15, 429 with
# Retry-After) and 3,000 queued calls; bulkcancel with its default rate, or
# with DEMO_LIMIT_ARGS (e.g. make demo-limit DEMO_LIMIT_ARGS="--rate 1000").
DEMO_LIMIT_ARGS ?=
demo-limit: build
	@mkdir -p $(DEMO_OUT)
	@FAKE_ARGS="--calls 3000 --calls-status call_in_queue --ids-out $(DEMO_OUT)/limit-calls.csv --limit 150 --limit-burst 15" \
	  INPUT=$(DEMO_OUT)/limit-calls.csv BULK_ARGS="$(DEMO_LIMIT_ARGS)" OUT=$(DEMO_OUT) BIN=$(BIN) sh testdata/demo.sh

fuzz:
	@for pkg_target in ./batch:FuzzClassify ./batch:FuzzReadInput ./batch:FuzzCancelURL ./report:FuzzReadResume ./report:FuzzPageFile; do \
	  pkg=$${pkg_target%%:*}; target=$${pkg_target##*:}; \
	  echo "== $$target ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# Not part of make test: minutes, and heavy on the CPU.
KILLS ?= 50
IDS   ?= 20000
crashloop:
	$(GO) test -tags crashloop -run '^TestCrashLoop$$' -count=1 -timeout 60m -v ./cmd/bulkcancel -args -kills $(KILLS) -ids $(IDS)

bench: build
	$(GO) run ./cmd/benchtable

bench-rate: build
	$(GO) run ./cmd/benchtable -only adaptive

clean:
	rm -rf $(BIN) $(DEMO_OUT)
