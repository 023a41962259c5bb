# SPDX-License-Identifier: GPL-2.0
# Lazy allocation: the article's program, with two stops for the tour.
import ctypes
import mmap
import sys


def step(name, **kv):
    print("@", name, *(f"{k}={v}" for k, v in kv.items()), flush=True)
    if not sys.stdin.readline():
        sys.exit(0)


# "give me 1 GB" — the kernel just creates page-table entries, no RAM moves
region = mmap.mmap(-1, 1024 * 1024 * 1024)
view = ctypes.c_char.from_buffer(region)
addr = ctypes.addressof(view)
del view
step("reserved", addr=hex(addr), size=len(region))

# touch one byte every page (4096 bytes, 16384 on some arm64) — each touch
# page-faults exactly one page in
PAGE = mmap.PAGESIZE
for offset in range(0, 64 * PAGE, PAGE):
    region[offset] = 1            # first write to a page = one page fault

print(f"reserved 1 GB of address space, actually dirtied 64 pages = {64 * PAGE // 1024} KB")
step("touched", addr=hex(addr))
region.close()
