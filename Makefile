# SPDX-License-Identifier: GPL-2.0
# ptscope: the user-facing wrapper around Kbuild, the tool and the tests.
# `make help` lists the targets.

KDIR	?= /lib/modules/$(shell uname -r)/build
# The release of the kernel in KDIR (where modules_install puts the module).
KREL	= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)

# make install: the GNU directory variables; DESTDIR for a staging root.
prefix		?= /usr/local
exec_prefix	?= $(prefix)
bindir		?= $(exec_prefix)/bin
datarootdir	?= $(prefix)/share
mandir		?= $(datarootdir)/man
bashcompdir	?= $(datarootdir)/bash-completion/completions
DESTDIR		?=
INSTALL		?= install
# Where the module goes under /lib/modules/KREL/ (Kbuild's default: extra).
INSTALL_MOD_DIR	?= extra
TOP	:= $(CURDIR)
CACHE	?= $(or $(PTSCOPE_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ptscope)
KSFT	:= $(CACHE)/linux-source-6.12/tools/testing/selftests
KERNELS	:= $(shell awk '!/^\#/ && NF && $$1 != "+" { print $$1 }' scripts/kernels.pin)

# One version for the module, the tool and the packages: module/ptscope.h's.
VERSION	:= $(shell sed -n 's/^\#define PTSCOPE_VERSION "\(.*\)"/\1/p' module/ptscope.h)

CC	?= cc
CFLAGS	?= -O2 -g
CPPFLAGS ?=
LDFLAGS	?=
WARN	:= -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Werror=implicit-function-declaration
# The kselftest harness is written for -Wall, as the kernel's selftests build.
SELFTEST_WARN := -Wall -Wformat=2 -Werror=implicit-function-declaration
PKG_CONFIG   ?= pkg-config
SCOLS_CFLAGS = $(shell $(PKG_CONFIG) --cflags smartcols)
SCOLS_LIBS   = $(shell $(PKG_CONFIG) --libs smartcols)
MHD_CFLAGS   = $(shell $(PKG_CONFIG) --cflags libmicrohttpd)
MHD_LIBS     = $(shell $(PKG_CONFIG) --libs libmicrohttpd) -lpthread

# Where the programs are built (OBJ, a prefix: in the tree by default) and
# staged for the guest (GUEST/bin): `make stage-arm64` builds them again for
# an arm64 guest, cross-compiled in the build root (scripts/cross-make),
# into build/guest-arm64/.
OBJ		?=
GUEST		?= build/guest
TOOL		:= $(OBJ)tools/ptscope/ptscope
TOOL_SRCS	:= $(wildcard tools/ptscope/*.c)
TOOL_HDRS	:= $(wildcard tools/ptscope/*.h) include/uapi/ptscope.h
# serve's page, built into the tool (.incbin, paths from the top directory).
TOOL_WEB	:= $(wildcard tools/ptscope/web/*)
SELFTESTS	:= $(addprefix $(OBJ)selftests/,ptscope_test walk_test counters_test huge_test \
		   perm_test ptscope_fuzz ptscope_stress race_test)
BENCHES		:= $(OBJ)bench/ptscope_bench
SELFTEST_HDRS	:= $(wildcard selftests/*.h) include/uapi/ptscope.h
DEMO_PROGS	:= $(patsubst demo/progs/%.c,$(OBJ)build/demo/demo-%,$(wildcard demo/progs/*.c))

.PHONY: deb dkms-install install install-module install-tool uninstall uninstall-module uninstall-tool
.PHONY: all module tool tool-check selftests stage stage-arm64 stage-demo-arm64 modules-all deps check style sparse \
	vm demo bench clean help stage-demo deps-vm debug-kernel kunit fuzz stress $(addprefix modules-,$(KERNELS))

# make fuzz: bounded by time and by calls (0: no bound of that kind); PAGING 4 or 5.
FUZZ_SECONDS	?= 300
FUZZ_CALLS	?= 0
FUZZ_SEED	?= 0
FUZZ_EXCLUDE	?=
PAGING		?= 5
# The debug kernel of make debug-kernel, kunit, fuzz and stress: debug
# (x86-64) or debug-arm64.
DEBUG_KERNEL	?= debug
STRESS_SECONDS	?= 600

all: module tool

help:
	@echo 'make [KDIR=...]     module/ptscope.ko for KDIR (default: the running kernel) and the tool'
	@echo 'make module         module/ptscope.ko only'
	@echo 'make install        the module (modules_install), the tool, its man page and bash'
	@echo '                    completion (DESTDIR, prefix=$(prefix), KDIR); make uninstall'
	@echo '                    removes them; install-tool / install-module: one half'
	@echo 'make dkms-install   the module source for DKMS into DESTDIR/usr/src/ptscope-$(VERSION)'
	@echo 'make deb            the Debian packages ptscope-dkms and ptscope into build/deb/'
	@echo 'make tool           tools/ptscope/ptscope (needs libsmartcols-dev)'
	@echo 'make tool-check     the tool'"'"'s golden tests on recorded snapshots (host, no VM)'
	@echo 'make modules-all    the module for every pinned kernel, into build/NAME/, W=1, no warnings'
	@echo 'make selftests      the kselftest-harness tests (harness from linux-source-6.12)'
	@echo 'make stage-arm64    the guest'"'"'s programs cross-compiled for arm64 VMs (build/guest-arm64/bin)'
	@echo 'make deps           install/fetch everything (apt-get, kernels, linux-source): scripts/deps'
	@echo '                    (make demo fetches only its own: scripts/deps demo)'
	@echo 'make check          everything above, style, then the tests in a VM per kernel and paging mode'
	@echo 'make style          checkpatch.pl --strict on the kernel code'
	@echo 'make sparse         sparse (C=2) on the module for every pinned kernel'
	@echo 'make vm [LIVE=1]    a shell in a VM with the module loaded (scripts/vm --help); LIVE=1:'
	@echo '                    the guest'"'"'s port $(LIVE_PORT) forwarded to the host'"'"'s 127.0.0.1 for'
	@echo '                    ptscope serve PID --listen 0.0.0.0:$(LIVE_PORT) (open the URL it prints)'
	@echo 'make demo [HTML=DIR] [LIVE=1] the guided virtual-memory tour in a VM (scripts/demo --help);'
	@echo '                    LIVE=1: each chapter'"'"'s program live in a browser on the host'
	@echo 'make bench          ptscope against the kernel'"'"'s interfaces, per kernel, in a VM (scripts/bench --help)'
	@echo 'make debug-kernel   build (once, cached) the KUnit/KASAN/lockdep kernel: scripts/debug-kernel'
	@echo '                    [DEBUG_KERNEL=debug, or debug-arm64 for the arm64 one; also for kunit, fuzz, stress]'
	@echo 'make kunit          the KUnit tests (kunit/) in a VM of the debug kernel: scripts/kunit'
	@echo 'make fuzz           random ioctls and debugfs calls in a debug-kernel VM [FUZZ_SECONDS=300'
	@echo '                    FUZZ_CALLS=0 FUZZ_SEED=0 FUZZ_EXCLUDE= PAGING=5]'
	@echo 'make stress         readers against a mutating target in a debug-kernel VM [STRESS_SECONDS=600 PAGING=5]'
	@echo 'make clean          remove build products (the cache stays: $(CACHE))'

module:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

tool: $(TOOL)

# The module through Kbuild's modules_install (INSTALL_MOD_PATH=DESTDIR):
# /lib/modules/KREL/extra/module/ptscope.ko (compressed as the kernel's
# modules are), depmod run when installing for real.
install: install-module install-tool

install-module: module
	$(MAKE) -C $(KDIR) M=$(TOP) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) modules_install
	$(if $(DESTDIR),,depmod -a $(KREL))

install-tool: tool
	$(INSTALL) -D -m 0755 $(TOOL) $(DESTDIR)$(bindir)/ptscope
	$(INSTALL) -D -m 0644 tools/ptscope/ptscope.1 $(DESTDIR)$(mandir)/man1/ptscope.1
	$(INSTALL) -D -m 0644 tools/ptscope/ptscope.bash-completion \
		$(DESTDIR)$(bashcompdir)/ptscope

# The module's source for DKMS: /usr/src/ptscope-VERSION (what the
# ptscope-dkms package holds); `dkms install ptscope/VERSION` builds it.
DKMS_SRC	:= Kbuild dkms.conf include/uapi/ptscope.h $(wildcard module/*.[ch])
dkms-install:
	@test "$$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)" = "$(VERSION)" || \
		{ echo "dkms.conf: PACKAGE_VERSION is not $(VERSION)" >&2; exit 1; }
	for f in $(filter-out %.mod.c,$(DKMS_SRC)); do \
		$(INSTALL) -D -m 0644 $$f $(DESTDIR)/usr/src/ptscope-$(VERSION)/$$f || exit; \
	done

# The Debian packages ptscope-dkms and ptscope (debian/), built from a copy
# of the tracked and new files in build/deb/ptscope-VERSION, never in the
# source tree: build/deb/*.deb. scripts/pkg-check runs lintian on them and
# installs them into a Debian 12 chroot.
deb:
	rm -rf build/deb && mkdir -p build/deb/ptscope-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 cp --parents -t build/deb/ptscope-$(VERSION) 2>/dev/null || \
		tar -cf - --exclude=./build --exclude=./.git . | tar -C build/deb/ptscope-$(VERSION) -xf -
	cd build/deb/ptscope-$(VERSION) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	@ls build/deb/*.deb

uninstall: uninstall-module uninstall-tool

uninstall-module:
	rm -f $(DESTDIR)/lib/modules/$(KREL)/$(INSTALL_MOD_DIR)/module/ptscope.ko*
	-rmdir $(DESTDIR)/lib/modules/$(KREL)/$(INSTALL_MOD_DIR)/module 2>/dev/null
	$(if $(DESTDIR),,depmod -a $(KREL))

uninstall-tool:
	rm -f $(DESTDIR)$(bindir)/ptscope $(DESTDIR)$(mandir)/man1/ptscope.1 \
		$(DESTDIR)$(bashcompdir)/ptscope

# CPPFLAGS, CFLAGS and LDFLAGS as the caller (or dpkg-buildflags) sets them.
$(TOOL): $(TOOL_SRCS) $(TOOL_HDRS) $(TOOL_WEB) module/ptscope.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DPTSCOPE_TOOL_VERSION='"$(VERSION)"' -Iinclude $(SCOLS_CFLAGS) \
		$(MHD_CFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $(TOOL_SRCS) $(SCOLS_LIBS) \
		$(MHD_LIBS)

# The tool's golden tests on recorded snapshots: host only, no VM, no module.
tool-check: tool
	tools/ptscope/tests/run

selftests: $(SELFTESTS)

$(KSFT)/kselftest_harness.h:
	scripts/deps source

$(OBJ)selftests/%: selftests/%.c $(SELFTEST_HDRS) $(KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SELFTEST_WARN) -Iinclude -I$(KSFT) -o $@ $< -lpthread

# The tour's C programs (demo/progs/), demo-NAME on the guest's PATH.
$(OBJ)build/demo/demo-%: demo/progs/%.c demo/progs/step.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -o $@ $<

# What scripts/vm puts on the guest's PATH.
$(OBJ)bench/%: bench/%.c bench/bench.h selftests/ptscope_util.h include/uapi/ptscope.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -Wno-missing-prototypes -Iinclude -o $@ $<

stage: tool selftests $(BENCHES) $(DEMO_PROGS)
	@rm -rf $(GUEST)/bin && mkdir -p $(GUEST)/bin
	@cp $(TOOL) $(SELFTESTS) $(BENCHES) selftests/run-guest selftests/cli-guest \
		selftests/serve-guest selftests/lifecycle-guest selftests/metrics-guest selftests/torture-guest \
		selftests/inflight-guest \
		$(DEMO_PROGS) $(GUEST)/bin/

# What the tour needs on the guest's PATH: no selftests (no kernel source).
stage-demo: tool $(DEMO_PROGS)
	@rm -rf $(GUEST)/bin && mkdir -p $(GUEST)/bin
	@cp $(TOOL) $(DEMO_PROGS) $(GUEST)/bin/

# The same for an arm64 guest, in build/guest-arm64/bin.
stage-arm64 stage-demo-arm64: stage%-arm64:
	scripts/cross-make arm64 stage$*

modules-all: $(addprefix modules-,$(KERNELS))

$(addprefix modules-,$(KERNELS)): modules-%:
	scripts/build-module $*

deps:
	scripts/deps all

deps-vm:
	scripts/deps packages
	scripts/deps source

style:
	scripts/style

sparse:
	@for k in $(KERNELS); do scripts/build-module $$k C=2 || exit 1; done

# Silent: its stdout is one TAP stream, which must start with its version line.
check:
	@scripts/check

# LIVE=1: the guest's port LIVE_PORT reachable on the host's 127.0.0.1 (ptscope serve).
LIVE_PORT ?= 8642
# A VM fetches the kernel it boots when it is missing (scripts/lib.sh load_kernel).
vm: deps-vm
	scripts/vm $(if $(LIVE),--forward $(LIVE_PORT))

# HTML=DIR also writes DIR/index.html, with pictures, for projecting.
demo:
	scripts/demo $(if $(HTML),--html $(HTML)) $(if $(LIVE),--live $(LIVE_PORT))

bench: deps-vm
	scripts/bench $(if $(ICOUNT),--icount $(ICOUNT)) $(if $(BENCH_ARCH),--arch $(BENCH_ARCH))

debug-kernel:
	scripts/deps kernels $(DEBUG_KERNEL)

kunit: debug-kernel
	scripts/kunit --kernel $(DEBUG_KERNEL)

# The VM's time limit: the run, plus boot and the kmemleak scan on a busy machine.
fuzz: debug-kernel
	scripts/vm --kernel $(DEBUG_KERNEL) --paging $(PAGING) --timeout $$(( $(FUZZ_SECONDS) + 900 )) -- \
		ptscope_fuzz --seconds $(FUZZ_SECONDS) --calls $(FUZZ_CALLS) --seed $(FUZZ_SEED) \
		--exclude '$(FUZZ_EXCLUDE)'

stress: debug-kernel
	scripts/vm --kernel $(DEBUG_KERNEL) --paging $(PAGING) --timeout $$(( $(STRESS_SECONDS) + 900 )) -- \
		ptscope_stress --seconds $(STRESS_SECONDS)

clean:
	rm -rf build $(TOOL) $(SELFTESTS) $(BENCHES)
	rm -f module/*.o module/*.ko module/*.mod module/*.mod.c module/.*.cmd \
	      .*.cmd Module.symvers modules.order module/modules.order
