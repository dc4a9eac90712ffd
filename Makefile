# tcplab — a thin wrapper over CMake so the README's commands stay short.
#
#   make / make build   configure build/ (RelWithDebInfo) and build everything
#   make demo           build, then play the first lesson (or the text demo)
#   make test           build, then run every test with ctest
#   make sanitize       ASan + UBSan build in build-asan/: unit tests, scenario replays, CLI checks, .pkt scripts
#   make fuzz-smoke     a short libFuzzer run (fuzz/smoke.sh)
#   make fuzz           a campaign per target: FUZZ_RUNS inputs each (10,000,000)
#   make bench          the benchmarks (bench/run)
#   make install        install into PREFIX (/usr/local; DESTDIR is honoured)
#   make deb            a Debian package in build/ (cpack -G DEB)
#   make format         clang-format the sources
#   make clean          remove build/, build-asan/ and build-fuzz/
#
# Missing Debian packages are installed by scripts/deps.sh when run as root;
# otherwise it prints the command to run. TCPLAB_REQUIRE_TUN=1 makes tests
# that need a TUN device fail instead of skipping when they cannot get one.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
ASAN_DIR ?= build-asan
JOBS ?= 2
# Default per-test limit in seconds, for tests that do not set their own.
TEST_TIMEOUT ?= 300
CTEST_ARGS ?=
PREFIX ?= /usr/local
# Extra cmake -D options for a new build directory, e.g. CMAKE_ARGS=-DTCPLAB_WERROR=OFF
CMAKE_ARGS ?=

export TCPLAB_REQUIRE_TUN
MAKEFLAGS += --no-print-directory

SOURCE_DIRS := stack tun scenarios ui tests bench fuzz

FUZZ_RUNS ?= 10000000

.PHONY: all build configure demo test sanitize fuzz-smoke fuzz bench clean format deps deps-test \
	install deb

all: build

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

# The generated Makefile only exists once a configure succeeded.
$(BUILD_DIR)/Makefile:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

configure: deps $(BUILD_DIR)/Makefile

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

# Play the first lesson in the ncurses UI once `tcplab play` works and a
# lesson exists; until then (or without a terminal) show the text demo.
demo: build
	@lesson=$$(ls scenarios/lessons/01-*.tcps 2>/dev/null | head -n 1); \
	if [ -n "$$lesson" ] && ./$(BUILD_DIR)/tcplab play --help >/dev/null 2>&1; then \
		if [ -t 0 ] && [ -t 1 ]; then \
			exec ./$(BUILD_DIR)/tcplab play "$$lesson"; \
		fi; \
		echo "(not a terminal: showing the text demo instead of $$lesson)"; \
	fi; \
	exec ./$(BUILD_DIR)/tcplab demo

test: deps-test build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS) --timeout $(TEST_TIMEOUT) $(CTEST_ARGS)

sanitize: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DTCPLAB_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_DIR) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_DIR) -L '^(unit|scenarios|cli|pkt)$$' --output-on-failure -j$(JOBS) \
		--timeout $(TEST_TIMEOUT)

fuzz-smoke: deps-test
	@if [ -f fuzz/smoke.sh ]; then bash fuzz/smoke.sh; \
	else echo "fuzz-smoke: fuzz/smoke.sh does not exist yet; nothing to run"; fi

fuzz: deps-test
	FUZZ_RUNS=$(FUZZ_RUNS) nice bash fuzz/smoke.sh

bench: build
	@if [ -f bench/run ]; then bash bench/run; \
	else echo "bench: bench/run does not exist yet; nothing to run"; fi

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

deb: build
	cd $(BUILD_DIR) && cpack -G DEB

format:
	find $(SOURCE_DIRS) -name '*.[ch]' -print0 | xargs -0 -r clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) build-fuzz
