# SPDX-License-Identifier: GPL-2.0
"""The tour's live view (tour.py --live PORT, `make demo LIVE=1`).

One `ptscope serve --follow FILE` runs beside the narration for the whole
tour; each chapter writes the PID of its (first) program and a caption into
FILE, so the page in the host's browser switches to it; removing FILE at
the end stops the server. With a pace, the tour also waits at each of a
program's stops, so the picture can be pointed at before it changes.
"""

import os
import re
import subprocess
import time

FOLLOW = "/run/ptscope-live"


def _write(path, text):
    """Atomically: the server never reads half a file."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


class Live:
    def __init__(self, port, pace, say):
        self.pace = pace
        self.caption = "the tour starts"
        self.shown = 0          # the PID on the page
        _write(FOLLOW, f"0\n{self.caption}\n")
        self.p = subprocess.Popen(["ptscope", "serve", "--follow", FOLLOW, "--listen",
                                   f"0.0.0.0:{port}", "-i", "0.5"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        head = self.p.stdout.readline() + self.p.stdout.readline()
        url = re.search(r"http://\S+", head)
        if not url:
            raise RuntimeError(f"ptscope serve did not start: {head!r}")
        say(f"The live view: open {url.group(0)} in a browser on the host (the VM forwards "
            f"its port {port} to the host's 127.0.0.1:{port}). Each chapter's program appears "
            f"there as it runs.")

    def chapter(self, number, title):
        self.caption = f"Chapter {number}: {title}"
        self.shown = 0

    def show(self, pid, label):
        """The page shows the first program of a chapter, until it exits:
        then the next one (ASLR's three runs, one after the other)."""
        if not self.shown or not os.path.exists(f"/proc/{self.shown}"):
            _write(FOLLOW, f"{pid}\n{self.caption} ({label}, PID {pid})\n")
            self.shown = pid

    def pause(self):
        time.sleep(self.pace)

    def close(self):
        try:
            os.unlink(FOLLOW)
        except FileNotFoundError:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
