# hyperp build. `make` builds bin/hyperp and lib/libhyperp.a (release);
# `make test` builds everything again under ASan+UBSan with -Werror and runs every test;
# `make demo` runs the main job; `make deps` installs the Debian packages we need.
CC      ?= gcc
PYTHON  := /usr/bin/python3
PKGS    := jansson sqlite3 libsodium
DEB_PKGS := build-essential pkg-config clang libclang-rt-14-dev libopenblas-dev libjansson-dev libsqlite3-dev libsodium-dev sqlite3
CPPFLAGS := -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wvla
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lsqlite3 -lsodium)
LDLIBS  := $(PKG_LIBS) -lopenblas -lm -lpthread

# Release: -O3 without errno from sqrtf (lets the optimiser loop vectorise); AVX2/FMA
# instructions when this CPU has them. No -ffast-math: results stay reproducible, and ISO C
# mode keeps gcc from contracting a*b+c into FMAs.
SIMD        := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo -mavx2 -mfma)
REL_CFLAGS  := $(WARN) -O3 -g -fno-math-errno -fno-strict-aliasing $(SIMD) $(PKG_CFLAGS)
TEST_CFLAGS := $(WARN) -Werror -O1 -g -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS)

LIB_SRC  := $(sort $(wildcard src/*/*.c))
LIB_SRC  := $(filter-out src/cli/%,$(LIB_SRC))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
CLI_TESTS := $(sort $(wildcard tests/test_*.sh))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HDRS     := $(wildcard src/*/*.h) tests/check.h

REL_OBJ  := $(LIB_SRC:%.c=build/rel/%.o)
TST_OBJ  := $(LIB_SRC:%.c=build/test/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=build/test/bin/%)

.PHONY: all deps test test-run demo bench fuzz fuzz-run clean clang-check help check-deps
# A recipe that fails leaves no half-written target (e.g. src/data/default_config.c from embed.sh).
.DELETE_ON_ERROR:
# a recipe (that does nothing), so `$(MAKE) all` in demo and bench is quiet when all is built
all: bin/hyperp lib/libhyperp.a
	@:

help:
	@echo "make            build bin/hyperp and lib/libhyperp.a"
	@echo "make deps       install missing Debian packages (apt-get, as root)"
	@echo "make demo       the main job: deps, build, synthetic data -> ingest -> train -> recommend -> evaluate (writes artifacts/demo/)"
	@echo "make test       ASan+UBSan -Werror build, all tests, gcc and clang warning check"
	@echo "make bench      benchmarks beside pandas/PyTorch baselines"
	@echo "make fuzz       short libFuzzer runs of every parser"

deps:
	@missing=""; \
	for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all present"; fi

# Before any compiler runs: are the packages there? A machine without them gets the missing
# names and "run `make deps`" instead of "jansson.h: No such file". Targets that install deps
# first (test, demo, bench, fuzz) build in a sub-make started after deps has finished, so the
# check sees what deps installed. PKGS and REQUIRED_HEADERS may be overridden on the command
# line to see the message (tests/test_scripts_cli.sh does).
REQUIRED_HEADERS := jansson.h sqlite3.h sodium.h cblas.h
check-deps: $(filter deps,$(MAKECMDGOALS))
	@deb_of() { case $$1 in jansson|jansson.h) echo libjansson-dev;; sqlite3|sqlite3.h) echo libsqlite3-dev;; \
	  libsodium|sodium.h) echo libsodium-dev;; cblas.h) echo libopenblas-dev;; *) return;; esac; }; \
	missing=""; \
	if ! command -v $(CC) >/dev/null 2>&1; then missing="compiler $(CC) (Debian package build-essential)"; \
	else for h in $(REQUIRED_HEADERS); do \
	  printf '#include <%s>\n' $$h | $(CC) $(CPPFLAGS) $(PKG_CFLAGS) -E -x c - >/dev/null 2>&1 || \
	    missing="$$missing|header $$h$$(d=$$(deb_of $$h); [ -n "$$d" ] && echo " (Debian package $$d)")"; done; fi; \
	if ! command -v pkg-config >/dev/null 2>&1; then missing="$$missing|pkg-config (Debian package pkg-config)"; \
	else for p in $(PKGS); do pkg-config --exists $$p || \
	  missing="$$missing|pkg-config module $$p$$(d=$$(deb_of $$p); [ -n "$$d" ] && echo " (Debian package $$d)")"; done; fi; \
	if [ -n "$$missing" ]; then \
	  { echo "cannot build hyperp, missing:"; echo "$$missing" | tr '|' '\n' | sed -e '/^$$/d' -e 's/^/  /'; \
	    echo "run \`make deps\` (as root: installs the Debian packages with apt-get), then make again"; } >&2; \
	  exit 1; fi

# The built-in dataset config is examples/synthetic.json, compiled in.
src/data/default_config.c: examples/synthetic.json scripts/embed.sh
	scripts/embed.sh data_default_config $< > $@

build/rel/%.o: %.c $(HDRS) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(REL_CFLAGS) -c $< -o $@

build/test/%.o: %.c $(HDRS) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) -c $< -o $@

lib/libhyperp.a: $(REL_OBJ)
	@mkdir -p lib
	rm -f $@ && ar rcs $@ $^

build/test/libhyperp.a: $(TST_OBJ)
	rm -f $@ && ar rcs $@ $^

bin/hyperp: $(CLI_SRC) lib/libhyperp.a $(HDRS) | check-deps
	@mkdir -p bin
	$(CC) $(CPPFLAGS) $(REL_CFLAGS) $(CLI_SRC) lib/libhyperp.a $(LDLIBS) -o $@

build/test/bin/hyperp: $(CLI_SRC) build/test/libhyperp.a $(HDRS) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) $(CLI_SRC) build/test/libhyperp.a $(LDLIBS) -o $@

build/test/bin/test_%: tests/test_%.c build/test/libhyperp.a $(HDRS) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) $< build/test/libhyperp.a $(LDLIBS) -o $@

# Every source must also compile warning-free under clang (gcc builds the test binaries).
clang-check:
	@for f in $(LIB_SRC) $(CLI_SRC) $(TEST_SRC) $(FUZZ_SRC) $(wildcard bench/*.c); do \
	  clang $(CPPFLAGS) $(WARN) -Werror $(PKG_CFLAGS) -fsyntax-only $$f || exit 1; done
	@echo "clang: warning-free"
	@for h in $(wildcard src/*/*.h); do \
	  printf '#include "%s"\n#include "%s"\n' $${h#src/} $${h#src/} | \
	  clang $(CPPFLAGS) $(WARN) -Werror $(PKG_CFLAGS) -fsyntax-only -x c - || { echo "$$h: does not compile alone, included twice"; exit 1; }; done
	@echo "headers: each compiles alone and included twice"
	@! grep -n '#include "cli/' $(filter-out src/cli/%,$(wildcard src/*/*.[ch])) || { echo "a library module includes a CLI header"; exit 1; }
	@! grep -n '#include "rec/' $(wildcard src/core/* src/io/* src/data/* src/feat/* src/nn/* src/mfile/* src/rank/* src/text/* src/base/*) || \
	  { echo "a lower module includes the recommender"; exit 1; }
	@echo "layers: no library module includes the CLI; core, io, data, feat, nn, mfile, rank, text, base do not include rec"

# deps first, then the build in a sub-make: it reads pkg-config after deps has installed it.
test: deps
	@$(MAKE) --no-print-directory test-run

test-run: $(TEST_BIN) build/test/bin/hyperp
	@$(MAKE) --no-print-directory clang-check
	@HYPERP=$(CURDIR)/build/test/bin/hyperp ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 OPENBLAS_NUM_THREADS=1 \
	  tests/run.sh $(TEST_BIN) $(CLI_TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run.sh

FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(CPPFLAGS) $(PKG_CFLAGS)
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HDRS) | check-deps
	@mkdir -p build/fuzz
	clang $(FUZZ_FLAGS) $< $(LIB_SRC) $(LDLIBS) -o $@

FUZZ_SECONDS ?= 20
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
	@for t in $(FUZZ_SRC:tests/fuzz/%.c=%); do \
	  mkdir -p tests/fuzz/corpus-run/$$t; \
	  echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    tests/fuzz/corpus-run/$$t tests/fuzz/corpus/$$t || exit 1; done

clean:
	rm -rf build bin lib
