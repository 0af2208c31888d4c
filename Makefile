# sluice — see README.md. `make deps test` on a fresh Debian machine.
#
# Variables a packager sets (as dpkg-buildflags and debhelper pass them): CC, CFLAGS, CPPFLAGS,
# LDFLAGS, PKG_CONFIG, PREFIX, DESTDIR (and BINDIR, DATADIR, MANDIR, DOCDIR). WERROR=1 turns
# warnings into errors (on by default when CI=true).
PKGS       := ncursesw libcurl libconfig libcrypto sqlite3
# Optional: --cap-group (docs/scale.md) needs hiredis; without it that option says it is not
# built in. HIREDIS=no leaves it out even when it is installed.
OPT_PKGS   := $(if $(filter no,$(HIREDIS)),,hiredis)
PKG_CONFIG ?= pkg-config
CC         ?= cc
CFLAGS     ?= -O2 -g
INSTALL    ?= install
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
DOCDIR     ?= $(DATADIR)/doc/sluice
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/site-functions
# Where the installed binary looks for its themes (SLUICE_DATADIR/themes), compiled in.
SLUICE_DATADIR = $(DATADIR)/sluice

WERROR     ?= $(if $(filter true 1,$(CI)),1)
WARN       := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wno-unused-parameter \
              $(if $(filter 1,$(WERROR)),-Werror)
# -iquote: our headers (sched.h among them) must never shadow system ones.
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -iquote include
ALL_CFLAGS = $(BASE_CFLAGS) $(PKG_CFLAGS) $(OWN_CPPFLAGS) $(CPPFLAGS) $(CFLAGS)
LDLIBS     = $(PKG_LIBS) -lpthread -lm
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# The one version, in include/version.h (the word in quotes).
VERSION    = $(subst ",,$(filter "%",$(file <include/version.h)))

.DEFAULT_GOAL := all

# ---- library flags ----
# pkg-config is asked once, by a rule, never while this file is read: `make deps test` is one
# invocation on a fresh machine, and the libraries only exist once `deps` has run. The flags
# are kept in build/gen/pkg.{cflags,libs} (rewritten only when they change, so objects are not
# rebuilt for nothing) and read once, when a recipe first needs them; every rule whose recipe
# uses them depends on those files. tests/build/10_deps_first.sh checks all of this.
GEN        := build/gen
# _GNU_SOURCE implies what ncursesw asks for; its -D_XOPEN_SOURCE=600 would hide Linux APIs.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(filter-out -D_XOPEN_SOURCE=% -D_DEFAULT_SOURCE,$$(file <$(GEN)/pkg.cflags)))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(file <$(GEN)/pkg.libs))$(PKG_LIBS)

$(GEN)/pkg.stamp: Makefile | $(filter deps,$(MAKECMDGOALS))
	@mkdir -p $(GEN)
	@if ! $(PKG_CONFIG) --cflags $(PKGS) > $(GEN)/pkg.cflags.new || \
	    ! $(PKG_CONFIG) --libs $(PKGS) > $(GEN)/pkg.libs.new; then \
	    rm -f $(GEN)/pkg.*.new; \
	    echo "$(PKG_CONFIG) does not find $(PKGS): run 'make deps' (or 'make deps $(or $(MAKECMDGOALS),all)')" >&2; \
	    exit 1; \
	fi
	@for p in $(OPT_PKGS); do \
	    if $(PKG_CONFIG) --exists $$p; then \
	        c=$$(cat $(GEN)/pkg.cflags.new); l=$$(cat $(GEN)/pkg.libs.new); \
	        def=$$(echo "$$p" | tr a-z A-Z); \
	        echo "$$c -DSLUICE_$$def=1 $$($(PKG_CONFIG) --cflags $$p)" > $(GEN)/pkg.cflags.new; \
	        echo "$$l $$($(PKG_CONFIG) --libs $$p)" > $(GEN)/pkg.libs.new; \
	    fi; \
	done
	@for f in cflags libs; do \
	    cmp -s $(GEN)/pkg.$$f.new $(GEN)/pkg.$$f && rm $(GEN)/pkg.$$f.new || mv $(GEN)/pkg.$$f.new $(GEN)/pkg.$$f; \
	done
	@touch $@
$(GEN)/pkg.cflags $(GEN)/pkg.libs: $(GEN)/pkg.stamp ;

# The data folder compiled into theme.o, rewritten when it changes (PREFIX=... rebuilds it).
$(GEN)/datadir: FORCE
	@mkdir -p $(GEN)
	@echo '$(SLUICE_DATADIR)' | cmp -s - $@ || echo '$(SLUICE_DATADIR)' > $@

SRCS      := $(wildcard src/*.c)
OBJS      := $(SRCS:src/%.c=build/obj/%.o)
SAN_OBJS  := $(SRCS:src/%.c=build/san/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=build/unit/%)
SAN_UNITS := $(UNIT_SRCS:tests/unit/%.c=build/unit-san/%)
TOOLS     := $(patsubst tests/tools/%.c,build/tools/%,$(wildcard tests/tools/*.c))
THEMES    := $(wildcard themes/*.conf)
GENERATED := build/sluice.1 build/completions/sluice.bash build/completions/_sluice

.PHONY: all deps test test-fast check bench demo clean tools units install uninstall FORCE
all: sluice $(GENERATED)

sluice: $(OBJS) $(GEN)/pkg.libs
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

build/sluice-san: $(SAN_OBJS) $(GEN)/pkg.libs
	$(CC) $(ALL_CFLAGS) $(SAN) $(LDFLAGS) -o $@ $(SAN_OBJS) $(LDLIBS)

build/obj/%.o: src/%.c $(GEN)/pkg.cflags | build/obj
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
build/san/%.o: src/%.c $(GEN)/pkg.cflags | build/san
	$(CC) $(ALL_CFLAGS) $(SAN) -MMD -MP -c -o $@ $<

build/obj/theme.o build/san/theme.o: $(GEN)/datadir
build/obj/theme.o build/san/theme.o: OWN_CPPFLAGS = -DSLUICE_DATADIR='"$(SLUICE_DATADIR)"'

# A unit test links util, hmap and the modules named in tests/unit/test_X.deps (one line of
# module names), so a half-written module elsewhere never breaks it.
.SECONDEXPANSION:
unit_deps = $(sort util hmap $(shell cat tests/unit/$(1).deps 2>/dev/null))
build/unit/%: tests/unit/%.c $$(addprefix build/obj/,$$(addsuffix .o,$$(call unit_deps,$$*))) $(GEN)/pkg.libs | build/unit
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(LDLIBS) -lcmocka
build/unit-san/%: tests/unit/%.c $$(addprefix build/san/,$$(addsuffix .o,$$(call unit_deps,$$*))) $(GEN)/pkg.libs | build/unit-san
	$(CC) $(ALL_CFLAGS) $(SAN) $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(LDLIBS) -lcmocka

# The test tools use no library: they build without pkg-config.
build/tools/%: tests/tools/%.c | build/tools
	$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread

build/obj build/san build/unit build/unit-san build/tools build/completions:
	mkdir -p $@

# The man page and the completions name the installed paths and the version.
SUBST = sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@SLUICE_DATADIR@|$(SLUICE_DATADIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g'
build/sluice.1: man/sluice.1.in include/version.h $(GEN)/datadir
	$(SUBST) man/sluice.1.in > $@
build/completions/%: completions/% $(GEN)/datadir | build/completions
	$(SUBST) $< > $@

tools: $(TOOLS)
units: $(UNITS) $(SAN_UNITS)

deps:
	@sh tests/deps.sh

# Unit + build checks + integration, then unit + integration again under ASan+UBSan.
test: sluice build/sluice-san $(UNITS) $(SAN_UNITS) $(TOOLS) $(GENERATED)
	@bash tests/run.sh

# The same without the sanitizer pass.
test-fast: sluice $(UNITS) $(TOOLS) $(GENERATED)
	@TEST_PHASES="unit build integration" bash tests/run.sh

# The unit tests alone: no root, no servers, no network.
check: $(UNITS)
	@TEST_PHASES=unit bash tests/run.sh

bench: sluice $(TOOLS)
	@bash bench/run.sh

demo: sluice $(TOOLS)
	@bash tests/demo.sh

install: sluice $(GENERATED)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SLUICE_DATADIR)/themes \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	$(INSTALL) -m 0755 sluice $(DESTDIR)$(BINDIR)/sluice
	$(INSTALL) -m 0644 build/sluice.1 $(DESTDIR)$(MANDIR)/man1/sluice.1
	$(INSTALL) -m 0644 $(THEMES) $(DESTDIR)$(SLUICE_DATADIR)/themes/
	$(INSTALL) -m 0644 sample.conf $(DESTDIR)$(DOCDIR)/examples/sluice.conf
	$(INSTALL) -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 build/completions/sluice.bash $(DESTDIR)$(BASHCOMPDIR)/sluice
	$(INSTALL) -m 0644 build/completions/_sluice $(DESTDIR)$(ZSHCOMPDIR)/_sluice

# Removes what install put there, and the folders that were sluice's own.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sluice $(DESTDIR)$(MANDIR)/man1/sluice.1 \
	    $(addprefix $(DESTDIR)$(SLUICE_DATADIR)/themes/,$(notdir $(THEMES))) \
	    $(DESTDIR)$(DOCDIR)/examples/sluice.conf $(DESTDIR)$(DOCDIR)/README.md \
	    $(DESTDIR)$(DOCDIR)/LICENSE $(DESTDIR)$(BASHCOMPDIR)/sluice $(DESTDIR)$(ZSHCOMPDIR)/_sluice
	rmdir $(DESTDIR)$(SLUICE_DATADIR)/themes $(DESTDIR)$(SLUICE_DATADIR) \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true

clean:
	rm -rf build sluice

-include $(OBJS:.o=.d) $(SAN_OBJS:.o=.d)

# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang, ASan and UBSan into build/fuzz and
# run for FUZZ_SECONDS each from their seed corpora (tests/fuzz/run.sh says more).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh
