# SPDX-License-Identifier: GPL-2.0
# Shared by the scripts in this directory; sourced, never run.

PTSCOPE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PTSCOPE_CACHE=${PTSCOPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ptscope}
PTSCOPE_PIN=$PTSCOPE_TOP/scripts/kernels.pin
PTSCOPE_SRC=$PTSCOPE_CACHE/linux-source-6.12

die() { echo "${0##*/}: $*" >&2; exit 1; }
say() { echo "${0##*/}: $*" >&2; }

# The names in the pin file, in order.
pinned_kernels() { awk '!/^#/ && NF { print $1 }' "$PTSCOPE_PIN"; }

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
