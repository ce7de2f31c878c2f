"""Hostile files, and measuring what a reader costs in memory, for the hostile-input, fuzzing
and stage tests.

Builders: :func:`lying_npy` (a .npy header that claims any shape), :func:`jpeg_claiming` and
:func:`png_claiming` (a valid 32×32 image whose header claims another size),
:func:`png_with_idat_claiming` (a valid 32×32 PNG whose data chunk claims any length).

Two measures, because neither sees everything:

* :func:`traced_peak`: the peak of Python's own allocations (tracemalloc) while a call runs, in
  this process. Sees Python objects and NumPy arrays (NumPy reports its buffers to tracemalloc),
  not what C libraries such as Pillow allocate for themselves.
* :func:`peak_virtual_growth`: how far the peak *virtual* size of a fresh Python process grows
  while it runs a snippet (Linux: VmPeak in /proc/self/status). Sees every allocation, Pillow's
  included, even pages never touched (a 300 MB image buffer that a decoder gives up on after a
  few rows counts in full), which resident memory would not show.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format
from PIL import Image

from pipeline.lib.errors import InputError

REPO = Path(__file__).resolve().parents[1]
MiB = 2**20


def lying_npy(path: Path, claimed_shape: tuple, data: bytes, descr: str = "|u1") -> Path:
    """A .npy file whose header claims ``claimed_shape`` of ``descr``, followed by ``data``."""
    header = io.BytesIO()
    npy_format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False,
                                               "shape": claimed_shape})
    path.write_bytes(header.getvalue() + data)
    return path


def image_bytes(fmt: str, size=(32, 32)) -> bytes:
    pixels = np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A 32×32 JPEG whose frame header (SOF0) claims ``width``×``height``: no checksum to fix."""
    data = bytearray(image_bytes("JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_claiming(width: int, height: int) -> bytes:
    """A 32×32 PNG whose IHDR claims ``width``×``height``, with a valid CRC (Pillow checks it)."""
    data = bytearray(image_bytes("PNG"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr:ihdr + 17])))
    return bytes(data)


def png_with_idat_claiming(length: int) -> bytes:
    """A valid 32×32 PNG whose image-data chunk (IDAT) claims ``length`` bytes (CRCs left as
    they were: Pillow does not check an IDAT's)."""
    data = bytearray(image_bytes("PNG"))
    idat = data.index(b"IDAT")
    data[idat - 4:idat] = struct.pack(">I", length)
    return bytes(data)


def traced_peak(function, *args, **kwargs) -> tuple[int, object]:
    """(peak bytes allocated during the call, its result or the InputError it raised).

    Any other exception propagates: only success or InputError is an acceptable answer.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        try:
            outcome = function(*args, **kwargs)
        except InputError as error:
            outcome = error
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start, outcome


_PROBE = r"""
import json, sys
def vm(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
{imports}
before = vm("VmSize:")
try:
    {call}
    outcome = "ok"
except Exception as error:
    outcome = f"{{type(error).__name__}}: {{error}}"
print(json.dumps({{"growth": vm("VmPeak:") - before, "outcome": outcome}}))
"""


def peak_virtual_growth(imports: str, call: str) -> tuple[int, str]:
    """Run ``imports`` then ``call`` (one line of Python) in a fresh interpreter whose sys.path
    starts with the repository; return (growth of the peak virtual size in bytes during ``call``,
    "ok" or "<exception type>: <message>")."""
    code = _PROBE.format(imports=imports, call=call)
    result = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r})\n{code}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["growth"], report["outcome"]
