"""Progress of long work: a live bar on a terminal, a few plain lines in a log.

tqdm redraws one line with carriage returns, which a log file (``dvc repro > log``, CI) keeps as
one endless line; there the same progress is printed as a line every ``every`` seconds and one
at the end (work done within a second prints nothing).
"""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "encode", "img") as bar: bar.update(k)`` — on stderr."""

    def __init__(self, total: int, label: str, unit: str = "img", *, enabled: bool = True, every: float = 30.0,
                 stream=None):
        self.total, self.label, self.unit, self.every = total, label, unit, every
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.live = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.done, self.started = 0, time.perf_counter()
        self.last = self.started
        self.bar = None
        if self.live:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit=unit, file=self.stream, mininterval=0.5)

    def update(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif self.enabled and time.perf_counter() - self.last >= self.every and self.done < self.total:
            self.last = time.perf_counter()
            self._line()

    def _line(self) -> None:
        seconds = time.perf_counter() - self.started
        print(f"{self.label}: {self.done:,}/{self.total:,} {self.unit} ({seconds:.0f} s)", file=self.stream, flush=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and exc[0] is None and time.perf_counter() - self.started >= 1.0:
            self._line()
