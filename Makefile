# Switchboard: make run starts the service on its embedded defaults; make test runs every test.
GO ?= go

.PHONY: run test bench lint graph

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
