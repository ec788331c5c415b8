# audit — build, test, lint, demo, benchmarks.
GO            ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
PKGS          := ./...
BIN           := bin/audit
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w -X main.version=$(VERSION)
# One set of build flags for build, install, demo and dist, so that they share
# the build cache.
BUILDFLAGS    := -trimpath -ldflags '$(LDFLAGS)'
# Release platforms for make dist (os/arch).
PLATFORMS     ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST          := dist
# make install puts audit in $(PREFIX)/bin when PREFIX is set, else where
# `go install` would: $GOBIN, else the first entry of $GOPATH + /bin.
PREFIX        ?=

# The container image (deploy/Containerfile): FROM scratch, the static
# binary, CA certificates, a non-root user.
IMAGE         ?= localhost/audit:$(VERSION)
IMAGE_ARCH    ?= $(shell $(GO) env GOARCH)
IMAGE_CONTEXT ?= bin/image
PODMAN        ?= podman
CA_BUNDLE     ?= /etc/ssl/certs/ca-certificates.crt

.PHONY: all build install dist test test-short lint fmt demo bench fuzz generate golden clean image

all: lint test build

build:
	$(GO) build $(BUILDFLAGS) -o $(BIN) ./cmd/audit

install: build
	@if [ -n "$(PREFIX)" ]; then dir="$(PREFIX)/bin"; \
	else dir="$$($(GO) env GOBIN)"; \
	  if [ -z "$$dir" ]; then gopath="$$($(GO) env GOPATH)"; dir="$${gopath%%:*}/bin"; fi; \
	fi; \
	mkdir -p "$(DESTDIR)$$dir" && install -m 0755 $(BIN) "$(DESTDIR)$$dir/audit" && \
	echo "installed $(DESTDIR)$$dir/audit"

# Release binaries: static (no cgo), without local paths (-trimpath) and
# without VCS stamping (the version comes from -X main.version), so the same
# commit and Go version give the same bytes on any machine. GOFLAGS from the
# environment is cleared and the instruction-set levels are pinned because
# both would change the output. dist/SHA256SUMS is checked with
# `cd dist && sha256sum -c SHA256SUMS`.
dist:
	rm -rf $(DIST)
	mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  echo "$(GO) build $$os/$$arch -> $(DIST)/audit-$$os-$$arch"; \
	  GOFLAGS= CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOAMD64=v1 GOARM64=v8.0 \
	    $(GO) build -buildvcs=false $(BUILDFLAGS) -o $(DIST)/audit-$$os-$$arch ./cmd/audit; \
	done
	@cd $(DIST) && if command -v sha256sum >/dev/null 2>&1; then sha256sum audit-*; \
	  else shasum -a 256 audit-*; fi > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

# The container image, built with podman from a context of prepared files:
# the binary comes from the host Go toolchain, so the build pulls no base
# image and needs no network. Push it with e.g.
#   podman push $(IMAGE) <account>.dkr.ecr.<region>.amazonaws.com/audit:$(VERSION)
image:
	mkdir -p $(IMAGE_CONTEXT)/home
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(IMAGE_CONTEXT)/audit ./cmd/audit
	cp $(CA_BUNDLE) $(IMAGE_CONTEXT)/ca-certificates.crt
	cp deploy/image/passwd deploy/image/group $(IMAGE_CONTEXT)/
	$(PODMAN) build --file deploy/Containerfile --arch $(IMAGE_ARCH) --build-arg VERSION=$(VERSION) --tag $(IMAGE) $(IMAGE_CONTEXT)

# The README's test command. Integration tests against moto_server and the
# browser/LibreOffice report tests run here too (they skip only outside CI
# when their tool is missing).
test:
	$(GO) test -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -short -count=1 $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# A full Organization scan of the built-in demo organization (served by the
# in-process fake AWS endpoint), writing every report format to out/. It runs
# the binary make build writes, so the two share one build.
demo: build
	$(BIN) demo --out out

# Benchmarks (not run in CI): policy evaluation, loading the demo snapshot
# and a 160 MB generated one, writing 100,000 findings in
# every format (time and peak memory, each in its own process), offline
# analysis of the generated Organization's snapshot (11,088 task
# definitions; the built binary, --format all: wall time, CPU time and peak
# RSS of each run; the snapshot is written once, by a scan through the fake
# endpoint, to BENCH_SNAPSHOT), and live scans of generated Organizations of
# BENCH_SIZES accounts (default 200 and 2,000; 4 regions × 30 task
# definitions each) through the fake endpoint, served from a separate
# process so that the peak RSS and the CPU time per call printed are the
# scanner's alone. Each scan prints its wall time, its calls per
# account×region per operation next to the minimum, its peak RSS and its
# client CPU per call. Last, the same Organizations scanned end to end by the
# built binary (audit scan --org --format all: collection, analysis and
# every report in one process), with its wall time, CPU time and own peak
# RSS.
BENCH_SIZES    ?= 200 2000
BENCH_SNAPSHOT ?= bin/bench-snapshot.json
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -cpu 1 ./policy/
	$(GO) test -run '^$$' -bench 'BenchmarkLoad|BenchmarkStream' -benchmem -count=1 -cpu 1 ./inventory/
	AUDIT_BENCH=1 $(GO) test -run TestBenchMemory -v -count=1 -timeout 30m ./report/
	$(GO) run ./internal/benchworld -out $(BENCH_SNAPSHOT) -audit $(BIN) -runs 3 -memlimit 350MiB
	for n in $(BENCH_SIZES); do \
		echo "== BenchmarkOrgScan, $$n accounts"; \
		BENCH_FAKE=process BENCH_ACCOUNTS=$$n $(GO) test -run '^$$' -bench BenchmarkOrgScan -benchtime 1x -count=1 \
			-timeout 40m ./scanner/ || exit 1; \
	done
	$(GO) run ./internal/benchworld -audit $(BIN) -live "$(BENCH_SIZES)"

# Each fuzz target for FUZZTIME (default 5m), one after another.
FUZZTIME ?= 5m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzMatchResource$$' -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzMatchResourceUnknown$$' -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzMatchAction$$' -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./inventory/
	$(GO) test -run '^$$' -fuzz '^FuzzStream$$' -fuzztime $(FUZZTIME) ./inventory/
	$(GO) test -run '^$$' -fuzz '^FuzzEscape$$' -fuzztime $(FUZZTIME) ./report/
	$(GO) test -run '^$$' -fuzz '^FuzzReadResult$$' -fuzztime $(FUZZTIME) ./report/
	$(GO) test -run '^$$' -fuzz '^FuzzGlobPrefix$$' -fuzztime $(FUZZTIME) ./policy/
	$(GO) test -run '^$$' -fuzz '^FuzzParseDestination$$' -fuzztime $(FUZZTIME) ./store/
	$(GO) test -run '^$$' -fuzz '^FuzzParseObject$$' -fuzztime $(FUZZTIME) ./store/
	$(GO) test -run '^$$' -fuzz '^FuzzGlob$$' -fuzztime $(FUZZTIME) ./triage/
	$(GO) test -run '^$$' -fuzz '^FuzzParseSuppressions$$' -fuzztime $(FUZZTIME) ./triage/
	$(GO) test -run '^$$' -fuzz '^FuzzParseBaseline$$' -fuzztime $(FUZZTIME) ./triage/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadFile$$' -fuzztime $(FUZZTIME) ./internal/config/

# Regenerate the demo snapshot from internal/demo.
generate:
	$(GO) generate ./internal/demo/

# Refresh golden files after an intended change.
golden:
	$(GO) test ./findings/ ./report/ ./internal/config/ ./cmd/audit/ -update

clean:
	rm -rf bin out $(DIST)
