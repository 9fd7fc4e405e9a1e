# Entry points. `make run` starts the whole system, `make test` runs every test.
# The local stack (PostgreSQL, RabbitMQ, Redis, services) is managed by scripts/stack.
SHELL := /bin/bash
BUILD_DIR := build
CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

.PHONY: deps build up up-infra down ps run test cluster-up cluster-down bench bench-limits bench-send bench-saga \
	bench-reads bench-feed bench-search bench-cluster bench-median clean distclean web fuzz soak sanitize tsan

deps:
	scripts/deps.sh

# Configure once (a configured tree re-runs cmake by itself when CMakeLists change).
build: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
		echo "cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)"; \
		cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS); \
	fi
	cmake --build $(BUILD_DIR) -j$$(nproc)

up: build web
	scripts/stack up

# PostgreSQL, RabbitMQ and Redis only (for the C++ integration tests).
up-infra: deps
	scripts/stack up-infra

down:
	scripts/stack down

# The cluster profile (deploy/cluster.topology): three RabbitMQ nodes, PostgreSQL primary and
# synchronous standby under pg_auto_failover, Redis under Sentinel, two copies of each service
# behind HAProxy on the backend's usual address. One profile runs at a time.
cluster-up: build web
	@if [ "$$(cat .data/profile 2>/dev/null)" = single ]; then scripts/stack down; fi
	STACK_PROFILE=cluster scripts/stack up

cluster-down:
	scripts/stack down

ps:
	scripts/stack ps

run: up
	scripts/demo.sh

# scripts/test.sh brings the stack up, runs ctest and tests/e2e, and always takes it down.
test: build web
	scripts/test.sh

# The web client (web/, docs/api.md): `npm ci` when the lock file changed, then Vite builds web/dist,
# which the backend serves at / (with /openapi.json and Swagger UI at /docs).
web: web/node_modules/.package-lock.json
	cd web && npm run build

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts

# Benchmarks (not tests; nothing here runs under `make test`): scripts/bench.py measures each
# area next to the limits measured in the same run (pgbench of the send transaction, HTTP
# ceilings, RabbitMQ) and the floors built from them (the send: two hops + the statement; the
# saga: its measured legs), prints a table and writes results/bench_<UTC>.json and .png.
#   make bench [BENCH_ARGS="--quick"]      every area (~25 min; --quick ~10 min), cluster last
#   make bench-cluster                      single vs cluster profile (send c16, sustained saga) and
#                                           the fault rounds' non-2xx seconds; leaves the single stack up
#   make bench-saga [C=16] [USERS=50] [DURATION=60] [BENCH_ARGS=...]
#     C: connections of the paced saga runs, USERS: sender/recipient pairs, DURATION: seconds of
#     the sustained run (the old N and THREADS are gone: the saga is now driven by rate).
#   make bench-median [RUNS=3]              medians over the newest RUNS runs' JSON, each ratio from its own run
BENCH := /usr/bin/python3 scripts/bench.py
BENCH_SAGA_ARGS = $(if $(C),--saga-connections $(C)) $(if $(USERS),--pairs $(USERS)) $(if $(DURATION),--sustain $(DURATION))

bench: build
	scripts/stack up
	$(BENCH) $(BENCH_ARGS)

bench-limits bench-send bench-reads bench-feed bench-search bench-cluster: bench-%: build
	scripts/stack up
	$(BENCH) $* $(BENCH_ARGS)

bench-saga: build
	scripts/stack up
	$(BENCH) saga $(BENCH_SAGA_ARGS) $(BENCH_ARGS)

bench-median:
	/usr/bin/python3 scripts/bench_median.py --last $(or $(RUNS),3)

# Hardening (docs/hardening.md; `make test` runs a short version of each).
#   make fuzz [FUZZ_SECONDS=180]   every libFuzzer target (fuzz/) for FUZZ_SECONDS each, in build-asan
#   make soak [SOAK_MINUTES=10]    mixed traffic with a random fault every 12-20 s, then the invariants
#   make sanitize                  ctest, e2e and a 2-minute soak on the ASan + UBSan build
fuzz: deps
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),180) scripts/fuzz.sh

soak: build
	scripts/stack up
	/usr/bin/python3 scripts/soak/soak.py --minutes $(or $(SOAK_MINUTES),10) $(SOAK_ARGS)

sanitize: deps
	scripts/stack down
	scripts/sanitize.sh

# ctest, e2e and a 2-minute soak on a ThreadSanitizer build (build-tsan); not in `make test`
# (docs/hardening.md says why).
tsan: deps
	scripts/stack down
	SANITIZER=thread scripts/sanitize.sh

# Removes the build tree; `distclean` also drops the stack's data (databases, queues).
clean: down
	rm -rf $(BUILD_DIR) build-asan build-tsan

distclean: clean
	rm -rf .data results
