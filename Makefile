# flowtrace — `make help` lists the targets (from the #? comments).

GO      ?= go
BIN     := bin/flowtrace
CASE    ?= fixtures/dev-theft
PKGS    := ./...

.DEFAULT_GOAL := help

#? help: list the targets
.PHONY: help
help:
	@awk -F': ' '/^#\?/ { sub(/^#\? */, ""); split($$0, a, ": "); printf "  %-14s %s\n", a[1], substr($$0, length(a[1]) + 3) }' $(MAKEFILE_LIST)

#? build: build bin/flowtrace and bin/flowtrace-scenario
.PHONY: build
build:
	$(GO) build -o bin/ ./cmd/...

#? demo: trace the recorded dev-theft case with no network into out/demo
.PHONY: demo
demo: build
	cd $(CASE) && $(CURDIR)/$(BIN) trace --replay rpc.replay $$(cat args) --out $(CURDIR)/out/demo
	@echo "demo: open out/demo/report.md and out/demo/graph.svg"

#? test: unit, replay and live dev-node tests
.PHONY: test
test:
	$(GO) test -count=1 $(PKGS)

#? race: the tests under the race detector
.PHONY: race
race:
	$(GO) test -count=1 -race $(PKGS)

#? lint: gofmt and go vet
.PHONY: lint
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

#? bench-batch: flowtrace batch on asynq with 1, 2 and 4 worker processes: 1,000 cases (10,000 with 4) at 20 ms per round trip, a warm re-run, the 6-hop case cold and warm at 50 ms
BATCH_LARGE ?= 10000
BATCH_CONCURRENCY ?= 2
.PHONY: bench-batch
bench-batch: build
	$(GO) build -o bin/ ./cmd/flowtrace-bench
	bin/flowtrace-bench --batch 1000 --batch-large $(BATCH_LARGE) --batch-workers 1,2,4 --batch-concurrency $(BATCH_CONCURRENCY) --batch-latency 20ms --out out/bench-batch.json

#? e2e: build geth v1.17.8 and btcd v0.26.2 (cached), play the scenario on geth --dev and a THORChain swap on geth and btcd, trace both with bin/flowtrace
.PHONY: e2e
e2e: build
	bash fixtures/e2e/e2e.sh

#? fixtures: re-record fixtures/*/ from the in-process dev node and btcd (rpc.replay, truth.json, want.*), fixtures/two-chain from both, fixtures/three-evm and three-evm-cli from three dev nodes
.PHONY: fixtures
fixtures:
	$(GO) test -count=1 ./cmd/flowtrace -run 'TestFixtures|TestTransfersFixture' -update
	$(GO) test -count=1 ./chains/crosschain -run 'TestTraceContinuesFromEthereumToBitcoin' -record
	$(GO) test -count=1 ./chains/crosschain -run 'TestTraceAcrossThreeEVMChains' -record-evm

#? bench: measure round trips, latency, scale, exports, rendering and the cache against their bounds; prints one table, writes out/bench.json
.PHONY: bench
bench: build
	$(GO) build -o bin/ ./cmd/flowtrace-bench
	bin/flowtrace-bench --out out/bench.json

#? bench-providers: only the provider-limits row and the same flow without limits, each with the load average; writes out/bench-providers.json
.PHONY: bench-providers
bench-providers:
	$(GO) build -o bin/ ./cmd/flowtrace-bench
	bin/flowtrace-bench --providers --out out/bench-providers.json

#? fuzz: run every go test -fuzz target for FUZZTIME each (default 15s); seed corpora in */testdata/fuzz
FUZZTIME ?= 15s
.PHONY: fuzz
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
		for t in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz: $$dir $$t"; \
			run() { $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$dir 2>&1; }; \
			out=$$(run) || { \
				if echo "$$out" | grep -q 'Failing input written' || ! echo "$$out" | grep -q 'context deadline exceeded'; then echo "$$out" | tail -30; exit 1; fi; \
				echo "fuzz: $$t: the fuzz engine timed out stopping its workers, with no failing input; once more"; \
				out=$$(run) || { echo "$$out" | tail -30; exit 1; }; \
			}; \
			echo "$$out" | grep 'execs:' | tail -1; \
		done; \
	done

#? patterns-eval: play 24 randomized scenarios on the dev node, trace each, report pattern precision and recall
.PHONY: patterns-eval
patterns-eval:
	$(GO) test -count=1 ./cmd/flowtrace -run 'TestPatternsEval' -patterns-eval 24 -v

#? bench-btc: the Bitcoin block scan of 1,440 synthetic mainnet-sized blocks at 50 ms per round trip (one read per block, < 500 MiB)
.PHONY: bench-btc
bench-btc:
	$(GO) build -o bin/ ./cmd/flowtrace-bench
	bin/flowtrace-bench --btc-scan 1440 --out out/bench-btc.json

#? web: rebuild the page of flowtrace serve (npm ci + esbuild) into cmd/flowtrace/internal/serve/web/dist
WEB := cmd/flowtrace/internal/serve/web
.PHONY: web web-check
web:
	cd $(WEB) && npm ci --no-audit --no-fund && npm run build

#? web-check: rebuild the page and fail if the committed bundle differs from its sources
web-check: web
	git diff --exit-code -- $(WEB)/dist || { echo "web-check: the committed bundle is stale: run make web and commit $(WEB)/dist"; exit 1; }
