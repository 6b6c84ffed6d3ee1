# Switchboard: make run starts the service on its embedded defaults; make test runs every test.
GO ?= go

.PHONY: run test bench lint graph fuzz fault

# Every fuzz target, as package:target. Their seeds (f.Add and testdata/fuzz)
# run in make test; make fuzz explores each for FUZZTIME.
FUZZ_TARGETS = \
	./cmd/switchboard:FuzzFetchBody ./cmd/switchboard:FuzzEvent ./cmd/switchboard:FuzzEventData \
	./cmd/switchboard:FuzzSeedRequest ./flow:FuzzParseConfig ./flow:FuzzIsPriority ./prompts:FuzzLabels
FUZZTIME ?= 30s

run:
	$(GO) run ./cmd/switchboard serve

test:
	@if [ -z "$$REDIS_URL" ] && ! command -v redis-server >/dev/null; then \
		echo "*** NOTICE: no redis-server on PATH and REDIS_URL unset: the Redis store tests are SKIPPED ***" >&2; fi
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)

graph:
	$(GO) run ./cmd/switchboard graph

# The fault run: two replicas on one Redis under simulated VoIPBin calls, Redis
# killed and restarted, the model flapping; it prints what callers got.
FAULTTIME ?= 60s
fault:
	$(GO) test -run '^TestFaultRun$$' -count=1 -v ./cmd/switchboard -fault $(FAULTTIME)

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done
