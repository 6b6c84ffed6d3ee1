# Switchboard: make run starts the service on its embedded defaults; make test runs every test.
GO ?= go

.PHONY: run test bench bench-smoke lint graph fuzz fault load soak seed-compare goldens goldens-changed mutate

# Every fuzz target, as package:target. Their seeds (f.Add and testdata/fuzz)
# run in make test; make fuzz explores each for FUZZTIME executions. A count,
# not a duration: Go before 1.27 can fail a duration run at its deadline with a
# bare "context deadline exceeded" and no failing input (golang/go#75804).
FUZZ_TARGETS = \
	./cmd/switchboard/internal/service:FuzzFetchBody ./cmd/switchboard/internal/service:FuzzEvent \
	./cmd/switchboard/internal/service:FuzzEventData ./cmd/switchboard/internal/service:FuzzSeedRequest \
	./cmd/switchboard/internal/voipbin:FuzzSpeakable \
	./flow:FuzzParseConfig ./flow:FuzzIsPriority ./prompts:FuzzLabels
FUZZTIME ?= 300000x

# make run listens on loopback only: nothing is asked for credentials there.
# ADDR=:3000 listens on every interface. The binary is built, then exec'd, so
# that stopping make stops the server (go run would leave its child running).
ADDR ?= 127.0.0.1:3000
RUN_BIN ?= $(or $(TMPDIR),/tmp)/switchboard-run
run:
	$(GO) build -o $(RUN_BIN) ./cmd/switchboard && exec $(RUN_BIN) serve --addr $(ADDR) $(RUN_FLAGS)

test:
	@if [ -z "$$REDIS_URL" ] && ! command -v redis-server >/dev/null; then \
		echo "*** NOTICE: no redis-server on PATH and REDIS_URL unset: the Redis store tests are SKIPPED ***" >&2; fi
	@command -v chromium >/dev/null || \
		echo "*** NOTICE: no chromium on PATH: the eval report's browser test is SKIPPED (apt-get install -y chromium) ***" >&2
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Every benchmark once (CI): a benchmark that no longer runs fails here, not
# on the day its figures are wanted.
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

lint:
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)

# The pictures of behaviour and the recorded floor, hashed in testdata/GOLDEN.sha256
# (TestGoldensAreListed). After go test ./... -update, make goldens records the new
# hashes; the list's diff names every golden a change touched.
GOLDENS = $(sort $(wildcard testdata/conversations/*.golden)) $(sort $(wildcard testdata/conversations/handoff/*.golden)) testdata/flow.mmd testdata/corpus/recorded.json \
	prompts/testdata/system.golden
goldens:
	@sha256sum $(GOLDENS) > testdata/GOLDEN.sha256

# Which goldens, floors and corpora differ from BASE (CI prints this for the reviewer).
BASE ?= HEAD
goldens-changed:
	@git diff --stat $(BASE) -- testdata prompts/testdata flow/testdata

# Mutation testing (README, "Mutation testing") where a bug loses a call or a
# word: the store, flow's turn and events files, the VoIPBin handlers. Each
# mutant runs its package's tests (-short: no fault run); about 15 minutes on
# 2 cores, so not in CI. -count=1: a cached coverage run would set the
# timeout (5 times it) too short, and every slow mutant would time out.
# MUTATE_FLAGS adds gremlins flags (--diff main, say).
GREMLINS = $(GO) run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0 unleash --workers 2 --timeout-coefficient 5 $(MUTATE_FLAGS)
# Every file of a package but the given ones, as one gremlins exclude pattern.
only = "(^|/)($(subst $(eval) ,|,$(basename $(notdir $(filter-out $(2),$(wildcard $(1)/*.go))))))\.go$$"
mutate:
	GOFLAGS=-count=1 $(GREMLINS) -E '_test\.go$$' -E 'redistest/' -E 'storetest/' ./store
	GOFLAGS=-count=1 $(GREMLINS) -E $(call only,flow,flow/turn.go flow/events.go) -E 'internal/' ./flow
	GOFLAGS="-short -count=1" $(GREMLINS) -E $(call only,cmd/switchboard/internal/service,cmd/switchboard/internal/service/voipbin.go) ./cmd/switchboard/internal/service

graph:
	$(GO) run ./cmd/switchboard graph

# The fault run: two replicas on one Redis under simulated VoIPBin calls, Redis
# killed and restarted, the model flapping; it prints what callers got.
FAULTTIME ?= 60s
fault:
	$(GO) test -run '^TestFaultRun$$' -count=1 -v ./cmd/switchboard/internal/service -fault $(FAULTTIME)

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done

# Loopback load runs (BENCHMARKS.md). Each is bounded in time and count and
# starts what it needs: serve as a child process, a model stand-in, a private
# redis-server on a free port. LOAD_FLAGS adds or overrides flags.
LOAD = $(GO) run ./cmd/switchboard load
SEED ?= ../shared/seed
SEED_DIR ?= /tmp/switchboard-seedserver

load:
	$(LOAD) -run voipbin -rate 2000 -inflight 64 -duration 30s $(LOAD_FLAGS)
	$(LOAD) -run webhook -words "our production system is down" -want +14155550911 -rate 5000 -inflight 64 -duration 30s $(LOAD_FLAGS)
	$(LOAD) -run floor -rate 5000 -inflight 64 -duration 10s $(LOAD_FLAGS)

soak:
	$(LOAD) -run voipbin -rate 1000 -inflight 64 -duration 10m -sample 30s $(LOAD_FLAGS)

# The seed article's own server beside Switchboard, built in $(SEED_DIR), outside the repository.
# BASELINE=path/to/an/older/switchboard measures that build beside them too.
seed-compare:
	bash cmd/switchboard/internal/load/seedserver.sh $(SEED) $(SEED_DIR)
	$(LOAD) -run compare -seed $(SEED_DIR)/dist/server.js $(if $(BASELINE),-baseline $(BASELINE)) \
		-inflight 50,1000 -model-ms 0,300 -duration 10s -rounds 2 $(LOAD_FLAGS)
