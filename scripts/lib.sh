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
)

# kernel_env NAME: the file scripts/deps wrote for kernel NAME.
kernel_env() { echo "$PTSCOPE_CACHE/kernels/$1.env"; }

# load_kernel NAME: set KNAME KPKG KVER KREL KDIR VMLINUZ MODROOT for NAME.
load_kernel() {
	local env
	env=$(kernel_env "$1")
	# A kernel built from source (scripts/debug-kernel) is re-checked each
	# time: its fragment may have changed. That is quick once it is built.
	if [ ! -r "$env" ] || grep -q '^KPKG=linux-source-' "$env"; then
		"$PTSCOPE_TOP/scripts/deps" kernels "$1" >&2 || exit 1
	fi
	# shellcheck disable=SC1090
	. "$env"
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
