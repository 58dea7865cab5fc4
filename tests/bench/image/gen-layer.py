#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a synthetic layer tar like a typical distro layer: ~4,800 entries in a directory tree,
file sizes skewed small with a few large ones, content a mix of incompressible bytes and
text-like data, so that gzip -6 gives about 3:1.   gen-layer.py OUT.tar [TOTAL_MB]"""
import io, os, random, sys, tarfile

out, total = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 640
rnd = random.Random(42)
words = [bytes(rnd.choice(b"abcdefghijklmnopqrstuvwxyz_") for _ in range(rnd.randint(2, 12))) for _ in range(400)]
pool = []
for _ in range(512):
    line = []
    while sum(map(len, line)) < 8192:
        line.append(rnd.choice(words))
    pool.append(b" ".join(line)[:8192] + b"\n")

def content(size):
    parts, n = [], 0
    while n < size:
        if rnd.random() < 0.12:
            b = os.urandom(8192)
        else:
            b = pool[rnd.randrange(len(pool))]
        parts.append(b)
        n += len(b)
    return b"".join(parts)[:size]

budget = total << 20
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
    dirs = [""]
    i = 0
    while budget > 0:
        if i % 12 == 0:
            d = (rnd.choice(dirs) + "/d%d" % i).lstrip("/")
            t = tarfile.TarInfo(d); t.type = tarfile.DIRTYPE; t.mode = 0o755; t.mtime = 1_600_000_000
            tf.addfile(t)
            dirs.append(d)
        size = min(budget, int(rnd.paretovariate(1.2) * 20000) if rnd.random() > 0.002 else 8 << 20)
        t = tarfile.TarInfo((rnd.choice(dirs) + "/f%d" % i).lstrip("/"))
        t.size, t.mode, t.mtime = size, rnd.choice([0o644, 0o755, 0o600]), 1_600_000_000
        tf.addfile(t, io.BytesIO(content(size)))
        budget -= size
        i += 1
print(i, "files")
