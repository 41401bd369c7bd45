# mscli — see README.md.  `make` builds ./mscli; `make test` sets up and runs everything.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= python3
SHELL := /bin/bash

LIBS_PC := libcurl libcjson libssl libcrypto libzstd
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) libarchive 2>/dev/null)
PC_LIBS := $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null)
# libarchive is loaded when a bundle is made or read (include/mscli/archive-lib.h), by the
# soname of the library its headers came with
ARCHIVE_SONAME := $(shell objdump -p "$$($(PKG_CONFIG) --variable=libdir libarchive 2>/dev/null)/libarchive.so" 2>/dev/null | awk '$$1 == "SONAME" {print $$2}')

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARN) $(PC_CFLAGS) $(if $(ARCHIVE_SONAME),-DMS_LIBARCHIVE_SONAME=\"$(ARCHIVE_SONAME)\")
# every object records the headers it read (build/*/%.d): a header change rebuilds its users
DEPFLAGS = -MMD -MP
CFLAGS ?= -O2 -g
LDLIBS := $(PC_LIBS) -lpthread -lm

# Quiet by default; `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRCS := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
HDRS := $(wildcard include/mscli/*.h)

REL_OBJS := $(SRCS:src/%.c=build/rel/%.o)
SAN_OBJS := $(SRCS:src/%.c=build/san/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:src/%.c=build/san/%.o)
VG_OBJS := $(SRCS:src/%.c=build/vg/%.o)
VG_LIB_OBJS := $(LIB_SRCS:src/%.c=build/vg/%.o)

.PHONY: all test check unit emulator e2e check-docs check-official fuzz valgrind bench demo deps lint \
	format check-format install uninstall clean

all: mscli

mscli: $(REL_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

build/rel/%.o: src/%.c | build/rel
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(DEPFLAGS) $(CFLAGS) -c -o $@ $<

build/san/%.o: src/%.c | build/san
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(DEPFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/vg/%.o: src/%.c | build/vg
	@echo "  CC      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(DEPFLAGS) -O1 -g -c -o $@ $<

-include $(wildcard build/rel/*.d build/san/*.d build/vg/*.d)

build/san/mscli: $(SAN_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

build/vg/mscli: $(VG_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) -g -o $@ $^ $(LDLIBS)

build/san/unit-tests: $(UNIT_SRCS) $(SAN_LIB_OBJS) $(HDRS) tests/unit/unit.h
	@echo "  LD      $@"
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -o $@ $(UNIT_SRCS) $(SAN_LIB_OBJS) $(LDLIBS)

build/vg/unit-tests: $(UNIT_SRCS) $(VG_LIB_OBJS) $(HDRS) tests/unit/unit.h
	@echo "  LD      $@"
	$(Q)$(CC) $(BASE_CFLAGS) -O1 -g -o $@ $(UNIT_SRCS) $(VG_LIB_OBJS) $(LDLIBS)

build/rel build/san build/vg:
	mkdir -p $@

# The whole suite: dependencies, sanitizer build, unit tests, end-to-end tests.
test: deps
	$(MAKE) unit emulator e2e check-docs

# Everything that must stay clean, in one target: the test suite on the ASan+UBSan build,
# the end-to-end tests again under valgrind (about a quarter of an hour on two cores),
# cppcheck, clang-tidy, the layers and the format, and the fuzzers for FUZZ_SECONDS.
check:
	bash tests/tools/deps.sh check
	$(MAKE) unit emulator e2e check-docs
	$(MAKE) valgrind
	$(MAKE) lint check-format
	$(MAKE) fuzz

# The emulator's own tests: a faithful emulator is what makes e2e results mean something.
emulator:
	$(PYTHON) -m unittest discover -s tests/hub

# Completions work (bash for real; zsh and fish syntax when installed); the man page lints.
check-docs: build/san/mscli
	MSCLI_BIN=$(CURDIR)/build/san/mscli bash completions/check.sh
	@if command -v groff >/dev/null; then groff -man -Tutf8 -ww -z man/mscli.1 && echo "ok   man page"; fi

unit: build/san/unit-tests
	ASAN_OPTIONS=detect_leaks=1 ./build/san/unit-tests

e2e: build/san/mscli
	MSCLI_BIN=$(CURDIR)/build/san/mscli ASAN_OPTIONS=detect_leaks=1 \
		$(PYTHON) -m unittest discover -s tests/e2e -t tests/e2e -v $(E2E_ARGS)

# libFuzzer over the parsers (clang); FUZZ_SECONDS per run, default 60.
FUZZ_SECONDS ?= 60
build/fuzz/fuzz-parsers: tests/fuzz/fuzz_parsers.c $(LIB_SRCS) $(HDRS)
	@mkdir -p build/fuzz
	@echo "  LD      $@"
	$(Q)clang $(BASE_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ \
		tests/fuzz/fuzz_parsers.c $(LIB_SRCS) $(LDLIBS)

fuzz: build/fuzz/fuzz-parsers
	mkdir -p build/fuzz/corpus
	./build/fuzz/fuzz-parsers -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		build/fuzz/corpus tests/fuzz/corpus

# The official clients, when their source is at hand (never part of this repo).
check-official: mscli
	MSCLI_BIN=$(CURDIR)/mscli bash tests/official/check-official-clients.sh
	MSCLI_BIN=$(CURDIR)/mscli bash tests/official/check-official-cache.sh
	bash tests/official/check-official-search.sh
	bash tests/official/check-official-upload.sh

valgrind: build/vg/mscli build/vg/unit-tests
	MSCLI_VALGRIND=1 valgrind -q --error-exitcode=9 --leak-check=full ./build/vg/unit-tests
	MSCLI_BIN=$(CURDIR)/build/vg/mscli MSCLI_VALGRIND=1 \
		$(PYTHON) -m unittest discover -s tests/e2e -t tests/e2e $(E2E_ARGS)

bench: mscli
	bash tests/bench/run.sh

demo: deps mscli
	bash tests/tools/demo.sh

deps:
	bash tests/tools/deps.sh

# cppcheck, clang-tidy, and the layers of DESIGN.md (tests/tools/check-layers.py)
lint:
	$(Q)$(PYTHON) tests/tools/check-layers.py --self-test
	$(Q)$(PYTHON) tests/tools/check-layers.py
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE -Iinclude src tests/unit
	$(Q)clang-tidy --quiet $(SRCS) -- $(BASE_CFLAGS) 2>&1 | { grep -v 'warnings generated' || true; }; \
		test $${PIPESTATUS[0]} -eq 0

format:
	$(Q)clang-format -i $(SRCS) $(HDRS) $(UNIT_SRCS)

check-format:
	$(Q)clang-format --dry-run --Werror $(SRCS) $(HDRS) $(UNIT_SRCS)

install: mscli
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 mscli $(DESTDIR)$(PREFIX)/bin/mscli
	install -m 0644 man/mscli.1 $(DESTDIR)$(PREFIX)/share/man/man1/mscli.1
	install -m 0644 completions/mscli.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mscli
	install -m 0644 completions/_mscli $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mscli
	install -m 0644 completions/mscli.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mscli.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mscli $(DESTDIR)$(PREFIX)/share/man/man1/mscli.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/mscli \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_mscli \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/mscli.fish

clean:
	rm -rf build mscli
