"""Writes the contract's binary vectors (files/compressed/) from its text vector files/shapes/lines.jsonl.

Run it from anywhere with python3 (standard library only, plus the zstd command for the zstd vectors); the files it
writes are committed, so neither test suite runs it. Compressors of other versions may write other bytes for the same
text; every vector is one whose expected counts do not depend on those bytes.
"""

import bz2
import gzip
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "files", "compressed")


def zstd(data):
    """One zstd frame (the command's default level, with its content checksum)."""
    return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout


def gz(data, level=9):
    return gzip.compress(data, compresslevel=level, mtime=0)


def main():
    with open(os.path.join(HERE, "files", "shapes", "lines.jsonl"), "rb") as f:
        text = f.read()
    lines = text.splitlines(keepends=True)
    assert len(lines) == 3
    first_two = lines[0] + lines[1]

    # A gzip header is 10 bytes here (no name), and a stored (level 0) deflate block has a 5-byte header before the
    # text as it is: cutting the file k bytes after them leaves exactly the first k bytes of text to decompress. The
    # cut falls after '{"GroupID": 1' of the third record, between two tokens.
    stored = gz(text, level=0)
    cut_into_third = 10 + 5 + len(first_two) + len(b'{"GroupID": 1')
    # The damage is in a second member, so that what comes before it is whole whatever the decompressor's buffering.
    bad_crc = bytearray(gz(lines[2]))
    bad_crc[-8:-4] = bytes(b ^ 0xFF for b in bad_crc[-8:-4])

    vectors = {
        "lines.json.gz": gz(text),
        "two-members.json.gz": gz(first_two) + gz(lines[2]),
        "lines.json.zst": zstd(text),
        # gzip under a name that says JSON, and under a Firehose-style name without extension: the bytes decide.
        "gzip-named.json": gz(text),
        "tally-firehose-gzip-1-2026-11-24-13-07-41-7d2e4b10-93aa-4f5e-8c1d-5e6f7a8b9c0d": gz(text),
        "truncated.json.gz": stored[:cut_into_third],
        "bad-crc.json.gz": gz(first_two) + bytes(bad_crc),
        # Two frames, the second cut inside its only block (12 of its bytes: header, block header, part of the block).
        "truncated.json.zst": zstd(first_two) + zstd(lines[2])[:12],
        "bzip2.json": bz2.compress(text, 9),
        "utf16.json": b"\xff\xfe" + text.decode("utf-8").encode("utf-16-le"),
    }
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(vectors.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print("%6d  compressed/%s" % (len(data), name))


if __name__ == "__main__":
    main()
