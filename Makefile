# sluice — see README.md. `make deps test` on a fresh Debian machine.
PKGS      := ncursesw libcurl libconfig libcrypto sqlite3
CC        ?= cc
# _GNU_SOURCE (below) implies what ncursesw asks for; its -D_XOPEN_SOURCE=600 would hide Linux APIs.
PKG_CFLAGS := $(filter-out -D_XOPEN_SOURCE=% -D_DEFAULT_SOURCE,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN      := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter -Werror
CFLAGS    ?= -O2 -g
# -iquote: our headers (sched.h among them) must never shadow system ones.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -iquote include $(PKG_CFLAGS) $(CFLAGS)
LDLIBS    := $(PKG_LIBS) -lpthread -lm
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRCS      := $(wildcard src/*.c)
OBJS      := $(SRCS:src/%.c=build/obj/%.o)
SAN_OBJS  := $(SRCS:src/%.c=build/san/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=build/unit/%)
SAN_UNITS := $(UNIT_SRCS:tests/unit/%.c=build/unit-san/%)
TOOLS     := $(patsubst tests/tools/%.c,build/tools/%,$(wildcard tests/tools/*.c))

.PHONY: all deps test test-fast bench demo clean tools units
all: sluice

sluice: $(OBJS)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

build/sluice-san: $(SAN_OBJS)
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

build/obj/%.o: src/%.c | build/obj
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
build/san/%.o: src/%.c | build/san
	$(CC) $(ALL_CFLAGS) $(SAN) -MMD -MP -c -o $@ $<

# A unit test links util, hmap and the modules named in tests/unit/test_X.deps (one line of
# module names), so a half-written module elsewhere never breaks it.
.SECONDEXPANSION:
unit_deps = $(sort util hmap $(shell cat tests/unit/$(1).deps 2>/dev/null))
build/unit/%: tests/unit/%.c $$(addprefix build/obj/,$$(addsuffix .o,$$(call unit_deps,$$*))) | build/unit
	$(CC) $(ALL_CFLAGS) -o $@ $< $(filter %.o,$^) $(LDLIBS) -lcmocka
build/unit-san/%: tests/unit/%.c $$(addprefix build/san/,$$(addsuffix .o,$$(call unit_deps,$$*))) | build/unit-san
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $< $(filter %.o,$^) $(LDLIBS) -lcmocka

build/tools/%: tests/tools/%.c | build/tools
	$(CC) $(ALL_CFLAGS) -o $@ $< -lpthread

build/obj build/san build/unit build/unit-san build/tools:
	mkdir -p $@

tools: $(TOOLS)
units: $(UNITS) $(SAN_UNITS)

deps:
	@sh tests/deps.sh

# Unit + integration tests, then the same again under ASan+UBSan.
test: sluice build/sluice-san $(UNITS) $(SAN_UNITS) $(TOOLS)
	@bash tests/run.sh

bench: sluice $(TOOLS)
	@bash bench/run.sh

demo: sluice $(TOOLS)
	@bash tests/demo.sh

clean:
	rm -rf build sluice

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d)

# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang, ASan and UBSan into build/fuzz and
# run for FUZZ_SECONDS each from their seed corpora (tests/fuzz/run.sh says more).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh
