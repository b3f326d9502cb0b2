# dokja build. `make` builds build/dokja; `make test` runs the test suite;
# `make test-asan` runs it again under AddressSanitizer + UndefinedBehaviorSanitizer.
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
LDLIBS += -ljansson -lcrypto -lm -pthread

LIB_SRC  := $(sort $(wildcard src/util/*.c src/io/*.c src/tokenizer/*.c src/corpus/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

.PHONY: all test test-asan clean
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
test: $(BUILD)/dokja_tests $(BUILD)/dokja
	DOKJA_BIN=$(BUILD)/dokja $(BUILD)/dokja_tests $(TESTS)

test-asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" test

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
