# netcon — top-level build.
#
# Every directory contributes by file name only, so adding a .c file needs no
# edit here:
#   node/*.c               -> build/libztnode.a   (engine: no I/O, no threads)
#   stack/*.c              -> build/libztstack.a  (lwIP loader + TCP bridge)
#   rpc/*.c                -> build/libztrpc.a    (netcon RPC codec + server)
#   service/*.c (not main) -> build/libztsvc.a    (daemon pieces)
#   service/main.c         -> zerotier-netcon-service (-DNC_NETCON=1) and zerotier-one
#   cli/zerotier-cli*.c    -> zerotier-cli ; cli/zerotier-idtool*.c -> zerotier-idtool
#   intercept/*.c + rpc/nc_rpc.c -> libzerotierintercept.so
#   tests/unit/test_*.c    -> build/tests/test_*  (each linked with every library)
#   tests/fuzz/fuzz_*.c    -> build/fuzz/fuzz_*   (clang -fsanitize=fuzzer)

PREFIX  ?= /usr/local
DESTDIR ?=
B       := build

CC      ?= cc
PKGS    := libsodium liblz4 json-c
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser
LWIP_CFLAGS := -I/usr/include/lwip

WARN    := -Wall -Wextra -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN    += -Werror
endif
OPT     ?= -O2 -g
SAN     ?=
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(SAN) -fPIC -Iinclude -I. $(PKG_CFLAGS)
LDFLAGS += $(SAN)
LDLIBS  += $(PKG_LIBS) -lpthread -ldl

NODE_SRC   := $(wildcard node/*.c)
STACK_SRC  := $(filter-out stack/lwip_info.c stack/lwip_chksum.c,$(wildcard stack/*.c))	# in liblwip.so only
RPC_SRC    := $(wildcard rpc/*.c)
SVC_SRC    := $(filter-out service/main.c,$(wildcard service/*.c))
ICEPT_SRC  := $(wildcard intercept/*.c)
CLI_SRC    := $(wildcard cli/zerotier-cli*.c)
IDTOOL_SRC := $(wildcard cli/zerotier-idtool*.c)
TEST_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

comma := ,
obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIBS := $(B)/libztsvc.a $(B)/libztrpc.a $(B)/libztstack.a $(B)/libztnode.a
BINS := $(B)/zerotier-netcon-service $(B)/zerotier-one $(B)/zerotier-cli \
        $(B)/zerotier-idtool $(B)/libzerotierintercept.so $(B)/liblwip.so \
        $(B)/lwip-abi/probe-debian
TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(TEST_SRC))
TOOLS := $(patsubst tests/tools/%.c,$(B)/tools/%,$(wildcard tests/tools/*.c))

.PHONY: all test deps demo bench fuzz fuzz-build asan tsan compat install uninstall clean tests tools
all: $(BINS) $(TESTS) $(TOOLS)

$(B)/obj/stack/%.o: stack/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LWIP_CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/obj/service/main-netcon.o: service/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DNC_NETCON=1 -MMD -MP -c $< -o $@
$(B)/obj/service/main-one.o: service/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DNC_NETCON=0 -MMD -MP -c $< -o $@

# Intercept objects: hidden visibility, only hooked libc symbols exported.
$(B)/obj/icept/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fvisibility=hidden -MMD -MP -c $< -o $@

$(B)/libztnode.a: $(call obj,$(NODE_SRC))
$(B)/libztstack.a: $(call obj,$(STACK_SRC))
$(B)/libztrpc.a: $(call obj,$(RPC_SRC))
$(B)/libztsvc.a: $(call obj,$(SVC_SRC))
$(B)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@; ar rcs $@ $^

$(B)/zerotier-netcon-service: $(B)/obj/service/main-netcon.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
$(B)/zerotier-one: $(B)/obj/service/main-one.o $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)
$(B)/zerotier-cli: $(call obj,$(CLI_SRC)) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(CLI_SRC)) $(LIBS) $(LDLIBS)
$(B)/zerotier-idtool: $(call obj,$(IDTOOL_SRC)) $(LIBS)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(IDTOOL_SRC)) $(LIBS) $(LDLIBS)

ICEPT_OBJ := $(patsubst %.c,$(B)/obj/icept/%.o,$(ICEPT_SRC) rpc/nc_rpc.c)
$(B)/libzerotierintercept.so: $(ICEPT_OBJ)
	$(CC) $(LDFLAGS) -shared -fvisibility=hidden -o $@ $^ -ldl -lpthread

# ---- lwIP: the library the netcon daemon dlopen()s (one copy per network) ----
# Built from Debian's lwip source package (the version of the installed
# liblwip-dev, fetched by scripts/lwip-src.sh with `apt-get source` into
# LWIP_SRCDIR, never into the repository) with stack/lwipopts.h, which keeps
# Debian's options and struct layouts and changes only timer periods and
# lifetimes (see there). Without the source (no deb-src entry, no network,
# LWIP_FROM_SOURCE=0) $(B)/liblwip.so is Debian's packaged library, unchanged,
# and everything still works: the stack is compiled against Debian's headers
# either way (to retry after a fallback: rm $(B)/liblwip.so). `make lwip-info`
# says which one $(B)/liblwip.so is.
LWIP_SYS := $(firstword $(wildcard /usr/lib/*/liblwip.so.0 /usr/lib/liblwip.so.0))
LWIP_SRCDIR ?= build/lwip-src
LWIP_FROM_SOURCE ?= 1
LWIP_OPTS ?=
LWIP_OBJDIR := $(B)/lwip-obj
LWIP_C := $(wildcard $(addprefix $(LWIP_SRCDIR)/,src/core/*.c src/core/ipv4/*.c src/core/ipv6/*.c \
          src/api/*.c src/netif/*.c src/netif/ppp/*.c src/netif/ppp/polarssl/*.c \
          port/sys_arch.c port/netif/*.c))
# the files of Debian's lib/CMakeLists.txt (lwipnoapps + the unix port): not slipif
LWIP_C := $(filter-out %/src/netif/slipif.c,$(LWIP_C))
LWIP_OBJ := $(patsubst $(LWIP_SRCDIR)/%.c,$(LWIP_OBJDIR)/%.o,$(LWIP_C)) $(LWIP_OBJDIR)/netcon/lwip_info.o \
	$(LWIP_OBJDIR)/netcon/lwip_chksum.o
# Debian's build flags (dpkg-buildflags, hardening as debian/rules asks)
LWIP_BUILD_CFLAGS := $(shell DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS 2>/dev/null || echo -O2 -g) \
	$(shell DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS 2>/dev/null) \
	-fPIC -Wall -Istack -I$(LWIP_SRCDIR)/src/include -I$(LWIP_SRCDIR)/port/include -I. $(LWIP_OPTS) \
	-DNC_LWIP_DEB_VERSION='"$(shell cat $(LWIP_SRCDIR)/.netcon-unpacked 2>/dev/null)"'
LWIP_BUILD_LDFLAGS := $(shell DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get LDFLAGS 2>/dev/null)

$(B)/liblwip.so: stack/lwipopts.h stack/lwip_info.c stack/lwip_info.h stack/lwip_chksum.c scripts/lwip-src.sh $(LWIP_SYS)
	@mkdir -p $(B)
	@test -n "$(LWIP_SYS)" || { echo "liblwip0 is not installed: run 'make deps' as root" >&2; exit 1; }
	@if [ "$(LWIP_FROM_SOURCE)" = 1 ] && scripts/lwip-src.sh $(LWIP_SRCDIR); then \
		$(MAKE) --no-print-directory lwip-from-source; \
	else \
		echo "lwIP: NOT built from source ($(if $(filter 1,$(LWIP_FROM_SOURCE)),see above,LWIP_FROM_SOURCE=$(LWIP_FROM_SOURCE))): $@ is Debian's packaged $(LWIP_SYS), with Debian's options" >&2; \
		cp -f $(LWIP_SYS) $@; \
	fi

# run by the rule above once the source is unpacked (the wildcards above
# see its files only in a make started after that)
.PHONY: lwip-from-source lwip-info
lwip-from-source: $(LWIP_OBJ) $(B)/lwip-abi/probe-netcon
	@test -n "$(LWIP_C)" || { echo "lwIP: no sources in $(LWIP_SRCDIR)" >&2; exit 1; }
	$(CC) -shared -Wl,-soname,liblwip.so.0 $(LWIP_BUILD_LDFLAGS) -o $(B)/liblwip.so.tmp $(LWIP_OBJ) -lpthread
	mv -f $(B)/liblwip.so.tmp $(B)/liblwip.so
	@echo "lwIP: $(B)/liblwip.so built from Debian's lwip $$(cat $(LWIP_SRCDIR)/.netcon-unpacked) with stack/lwipopts.h"

$(LWIP_OBJDIR)/%.o: $(LWIP_SRCDIR)/%.c stack/lwipopts.h
	@mkdir -p $(dir $@)
	$(CC) $(LWIP_BUILD_CFLAGS) -MMD -MP -c $< -o $@
$(LWIP_OBJDIR)/netcon/lwip_info.o: stack/lwip_info.c stack/lwip_info.h stack/lwipopts.h
	@mkdir -p $(dir $@)
	$(CC) $(LWIP_BUILD_CFLAGS) -MMD -MP -c $< -o $@
$(LWIP_OBJDIR)/netcon/lwip_chksum.o: stack/lwip_chksum.c
	@mkdir -p $(dir $@)
	$(CC) $(LWIP_BUILD_CFLAGS) -MMD -MP -c $< -o $@

# the layout probe (tests/lwip/abi_probe.c, run by tests/integration/stack_lwip.sh)
# compiled with both option sets: Debian's headers, and the source with ours
$(B)/lwip-abi/probe-debian: tests/lwip/abi_probe.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O0 $(LWIP_CFLAGS) -o $@ $<
$(B)/lwip-abi/probe-netcon: tests/lwip/abi_probe.c stack/lwipopts.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O0 $(filter-out -D_FORTIFY%,$(filter -I% -D%,$(LWIP_BUILD_CFLAGS))) -o $@ $<

lwip-info: $(B)/liblwip.so
	@if nm -D --defined-only $(B)/liblwip.so | grep -q ' netcon_lwip_info$$'; then \
		echo "$(B)/liblwip.so: built from Debian's lwip source $$(cat $(LWIP_SRCDIR)/.netcon-unpacked 2>/dev/null) with stack/lwipopts.h"; \
	else echo "$(B)/liblwip.so: Debian's packaged library ($(LWIP_SYS))"; fi

$(B)/tests/%: tests/unit/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LWIP_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

$(B)/tools/%: tests/tools/%.c $(LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

tests: $(TESTS)
tools: $(TOOLS)

# ---- fuzzing (clang + libFuzzer) ----
FUZZ_CC     ?= clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude -I. $(PKG_CFLAGS)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_LIBSRC := $(NODE_SRC) $(RPC_SRC) $(SVC_SRC)
FUZZ_OBJ    := $(patsubst %.c,$(B)/fuzzobj/%.o,$(FUZZ_LIBSRC))
$(B)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(subst fuzzer$(comma),fuzzer-no-link$(comma),$(FUZZ_CFLAGS)) $(FUZZ_COV_OFF) -MMD -MP -c $< -o $@
# The Salsa20/12 keystream is straight-line arithmetic over whole blocks,
# proven against libsodium by test_armor: coverage feedback from it tells the
# fuzzer nothing, and its trace-cmp hooks were a third of every packet input's
# time. It keeps ASan/UBSan.
$(B)/fuzzobj/node/crypto_salsa.o: FUZZ_COV_OFF := -fno-sanitize-coverage=trace-pc-guard,trace-cmp,indirect-calls,pc-table,inline-8bit-counters
$(B)/libztfuzz.a: $(FUZZ_OBJ)
	rm -f $@; ar rcs $@ $^
$(B)/fuzz/%: tests/fuzz/%.c $(B)/libztfuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(B)/libztfuzz.a $(PKG_LIBS) -lpthread -ldl
fuzz-build: $(FUZZ_BINS)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---- the two front-door commands ----
deps:
	scripts/deps.sh

test: deps
	$(MAKE) all
	$(MAKE) fuzz-build
	tests/run.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh

bench: deps
	$(MAKE) all
	bench/run.sh

compat: deps
	$(MAKE) all
	docker-test/build.sh && docker-test/test.sh

# make asan: everything built with ASan + UBSan (UBSan fatal) + LeakSanitizer
# into build-asan/, then the suite on it. tests/run.sh sees the sanitizer
# build, sends every process's report to build-asan/test-logs/sanitizer/ and
# fails the test during which one appeared. Unmodified programs under the
# preload get the ASan runtime first (scripts/preload.sh); the few that
# cannot start under it (curl, wget: libp11-kit) get build/'s plain library,
# built here too. The fuzz targets (build/fuzz: ASan + UBSan already) replay
# their corpora, kept crash inputs included, once each. ASAN_TESTS="name ..." runs only those
# tests (tests/run.sh -l); ASAN_SKIP="name ..." all but those (tests/run.sh
# -x; .ci/run leaves out a few timer-bound tests to stay in CI's time).
ASAN_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_TESTS ?=
ASAN_SKIP ?=
asan: deps
	$(MAKE) B=build-asan OPT="-O1 -g" SAN="$(ASAN_SAN)" all
	$(MAKE) fuzz-build build/libzerotierintercept.so
	B=build-asan NC_FUZZ_B=build NC_FUZZ_SECONDS=0 tests/run.sh $(if $(strip $(ASAN_TESTS)),-l "$(ASAN_TESTS)") $(if $(strip $(ASAN_SKIP)),-x "$(ASAN_SKIP)")

# make tsan: the daemons, their stacks and the unit tests built with
# ThreadSanitizer into build-tsan/, then the tests whose threads share data
# (TSAN_TESTS). Programs under the preload keep build/'s plain intercept
# library (an instrumented one cannot be preloaded into them). Reports fail
# the test, as in make asan. Not in CI: run it after changing who locks what.
TSAN_TESTS ?= test_stack test_rpcd daemon_netcon_pair stack_daemons load_concurrent load_churn fault_kill_app fault_kill_daemon intercept_python intercept_nginx
tsan: deps
	$(MAKE) B=build-tsan OPT="-O1 -g" SAN="-fsanitize=thread" all tests tools
	$(MAKE) build/libzerotierintercept.so
	cp build/libzerotierintercept.so build-tsan/libzerotierintercept.so
	B=build-tsan tests/run.sh -l "$(TSAN_TESTS)"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/netcon $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(B)/zerotier-netcon-service $(B)/zerotier-one $(B)/zerotier-cli $(B)/zerotier-idtool $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(B)/libzerotierintercept.so $(B)/liblwip.so $(DESTDIR)$(PREFIX)/lib/netcon/
	for m in docs/man/*.1; do [ -f "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(PREFIX)/share/man/man1/; done; true

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,zerotier-netcon-service zerotier-one zerotier-cli zerotier-idtool)
	rm -rf $(DESTDIR)$(PREFIX)/lib/netcon
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(wildcard docs/man/*.1)))

clean:
	rm -rf build build-asan build-tsan

-include $(shell find $(B)/obj $(B)/fuzzobj $(LWIP_OBJDIR) -name '*.d' 2>/dev/null)
