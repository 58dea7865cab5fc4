#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Test helper for the image integration tests: crafts tar layers (ordinary and hostile), writes OCI
layouts with correct digests by hand (so tests can also write wrong ones on purpose), builds
multi-platform indexes, and compares two root filesystems file by file.

  imgtool.py tar CASE OUT.tar [--outside DIR]
  imgtool.py layout DIR --tag TAG [--platform linux/amd64] [--bad-diffid N] [--corrupt-blob N]
                        [--truncate-blob N] [--no-tag] [--docker] LAYER.tar[:gzip|:zstd|:none]...
  imgtool.py index DIR --tag TAG [--docker] MANIFEST_DIGEST...  (platforms from the manifests' configs)
  (--docker: Docker v2 schema 2 media types instead of OCI ones)
  imgtool.py compare ROOT_A ROOT_B
"""
import hashlib, io, json, os, stat, subprocess, sys, tarfile, time

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

# ----------------------------------------------------------------------------- tar crafting

def ti(name, type=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, size=0, linkname="", mtime=1_600_000_000,
       devmajor=0, devminor=0, pax=None):
    t = tarfile.TarInfo(name)
    t.type, t.mode, t.uid, t.gid, t.size, t.linkname, t.mtime = type, mode, uid, gid, size, linkname, mtime
    t.devmajor, t.devminor = devmajor, devminor
    if pax:
        t.pax_headers = pax
    return t

def add(tf, t, data=b""):
    t.size = len(data) if t.type == tarfile.REGTYPE else 0
    tf.addfile(t, io.BytesIO(data) if data else None)

def tar_case(case, out, outside):
    tf = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
    o = outside.rstrip("/")
    D, S, L, F = tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.REGTYPE
    if case == "base":
        # Layer 1 of the layered test image: modes, owners, setuid, links, xattrs, fifo, devices.
        add(tf, ti("etc", D, 0o755))
        add(tf, ti("etc/hostname"), b"base\n")
        add(tf, ti("etc/shadow", mode=0o640, gid=42), b"root:*:1::::::\n")
        add(tf, ti("bin", D, 0o755))
        add(tf, ti("bin/su", mode=0o4755), b"#!/bin/sh\necho su\n")
        add(tf, ti("bin/sg", mode=0o2755, gid=50), b"#!/bin/sh\necho sg\n")
        add(tf, ti("bin/sh-link", S, 0o777, linkname="su"))
        add(tf, ti("bin/hard", L, linkname="bin/su"))
        # File capabilities (v2: cap_net_raw+ep) are kept; an SELinux label is the host's business.
        cap = bytes.fromhex("01000002" "00200000" "00000000" "00000000" "00000000")
        add(tf, ti("bin/ping", mode=0o755, pax={"SCHILY.xattr.security.capability": cap.decode("latin-1"),
                                               "SCHILY.xattr.security.selinux": "system_u:object_r:bin_t:s0"}),
            b"#!/bin/sh\necho ping\n")
        add(tf, ti("home", D, 0o755))
        add(tf, ti("home/user", D, 0o700, uid=1000, gid=1000))
        add(tf, ti("home/user/notes", uid=1000, gid=1000, pax={"SCHILY.xattr.user.comment": "hello"}), b"notes\n")
        add(tf, ti("tmp", D, 0o1777))
        add(tf, ti("tmp/fifo", tarfile.FIFOTYPE, 0o600))
        add(tf, ti("dev", D, 0o755))
        add(tf, ti("dev/null", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3))
        add(tf, ti("opaque", D, 0o755))
        add(tf, ti("opaque/old1"), b"old1\n")
        add(tf, ti("opaque/old2"), b"old2\n")
        add(tf, ti("gone", D, 0o755))
        add(tf, ti("gone/file"), b"bye\n")
        add(tf, ti("replaced"), b"a file that becomes a directory\n")
        add(tf, ti("big"), os.urandom(3 << 20))
    elif case == "upper":
        # Layer 2: whiteouts, an opaque directory, a type change, a modified file.
        add(tf, ti("etc/hostname"), b"upper\n")
        add(tf, ti("etc/.wh.shadow"))
        add(tf, ti("opaque", D, 0o755))
        add(tf, ti("opaque/.wh..wh..opq"))
        add(tf, ti("opaque/new"), b"new\n")
        add(tf, ti(".wh.gone"))
        add(tf, ti(".wh.replaced"))
        add(tf, ti("replaced", D, 0o755))
        add(tf, ti("replaced/inside"), b"inside\n")
        add(tf, ti("bin/sh-link", S, 0o777, linkname="sg"))
    elif case == "top":
        # Layer 3: whiteout inside the opaque dir, an entry from layer 2 removed again.
        add(tf, ti("opaque/.wh.new"))
        add(tf, ti("opaque/newer"), b"newer\n")
        add(tf, ti("home/user/.wh.notes"))
    elif case in ("inherit-sgid", "inherit-acl"):
        # What a directory hands down to entries created in it: a set-group-ID directory its
        # group (and the bit to subdirectories), a default ACL the modes. Every entry must still
        # get exactly the owner and mode of the archive, whatever the unpacker's umask. Plain
        # entries first: they are created before anything is handed down.
        add(tf, ti("plain", D, 0o755))
        add(tf, ti("plain/file", mode=0o644), b"plain\n")
        add(tf, ti("plain/exe", mode=0o755), b"#!/bin/sh\n")
        add(tf, ti("plain/fifo", tarfile.FIFOTYPE, 0o644))
        if case == "inherit-sgid":
            add(tf, ti("sgid", D, 0o2775, gid=50))
            add(tf, ti("sgid/file", mode=0o644), b"root's\n")
            add(tf, ti("sgid/sub", D, 0o755))
            add(tf, ti("sgid/sub/f", mode=0o600), b"x\n")
            add(tf, ti("sgid/link", S, 0o777, linkname="file"))
            add(tf, ti("sgid/fifo", tarfile.FIFOTYPE, 0o644))
        else:
            # system.posix_acl_default: user::r-x group::r-x other::r-x (version 2, {tag, perm,
            # id}): a file created in it with 0644 gets 0444.
            acl = bytes.fromhex("02000000" "01000500" "00000000" "04000500" "00000000" "20000500" "00000000")
            add(tf, ti("acl", D, 0o755, pax={"SCHILY.xattr.system.posix_acl_default": acl.decode("latin-1")}))
            add(tf, ti("acl/file", mode=0o644), b"acl\n")
            add(tf, ti("acl/dir", D, 0o755))
    elif case == "implicit":
        add(tf, ti("implicit/deep/file", mode=0o644), b"deep\n")
    # ---- hostile layers: each must be rejected or stay inside the layer
    elif case == "dotdot":
        add(tf, ti("../escape"), b"x")
    elif case == "dotdot-deep":
        add(tf, ti("a", D))
        add(tf, ti("a/../../escape"), b"x")
    elif case == "absolute":
        add(tf, ti(o + "/abs-escape"), b"x")
    elif case == "symlink-write":
        add(tf, ti("evil", S, linkname=o))
        add(tf, ti("evil/pwned"), b"x")
    elif case == "symlink-up-write":
        add(tf, ti("up", S, linkname="../../../../../../../../../.." + o))
        add(tf, ti("up/pwned"), b"x")
    elif case == "symlink-parent-dir":
        add(tf, ti("d", S, linkname=o))
        add(tf, ti("d/sub", D))
        add(tf, ti("d/sub/f"), b"x")
    elif case == "hardlink-outside":
        add(tf, ti("hl", L, linkname="../../../../../../.." + o + "/secret"))
    elif case == "hardlink-absolute":
        add(tf, ti("hl", L, linkname=o + "/secret"))
    elif case == "hardlink-via-symlink":
        add(tf, ti("s", S, linkname=o))
        add(tf, ti("hl", L, linkname="s/secret"))
    elif case == "hardlink-lower":
        # A hardlink to a file of a lower layer: each layer is its own overlayfs directory.
        add(tf, ti("hl", L, linkname="etc/hostname"))
    elif case == "hardlink-symlink-chmod":
        add(tf, ti("link", S, linkname=o + "/secret"))
        add(tf, ti("hl", L, linkname="link"))
        add(tf, ti("hl", F, mode=0o4777), b"overwrite")
    elif case == "chmod-through-symlink":
        add(tf, ti("link", S, linkname=o + "/secret"))
        add(tf, ti("link", F, mode=0o4777), b"overwrite")
    elif case == "dir-over-symlink":
        add(tf, ti("d", S, linkname=o))
        add(tf, ti("d", D, 0o777))
        add(tf, ti("d/f"), b"x")
    elif case == "whiteout-outside":
        add(tf, ti("../.wh.secret"))
    elif case == "whiteout-dotdot":
        add(tf, ti("sub", D))
        add(tf, ti("sub/.wh..."))
    elif case == "whiteout-symlink":
        add(tf, ti("evil", S, linkname=o))
        add(tf, ti("evil/.wh.secret"))
    elif case == "devnull":
        # A standard device node next to a file: created where mknod is allowed, skipped where
        # it is not (a user namespace), the rest of the layer unpacked either way.
        add(tf, ti("dev", D, 0o755))
        add(tf, ti("dev/null", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3))
        add(tf, ti("file"), b"data\n")
    elif case == "device-block":
        add(tf, ti("sda", tarfile.BLKTYPE, 0o660, devmajor=8, devminor=0))
    elif case == "device-char":
        add(tf, ti("mem", tarfile.CHRTYPE, 0o660, devmajor=1, devminor=1))
    elif case == "xattr-overlay":
        add(tf, ti("d", D, pax={"SCHILY.xattr.trusted.overlay.opaque": "y"}))
    elif case == "xattr-unknown":
        add(tf, ti("f", pax={"SCHILY.xattr.weird.ns": "y"}), b"x")
    elif case == "many-entries":
        for i in range(2000):
            add(tf, ti("f%d" % i))
    elif case == "zeros":
        # 80 MiB of zeros: a compression ratio of about 1000:1 once gzipped.
        t = ti("zeros")
        t.size = 80 << 20
        class Zero(io.RawIOBase):
            def __init__(self): self.left = t.size
            def readable(self): return True
            def readinto(self, b):
                n = min(len(b), self.left); b[:n] = bytes(n); self.left -= n; return n
        tf.addfile(t, io.BufferedReader(Zero(), 1 << 20))
    else:
        sys.exit("unknown case " + case)
    tf.close()

# ----------------------------------------------------------------------------- layouts

def compress(data, how):
    if how == "gzip":
        return subprocess.run(["gzip", "-n", "-c", "-6"], input=data, capture_output=True, check=True).stdout
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True).stdout
    return data

MT = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip", "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
      "none": "application/vnd.oci.image.layer.v1.tar",
      "manifest": "application/vnd.oci.image.manifest.v1+json", "config": "application/vnd.oci.image.config.v1+json",
      "index": "application/vnd.oci.image.index.v1+json"}
# Docker v2 schema 2, as `docker push` and registries write it (--docker).
MT_DOCKER = {"gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
             "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd",
             "none": "application/vnd.docker.image.rootfs.diff.tar",
             "manifest": "application/vnd.docker.distribution.manifest.v2+json",
             "config": "application/vnd.docker.container.image.v1+json",
             "index": "application/vnd.docker.distribution.manifest.list.v2+json"}

def write_blob(layout, data):
    d = sha(data)
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "blobs", "sha256", d[7:]), "wb") as f:
        f.write(data)
    return d

def load_index(layout):
    os.makedirs(layout, exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    p = os.path.join(layout, "index.json")
    if os.path.exists(p):
        return json.load(open(p))
    return {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}

def save_index(layout, idx, tag, desc):
    if tag:
        idx["manifests"] = [m for m in idx["manifests"]
                            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
        desc = dict(desc, annotations={"org.opencontainers.image.ref.name": tag})
    idx["manifests"].append(desc)
    json.dump(idx, open(os.path.join(layout, "index.json"), "w"))

def cmd_layout(args):
    layout, tag, plat, bad_diffid, corrupt, truncate = args[0], None, "linux/amd64", -1, -1, -1
    layers, i, no_tag, mt = [], 1, False, MT
    while i < len(args):
        a = args[i]
        if a == "--tag": tag = args[i + 1]; i += 2
        elif a == "--platform": plat = args[i + 1]; i += 2
        elif a == "--bad-diffid": bad_diffid = int(args[i + 1]); i += 2
        elif a == "--corrupt-blob": corrupt = int(args[i + 1]); i += 2
        elif a == "--truncate-blob": truncate = int(args[i + 1]); i += 2
        elif a == "--no-tag": no_tag = True; i += 1
        elif a == "--docker": mt = MT_DOCKER; i += 1
        else: layers.append(a); i += 1
    idx = load_index(layout)
    descs, diff_ids = [], []
    for n, spec in enumerate(layers):
        path, _, how = spec.partition(":")
        how = how or "gzip"
        raw = open(path, "rb").read()
        blob = compress(raw, how)
        if n == truncate:
            blob = blob[:-200]  # the digest below is of the truncated blob: only decompression can tell
        d = write_blob(layout, blob)
        if n == corrupt:
            p = os.path.join(layout, "blobs", "sha256", d[7:])
            b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0xff; open(p, "wb").write(bytes(b))
        descs.append({"mediaType": mt[how], "digest": d, "size": len(blob)})
        did = sha(raw)
        if n == bad_diffid:
            did = "sha256:" + "0" * 64
        diff_ids.append(did)
    parts = plat.split("/")
    config = {"architecture": parts[1], "os": parts[0], "created": "2024-01-01T00:00:00Z",
              "config": {"Entrypoint": ["/bin/sh"], "Cmd": ["-c", "echo hi"], "Env": ["PATH=/bin", "A=b"],
                         "WorkingDir": "/home", "User": "1000:1000", "StopSignal": "SIGINT",
                         "Labels": {"x": "y"}, "ExposedPorts": {"80/tcp": {}}},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    if len(parts) > 2:
        config["variant"] = parts[2]
    cj = json.dumps(config).encode()
    cd = write_blob(layout, cj)
    manifest = {"schemaVersion": 2, "mediaType": mt["manifest"],
                "config": {"mediaType": mt["config"], "digest": cd, "size": len(cj)},
                "layers": descs}
    mj = json.dumps(manifest).encode()
    md = write_blob(layout, mj)
    desc = {"mediaType": mt["manifest"], "digest": md, "size": len(mj)}
    if not no_tag:
        save_index(layout, idx, tag, desc)
    print(md)

def cmd_index(args):
    layout, tag, digests, i, mt = args[0], None, [], 1, MT
    while i < len(args):
        if args[i] == "--tag": tag = args[i + 1]; i += 2
        elif args[i] == "--docker": mt = MT_DOCKER; i += 1
        else: digests.append(args[i]); i += 1
    idx = load_index(layout)
    entries = []
    for d in digests:
        mj = open(os.path.join(layout, "blobs", "sha256", d[7:]), "rb").read()
        m = json.loads(mj)
        c = json.load(open(os.path.join(layout, "blobs", "sha256", m["config"]["digest"][7:])))
        p = {"os": c["os"], "architecture": c["architecture"]}
        if "variant" in c: p["variant"] = c["variant"]
        entries.append({"mediaType": m["mediaType"], "digest": d, "size": len(mj), "platform": p})
    ij = json.dumps({"schemaVersion": 2, "mediaType": mt["index"], "manifests": entries}).encode()
    d = write_blob(layout, ij)
    save_index(layout, idx, tag, {"mediaType": mt["index"], "digest": d, "size": len(ij)})
    print(d)

# ----------------------------------------------------------------------------- comparing trees

def describe(root):
    out, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            m = st.st_mode
            e = {"type": stat.S_IFMT(m), "mode": oct(stat.S_IMODE(m)), "uid": st.st_uid, "gid": st.st_gid}
            e["mtime"] = int(st.st_mtime)
            if stat.S_ISREG(m):
                e["sha"] = hashlib.sha256(open(p, "rb").read()).hexdigest()
                if st.st_nlink > 1:
                    inodes.setdefault(st.st_ino, []).append(rel)
            elif stat.S_ISLNK(m):
                e["target"] = os.readlink(p)
            elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
                e["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
            if not stat.S_ISLNK(m):
                try:
                    e["xattrs"] = {k: os.getxattr(p, k, follow_symlinks=False).hex()
                                   for k in sorted(os.listxattr(p, follow_symlinks=False))
                                   if k.startswith("user.") or k == "security.capability"}
                except OSError:
                    pass
            out[rel] = e
    links = sorted(sorted(v) for v in inodes.values())
    return out, links

def cmd_compare(args):
    a, la = describe(args[0])
    b, lb = describe(args[1])
    diffs = []
    for k in sorted(set(a) | set(b)):
        if k not in a: diffs.append("only in %s: %s" % (args[1], k))
        elif k not in b: diffs.append("only in %s: %s" % (args[0], k))
        elif a[k] != b[k]: diffs.append("%s: %s != %s" % (k, a[k], b[k]))
    if la != lb:
        diffs.append("hardlink groups differ: %s != %s" % (la, lb))
    for d in diffs:
        print(d)
    print("%d entries compared, %d differences" % (len(a), len(diffs)))
    if diffs:
        sys.exit(1)

def main(argv):
    cmd, rest = argv[0], argv[1:]
    if cmd == "batch":
        # One command per line on stdin: saves the interpreter start-up for each.
        import shlex
        for line in sys.stdin:
            if line.strip():
                main(shlex.split(line))
        return
    if cmd == "tar":
        outside = rest[rest.index("--outside") + 1] if "--outside" in rest else "/nonexistent"
        tar_case(rest[0], rest[1], outside)
    elif cmd == "layout": cmd_layout(rest)
    elif cmd == "index": cmd_index(rest)
    elif cmd == "compare": cmd_compare(rest)
    else: sys.exit(__doc__)

if __name__ == "__main__":
    main(sys.argv[1:])
