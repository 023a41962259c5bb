#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes snapshots/hand-a.snap and hand-b.snap: two small hand-made
snapshots of an imaginary process, 5-level paging, that use every field of
the snapshot format and every kind of entry (PTE and PMD pages, swap, the
zero page, a migration entry, a PFN-mapped special page, shared memory,
tables at every level). hand-b is hand-a a moment later: the heap grew, a
COW break, pages faulted in, swapped out and in, a new VMA, a VMA gone.
The page-table tables and the VMA counts are derived here from the leaves,
the way the module derives them, so the two files stay consistent."""
import os

PAGE = 4096
SHIFT = {1: 12, 2: 21, 3: 30, 4: 39, 5: 48}
LEVEL = {1: "pte", 2: "pmd", 3: "pud", 4: "p4d", 5: "pgd"}
B = dict(present=1 << 0, write=1 << 1, user=1 << 2, accessed=1 << 3, dirty=1 << 4,
         nx=1 << 6, leaf=1 << 7, soft_dirty=1 << 11, special=1 << 13,
         migration_read=1 << 16, swp_exclusive=1 << 19)
P = dict(anon=1, file=2, shmem=4, zero=16, exclusive=32, thp=128)
PROT = dict(r=1, w=2, x=4, s=8)
COUNTS = ["rss_pte", "rss_pmd", "rss_pud", "swap", "dirty", "young", "soft_dirty", "anon",
          "file", "shmem", "thp_pmd", "hugetlb", "special", "zero", "exclusive", "migration",
          "pte_tables", "pmd_tables", "pud_tables", "p4d_tables"]

def bits(*names):
    v = 0
    for n in names:
        v |= B[n]
    return v


def page(*names):
    v = 0
    for n in names:
        v |= P[n]
    return v


def vma(start, end, perms, kind, name, pgoff=0, inode=0, dev=0):
    prot = sum(PROT[c] for c in perms if c in PROT)
    # VM_READ/WRITE/EXEC/SHARED are prot's bits; VM_MAYREAD..VM_MAYSHARE 4 above.
    vm_flags = (prot & 7) | 0x70 | (0x88 if prot & PROT["s"] else 0)
    return dict(start=start, end=end, pgoff=pgoff, vm_flags=vm_flags, inode=inode,
                prot=prot, kind=kind, page_size=PAGE, dev=dev, name=name)


def leaf(start, count, kind="page", level=1, pfn=0, b=0, pg=0, mapcount=1, order=0,
         swap_offset=0, pkey=0):
    shift = SHIFT[level]
    entry = 0
    if kind != "page":
        mapcount = 0
    if kind == "page":
        entry = (pfn << 12) | (b & 0x7f) | (1 << 63 if b & B["nx"] else 0)
        if level > 1:
            entry |= 1 << 7
    elif kind == "swap":
        entry = swap_offset << 9
    return dict(start=start, count=count, level=level, kind=kind, shift=shift, entry=entry,
                pfn=pfn, table_pa=0, bits=b, swap_type=0, swap_offset=swap_offset, page=pg,
                mapcount=mapcount, folio_order=order, pkey=pkey)


def table_shift(level, levels):
    """With 4-level paging the P4D is folded: PGD entries map 512G each."""
    return SHIFT[4] if level == 5 and levels == 4 else SHIFT[level]


def tables(leaves, levels):
    """The TABLE entries above the leaves, level by level, with made-up
    but distinct physical addresses for the tables they point to."""
    out, seen, pa = [], {}, [0x100000]
    for r in leaves:
        for i in range(r["count"]):
            addr = r["start"] + (i << r["shift"])
            for level in range(5, r["level"], -1):
                if level == 4 and levels == 4:
                    continue
                shift = table_shift(level, levels)
                base = addr >> shift << shift
                if (level, base) in seen:
                    continue
                pa[0] += PAGE
                seen[(level, base)] = pa[0]
                b = bits("present", "write", "user", "accessed")
                out.append(dict(start=base, count=1, level=level, kind="table",
                                shift=shift, entry=pa[0] | 0x67, pfn=0, table_pa=pa[0],
                                bits=b, swap_type=0, swap_offset=0, page=0, mapcount=0,
                                folio_order=0, pkey=0))
    return out


def counts(v, leaves, tabs, levels):
    """counts[] as module/query.c count_entry() fills them."""
    c = {}

    def add(k, n):
        c[k] = c.get(k, 0) + n
    for r in leaves:
        if not (v["start"] <= r["start"] < v["end"]):
            continue
        pages = (r["count"] << r["shift"]) // PAGE
        if r["kind"] == "page":
            if r["page"] & P["zero"]:
                add("zero", pages)
            elif r["bits"] & B["special"] or not r["page"]:
                add("special", pages)
            else:
                add({1: "rss_pte", 2: "rss_pmd", 3: "rss_pud"}[r["level"]], pages)
                if r["level"] == 2 and r["page"] & P["anon"]:
                    add("thp_pmd", r["count"])
                kind = "anon" if r["page"] & P["anon"] else \
                       "shmem" if r["page"] & P["shmem"] else "file"
                add(kind, pages)
                if r["page"] & P["exclusive"]:
                    add("exclusive", pages)
        elif r["kind"] == "swap":
            add("swap", pages)
        else:
            add("migration", pages)
        for bit, key in (("dirty", "dirty"), ("accessed", "young"), ("soft_dirty", "soft_dirty")):
            if r["bits"] & B[bit]:
                add(key, pages)
    for t in tabs:
        end = t["start"] + (1 << t["shift"])
        if t["start"] < v["end"] and v["start"] < end:
            names = {2: "pte_tables", 3: "pmd_tables", 4: "pud_tables",
                     5: "p4d_tables" if levels == 5 else "pud_tables"}
            add(names[t["level"]], 1)
    return c


def write(path, comm, taken, vmas, leaves, levels=5):
    tabs = tables(leaves, levels)
    runs = sorted(tabs + leaves, key=lambda r: (r["start"], -r["level"]))
    with open(path, "w") as f:
        f.write("ptscope-snapshot 1\n")
        top = 0xfffffffffff000 if levels == 5 else 0x7ffffffff000
        f.write(f"pid 4242\ncomm {comm}\ntaken {taken}\npage_size 4096\nlevels {levels}\n")
        f.write(f"task_size {top:#x}\nwalk 0x0 {top:#x}\n")
        for v in vmas:
            f.write(f"vma start={v['start']:#x} end={v['end']:#x}")
            for k in ("pgoff", "vm_flags"):
                if v[k]:
                    f.write(f" {k}={v[k]:#x}")
            if v["inode"]:
                f.write(f" inode={v['inode']}")
            f.write(f" prot={v['prot']} kind={v['kind']} page_size={v['page_size']}")
            if v["dev"]:
                f.write(f" dev={v['dev']}")
            c = counts(v, leaves, tabs, levels)
            for k in COUNTS:
                if c.get(k):
                    f.write(f" {k}={c[k]}")
            f.write(f" name={v['name']}\n")
        for r in runs:
            f.write(f"run start={r['start']:#x} count={r['count']} level={LEVEL[r['level']]}"
                    f" kind={r['kind']} shift={r['shift']}")
            for k in ("entry", "pfn", "table_pa", "bits", "swap_type", "swap_offset", "page",
                      "mapcount", "folio_order", "pkey"):
                if r[k]:
                    dec = k in ("swap_type", "mapcount", "folio_order", "pkey")
                    f.write(f" {k}={r[k]}" if dec else f" {k}={r[k]:#x}")
            f.write("\n")
        f.write("end\n")


EXE, HEAP, THP, SHM, GUARD = 0x555555554000, 0x555555558000, 0x7f0000000000, 0x7f0000600000, 0x7f0000604000
VVAR, VDSO, STACK, NEW = 0x7ffff7fc1000, 0x7ffff7fc5000, 0x7ffffffde000, 0x7f0000800000
RO = bits("present", "user", "accessed", "nx")
RX = bits("present", "user", "accessed")
RW = bits("present", "write", "user", "accessed", "dirty", "nx")
FILE = dict(inode=1048577, dev=(8 << 20) | 1)


def common_vmas(heap_end, with_guard, with_new):
    v = [vma(EXE, EXE + 0x2000, "r--p", "file", "/usr/bin/demo", **FILE),
         vma(EXE + 0x2000, EXE + 0x3000, "r-xp", "file", "/usr/bin/demo", pgoff=0x2000, **FILE),
         vma(EXE + 0x3000, EXE + 0x4000, "rw-p", "file", "/usr/bin/demo", pgoff=0x3000, **FILE),
         vma(HEAP, heap_end, "rw-p", "heap", "[heap]"),
         vma(THP, THP + 0x400000, "rw-p", "anon", ""),
         vma(SHM, SHM + 0x4000, "rw-s", "shmem", "/memfd:demo (deleted)", inode=7, dev=1)]
    if with_guard:
        v.append(vma(GUARD, GUARD + 0x1000, "---p", "anon", "[anon:guard]"))
    if with_new:
        v.append(vma(NEW, NEW + 0x10000, "rw-p", "anon", ""))
    v += [vma(VVAR, VVAR + 0x4000, "r--p", "vvar", "[vvar]"),
          vma(VDSO, VDSO + 0x2000, "r-xp", "vdso", "[vdso]"),
          vma(STACK, STACK + 0x21000, "rw-p", "stack", "[stack]")]
    return sorted(v, key=lambda x: x["start"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    shared = [leaf(EXE, 2, pfn=0x10000, b=RO, pg=page("file"), mapcount=3),
              leaf(EXE + 0x2000, 1, pfn=0x10002, b=RX, pg=page("file"), mapcount=3),
              leaf(THP, 1, level=2, pfn=0x40000, b=RW | B["leaf"],
                   pg=page("anon", "exclusive", "thp"), order=9, pkey=1),
              leaf(SHM, 2, pfn=0x50000, b=RW, pg=page("shmem"), mapcount=2),
              leaf(VVAR, 1, pfn=0x1234, b=bits("present", "user", "nx", "special")),
              leaf(VDSO, 2, pfn=0x2000, b=RX, pg=0, mapcount=1),
              leaf(STACK + 0x1e000, 3, pfn=0x60000, b=RW | B["soft_dirty"],
                   pg=page("anon", "exclusive"))]
    a = shared + [
        leaf(EXE + 0x3000, 1, pfn=0x20000, b=RW & ~B["write"], pg=page("anon"), mapcount=2),
        leaf(HEAP, 4, pfn=0x20010, b=RW, pg=page("anon", "exclusive")),
        leaf(HEAP + 0x4000, 2, kind="swap", b=B["swp_exclusive"], swap_offset=0x100),
        leaf(HEAP + 0x6000, 1, pfn=0x1fc0, b=RO, pg=page("zero"), mapcount=0),
        leaf(HEAP + 0x8000, 1, kind="migration", b=B["migration_read"]),
        leaf(THP + 0x200000, 3, pfn=0x30000, b=RW, pg=page("anon", "exclusive")),
        leaf(THP + 0x203000, 1, kind="swap", swap_offset=0x200)]
    write(os.path.join(here, "snapshots/hand-a.snap"), "demo", "2026-11-25T10:00:00Z",
          common_vmas(HEAP + 0x21000, True, False), a)
    write(os.path.join(here, "snapshots/hand-4level.snap"), "demo", "2026-11-25T10:00:00Z",
          common_vmas(HEAP + 0x21000, True, False), a, levels=4)
    b = shared + [
        leaf(EXE + 0x3000, 1, pfn=0x20100, b=RW, pg=page("anon", "exclusive")),
        leaf(HEAP, 4, pfn=0x20010, b=RW, pg=page("anon", "exclusive")),
        leaf(HEAP + 0x4000, 2, pfn=0x20020, b=RW, pg=page("anon", "exclusive")),
        leaf(HEAP + 0x6000, 1, pfn=0x1fc0, b=RO, pg=page("zero"), mapcount=0),
        leaf(HEAP + 0x8000, 1, pfn=0x20030, b=RW, pg=page("anon", "exclusive")),
        leaf(HEAP + 0xa000, 1, pfn=0x20040, b=RW, pg=page("anon", "exclusive")),
        leaf(HEAP + 0x21000, 3, pfn=0x20050, b=RW, pg=page("anon", "exclusive")),
        leaf(THP + 0x200000, 2, kind="swap", swap_offset=0x300),
        leaf(THP + 0x202000, 1, pfn=0x30002, b=RW, pg=page("anon", "exclusive")),
        leaf(THP + 0x203000, 1, kind="swap", swap_offset=0x200),
        leaf(NEW, 2, pfn=0x70000, b=RW, pg=page("anon", "exclusive"))]
    write(os.path.join(here, "snapshots/hand-b.snap"), "demo", "2026-11-25T10:00:30Z",
          common_vmas(HEAP + 0x42000, False, True), b)


main()
