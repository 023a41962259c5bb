#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The guided virtual-memory tour: one chapter per idea of the article.

Runs inside the ptscope VM (scripts/demo boots it; `make demo`). Each chapter
starts a small real program from demo/progs/, stops it at interesting
moments, shows what ptscope sees, and checks every claim it makes against a
source ptscope does not use: /proc/PID/pagemap, /proc/kpageflags,
/proc/kpagecount, smaps, maps, /proc/PID/stat, getrusage, /proc/meminfo,
tracefs, /proc/swaps. The tour is also a test: with --tap it prints one
TAP line per claim, and it exits non-zero when a claim does not hold.

    tour.py [--tap] [--html DIR] [--color] [--live PORT [--pace SECONDS]] [CHAPTER...]
"""

import argparse
import contextlib
import html
import json
import os
import re
import shlex
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")     # 4 KiB on x86-64, 4 or 16 KiB on arm64
PAGE_SHIFT = PAGE.bit_length() - 1
HERE = os.path.dirname(os.path.abspath(__file__))
PROGS = os.path.join(HERE, "progs")
DEBUGFS = "/sys/kernel/debug/ptscope"


# ---------------------------------------------------------------- the report

class Report:
    """Where the tour writes: the terminal (or TAP) and an HTML page."""

    def __init__(self, tap, html_dir, color):
        self.tap = tap
        self.html_dir = html_dir
        self.color = color and not tap
        self.claims = 0
        self.failed = 0
        self.chapters = []      # (number, title, [blocks]) for the HTML page
        self.blocks = None
        self.live = None        # the live view (demo/live.py), with --live
        if html_dir:
            os.makedirs(html_dir, exist_ok=True)

    def _style(self, code, text):
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def _print(self, text=""):
        for line in text.split("\n"):
            print(f"# {line}".rstrip() if self.tap else line)
        sys.stdout.flush()

    def chapter(self, number, title):
        self.blocks = []
        self.chapters.append((number, title, self.blocks))
        if self.live:
            self.live.chapter(number, title)
        self._print()
        self._print(self._style("1;4", f"Chapter {number}: {title}"))
        self._print()

    def para(self, text):
        self.blocks.append(("p", text))
        self._print(wrap(text))
        self._print()

    def command(self, shown, output):
        self.blocks.append(("cmd", shown, output))
        self._print(self._style("1", f"$ {shown}"))
        if output:
            self._print(output.rstrip("\n"))
        self._print()

    def source(self, path):
        """The source of a chapter's program: named on the terminal, shown in
        full (folded) in the HTML report, once per chapter."""
        rel = os.path.relpath(path, os.path.dirname(HERE))
        if any(b[0] == "src" and b[1] == rel for b in self.blocks):
            return
        with open(path) as f:
            self.blocks.append(("src", rel, f.read()))
        self._print(f"  (the program: {rel})")
        self._print()

    def program(self, name, lines):
        if not lines:
            return
        text = "\n".join(lines)
        self.blocks.append(("out", name, text))
        self._print("\n".join(f"  [{name}] {line}" for line in lines))
        self._print()

    def picture(self, svg, caption):
        if self.html_dir:
            self.blocks.append(("img", svg, caption))

    def claim(self, ok, text, evidence):
        self.claims += 1
        self.failed += not ok
        self.blocks.append(("claim", ok, text, evidence))
        if self.tap:
            print(f"{'ok' if ok else 'not ok'} {self.claims} - {text}")
            if not ok:
                print(f"#   {evidence}")
            sys.stdout.flush()
            return
        mark = self._style("32", "  ok  ") if ok else self._style("1;31", "FAILED")
        self._print(f"{mark} {text}")
        self._print(f"       ({evidence})")

    def skip(self, text, why):
        self.claims += 1
        self.blocks.append(("claim", None, text, why))
        if self.tap:
            print(f"ok {self.claims} - {text} # SKIP {why}")
        else:
            self._print(f" skip  {text} ({why})")

    def write_html(self, title, intro):
        if not self.html_dir:
            return
        out = [HTML_HEAD.format(title=html.escape(title))]
        out.append(f"<h1>{html.escape(title)}</h1><p class=intro>{html.escape(intro)}</p><ol class=toc>")
        for number, name, _ in self.chapters:
            out.append(f'<li><a href="#ch{number}">{html.escape(name)}</a></li>')
        out.append("</ol>")
        for number, name, blocks in self.chapters:
            out.append(f'<section id="ch{number}"><h2>{number}. {html.escape(name)}</h2>')
            for b in blocks:
                out.append(html_block(b))
            out.append("</section>")
        out.append(f"<p class=total>{self.claims - self.failed} of {self.claims} claims held.</p>")
        out.append("</body></html>\n")
        with open(os.path.join(self.html_dir, "index.html"), "w") as f:
            f.write("\n".join(out))


HTML_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 18px/1.5 "DejaVu Sans", sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222; }}
h1 {{ font-size: 2em; }} h2 {{ margin-top: 2.5em; border-bottom: 2px solid #1e88e5; }}
pre {{ background: #f4f4f4; padding: .6em; overflow-x: auto; font: 14px/1.35 "DejaVu Sans Mono", monospace; }}
pre.cmd b {{ color: #1e88e5; }}
pre.out {{ background: #fffbe6; }}
figure {{ margin: 1em 0; }} figure img {{ max-width: 100%; max-height: 85vh; border: 1px solid #ddd; }}
figcaption {{ font-style: italic; color: #555; }}
ul.claims {{ list-style: none; padding-left: 0; }}
ul.claims li {{ margin: .3em 0; }}
.ok {{ color: #2e7d32; font-weight: bold; }} .bad {{ color: #c62828; font-weight: bold; }}
.skip {{ color: #777; font-weight: bold; }}
.ev {{ color: #666; font-size: .85em; }}
.toc {{ columns: 2; }} .total {{ margin-top: 3em; font-weight: bold; }}
</style></head><body>"""


def html_block(b):
    kind = b[0]
    if kind == "p":
        return f"<p>{html.escape(b[1])}</p>"
    if kind == "cmd":
        return (f'<pre class=cmd><b>$ {html.escape(b[1])}</b>\n'
                f"{html.escape(b[2].rstrip())}</pre>")
    if kind == "src":
        return (f"<details><summary>The program: <code>{html.escape(b[1])}</code></summary>"
                f"<pre>{html.escape(b[2])}</pre></details>")
    if kind == "out":
        return f"<pre class=out><i>{html.escape(b[1])} prints:</i>\n{html.escape(b[2])}</pre>"
    if kind == "img":
        return (f'<figure><img src="{html.escape(b[1])}" alt="{html.escape(b[2])}">'
                f"<figcaption>{html.escape(b[2])}</figcaption></figure>")
    ok, text, ev = b[1:]
    mark = {True: "<span class=ok>✔</span>", False: "<span class=bad>✘</span>",
            None: "<span class=skip>skipped</span>"}[ok]
    return f"<ul class=claims><li>{mark} {html.escape(text)} <span class=ev>({html.escape(ev)})</span></li></ul>"


def wrap(text, width=78):
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}" if line else w
    lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------ the kernel's own accounts

def pagemap(pid, addr):
    """(present, swapped, pfn) of the page at addr, from /proc/PID/pagemap."""
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(addr // PAGE * 8)
        (e,) = struct.unpack("<Q", f.read(8))
    return bool(e >> 63 & 1), bool(e >> 62 & 1), e & ((1 << 55) - 1)


def pagemap_range(pid, start, end):
    """pagemap entries of [start, end) as (present, swapped, pfn) tuples."""
    n = (end - start) // PAGE
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        f.seek(start // PAGE * 8)
        raw = f.read(8 * n)
    return [(bool(e >> 63 & 1), bool(e >> 62 & 1), e & ((1 << 55) - 1))
            for e in struct.unpack(f"<{n}Q", raw)]


def kpage(path, pfn):
    with open(path, "rb") as f:
        f.seek(pfn * 8)
        return struct.unpack("<Q", f.read(8))[0]


KPF_THP = 22


def smaps_vma(pid, addr):
    """The smaps fields (kB) of the VMA that contains addr, or None."""
    vma = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                if vma is not None:
                    return vma
                if int(m[1], 16) <= addr < int(m[2], 16):
                    vma = {"start": int(m[1], 16), "end": int(m[2], 16), "line": line.strip()}
                continue
            if vma is not None:
                m = re.match(r"(\w+):\s+(\d+) kB", line)
                if m:
                    vma[m[1]] = int(m[2])
    return vma


def proc_stat(pid):
    """minflt and majflt of /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[9])


def kv_file(path):
    """A file of 'Key: value [kB]' or 'key value' lines, values as ints."""
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.replace(":", " ").split()
            if len(parts) >= 2 and parts[1].lstrip("-").isdigit():
                out[parts[0]] = int(parts[1])
    return out


def read(path):
    with open(path) as f:
        return f.read().strip()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# -------------------------------------------------------------- ptscope

class Tool:
    def __init__(self, report):
        self.r = report
        self.pictures = 0

    def run(self, args, grep=None, show=True):
        """Run ptscope, show the command and its output; grep keeps the
        heading and the lines that contain one of the strings."""
        p = subprocess.run(["ptscope"] + args, capture_output=True, text=True)
        out = p.stdout + p.stderr
        shown = "ptscope " + " ".join(shlex.quote(a) for a in args)
        if grep:
            lines = out.splitlines()
            out = "\n".join(lines[:1] + [l for l in lines[1:] if any(g in l for g in grep)])
            shown += " | grep -e " + " -e ".join(shlex.quote(g) for g in grep)
        if show:
            self.r.command(shown, out)
        if p.returncode:
            raise RuntimeError(f"{shown}: exit {p.returncode}: {p.stderr.strip()}")
        return out

    def json(self, args):
        p = subprocess.run(["ptscope"] + args + ["-J"], capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(f"ptscope {' '.join(args)} -J: exit {p.returncode}: {p.stderr.strip()}")
        return json.loads(p.stdout)

    def vma(self, pid, addr, columns="start,end,perms,size,rss,anon,file,shmem,swap,thp,huge,name"):
        for row in self.json(["maps", "-b", "-o", columns, str(pid)])["maps"]:
            if int(row["start"], 16) <= addr < int(row["end"], 16):
                return row
        return None

    def vtop(self, pid, addr):
        rows = self.json(["vtop", "-o", "step,index,addr_bits,table,entry,next,kind,flags,covers,meaning",
                          str(pid), hex(addr)])["vtop"]
        return rows

    def picture(self, pid, caption):
        if not self.r.html_dir:
            return
        self.pictures += 1
        name = f"picture-{self.pictures:02d}.svg"
        subprocess.run(["ptscope", "map", str(pid), "--svg", os.path.join(self.r.html_dir, name)],
                       check=True)
        self.r.picture(name, caption)


# ------------------------------------------- counters and huge-page status

def has_view(name):
    """Whether the loaded module has debugfs view `name` (counters, huge_vmas)."""
    return os.path.exists(f"{DEBUGFS}/{name}")


HEADINGS = ("COUNTER ", "REASON ", "START ")     # the live views' table headings


class Live:
    """One of the tool's live views (ptscope faults, tlb or top) running in
    the background on a process: it starts a watch when it starts and prints
    a sample, totals since then, every INTERVAL seconds. Each sample's
    heading says how long the watch has run when the tool read it: the watch
    started after the tool did, so t0 (just before) plus that time is a time
    the counters were read after, however late the sample's lines arrive."""

    INTERVAL = 0.2

    def __init__(self, view, pid):
        self.view, self.pid = view, pid
        self.shown = f"ptscope {view} {pid} -i {self.INTERVAL}"
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(["ptscope", view, str(pid), "-i", str(self.INTERVAL)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.samples = []       # (read no earlier than, lines)
        self.done = False
        self.cv = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()
        if not self._wait(0):   # the first sample: the watch is on
            raise RuntimeError(f"{self.shown}: {self.text(self.samples) or 'no output'}")

    def _reader(self):
        cur, blanks, read = [], 0, self.t0
        for line in self.p.stdout:
            line = line.rstrip("\n")
            if line.startswith(f"ptscope {self.view}:"):
                cur, blanks = [], 0
                m = re.search(r"watched for ([0-9.]+) s", line)
                # printed to 0.1 s, rounded: up to 0.05 s late
                read = self.t0 + float(m.group(1)) - 0.05 if m else self.t0
            cur.append(line)
            blanks += not line
            if blanks == 2:
                with self.cv:
                    self.samples.append((read, cur))
                    self.cv.notify_all()
                cur, blanks = [], 0
        with self.cv:
            if cur:
                self.samples.append((read, cur))
            self.done = True
            self.cv.notify_all()

    def _wait(self, after):
        """The first sample read after `after` (or the last one, once the
        tool has ended: it ends by itself when the process is gone)."""
        with self.cv:
            self.cv.wait_for(lambda: self.done or (self.samples and self.samples[-1][0] > after), 30)
            if self.samples and (self.samples[-1][0] > after or self.done):
                return next((l for t, l in self.samples if t > after), self.samples[-1][1])
            return None

    @staticmethod
    def text(lines):
        return "\n".join(l for l in lines if l) if isinstance(lines, list) else ""

    def sample(self):
        """A sample taken now: its table rows, split, and its lines."""
        lines = [l for l in self._wait(time.monotonic()) or [] if l]
        if not lines:
            raise RuntimeError(f"{self.shown}: no sample")
        head = next((i for i, l in enumerate(lines) if l.startswith(HEADINGS)), len(lines))
        return [l.split() for l in lines[head + 1:]], lines     # an empty table has no heading

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


class Watch:
    """ptscope's fault and TLB counters (issue 4) on one process, read with
    the tool's live views, started before a step and sampled after it."""

    def __init__(self, report, pid, tlb=False):
        self.r = report
        self.views = {}
        try:
            for view in ("faults", "top") + (("tlb",) if tlb else ()):
                self.views[view] = Live(view, pid)
        except Exception:
            self.__exit__()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for v in self.views.values():
            v.stop()

    def read(self, show=()):
        """The counters now: {"fault.minor": n, "tlb.X": (events, full,
        pages), "vmas": [(start, end, faults, major)]}. The learner sees the
        tool's latest sample: the rows named in `show` ("fault.minor",
        "tlb.local_mm_shootdown", ...; "vma": the whole top table)."""
        out = {"vmas": []}
        for view, live in self.views.items():
            body, lines = live.sample()
            for w in body:
                # n/a: a counter the module cannot count on this kernel (None)
                if view == "faults":
                    out[f"fault.{w[0]}"] = None if w[1] == "n/a" else int(w[1])
                elif view == "tlb":
                    out[f"tlb.{w[0]}"] = None if w[1] == "n/a" else (int(w[1]), int(w[2]), int(w[3]))
                else:
                    out["vmas"].append((int(w[0], 16), int(w[1], 16), int(w[2]), int(w[3])))
            if view == "top":
                keep = lines if "vma" in show else []
            else:
                prefix = "fault." if view == "faults" else "tlb."
                wanted = {k[len(prefix):] for k in show if k.startswith(prefix)}
                keep = [l for l in lines if l.startswith(("ptscope ",) + HEADINGS) or
                        l.split()[0] in wanted] if wanted else []
            if keep:
                self.r.command(f"{live.shown}    # started at the stop before; its latest sample:",
                               "\n".join(keep))
        return out

    def vma_faults(self, addr):
        """(faults, major) counted in the VMA that starts at addr."""
        for a, _, faults, major in self.read()["vmas"]:
            if a == addr:
                return faults, major
        return 0, 0


def watch(r, pid):
    """A Watch on pid where the module counts (issue 4), else a null context."""
    return Watch(r, pid) if has_view("counters") else contextlib.nullcontext()


class TlbTrace:
    """tlb:tlb_flush events of one process, recorded by tracefs: the kernel's
    own account to compare ptscope's TLB counters with."""

    T = "/sys/kernel/tracing"
    EV = T + "/events/tlb/tlb_flush"

    def __init__(self, pid):
        write(f"{self.EV}/filter", f"common_pid == {pid}")
        write(f"{self.T}/trace", "")
        write(f"{self.EV}/enable", "1")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        write(f"{self.EV}/enable", "0")
        write(f"{self.EV}/filter", "0")

    def count(self, reason):
        """Events with the kernel's reason number `reason` (3: local mm shootdown)."""
        with open(f"{self.T}/trace") as f:
            return sum(1 for l in f if "tlb_flush:" in l and l.rstrip().endswith(f"({reason})"))


def huge_vmas(t, pid, starts):
    """ptscope huge PID (issue 5) for the VMAs that start at `starts`:
    {start: row}, sizes in bytes, "why" as a list."""
    t.run(["huge", str(pid)], grep=[f"{a:#x} " for a in starts])
    out = {}
    for row in t.json(["huge", str(pid)])["huge"]:
        if int(row["start"], 16) in starts:
            row["why"] = (row["why"] or "").split(",")
            out[int(row["start"], 16)] = row
    return out


# -------------------------------------------------------------- programs

class Program:
    """A tour program, stopped at each `@ NAME key=value` line it prints."""

    def __init__(self, report, argv, label=None):
        self.r = report
        self.label = label or os.path.basename(argv[0])
        name = os.path.basename(argv[-1] if argv[0] == sys.executable else argv[0])
        c_file = name.removeprefix("demo-") + ".c"
        for path in (os.path.join(PROGS, name), os.path.join(PROGS, c_file)):
            if os.path.isfile(path):
                report.source(path)
                break
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.pid = self.p.pid
        if report.live:
            report.live.show(self.pid, self.label)

    def until(self, expect):
        """Read up to the next stop, which must be `expect`; its values."""
        lines = []
        for line in self.p.stdout:
            line = line.rstrip("\n")
            if line.startswith("@ "):
                self.r.program(self.label, lines)
                name, *kv = line[2:].split()
                if name != expect:
                    raise RuntimeError(f"{self.label}: stopped at {name}, expected {expect}")
                vals = {}
                for item in kv:
                    k, v = item.split("=", 1)
                    vals[k] = int(v, 0) if re.fullmatch(r"-?(0x[0-9a-f]+|\d+)", v) else v
                return vals
            lines.append(line)
        self.r.program(self.label, lines)
        raise RuntimeError(f"{self.label}: ended (status {self.p.wait()}) before {expect}")

    def go(self):
        if self.r.live:
            self.r.live.pause()     # the picture of this stop, for a while
        self.p.stdin.write("\n")
        self.p.stdin.flush()

    def finish(self):
        """Let it run to the end; its exit status (negative: killed by a signal)."""
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        rest = [l.rstrip("\n") for l in self.p.stdout]
        self.r.program(self.label, rest)
        return self.p.wait()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def prog(name):
    """A tour program: a compiled one on PATH (demo-NAME), or a Python file."""
    py = os.path.join(PROGS, name + ".py")
    if os.path.exists(py):
        return [sys.executable, py]
    return [f"demo-{name}"]


# -------------------------------------------------------------- chapters

CHAPTERS = []


def chapter(key, title):
    def register(fn):
        CHAPTERS.append((key, title, fn))
        return fn
    return register


def kib(n):
    return f"{n // 1024} KiB"


@chapter("lazy", "Lazy allocation: address space is a promise")
def ch_lazy(r, t, ctx):
    r.para("The article's own Python program asks the kernel for 1 GiB with mmap, then writes "
           "one byte into each of the first 64 pages. Reserving the gigabyte only creates a VMA, "
           "a note saying 'this range is valid'; no page table entry and no RAM exist yet. Each "
           "first write to a page traps into the kernel (a page fault), which finds a free frame, "
           "fills in a page table entry and lets the program carry on. (Python's mmap(-1, n) is a "
           "shared anonymous mapping, so the pages are shared memory, 'shmem', to the kernel.)")
    with Program(r, prog("lazy"), "lazy.py") as p:
        v = p.until("reserved")
        addr, size = v["addr"], v["size"]
        a = f"{addr:x}"
        t.run(["maps", str(p.pid)], grep=[a, "[heap]"])
        row = t.vma(p.pid, addr)
        sm = smaps_vma(p.pid, addr)
        r.claim(row["size"] == size == (sm["end"] - sm["start"]),
                "lazy: ptscope shows a 1 GiB VMA, as /proc/PID/maps does",
                f"ptscope size {row['size']}, maps {sm['end'] - sm['start']}")
        r.claim(row["rss"] == 0 and sm["Rss"] == 0,
                "lazy: before any write the gigabyte has no resident page",
                f"ptscope rss {row['rss']}, smaps Rss {sm['Rss']} kB")
        t.run(["snapshot", str(p.pid), "-o", "/tmp/lazy-before.snap"])
        t.picture(p.pid, "lazy.py after mmap: the 1 GiB VMA is there, empty")
        with watch(r, p.pid) as w:
            min0, _ = proc_stat(p.pid)
            p.go()
            p.until("touched")
            min1, _ = proc_stat(p.pid)
            counted = w and w.read(show=("fault.minor", "fault.major", "vma"))
        t.run(["maps", str(p.pid)], grep=[a])
        t.run(["walk", str(p.pid), f"{addr:#x}-{addr + 64 * PAGE:#x}"])
        t.run(["diff", "/tmp/lazy-before.snap", str(p.pid)], grep=[a, "CHANGE"])
        t.picture(p.pid, f"lazy.py after 64 writes: {kib(64 * PAGE)} resident at the start of the VMA")
        row = t.vma(p.pid, addr)
        sm = smaps_vma(p.pid, addr)
        pm = pagemap_range(p.pid, addr, addr + size)
        present = [i for i, e in enumerate(pm) if e[0]]
        r.claim(row["rss"] == 64 * PAGE == sm["Rss"] * 1024 and present == list(range(64)),
                f"lazy: 64 writes made exactly the first 64 pages resident ({kib(64 * PAGE)})",
                f"ptscope rss {row['rss']}, smaps Rss {sm['Rss']} kB, pagemap present pages {len(present)}")
        with open(f"/proc/{p.pid}/status") as f:
            st = {l.split(":")[0]: l.split()[1] for l in f if l.startswith(("VmSize", "VmRSS"))}
        r.claim(int(st["VmSize"]) * 1024 > size > 100 * int(st["VmRSS"]) * 1024,
                "lazy: VSZ counts the gigabyte, RSS only what was touched",
                f"VmSize {st['VmSize']} kB, VmRSS {st['VmRSS']} kB")
        if counted:
            faults, major = next(((f, m) for a, _, f, m in counted["vmas"] if a == addr), (0, 0))
            r.claim(faults == 64 and major == 0 and counted["fault.minor"] == min1 - min0,
                    "lazy: ptscope counted exactly 64 page faults in the gigabyte, all minor",
                    f"ptscope: {faults} faults in the VMA, {major} major; {counted['fault.minor']} minor "
                    f"in the whole process, /proc/PID/stat minflt +{min1 - min0}")
        else:
            r.claim(min1 - min0 >= 64,
                    "lazy: the 64 first writes cost (at least) 64 page faults",
                    f"/proc/PID/stat minflt grew by {min1 - min0}; the interpreter itself may add a few "
                    "(the module has no fault counters, issue 4, to count the VMA's alone)")
    r.para("The faults in the whole process can be a few more than 64: the Python interpreter "
           "itself touches new memory now and then. VSZ (VmSize) is the sum of all VMAs: promises. RSS (VmRSS) counts the frames the "
           "page tables really point to. Here they differ by a factor of hundreds, which is "
           "normal: top's VIRT and RES columns show the same thing for every process.")


@chapter("translation", "One translation: from a virtual address to RAM")
def ch_translation(r, t, ctx):
    bits = PAGE_SHIFT - 3       # a table is one page of 8-byte entries
    r.para("A small C program has a global variable `answer` and prints its address. That "
           f"address is virtual: to find the byte the CPU cuts it into one {bits}-bit index per "
           f"page-table level plus a {PAGE_SHIFT}-bit offset ({kib(PAGE)} pages), reads one "
           "entry per level, each pointing to the next table, and ends at a physical frame. "
           "ptscope vtop does the same walk in the kernel's tables and shows every step.")
    with Program(r, prog("translate")) as p:
        addr = p.until("ready")["addr"]
        t.run(["vtop", str(p.pid), hex(addr)])
        rows = t.vtop(p.pid, addr)
        levels = [x for x in rows if x["step"] != "page"]
        page = rows[-1]
        expect = ctx["levels"]
        r.claim(len(levels) == expect, f"translation: the walk has {expect} levels, as the CPU's paging mode",
                f"ptscope levels {len(levels)}; {ctx['levels_why']} give {expect}")
        # Bottom up, each level resolves `bits` more bits of the address.
        names = level_names(expect)
        shifts = {n: PAGE_SHIFT + bits * i for i, n in enumerate(reversed(names))}
        idx_ok = all(x["index"] == (addr >> shifts[x["step"]]) & ((1 << bits) - 1) for x in levels)
        r.claim(idx_ok, f"translation: each index is {bits} bits of the address",
                "indexes " + " ".join(f"{x['step']}[{x['index']}]" for x in levels))
        chain_ok = all(int(levels[i + 1]["table"], 16) == int(levels[i]["next"], 16)
                       for i in range(len(levels) - 1))
        r.claim(chain_ok, "translation: every entry points to the table read at the next level",
                "next == table of the level below")
        present, _, pfn = pagemap(p.pid, addr)
        phys = int(page["next"], 16)
        r.claim(present and page["kind"] == "mapped" and phys == pfn * PAGE + addr % PAGE,
                "translation: the physical address is the frame pagemap reports, plus the offset",
                f"ptscope {phys:#x}, pagemap PFN {pfn:#x} + {addr % PAGE:#x}")
        pte = levels[-1]
        r.claim("w" in pte["flags"] and "d" in pte["flags"] and "u" in pte["flags"],
                "translation: the PTE is present, user, writable and dirty (answer was written)",
                f"flags {pte['flags']}")
        if ctx["arch"] == "arm64":
            r.para("On arm64 each entry is a VMSAv8-64 descriptor, and ptscope names its bits "
                   "in the architecture's words (the BITS column): valid (the MMU may use it), "
                   "af (the Access Flag: the page was used since the kernel last cleared it), ng "
                   "(not global: its TLB entries are tagged with the process's ASID, so a task "
                   "switch needs no flush), ap-el0 (user access) and ap-ro (read-only), uxn and "
                   "pxn (no execution by user or kernel), and dbm (Dirty Bit Modifier). A "
                   "writable page starts read-only with DBM set; the first write makes the MMU "
                   "clear the read-only bit itself, without a fault: that is how the hardware "
                   "says 'dirty'. attr0 names the MAIR_EL1 attribute the entry selects: normal "
                   "(write-back cacheable) memory here, a device's registers elsewhere. cont, "
                   "the contiguous hint, marks an aligned block of entries that map one "
                   "physical block and may share a single TLB entry.")
            t.run(["vtop", "-o", "step,entry,bits", str(p.pid), hex(addr)])
        r.para("Reading five (or four) tables for every memory access would be far too slow, so "
               "the CPU keeps recent translations in the TLB, the translation lookaside buffer. A "
               "hit costs nothing; only a miss walks these tables. When the kernel changes an "
               "entry it must flush the stale TLB copy, on every CPU that may hold it. The "
               "program now makes its page read-only and writable again (mprotect): the kernel "
               "rewrites the PTE and flushes.")
        if ctx["arch"] == "arm64":
            r.para("arm64 flushes with TLBI instructions that the kernel inlines where it "
                   "changes an entry, and that the hardware broadcasts to every CPU: no "
                   "interrupt, no function call, no tracepoint. There is nothing for ptscope to "
                   "count, and ptscope tlb says so (unsupported) rather than show zeros:")
            p.go()
            p.until("flushed")
            t.run(["tlb", str(p.pid), "-c", "1", "-i", "0.5"])
            r.skip("translation: ptscope counted the TLB flushes of the mprotect calls",
                   "arm64: TLB flushes are inline broadcast TLBI instructions, with no hook")
        elif has_view("counters"):
            with Watch(r, p.pid, tlb=True) as w, TlbTrace(p.pid) as tr:
                p.go()
                p.until("flushed")
                c = w.read(show=("tlb.local_mm_shootdown", "tlb.remote_send_ipi",
                                 "tlb.remote_shootdown"))
                traced = tr.count(3)
            r.claim(c["tlb.local_mm_shootdown"][0] == traced >= 1,
                    "translation: ptscope counted the TLB flushes of the mprotect calls",
                    f"ptscope local mm shootdowns {c['tlb.local_mm_shootdown'][0]}, tracefs tlb:tlb_flush "
                    f"events of reason 3 by the process {traced}")
            r.para("A TLB hit or miss itself leaves no trace the kernel sees: only a CPU's "
                   "performance counters count misses (ptscope faults shows them as dtlb_misses "
                   "where there is one), and the emulated CPU of this VM has none.")
        else:
            p.go()
            p.until("flushed")
            r.skip("translation: ptscope counted the TLB flushes of the mprotect calls",
                   "this module has no TLB counters (issue 4)")
        p.finish()


@chapter("faults", "Kinds of fault: minor, major, segmentation")
def ch_faults(r, t, ctx):
    r.para("A page fault is not an error: it is how the kernel is asked for a page. A minor "
           "fault is served from RAM (a fresh zeroed frame, or a page already in memory); a "
           "major fault has to wait for a device, such as a page coming back from swap. Only an "
           "access the VMA does not allow, or one outside every VMA, ends in a segmentation fault.")
    with Program(r, prog("faults")) as p, contextlib.ExitStack() as stack:
        v = p.until("mapped")
        addr, n = v["addr"], v["pages"]
        rng = f"{addr:#x}-{addr + n * PAGE:#x}"
        w = stack.enter_context(watch(r, p.pid))
        min0, maj0 = proc_stat(p.pid)
        p.go()
        v = p.until("written")
        min1, maj1 = proc_stat(p.pid)
        t.run(["walk", str(p.pid), rng])
        if w:
            c = w.read(show=("fault.minor", "fault.major", "fault.write", "vma"))
            faults, major = w.vma_faults(addr)
            r.claim(faults == n and major == 0 and c["fault.minor"] == min1 - min0,
                    f"faults: ptscope counted {n} minor faults in the region",
                    f"ptscope: {faults} in the VMA, {major} major; {c['fault.minor']} minor in the process, "
                    f"/proc/PID/stat minflt +{min1 - min0}")
        present = sum(1 for e in pagemap_range(p.pid, addr, addr + n * PAGE) if e[0])
        r.claim(v["minor"] == n == present and v["major"] == 0 and min1 - min0 >= n,
                f"faults: {n} first writes are {n} minor faults, one per page made present",
                f"getrusage over the loop: minor {v['minor']}, major {v['major']}; pagemap present "
                f"{present}; /proc/PID/stat minflt +{min1 - min0} between the stops (the loop and printf)")
        p.go()
        p.until("paged-out")
        t.run(["walk", str(p.pid), rng])
        pm = pagemap_range(p.pid, addr, addr + n * PAGE)
        swapped = sum(1 for e in pm if e[1])
        _, maj0 = proc_stat(p.pid)
        p.go()
        v = p.until("read")
        _, maj1 = proc_stat(p.pid)
        if w:
            c = w.read(show=("fault.minor", "fault.major", "vma"))
            faults, major = w.vma_faults(addr)
            r.claim(major == n == c["fault.major"] == maj1 - maj0,
                    f"faults: ptscope counted {n} major faults in the region",
                    f"ptscope: {major} major in the VMA, {c['fault.major']} in the process; "
                    f"/proc/PID/stat majflt +{maj1 - maj0}")
        r.claim(swapped == n and v["major"] == n == maj1 - maj0,
                f"faults: reading {n} swapped-out pages back is {n} major faults",
                f"pagemap swapped {swapped}, getrusage major {v['major']}, /proc/PID/stat majflt +{maj1 - maj0}")
    for how, code, result in (("hole", "SEGV_MAPERR", "no-vma"), ("readonly", "SEGV_ACCERR", "mapped")):
        with Program(r, prog("segv") + [how], f"segv {how}") as p:
            addr = p.until("ready")["addr"]
            t.run(["vtop", "-o", "step,kind,flags,meaning", str(p.pid), hex(addr)])
            page = t.vtop(p.pid, addr)[-1]
            vma = smaps_vma(p.pid, addr)
            with watch(r, p.pid) as w:
                p.go()
                status = p.finish()
                if w:
                    c = w.read(show=("fault.sigsegv",))
                    handled = sum(b[2].count("SIGSEGV at") for b in r.blocks if b[0] == "out"
                                  and b[1] == f"segv {how}")
                    r.claim(c["fault.sigsegv"] == handled + (status == -11) == 2,
                            f"faults: ptscope counted both SIGSEGVs ({code}): the handled one and the fatal one",
                            f"ptscope fault.sigsegv {c['fault.sigsegv']}; the handler ran {handled} time(s), "
                            f"then the process died of signal {-status}")
            said = f"SIGSEGV at {addr:#018x}, si_code {code}"
            r.claim(status == -11 and page["kind"] == result and
                    (vma is None if how == "hole" else vma["line"].split()[1].startswith("r-")),
                    f"faults: {'an address outside every VMA' if how == 'hole' else 'a write to a read-only page'} "
                    f"is a segmentation fault ({code})",
                    f"ptscope says {page['kind']}, maps has {'no VMA' if vma is None else vma['line'].split()[1]}, "
                    f"the program died of signal {-status}")
            r.claim(said in "\n".join(b[2] for b in r.blocks if b[0] == "out"),
                    f"faults: the kernel reported the faulting address {addr:#x} in siginfo",
                    said)
    r.para("The first program's faults are counted by the kernel itself (getrusage and "
           "/proc/PID/stat agree). The read-only page was mapped, to the shared zero page, but "
           "its VMA forbids writing, so the kernel did not fix the fault up: it sent SIGSEGV.")


@chapter("isolation", "Isolation: one virtual address, two frames")
def ch_isolation(r, t, ctx):
    r.para("Two copies of one program each map a page at the same virtual address, "
           "0x100000000000, and write their own message there. Each process has its own page "
           "tables, so the same address leads to a different physical frame; neither process "
           "has any entry that reaches the other's frame, so it cannot read it.")
    with Program(r, prog("isolation") + ["hello from A"], "isolation A") as a, \
         Program(r, prog("isolation") + ["hello from B"], "isolation B") as b:
        addr_a = a.until("ready")["addr"]
        addr_b = b.until("ready")["addr"]
        t.run(["vtop", "-o", "step,index,next,flags,meaning", str(a.pid), hex(addr_a)])
        t.run(["vtop", "-o", "step,index,next,flags,meaning", str(b.pid), hex(addr_b)])
        pa = int(t.vtop(a.pid, addr_a)[-1]["next"], 16)
        pb = int(t.vtop(b.pid, addr_b)[-1]["next"], 16)
        fa, fb = pagemap(a.pid, addr_a)[2], pagemap(b.pid, addr_b)[2]
        r.claim(addr_a == addr_b and pa != pb and pa == fa * PAGE and pb == fb * PAGE,
                "isolation: the same virtual address maps two different frames",
                f"A {pa:#x}, B {pb:#x}; pagemap PFNs {fa:#x}, {fb:#x}")
        t.run(["shared", str(a.pid), str(b.pid)], grep=[f"{addr_a:x}"])
        shared = t.json(["shared", str(a.pid), str(b.pid)])["shared"]
        r.claim(not any(int(s["addr1"], 16) == addr_a for s in shared) and kpage("/proc/kpagecount", fa) == 1,
                "isolation: the two processes share no frame at that address",
                f"ptscope shared lists none there; kpagecount of A's frame is {kpage('/proc/kpagecount', fa)}")
        a.go()
        b.go()
        a.finish()
        b.finish()


@chapter("shared", "Shared memory: one frame, two processes")
def ch_shared(r, t, ctx):
    r.para("Now the opposite: one program creates a POSIX shared-memory object of one page and "
           "writes into it; a second program maps the same object. The two page tables point "
           "to the same frame, so what one writes the other reads, with no copy: the fastest "
           "way for two processes to talk.")
    with Program(r, prog("shared") + ["/ptscope-tour", "create"], "shared create") as a:
        addr_a = a.until("ready")["addr"]
        with Program(r, prog("shared") + ["/ptscope-tour", "attach"], "shared attach") as b:
            addr_b = b.until("ready")["addr"]
            t.run(["shared", str(a.pid), str(b.pid)], grep=["ptscope-tour"])
            rows = [s for s in t.json(["shared", str(a.pid), str(b.pid)])["shared"]
                    if int(s["addr1"], 16) == addr_a]
            fa, fb = pagemap(a.pid, addr_a)[2], pagemap(b.pid, addr_b)[2]
            r.claim(len(rows) == 1 and int(rows[0]["addr2"], 16) == addr_b and
                    int(rows[0]["pfn"], 16) == fa == fb and "shmem" in (rows[0]["type"] or ""),
                    "shared: both processes map the same shmem frame",
                    f"ptscope shared {rows[0]['pfn'] if rows else 'nothing'}; pagemap {fa:#x} and {fb:#x}")
            r.claim(kpage("/proc/kpagecount", fa) == 2,
                    "shared: the kernel counts two mappings of that frame",
                    f"/proc/kpagecount {kpage('/proc/kpagecount', fa)}")
            t.picture(b.pid, "the second process: its shared page (blue) is the first one's frame")
            a.go()
            a.finish()
            b.go()
            b.finish()


@chapter("cow", "Copy-on-write after fork")
def ch_cow(r, t, ctx):
    r.para("fork() makes a child with a copy of the parent's address space, but copying every "
           "page would be slow and mostly wasted. Instead the kernel lets both page tables point "
           "to the same frames and removes the write permission from both. The first write from "
           "either side faults; only then does the kernel copy that one page.")
    with Program(r, prog("cow"), "cow") as p:
        v = p.until("forked")
        par, chi, addr, n = v["parent"], v["child"], v["addr"], v["pages"]
        a = f"{addr:x}"
        r.para("Right after fork, every anonymous page of the parent is shared with the child "
               "(TYPE anon): the program's data, its stack, and the 16 pages it wrote:")
        t.run(["shared", str(par), str(chi)], grep=["anon"])
        t.run(["walk", "-o", "range,level,kind,count,flags,pfn,mapcount", str(chi),
               f"{addr:#x}-{addr + n * PAGE:#x}"])
        t.run(["snapshot", str(chi), "-o", "/tmp/cow-before.snap"])

        def shared_pages():
            rows = t.json(["shared", str(par), str(chi)])["shared"]
            return sum(s["pages"] for s in rows if addr <= int(s["addr1"], 16) < addr + n * PAGE)

        def same_frames():
            pp, pc = pagemap_range(par, addr, addr + n * PAGE), pagemap_range(chi, addr, addr + n * PAGE)
            return sum(1 for x, y in zip(pp, pc) if x[0] and y[0] and x[2] == y[2])

        before_p = pagemap(par, addr)[2]
        sp, sf = shared_pages(), same_frames()
        ro = all("w" not in x["flags"] for pid in (par, chi)
                 for x in walk_leaves(t, pid, addr, addr + n * PAGE))
        r.claim(sp == sf == n, f"cow: after fork all {n} pages are shared",
                f"ptscope shared {sp} pages, pagemap same frame for {sf}")
        r.claim(ro, "cow: the shared pages are read-only in both page tables",
                "no w flag in the parent's or the child's PTEs")
        with watch(r, chi) as w:
            min0, _ = proc_stat(chi)
            p.go()
            p.until("child-wrote")
            min1, _ = proc_stat(chi)
            if w:
                faults, _ = w.vma_faults(addr)
                c = w.read(show=("fault.minor", "fault.write", "vma"))
                r.claim(faults == 1 and c["fault.minor"] == min1 - min0,
                        "cow: the child's write was one page fault in the region, which copied the page",
                        f"ptscope: {faults} fault in the VMA, {c['fault.minor']} minor in the child; "
                        f"/proc/PID/stat minflt +{min1 - min0}")
        t.run(["diff", "/tmp/cow-before.snap", str(chi)], grep=[a, "CHANGE"])
        sp, sf = shared_pages(), same_frames()
        after_p, after_c = pagemap(par, addr)[2], pagemap(chi, addr)[2]
        r.claim(sp == sf == n - 1 and after_p == before_p != after_c,
                "cow: the child's write copied exactly one page; the parent kept its frame",
                f"ptscope shared {sp}, pagemap same {sf}; parent {before_p:#x} -> {after_p:#x}, child {after_c:#x}")
        p.go()
        p.finish()


def walk_leaves(t, pid, start, end):
    """The leaf runs of a walk of [start, end), flattened from the tree."""
    out = []

    def visit(rows):
        for row in rows:
            if row.get("kind") != "table":
                out.append(row)
            visit(row.get("children", []))
    visit(t.json(["walk", "-o", "range,level,kind,count,flags,pfn,page,mapcount",
                  str(pid), f"{start:#x}-{end:#x}"])["walk"])
    return out


@chapter("mapfile", "A memory-mapped file")
def ch_mapfile(r, t, ctx):
    r.para("A program maps a whole 1 GiB file, a stand-in for a database, and reads one byte at "
           "four places in it. The file becomes a range of memory; the kernel reads from the "
           "file only the pages that are touched (on a local disk, also a few neighbours, "
           "'fault-around'), never the whole gigabyte. The pages are the kernel's page cache: the same frames "
           "any other reader of the file would use.")
    fd, path = tempfile.mkstemp(prefix="demo-mapfile-", suffix=".bin", dir=ctx["datadir"])
    size = 1 << 30
    with os.fdopen(fd, "wb") as f:
        f.truncate(size)
        for i, ch in enumerate(b"ABCD"):
            f.seek(size // 4 * i)
            f.write(bytes([ch]))
    try:
        with Program(r, prog("mapfile") + [path], "mapfile") as p:
            v = p.until("mapped")
            addr = v["addr"]
            row = t.vma(p.pid, addr)
            r.claim(row["size"] == size and row["rss"] == 0,
                    "mapfile: the whole file is mapped and nothing of it is resident yet",
                    f"ptscope size {row['size']}, rss {row['rss']}")
            p.go()
            p.until("read")
            t.run(["maps", "-o", "start,end,perms,size,rss,file,shmem,name", str(p.pid)], grep=[f"{addr:x}"])
            t.run(["walk", "-o", "range,level,kind,count,size,flags,page", str(p.pid),
                   f"{addr:#x}-{addr + size:#x}"])
            t.picture(p.pid, "mapfile: four small islands of page cache in a 1 GiB file mapping")
            row = t.vma(p.pid, addr)
            sm = smaps_vma(p.pid, addr)
            pm = pagemap_range(p.pid, addr, addr + size)
            touched = all(pm[size // 4 * i // PAGE][0] for i in range(4))
            resident = row["file"] + row["shmem"]
            r.claim(touched and resident == sm["Rss"] * 1024 == sum(1 for e in pm if e[0]) * PAGE,
                    "mapfile: the four pages read are resident, as smaps and pagemap say",
                    f"ptscope rss {row['rss']}, smaps Rss {sm['Rss']} kB, pagemap present "
                    f"{sum(1 for e in pm if e[0])} pages")
            r.claim(0 < resident <= 4 * 64 * 1024,
                    "mapfile: at most a few KiB around each touched byte came in, not the gigabyte",
                    f"{kib(resident)} resident of {size >> 20} MiB")
            p.go()
            p.finish()
    finally:
        os.unlink(path)


@chapter("swap", "Swapping out and back")
def ch_swap(r, t, ctx):
    r.para("When RAM runs short the kernel writes cold anonymous pages to a swap device and "
           "replaces their page-table entries with swap entries: not present, and saying where "
           "on the device the page now lives. The VM's swap device is zram, compressed RAM. "
           "Here a program asks for it directly with MADV_PAGEOUT, then reads its data back.")
    with Program(r, prog("swap"), "swap") as p:
        v = p.until("filled")
        addr, n = v["addr"], v["pages"]
        rng = f"{addr:#x}-{addr + n * PAGE:#x}"
        used0 = swap_used()
        t.run(["snapshot", str(p.pid), "-o", "/tmp/swap-before.snap"])
        p.go()
        p.until("swapped-out")
        t.run(["maps", "-o", "start,end,perms,size,rss,swap,name", str(p.pid)], grep=[f"{addr:x}"])
        t.run(["walk", "-o", "range,level,kind,count,size,flags,swap", str(p.pid), rng])
        t.run(["diff", "/tmp/swap-before.snap", str(p.pid)], grep=[f"{addr:x}", "CHANGE"])
        t.picture(p.pid, "swap: the 64 pages are swapped out (orange)")
        row = t.vma(p.pid, addr)
        sm = smaps_vma(p.pid, addr)
        pm = pagemap_range(p.pid, addr, addr + n * PAGE)
        used1 = swap_used()
        r.claim(row["swap"] == n * PAGE == sm["Swap"] * 1024 and row["rss"] == 0 and all(e[1] for e in pm),
                f"swap: all {n} pages left RAM for swap entries",
                f"ptscope swap {row['swap']}, rss {row['rss']}; smaps Swap {sm['Swap']} kB; "
                f"pagemap swapped {sum(1 for e in pm if e[1])}")
        offs = [e[2] >> 5 for e in pm]
        walk_swap = [x for x in walk_leaves(t, p.pid, addr, addr + n * PAGE) if x["kind"] == "swap"]
        r.claim(used1 - used0 >= n * 4 and len(set(offs)) == n,
                "swap: the swap device holds them, each at its own offset",
                f"/proc/swaps Used +{used1 - used0} kB; {len(set(offs))} distinct offsets in pagemap; "
                f"ptscope shows {len(walk_swap)} swap run(s)")
        p.go()
        v = p.until("back")
        row = t.vma(p.pid, addr)
        sm = smaps_vma(p.pid, addr)
        r.claim(v["bad"] == 0 and row["rss"] == n * PAGE == sm["Rss"] * 1024 and row["swap"] == 0 == sm["Swap"],
                "swap: reading them back restored every byte and made them resident again",
                f"{v['bad']} bytes differ; ptscope rss {row['rss']}, swap {row['swap']}; smaps Rss {sm['Rss']} kB")
        p.go()
        p.finish()
    r.para("Each page came back through a major fault. On zram that costs microseconds; on a "
           "disk it costs milliseconds, about 100,000 times a RAM access, which is why "
           "latency-critical programs avoid swap (see the mlock chapter).")


def swap_used():
    with open("/proc/swaps") as f:
        return sum(int(l.split()[3]) for l in f.readlines()[1:])


def mib(n):
    return f"{n >> 20} MiB" if n >= 1 << 20 else kib(n)


@chapter("huge", "Huge pages: base pages versus PMD-sized ones (4 KiB and 2 MiB on x86-64)")
def ch_huge(r, t, ctx):
    pmd = PAGE * (PAGE // 8)    # what one PMD entry spans: a table of PTEs' worth
    r.para(f"The MMU can end a walk one level early: a PMD entry can map a whole {mib(pmd)} page "
           f"instead of pointing to a table of {PAGE // 8} PTEs ({kib(PAGE)} pages here). One "
           f"program fills two {mib(2 * pmd)} regions; the first asks for small pages "
           "(MADV_NOHUGEPAGE), the second for transparent huge pages (MADV_HUGEPAGE).")
    with Program(r, prog("huge"), "huge") as p:
        v = p.until("touched")
        small, huge, ln = v["small"], v["huge"], v["len"]
        t.run(["maps", "-o", "start,end,perms,size,rss,huge,thp,pt,name", str(p.pid)],
              grep=[f"{small:x}", f"{huge:x}"])
        r.para(f"The walk of the first {kib(8 * PAGE)} of the small-page region (of "
               f"{ln // PAGE} PTEs), then of the whole huge-page region:")
        t.run(["walk", "-o", "range,level,kind,count,size,flags,page", str(p.pid),
               f"{small:#x}-{small + 8 * PAGE:#x}"])
        t.run(["walk", "-o", "range,level,kind,count,size,flags,page", str(p.pid),
               f"{huge:#x}-{huge + ln:#x}"])
        t.picture(p.pid, f"huge: the same {mib(ln)} as {ln // PAGE} small pages, then as two huge "
                         "pages (outlined)")
        ls = walk_leaves(t, p.pid, small, small + ln)
        lh = walk_leaves(t, p.pid, huge, huge + ln)
        n_small = sum(x["count"] for x in ls if x["level"] == "PTE" and x["kind"] == "page")
        n_huge = sum(x["count"] for x in lh if x["level"] == "PMD" and x["kind"] == "page")
        ss, sh = smaps_vma(p.pid, small), smaps_vma(p.pid, huge)
        pfn = pagemap(p.pid, huge)[2]
        r.claim(n_small == ln // PAGE and ss["AnonHugePages"] == 0,
                f"huge: the first region takes {ln // PAGE} PTEs",
                f"ptscope {n_small} PTE pages; smaps AnonHugePages {ss['AnonHugePages']} kB")
        if sh["AnonHugePages"] == 0 and n_huge == 0:
            r.skip("huge: the second region takes 2 PMD leaves", "no huge page could be allocated")
        else:
            r.claim(n_huge == ln // pmd and sh["AnonHugePages"] * 1024 == ln and
                    kpage("/proc/kpageflags", pfn) >> KPF_THP & 1,
                    f"huge: the second region takes {ln // pmd} PMD leaves, no PTE table",
                    f"ptscope {n_huge} PMD pages; smaps AnonHugePages {sh['AnonHugePages']} kB; "
                    "kpageflags THP set")
        r.para(f"TLB reach: a TLB entry caches one translation, whatever the page size. "
               f"Covering these {mib(ln)} takes {ln // PAGE} entries with {kib(PAGE)} pages but "
               f"{ln // pmd} with {mib(pmd)} pages; with, say, 1536 entries a TLB reaches "
               f"{mib(1536 * PAGE)} of small pages but {1536 * pmd >> 30} GiB of huge pages. The "
               f"cost: memory is handed out {mib(pmd)} at a time, and may be wasted.")
        if ctx["arch"] == "arm64":
            r.para("arm64 has a step between the two: the contiguous hint (cont in the BITS "
                   "column). An aligned run of PTEs (16 of 4 KiB pages, 64 KiB) mapping one "
                   "physical block may be cached as one TLB entry. Since Linux 6.9 the kernel "
                   "sets it by itself where a large folio allows (contpte), and then folds the "
                   "block's access and dirty bits into what it reports of each entry; ptscope "
                   "shows the kernel's view in the generic bits and each descriptor's own af "
                   "and dbm beside them. It is a hint: the hardware may still use one TLB entry "
                   "per page.")
        if has_view("huge_vmas"):
            r.para("ptscope huge counts, per VMA, the leaf entries (the TLB entries the mapping "
                   "needs), the memory they map, what one entry reaches, and why a VMA cannot "
                   "have huge pages:")
            hv = huge_vmas(t, p.pid, [small, huge])
            hs, hh = hv.get(small), hv.get(huge)
            present_s = sum(1 for e in pagemap_range(p.pid, small, small + ln) if e[0])
            r.claim(hs is not None and hs["leaves"] == hs["mapped"] // PAGE == present_s == ln // PAGE
                    and hs["huge"] == 0 and "nohugepage" in hs["why"],
                    f"huge: ptscope counts {ln // PAGE} TLB entries for the small-page region, and why: "
                    "MADV_NOHUGEPAGE",
                    f"ptscope {hs and hs['leaves']} leaves for {hs and hs['mapped']} bytes, why "
                    f"{hs and hs['why']}; pagemap present {present_s}")
            if n_huge:
                r.claim(hh is not None and hh["leaves"] == ln // pmd and
                        hh["huge"] == hh["mapped"] == sh["AnonHugePages"] * 1024,
                        f"huge: ptscope counts {ln // pmd} TLB entries for the huge-page region, "
                        f"{ln // PAGE // (ln // pmd)} times the reach",
                        f"ptscope {hh and hh['leaves']} leaves for {hh and hh['mapped']} bytes, "
                        f"{hh and hh['huge']} of them huge, reach {hh and hh['reach']}; "
                        f"smaps AnonHugePages {sh['AnonHugePages']} kB")
        else:
            r.skip("huge: ptscope counts the TLB entries of each region, and why no huge page",
                   "this module has no huge-page status (issue 5)")
        p.finish()


PAUSED = 'import sys; x = 42; print("@ ready id42=" + hex(id(x)), flush=True); sys.stdin.readline()'


@chapter("aslr", "ASLR: three runs, three layouts")
def ch_aslr(r, t, ctx):
    r.para("The article's one-liner, three times: the address of the same variable in the same "
           "program. Then the same program stopped three times, and ptscope maps of each: "
           "the kernel puts the stack, the heap and the shared libraries at random places in "
           "every new process (address-space layout randomisation), so an exploit cannot "
           "know where things are.")
    one = 'x = 42; print(hex(id(x)))'
    ids = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", one], capture_output=True, text=True).stdout
        r.command(f'python3 -c "{one}"', out)
        ids.append(out.strip())
    r.para(("Three different addresses." if len(set(ids)) == 3 else
            "The same address three times! Debian's python3 is not a position-independent "
            "executable: it is loaded at the fixed address 0x400000, and in Python 3.11 the "
            "small integer 42 lives inside the executable's data. ASLR moves only what may move: "
            "the heap, the stack, the libraries, and every executable built as PIE. A heap "
            "object shows it:"))
    two = 'x = [42]; print(hex(id(x)))'
    ids2 = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", two], capture_output=True, text=True).stdout
        r.command(f'python3 -c "{two}"', out)
        ids2.append(out.strip())
    r.para("Every line of /proc/PID/maps is one VMA, one mapped region of the address space; "
           "ptscope maps lists the same VMAs, with what the page tables hold under each:")
    r.command("cat /proc/self/maps | head -15",
              subprocess.run(["sh", "-c", "cat /proc/self/maps | head -15"],
                             capture_output=True, text=True).stdout)
    layouts, same_vmas, homes = [], [], []
    for i in range(3):
        with Program(r, [sys.executable, "-c", PAUSED], f"python3 run {i + 1}") as p:
            id42 = p.until("ready")["id42"]
            t.run(["maps", "-o", "start,end,perms,size,name", str(p.pid)],
                  grep=["python3", "[heap]", "[stack]", "libc.so", "[vdso]"])
            rows = t.json(["maps", "-o", "start,end,name", str(p.pid)])["maps"]
            with open(f"/proc/{p.pid}/maps") as f:
                maps = f.read()
            starts = [int(l.split("-")[0], 16) for l in maps.splitlines()]
            same_vmas.append([int(x["start"], 16) for x in rows] == starts)
            home = [x["name"] for x in rows if int(x["start"], 16) <= id42 < int(x["end"], 16)]
            homes.append((id42, home[0] if home else None, int(rows[0]["start"], 16)))
            lay = {}
            for key in ("[heap]", "[stack]", "libc.so.6", "[vdso]"):
                mine = [x["start"] for x in rows if x["name"] and key in x["name"]]
                theirs = [l.split("-")[0] for l in maps.splitlines() if key in l]
                lay[key] = (int(mine[0], 16) if mine else None,
                            int(theirs[0], 16) if theirs else None)
            layouts.append(lay)
            p.go()
            p.finish()
    r.claim(all(same_vmas), "aslr: ptscope lists exactly the VMAs of /proc/PID/maps",
            "the same start addresses, in each of the three runs")
    if len(set(ids)) == 1:
        r.claim(all(h[0] == int(ids[0], 16) and h[1] and "python3" in h[1] for h in homes) and
                len({h[2] for h in homes}) == 1,
                "aslr: the article's 42 sits in python3's own data, which does not move",
                f"id(42) {ids[0]} is in the VMA of {homes[0][1]}; the executable starts at "
                + " ".join(hex(h[2]) for h in homes))
    r.claim(read("/proc/sys/kernel/randomize_va_space") == "2",
            "aslr: full randomisation is on", "/proc/sys/kernel/randomize_va_space = 2")
    r.claim(len(set(ids2)) == 3, "aslr: a heap object is at a new address in each run", " ".join(ids2))
    for key in ("[heap]", "[stack]", "libc.so.6", "[vdso]"):
        mine = [lay[key][0] for lay in layouts]
        r.claim(len(set(mine)) == 3 and all(lay[key][0] == lay[key][1] for lay in layouts),
                f"aslr: {key} starts somewhere else in each of the three runs",
                "ptscope " + " ".join(hex(x) if x else "-" for x in mine) + ", same as /proc/PID/maps")


@chapter("mlock", "mlock: pinned in RAM")
def ch_mlock(r, t, ctx):
    r.para("mlock() asks the kernel to keep a range in RAM: it faults every page in at once "
           "(no lazy allocation) and will not swap it out. A program maps two regions of 64 "
           "pages, locks the first, then asks for both to be paged out.")
    with Program(r, prog("mlock"), "mlock") as p:
        v = p.until("mapped")
        lk, pl, n = v["locked"], v["plain"], v["pages"]
        t.run(["maps", "-o", "start,end,perms,size,rss,swap,name", str(p.pid)], grep=[f"{lk:x}", f"{pl:x}"])
        with watch(r, p.pid) as w:
            min0, _ = proc_stat(p.pid)
            p.go()
            p.until("locked")
            min1, _ = proc_stat(p.pid)
            t.run(["maps", "-o", "start,end,perms,size,rss,swap,name", str(p.pid)],
                  grep=[f"{lk:x}", f"{pl:x}"])
            r.para("Before mlock the two regions were one VMA: the kernel merges neighbouring "
                   "mappings that are alike. Locking one half made the halves different, so the "
                   "VMA split in two, and the locked one is resident at once.")
            if w:
                c = w.read(show=("fault.total", "fault.minor", "fault.kernel_mode", "vma"))
                faults, _ = w.vma_faults(lk)
                r.claim(faults == n == c["fault.kernel_mode"] and c["fault.total"] == 0 and
                        c["fault.minor"] == min1 - min0,
                        f"mlock: the kernel itself faulted the {n} pages in, the program took no fault",
                        f"ptscope: {faults} faults in the VMA, {c['fault.kernel_mode']} from the kernel, "
                        f"{c['fault.total']} page-fault exceptions; /proc/PID/stat minflt +{min1 - min0}")
        row = t.vma(p.pid, lk)
        sm = smaps_vma(p.pid, lk)
        r.claim(row["rss"] == n * PAGE == sm["Locked"] * 1024 and t.vma(p.pid, pl)["rss"] == 0,
                "mlock: the locked region is resident before anything touched it",
                f"ptscope rss {row['rss']}, smaps Locked {sm['Locked']} kB; the plain region has none")
        p.go()
        v = p.until("paged-out")
        t.run(["maps", "-o", "start,end,perms,size,rss,swap,name", str(p.pid)], grep=[f"{lk:x}", f"{pl:x}"])
        t.picture(p.pid, "mlock: the locked region stays resident, the plain one went to swap")
        rl, rp = t.vma(p.pid, lk), t.vma(p.pid, pl)
        sl, sp = smaps_vma(p.pid, lk), smaps_vma(p.pid, pl)
        r.claim(rl["rss"] == n * PAGE and rl["swap"] == 0 == sl["Swap"] and sl["Rss"] * 1024 == n * PAGE,
                "mlock: the locked pages stayed in RAM",
                f"MADV_PAGEOUT errno {v['locked_errno']}; ptscope rss {rl['rss']} swap {rl['swap']}; "
                f"smaps Rss {sl['Rss']} kB Swap {sl['Swap']} kB")
        r.claim(rp["swap"] == n * PAGE == sp["Swap"] * 1024,
                "mlock: the unlocked twin went to swap",
                f"ptscope swap {rp['swap']}, smaps Swap {sp['Swap']} kB")
        p.go()
        p.finish()


@chapter("overcommit", "Overcommit: promising more than there is")
def ch_overcommit(r, t, ctx):
    r.para("Linux promises more memory than exists, betting that processes touch little of "
           "what they ask for. This VM has about " + f"{kv_file('/proc/meminfo')['MemTotal'] / (1 << 20):.1f}"
           " GiB of RAM; a program asks for 64 GiB. Plain, the kernel's heuristic (overcommit "
           "mode 0) refuses a single request larger than RAM plus swap; with MAP_NORESERVE it "
           "grants it, and the program then writes one byte in every GiB.")
    with Program(r, prog("overcommit"), "overcommit") as p:
        v = p.until("mapped")
        addr, ln = v["addr"], v["len"]
        mi = kv_file("/proc/meminfo")
        mode = read("/proc/sys/vm/overcommit_memory")
        r.claim(v["plain_errno"] == 12 and mode == "0" and ln > (mi["MemTotal"] + mi["SwapTotal"]) * 1024,
                "overcommit: a plain 64 GiB request is refused (ENOMEM) in heuristic mode",
                f"errno {v['plain_errno']}; overcommit_memory {mode}; MemTotal+SwapTotal "
                f"{(mi['MemTotal'] + mi['SwapTotal']) >> 10} MiB")
        p.go()
        p.until("touched")
        t.run(["maps", "-o", "start,end,perms,size,rss,pt,name", str(p.pid)], grep=[f"{addr:x}"])
        r.para("The walk of the first 3 GiB of the 64: one page, and the tables that lead to "
               "it, in each GiB.")
        t.run(["walk", "-o", "range,level,kind,count,size,flags", str(p.pid),
               f"{addr:#x}-{addr + 3 * (1 << 30):#x}"])
        t.picture(p.pid, "overcommit: 64 GiB of address space, 64 pages of RAM")
        row = t.vma(p.pid, addr)
        sm = smaps_vma(p.pid, addr)
        r.claim(row["size"] == ln > mi["MemTotal"] * 1024 * 16 and row["rss"] == 64 * PAGE == sm["Rss"] * 1024,
                "overcommit: 64 GiB granted on a small machine, and only the 64 touched pages use RAM",
                f"ptscope size {row['size'] >> 30} GiB rss {row['rss']}; smaps Rss {sm['Rss']} kB; "
                f"MemTotal {mi['MemTotal'] >> 10} MiB")
        p.go()
        p.finish()
    r.para("The bet can be lost: if such processes really touch their memory, RAM and swap run "
           "out and the OOM killer picks a victim. overcommit_memory=2 (strict accounting) "
           "refuses earlier instead and never has to kill.")


# -------------------------------------------------------------- main

def expected_levels():
    """The paging levels, from what the CPU and kernel say, not ptscope: on
    x86-64 la57 without no5lvl is 5 levels; on arm64 the virtual address
    bits mmap() reaches (52 when asked above 48 bits, else the stack's 48 or
    47) over PAGE_SHIFT - 3 bits a level. (levels, how it was found)"""
    if os.uname().machine != "aarch64":
        five = "la57" in read("/proc/cpuinfo").split() and "no5lvl" not in read("/proc/cmdline").split()
        return (5 if five else 4), "la57 in cpuinfo and no5lvl on the command line"
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    p = libc.mmap(1 << 50, PAGE, 1, 0x22, -1, 0)        # PROT_READ, MAP_PRIVATE|ANONYMOUS
    if p and p >= 1 << 48:
        va = 52
    else:
        stack = [int(line.split("-")[0], 16) for line in read("/proc/self/maps").split("\n")
                 if "[stack]" in line][0]
        va = stack.bit_length()
    return -(-(va - PAGE_SHIFT) // (PAGE_SHIFT - 3)), f"{va}-bit addresses from mmap() and {kib(PAGE)} pages"


def level_names(levels):
    """The levels' names, top first: P4D and then PUD fold away."""
    return {5: ["PGD", "P4D", "PUD", "PMD", "PTE"], 4: ["PGD", "PUD", "PMD", "PTE"],
            3: ["PGD", "PMD", "PTE"]}[levels]


def setup(ctx):
    """What the chapters need: swap on zram, as selftests/run-guest does."""
    if os.path.exists("/sys/block/zram0/disksize") and "zram0" not in read("/proc/swaps"):
        write("/sys/block/zram0/disksize", "64M")
        subprocess.run(["mkswap", "/dev/zram0"], check=True, capture_output=True)
        subprocess.run(["swapon", "/dev/zram0"], check=True)
    # Whose tables the module reads: its own word (ptscope version).
    ver = subprocess.run(["ptscope", "version", "-J"], capture_output=True, text=True)
    keys = {x["key"]: x["value"] for x in json.loads(ver.stdout or '{"version": []}')["version"]}
    ctx["arch"] = keys.get("arch", "x86-64")
    ctx["levels"], ctx["levels_why"] = expected_levels()


def main():
    ap = argparse.ArgumentParser(description="The guided virtual-memory tour.")
    ap.add_argument("--tap", action="store_true", help="print TAP: one line per claim")
    ap.add_argument("--html", metavar="DIR", help="also write DIR/index.html with pictures")
    ap.add_argument("--color", action="store_true", help="bold headings, coloured verdicts")
    ap.add_argument("--live", type=int, metavar="PORT",
                    help="serve the live view of each chapter's program on PORT (ptscope serve)")
    ap.add_argument("--pace", type=float, default=3.0, metavar="SECONDS",
                    help="with --live: how long each stop of a program stays on screen (3)")
    ap.add_argument("--datadir", default="/host/build" if os.path.isdir("/host/build") else "/tmp",
                    help="where the memory-mapped file chapter writes its 1 GiB (sparse) file")
    ap.add_argument("chapters", nargs="*", metavar="CHAPTER",
                    help="run only these: " + " ".join(k for k, _, _ in CHAPTERS))
    args = ap.parse_args()
    unknown = set(args.chapters) - {k for k, _, _ in CHAPTERS}
    if unknown:
        ap.error("unknown chapter(s): " + " ".join(sorted(unknown)))

    r = Report(args.tap, args.html, args.color)
    t = Tool(r)
    ctx = {"datadir": args.datadir}
    setup(ctx)
    if args.live:
        from live import Live
        r.live = Live(args.live, args.pace, r._print)
    t0 = time.time()
    if args.tap:
        print("TAP version 13")
    intro = (f"Virtual memory, seen live on Linux {os.uname().release} with "
             f"{ctx['levels']}-level paging, through ptscope.")
    if not args.tap:
        r._print(r._style("1", "ptscope: a guided tour of virtual memory"))
        r._print(intro)
    t.run(["version"], show=False)
    for number, (key, title, fn) in enumerate(CHAPTERS, 1):
        if args.chapters and key not in args.chapters:
            continue
        r.chapter(number, title)
        try:
            fn(r, t, ctx)
        except Exception as e:  # a chapter that breaks is a failed claim, not the end
            r.claim(False, f"{key}: the chapter ran to the end", f"{type(e).__name__}: {e}")
    if args.tap:
        print(f"1..{r.claims}")
    r._print()
    r._print(f"{r.claims - r.failed} of {r.claims} claims held, in {time.time() - t0:.0f} s.")
    if r.live:
        r.live.close()
    r.write_html("ptscope: a guided tour of virtual memory", intro)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
