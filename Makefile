# bulkcancel — every task a developer runs. Only Go is needed.
#   make demo    build, start the fake API, cancel testdata/demo.csv, print the summary
#   make demo-limit  the same against a fake API with a 150/s limit, at the default rate
#   make test    go vet + every test with the race detector
#   make install bulkcancel into $(go env GOBIN), else $(go env GOPATH)/bin
#   make dist    static binaries for linux, darwin, windows x amd64, arm64 in dist/, with SHA256SUMS
#   make bench   the performance tables (see docs/performance.md)
#   make bench-rate  only the adaptive-rate cells of make bench
#   make fuzz    each fuzz target for FUZZTIME
#   make lint    gofmt + go vet
#   make crashloop  KILLS kill -9s and resumes against a faulty fake, then what must hold

GO       ?= go
BIN      := bin
# Outside a git checkout (a tarball) VERSION and COMMIT are empty and nothing
# is stamped: the binary then names what Go recorded, "(devel)" or the module
# version, never a made-up one.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -s -w $(if $(VERSION),-X main.version=$(VERSION) -X main.commit=$(COMMIT))
DIST     := dist
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
FUZZTIME ?= 30s
DEMO_OUT := demo-out

.PHONY: all build install dist test race vet lint demo demo-faults demo-limit bench bench-rate fuzz crashloop clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/bulkcancel ./cmd/bulkcancel
	$(GO) build -trimpath -o $(BIN)/fakesubverse ./cmd/fakesubverse

# install puts bulkcancel in $(go env GOBIN), or $(go env GOPATH)/bin.
install:
	$(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/bulkcancel

# dist cross-compiles static binaries (no cgo), stamped as make build does,
# named bulkcancel-OS-ARCH (.exe on windows), and writes their SHA256SUMS.
dist:
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
	  echo "$(DIST)/bulkcancel-$$os-$$arch$$ext"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
	    -o $(DIST)/bulkcancel-$$os-$$arch$$ext ./cmd/bulkcancel || exit 1; \
	done
	@cd $(DIST) && if command -v sha256sum >/dev/null 2>&1; then sha256sum bulkcancel-*; \
	  else shasum -a 256 bulkcancel-*; fi >SHA256SUMS
	@echo "$(DIST)/SHA256SUMS"

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
	  BULK_ARGS="--concurrency 8" OUT=$(DEMO_OUT) BIN=$(BIN) sh testdata/demo.sh

# The same with a fake that fails about 30% of first attempts in mixed ways.
demo-faults: build
	@mkdir -p $(DEMO_OUT)
	@FAKE_ARGS="--calls-file testdata/demo-calls.csv --fault-first-n 1 --p500 0.06 --p503 0.06 --p429 0.02 --p502 0.07 --p-drop-before 0.04 --p-drop-after 0.05 --retry-after 0" \
	  INPUT=testdata/demo.csv BULK_ARGS="--concurrency 8 --timeout 5s" OUT=$(DEMO_OUT) BIN=$(BIN) sh testdata/demo.sh

# A fake API with a limit of its own (150/s token bucket, burst 15, 429 with
# Retry-After) and 3,000 queued calls; bulkcancel with its default rate, or
# with DEMO_LIMIT_ARGS (e.g. make demo-limit DEMO_LIMIT_ARGS="--rate 1000").
DEMO_LIMIT_ARGS ?=
demo-limit: build
	@mkdir -p $(DEMO_OUT)
	@FAKE_ARGS="--calls 3000 --calls-status call_in_queue --ids-out $(DEMO_OUT)/limit-calls.csv --limit 150 --limit-burst 15" \
	  INPUT=$(DEMO_OUT)/limit-calls.csv BULK_ARGS="$(DEMO_LIMIT_ARGS)" OUT=$(DEMO_OUT) BIN=$(BIN) sh testdata/demo.sh

fuzz:
	@for pkg_target in ./batch:FuzzClassify ./batch:FuzzReadInput ./batch:FuzzCancelURL ./report:FuzzReadResume; do \
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
	rm -rf $(BIN) $(DEMO_OUT) $(DIST)
