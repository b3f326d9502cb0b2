# dokja build. `make` builds build/dokja; `make test` runs the test suite (the slow
# tests only with `make test-full`); `make test-asan` runs it again under
# AddressSanitizer + UndefinedBehaviorSanitizer. `make help` lists the targets.
# Linux only: _GNU_SOURCE is defined everywhere (memmem, asprintf, strdup, sched_getaffinity).
# Variables: BUILD (output dir), CC, OPT (optimisation flags), SAN (sanitizer flags).

CC    ?= gcc
BUILD ?= build
OPT   ?= -O2 -g
SAN   ?=
CSTD  := -std=c17
WARN  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CPPFLAGS += -Isrc -D_GNU_SOURCE -MMD -MP
CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(SAN) -pthread $(CFLAGS)
# Open MPI (libopenmpi-dev) for data-parallel training.
MPI_CFLAGS := $(shell pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS   := $(shell pkg-config --libs ompi-c 2>/dev/null || echo -lmpi)
CPPFLAGS += $(MPI_CFLAGS)
LDLIBS += -ljansson -lcrypto -ledit -lm -pthread $(MPI_LIBS)

LIB_SRC  := $(sort $(wildcard src/util/*.c src/io/*.c src/kernels/*.c src/kernels/*/*.c src/model/*.c src/train/*.c src/data/*.c src/mpi/*.c \
                            src/tokenizer/*.c src/corpus/*.c src/infer/*.c src/eval/*.c src/lineage/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

.PHONY: all test test-full test-path test-asan fuzz fuzz-run clean
all: $(BUILD)/dokja

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

# The tests find the CLI binary through DOKJA_BIN for the command-line tests.
# `make test` skips the slow tests (TEST_SLOW in tests/test.h); `make test-full` runs
# them too, as scripts/test.sh (and so CI) does. TESTS=substr... picks tests by name.
test: $(BUILD)/dokja_tests $(BUILD)/dokja
	DOKJA_BIN=$(BUILD)/dokja $(BUILD)/dokja_tests $(TESTS)
test-full: $(BUILD)/dokja_tests $(BUILD)/dokja
	DOKJA_TEST_FULL=1 DOKJA_BIN=$(BUILD)/dokja $(BUILD)/dokja_tests $(TESTS)

# The kernel and whole-model tests again on a lower kernel path (ISA=avx2|generic):
# scripts/test.sh runs them on every path the CPU has below its best.
PATH_TESTS ?= isa_ matmul vexp adamw ops_ model_ torch_parity infer_ bf16 grad_clip generate lineage_stats_cosine
test-path: $(BUILD)/dokja_tests $(BUILD)/dokja
	DOKJA_ISA=$(ISA) DOKJA_BIN=$(BUILD)/dokja $(BUILD)/dokja_tests $(PATH_TESTS)

test-asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test

# Benchmarks: bench/bench_NAME.c -> build/bench_NAME, linked with the library.
# BLAS=openblas links Debian's OpenBLAS as the optional comparison backend
# (defines DK_BLAS; needs libopenblas-dev).
BLAS ?=
ifeq ($(BLAS),openblas)
  CPPFLAGS += -DDK_BLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread
  LDLIBS += -lopenblas
endif
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/%)
.PHONY: bench
bench: $(BENCH_BIN)
$(BUILD)/bench_%: bench/bench_%.c $(BUILD)/libdokja.a
	$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# libFuzzer harnesses (clang): fuzz/fuzz_NAME.c is linked with the library built by
# clang with the fuzzer, ASan and UBSan; `make fuzz-run` runs each for FUZZ_SECONDS on
# its seed corpus fuzz/corpus/NAME (new inputs go to build/fuzz/corpus/NAME).
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
fuzz: $(FUZZ_BIN)
build/fuzz/fuzz_%: fuzz/fuzz_%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang -std=c17 -Isrc -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined $(MPI_CFLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)
fuzz-run: fuzz
	@for f in $(FUZZ_BIN); do n=$${f#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus/$$n; \
	  echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/fuzz/corpus/$$n fuzz/corpus/$$n \
	    || exit 1; done

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
