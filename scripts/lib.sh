# SPDX-License-Identifier: GPL-2.0
# Shared by the scripts in this directory; sourced, never run.

PTSCOPE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PTSCOPE_CACHE=${PTSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ptscope}
PTSCOPE_PIN=$PTSCOPE_TOP/scripts/kernels.pin
PTSCOPE_SRC=$PTSCOPE_CACHE/linux-source-6.12

die() { echo "${0##*/}: $*" >&2; exit 1; }
say() { echo "${0##*/}: $*" >&2; }

# The names in the pin file, in order (a "+" line is another package of
# the kernel above it).
pinned_kernels() { awk '!/^#/ && NF && $1 != "+" { print $1 }' "$PTSCOPE_PIN"; }

# The apt configuration of ptscope's own, in the cache, for the kernels of
# other Debian releases (trixie, trixie-backports): its own sources list,
# package lists and downloads; the host's apt sources are never read or
# changed. APT::Architectures has arm64 too, for the arm64 kernels.
PTSCOPE_APT=$PTSCOPE_CACHE/apt
ptscope_apt_opts=(
	-o "Dir::Etc::sourcelist=$PTSCOPE_APT/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$PTSCOPE_APT/lists" -o "Dir::Cache=$PTSCOPE_APT/cache"
	-o APT::Architectures::=amd64 -o APT::Architectures::=arm64
	-o APT::Sandbox::User=root
	# Its binary cache, which container images' apt configs turn off:
	# without it each apt-cache call parses every list again (6 s).
	-o Dir::Cache::pkgcache=pkgcache.bin
)

# kernel_env NAME: the file scripts/deps wrote for kernel NAME.
kernel_env() { echo "$PTSCOPE_CACHE/kernels/$1.env"; }

# kernel_arch PKG [NAME]: the architecture of a pinned kernel's package, from
# its Debian flavour (-arm64, -arm64-16k, with -unsigned or not): arm64 or
# x86_64. A linux-source-* package (a debug kernel, scripts/debug-kernel) is
# built for the architecture its pin NAME ends with (debug-arm64), the
# host's otherwise (debug).
kernel_arch() {
	local what=${1%-unsigned}
	case "$what" in linux-source-*) what=${2:-} ;; esac
	case "$what" in
	*-arm64|*-arm64-16k)	echo arm64 ;;
	*)			echo x86_64 ;;
	esac
}

# config_pagings CONFIG ARCH: the paging levels (numbers of translation
# levels) a kernel with that .config can run in, fewest first. x86-64: 5
# (la57, QEMU's -cpu max has it) and 4 (no5lvl), unless built without
# 5-level support. arm64: CONFIG_PGTABLE_LEVELS with the kernel's largest
# VA; a 52-bit kernel (LPA2) also runs with one level fewer when booted with
# arm64.nolva (4 KiB pages: 48-bit VA, 4 levels; 16 KiB: 47-bit, 3 levels).
config_pagings() {
	local config=$1 arch=$2 levels
	if [ "$arch" = arm64 ]; then
		levels=$(sed -n 's/^CONFIG_PGTABLE_LEVELS=//p' "$config")
		[ -n "$levels" ] || return 1
		if grep -qx 'CONFIG_ARM64_VA_BITS=52' "$config"; then
			echo "$((levels - 1)) $levels"
		else
			echo "$levels"
		fi
	elif grep -qx '# CONFIG_X86_5LEVEL is not set' "$config"; then
		echo 4
	else
		echo 4 5
	fi
}

# load_kernel NAME: set KNAME KPKG KVER KREL KDIR VMLINUZ MODROOT KARCH
# KPAGINGS for NAME (an env written before KARCH existed: an x86-64 kernel
# with 4- and 5-level paging).
load_kernel() {
	local env
	env=$(kernel_env "$1")
	# A kernel built from source (scripts/debug-kernel) is re-checked each
	# time: its fragment may have changed. That is quick once it is built.
	if [ ! -r "$env" ] || grep -q '^KPKG=linux-source-' "$env"; then
		"$PTSCOPE_TOP/scripts/deps" kernels "$1" >&2 || exit 1
	fi
	KARCH=x86_64 KPAGINGS="4 5"
	# shellcheck disable=SC1090
	. "$env"
}

# kernel_pagings NAME: the paging levels pinned kernel NAME runs in (what
# scripts/vm --paging takes for it), fewest first; from its env as it is
# (fetched first when there is none).
kernel_pagings() {
	(
		if [ -r "$(kernel_env "$1")" ]; then
			KPAGINGS="4 5"
			# shellcheck disable=SC1090
			. "$(kernel_env "$1")"
		else
			load_kernel "$1" >/dev/null
		fi
		echo "$KPAGINGS"
	)
}

# pinned_arch NAME: the architecture of pinned kernel NAME, from the pin
# file (nothing fetched).
pinned_arch() {
	kernel_arch "$(awk -v n="$1" '!/^#/ && $1 == n { print $2 }' "$PTSCOPE_PIN")" "$1"
}

# pinned_debug NAME: true when pinned kernel NAME is one ptscope builds
# itself, a debug kernel (its package is a linux-source-*: debug,
# debug-arm64), from the pin file (nothing fetched).
pinned_debug() {
	awk -v n="$1" '!/^#/ && $1 == n { print $2 }' "$PTSCOPE_PIN" | grep -q '^linux-source-'
}

# kernel_no_1g_pud NAME: why a 1 GiB hugetlb page is no PUD leaf on pinned
# kernel NAME (nothing when it is one).
kernel_no_1g_pud() {
	(
		load_kernel "$1" >/dev/null
		if grep -qx 'CONFIG_ARM64_16K_PAGES=y' "$KDIR/.config"; then
			echo "16 KiB pages: a 1 GiB hugetlb page is 32 contiguous 32 MiB PMD blocks (CONT_PMD), not a PUD leaf (a PUD block maps 64 GiB)"
		elif grep -qx 'CONFIG_ARM64_64K_PAGES=y' "$KDIR/.config"; then
			echo "64 KiB pages: 1 GiB is no hugetlb size (PMD blocks map 512 MiB, PUD blocks 4 TiB)"
		fi
	)
}

# in_buildroot DIR CMD...: CMD under chroot DIR, with /proc, /dev, the work
# tree, the cache and the temporary directory at their own paths.
in_buildroot() {
	export PTSCOPE_TOP PTSCOPE_CACHE
	local root=$1
	shift
	unshare --mount --propagation private sh -ec '
		root=$1; shift
		for d in /proc /dev /tmp "$PTSCOPE_TOP" "$PTSCOPE_CACHE"; do
			mkdir -p "$root$d"
			mount --rbind "$d" "$root$d"
		done
		exec chroot "$root" env PATH=/usr/local/bin:/usr/bin:/bin "$@"' sh "$root" "$@"
}

# run_long WHAT LOG PROBE CMD...: CMD, a step that takes a while, with its
# output in LOG and a line on stderr every 5 s saying what it is doing, for
# how long, and what `eval PROBE` prints (progress: a size, a file being
# built; empty PROBE: the last line of LOG). On failure, the end of LOG.
run_long() {
	local what=$1 log=$2 probe=$3 pid rc=0 t0=$SECONDS n=0 now
	shift 3
	say "$what ..."
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$((n + 1))
		[ $((n % 5)) = 0 ] && kill -0 "$pid" 2>/dev/null || continue
		if [ -n "$probe" ]; then
			now=$(eval "$probe" 2>/dev/null || true)
		else
			now=$(tail -n 1 "$log" 2>/dev/null | cut -c1-70)
		fi
		say "$what: $((SECONDS - t0)) s${now:+, $now}"
	done
	wait "$pid" || rc=$?
	if [ "$rc" != 0 ]; then
		tail -n 30 "$log" >&2
		say "$what: failed (exit $rc; log: $log)"
		return "$rc"
	fi
	say "$what: done in $((SECONDS - t0)) s"
}

# mb DIR-OR-FILE...: their size in MB, for run_long's probes.
mb() { du -scm "$@" 2>/dev/null | tail -n 1 | cut -f1; }
