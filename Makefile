# Switchboard: make run starts the service on its embedded defaults; make test runs every test.
GO ?= go

.PHONY: run test bench lint graph load soak seed-compare

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

# Loopback load runs (BENCHMARKS.md). Each is bounded in time and count and
# starts what it needs: serve as a child process, a model stand-in, a private
# redis-server on a free port. LOAD_FLAGS adds or overrides flags.
LOAD = $(GO) run ./cmd/switchboard load
SEED ?= ../shared/seed
SEED_DIR ?= /tmp/switchboard-seedserver

load:
	$(LOAD) -run voipbin -rate 2000 -inflight 64 -duration 30s $(LOAD_FLAGS)
	$(LOAD) -run webhook -words "our production system is down" -want +14155550911 -rate 5000 -inflight 64 -duration 30s $(LOAD_FLAGS)

soak:
	$(LOAD) -run voipbin -rate 1000 -inflight 64 -duration 10m -sample 30s $(LOAD_FLAGS)

# The seed article's own server beside Switchboard, built in $(SEED_DIR), outside the repository.
# BASELINE=path/to/an/older/switchboard measures that build beside them too.
seed-compare:
	bash cmd/switchboard/internal/load/seedserver.sh $(SEED) $(SEED_DIR)
	$(LOAD) -run compare -seed $(SEED_DIR)/dist/server.js $(if $(BASELINE),-baseline $(BASELINE)) \
		-inflight 50,1000 -model-ms 0,300 -duration 10s -rounds 2 $(LOAD_FLAGS)
