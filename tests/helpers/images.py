"""Image files with faults that only a full decode finds, for the data tests."""
import io
import struct
import zlib

import numpy as np
from PIL import Image


def png_with_corrupt_data() -> bytes:
    """A PNG whose chunks all have valid CRCs but whose zlib stream is broken (a reserved
    deflate block type), so only a full decode finds the fault."""
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16, 3), np.uint8)
    Image.fromarray(pixels).save(buffer, 'PNG')
    data, out, pos = buffer.getvalue(), bytearray(buffer.getvalue()[:8]), 8
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IDAT':
            body = body[:2] + b'\xff' * (length - 2)  # zlib header kept, then BTYPE=11
        out += data[pos:pos + 8] + body + struct.pack('>I', zlib.crc32(kind + body))
        pos += 12 + length
    return bytes(out)
