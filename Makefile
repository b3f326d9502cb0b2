# dokja build. `make` builds build/dokja; `make test` runs the test suite (the slow
# tests only with `make test-full`); `make test-asan` runs it again under
# AddressSanitizer + UndefinedBehaviorSanitizer. `make help` lists the targets.
# Linux only: _GNU_SOURCE is defined everywhere (memmem, asprintf, strdup, sched_getaffinity).
# Variables: BUILD (output dir), CC, OPT (optimisation flags), SAN (sanitizer flags),
# CROSS and MPI_ROOT (cross builds, below).

CC    ?= gcc
BUILD ?= build
OPT   ?= -O2 -g
SAN   ?=
CSTD  := -std=c17
WARN  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CPPFLAGS += -Isrc -D_GNU_SOURCE -MMD -MP
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(SAN) -pthread $(CFLAGS)
# Open MPI (libopenmpi-dev) for data-parallel training.
ifeq ($(CROSS),)
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null || echo -lmpi)
else
# Cross build, e.g. `make CROSS=aarch64-linux-gnu- BUILD=build/aarch64 MPI_ROOT=DIR`
# (scripts/test-aarch64.sh): CC is $(CROSS)gcc; jansson, libcrypto and libedit are the
# target's Debian multiarch packages (libjansson-dev:arm64 ...). Open MPI's -dev package
# cannot be installed for two architectures at once, so MPI_ROOT is a directory where
# the target's libopenmpi3 and libopenmpi-dev packages are unpacked (dpkg-deb -x); the
# binaries then need LD_LIBRARY_PATH=MPI_ROOT/usr/lib/TRIPLET (libmpi's own RUNPATH
# hides an rpath). Without MPI_ROOT: the multiarch paths. `make test` cannot run the
# result; the script runs it under qemu-aarch64.
CC := $(CROSS)gcc
MULTIARCH := $(shell $(CC) -print-multiarch)
ifeq ($(MPI_ROOT),)
MPI_LIBDIR := /usr/lib/$(MULTIARCH)
MPI_LIBS   := -L$(MPI_LIBDIR)/openmpi/lib -lmpi
else
MPI_LIBDIR := $(abspath $(MPI_ROOT))/usr/lib/$(MULTIARCH)
MPI_LIBS   := -L$(MPI_LIBDIR)/openmpi/lib -lmpi -Wl,-rpath-link,$(MPI_LIBDIR)
endif
MPI_CFLAGS := -I$(MPI_LIBDIR)/openmpi/include
endif
CPPFLAGS += $(MPI_CFLAGS)
LDLIBS += -ljansson -lcrypto -ledit -lutf8proc -lm -pthread $(MPI_LIBS)

LIB_SRC  := $(sort $(wildcard src/util/*.c src/io/*.c src/kernels/*.c src/kernels/*/*.c src/model/*.c src/train/*.c src/data/*.c src/mpi/*.c src/interop/*.c src/ledger/*.c src/audit/*.c \
                            src/tokenizer/*.c src/corpus/*.c src/infer/*.c src/eval/*.c src/lineage/*.c \
                            src/select/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

.PHONY: all test test-full test-path test-asan test-tsan fuzz fuzz-run clean help compile_commands.json
all: $(BUILD)/dokja ## build build/dokja (the default)

$(BUILD)/libdokja.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/dokja: $(CLI_OBJ) $(BUILD)/libdokja.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/dokja_tests: $(TEST_OBJ) $(BUILD)/libdokja.a
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -c -o $@ $<

# The source commit and flags for the training ledger (util/buildinfo.h): a stamp file
# that changes only when they do, so only buildinfo.o is rebuilt.
BUILD_COMMIT := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)$(shell git status --porcelain 2>/dev/null | \
                  grep -q . && echo -dirty)
BUILD_INFO := $(BUILD_COMMIT)|$(CFLAGS_ALL)
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(BUILD)/buildinfo.stamp 2>/dev/null)" = '$(BUILD_INFO)' ] || \
          printf '%s' '$(BUILD_INFO)' > $(BUILD)/buildinfo.stamp; })
$(BUILD)/src/util/buildinfo.o: $(BUILD)/buildinfo.stamp
$(BUILD)/src/util/buildinfo.o: CPPFLAGS += -DDOKJA_COMMIT='"$(BUILD_COMMIT)"' -DDOKJA_CFLAGS='"$(strip $(CFLAGS_ALL))"'

# The tests find the CLI binary through DOKJA_BIN for the command-line tests.
# `make test` skips the slow tests (TEST_SLOW in tests/test.h); `make test-full` runs
# them too, as scripts/test.sh (and so CI) does. TESTS=substr... picks tests by name.
test: $(BUILD)/dokja_tests $(BUILD)/dokja ## build and run the tests, without the slow ones (TESTS=substr... picks by name)
	DOKJA_BIN=$(BUILD)/dokja $(BUILD)/dokja_tests $(TESTS)
test-full: $(BUILD)/dokja_tests $(BUILD)/dokja ## the tests including the slow ones (as scripts/test.sh and CI run them)
	DOKJA_TEST_FULL=1 DOKJA_BIN=$(BUILD)/dokja $(BUILD)/dokja_tests $(TESTS)

# The kernel and whole-model tests again on a lower kernel path (ISA=avx2|generic):
# scripts/test.sh runs them on every path the CPU has below its best.
PATH_TESTS ?= isa_ round_bf16 matmul vexp adamw ops_ model_ torch_parity infer_ bf16 grad_clip generate lineage_stats lineage_screened
test-path: $(BUILD)/dokja_tests $(BUILD)/dokja ## the kernel and model tests on a lower kernel path: ISA=avx2|generic
	DOKJA_ISA=$(ISA) DOKJA_BIN=$(BUILD)/dokja $(BUILD)/dokja_tests $(PATH_TESTS)

test-asan: ## the tests under ASan + UBSan (build in build/asan)
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test

# The tests that run work on several threads (their names say so), under
# ThreadSanitizer: the first data race stops the run (halt_on_error), so it counts as
# a failure. Why: the pools' tasks share arrays by index (exact dedupe's parts write
# verdicts into one list); a race there would make outputs depend on timing.
TSAN_TESTS = thread_count 1_and_2_threads 1_and_3_threads 1_2_3_threads thread_independent \
  thread_count_independent
test-tsan: ## the multi-threaded tests under ThreadSanitizer (build in build/tsan)
	TSAN_OPTIONS="halt_on_error=1 $(TSAN_OPTIONS)" $(MAKE) BUILD=build/tsan OPT="-O1 -g" \
	  SAN="-fsanitize=thread" test TESTS="$(TSAN_TESTS)"

# Benchmarks: bench/bench_NAME.c -> build/bench_NAME, linked with the library and with
# the benchmarks' shared helpers (BENCH_LIB: every other bench/*.c, e.g. dedupe_corpus.c).
# BLAS=openblas links Debian's OpenBLAS as the optional comparison backend
# (defines DK_BLAS; needs libopenblas-dev).
BLAS ?=
ifeq ($(BLAS),openblas)
  CPPFLAGS += -DDK_BLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread
  LDLIBS += -lopenblas
endif
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/%)
BENCH_LIB := $(filter-out $(BENCH_SRC),$(sort $(wildcard bench/*.c)))
BENCH_LIB_OBJ := $(BENCH_LIB:%.c=$(BUILD)/%.o)
.PHONY: bench
bench: $(BENCH_BIN) $(BENCH_LIB_OBJ) ## build the benchmarks bench/bench_*.c into build/ (BLAS=openblas for the comparison)
$(BUILD)/bench_%: bench/bench_%.c $(BENCH_LIB_OBJ) $(BUILD)/libdokja.a
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -o $@ $(filter %.c %.o %.a,$^) $(LDFLAGS) $(LDLIBS)
-include $(BENCH_LIB_OBJ:.o=.d) $(BENCH_BIN:=.d)

# libFuzzer harnesses (clang): fuzz/fuzz_NAME.c is linked with the library built by
# clang with the fuzzer, ASan and UBSan; `make fuzz-run` runs each for FUZZ_SECONDS on
# its seed corpus fuzz/corpus/NAME (new inputs go to build/fuzz/corpus/NAME).
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
fuzz: $(FUZZ_BIN) ## build the libFuzzer harnesses (clang) into build/fuzz/
FUZZ_CFLAGS := -std=c17 -Isrc -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	  -fno-sanitize-recover=undefined $(MPI_CFLAGS)
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@clang $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
build/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)
-include $(FUZZ_OBJ:.o=.d)
fuzz-run: fuzz ## run each harness for FUZZ_SECONDS (60) on its seed corpus
	@for f in $(FUZZ_BIN); do n=$${f#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus/$$n; \
	  echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus/$$n fuzz/corpus/$$n \
	    || exit 1; done

clean: ## remove build/
	rm -rf build

# compile_commands.json for editors and clang tools (clangd, clang-tidy), written from
# the source lists and the flags above; no bear needed. Every .c file is listed with
# the flags `make` compiles it with (fuzz harnesses with the library's flags).
comma := ,
cdb_q = $(subst ",\",$(subst \,\\,$(1)))
cdb_args = $(subst " ","$(comma) ",$(patsubst %,"%",$(call cdb_q,$(strip $(1)))))
CDB_SRC = $(LIB_SRC) $(CLI_SRC) $(TEST_SRC) $(BENCH_SRC) $(BENCH_LIB) $(FUZZ_SRC)
CDB_FLAGS = $(filter-out -MMD -MP,$(CPPFLAGS)) $(CFLAGS_ALL)
cdb_entry = {"directory": "$(call cdb_q,$(CURDIR))", "file": "$(call cdb_q,$(CURDIR)/$(1))", "output": "$(BUILD)/$(1:.c=.o)", "arguments": [$(call cdb_args,$(CC) $(CDB_FLAGS) -c -o $(BUILD)/$(1:.c=.o) $(1))]}
compile_commands.json: ## write ./compile_commands.json (every .c file with its compile flags)
	$(file >$@,[)
	$(foreach f,$(CDB_SRC),$(file >>$@,  $(call cdb_entry,$(f))$(if $(filter-out $(lastword $(CDB_SRC)),$(f)),$(comma))))
	$(file >>$@,])
	@echo "wrote $@: $(words $(CDB_SRC)) files"

help: ## list the targets
	@echo "make [target] [VAR=value]: the targets"
	@grep -E '^[a-zA-Z_.-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | \
	  sed -E 's/^([a-zA-Z_.-]+):.*## (.*)/\1\t\2/' | awk -F'\t' '{ printf "  %-22s %s\n", $$1, $$2 }'
	@echo "variables: BUILD (build), CC (gcc), OPT (-O2 -g), SAN, CFLAGS, TESTS, ISA, BLAS, FUZZ_SECONDS"

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
