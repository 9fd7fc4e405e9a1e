# Entry points. `make run` starts the whole system, `make test` runs every test.
# The local stack (PostgreSQL, RabbitMQ, Redis, services) is managed by scripts/stack.
SHELL := /bin/bash
BUILD_DIR := build
CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

.PHONY: deps build up up-infra down ps run test bench-saga bench-feed clean distclean

deps:
	scripts/deps.sh

# Configure once (a configured tree re-runs cmake by itself when CMakeLists change).
build: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
		echo "cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)"; \
		cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS); \
	fi
	cmake --build $(BUILD_DIR) -j$$(nproc)

up: build
	scripts/stack up

# PostgreSQL, RabbitMQ and Redis only (for the C++ integration tests).
up-infra: deps
	scripts/stack up-infra

down:
	scripts/stack down

ps:
	scripts/stack ps

run: up
	scripts/demo.sh

# scripts/test.sh brings the stack up, runs ctest and tests/e2e, and always takes it down.
test: build
	scripts/test.sh

# SAGA benchmark (not a test): make bench-saga [N=20000] [C=16] [USERS=50] [DURATION=s]
bench-saga: build
	N="$(N)" C="$(C)" USERS="$(USERS)" DURATION="$(DURATION)" scripts/bench_saga.sh

# Feed reads/s (Redis warm and cold) and post-to-WebSocket latency, against a running stack.
bench-feed: build
	scripts/stack up
	/usr/bin/python3 scripts/bench_feed.py

# Removes the build tree; `distclean` also drops the stack's data (databases, queues).
clean: down
	rm -rf $(BUILD_DIR)

distclean: clean
	rm -rf .data results
