/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The decompressor helper: a forked child that reads a layer blob, hashes it (the blob digest)
 * and checks its size, inflates it (gzip or zstd) into a ring of slots in shared memory, while
 * the caller parses the tar straight out of the ring and writes files on the other core. Two
 * pipes carry slot numbers: filled slots to the caller (a record of slot and length), read ones
 * back. The child enforces the size and ratio limits on the uncompressed stream, and at the end
 * reports a status record on a third pipe.
 *
 * A process, not a thread: the daemon forks containers, and STYLE says no threads in such
 * processes. The child touches nothing but its descriptors and the ring, and exits with _exit().
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

#include "image/decompress.h"

#define IN_CHUNK       (256 * 1024)
#define SLOT_SIZE      (512 * 1024)
#define N_SLOTS        16 /* 8 MiB in all; fewer than 256, so a slot number is one byte */
#define RATIO_CHECK_AT (UINT64_C(64) << 20)

typedef struct SlotRecord {
        uint32_t slot;
        uint32_t len;
} SlotRecord;

typedef struct Child {
        int in_fd;
        int full_fd; /* write end of a pipe */
        int free_fd; /* our end of a socket pair */
        unsigned char *ring;
        int slot;    /* the slot being filled, -1 if none */
        size_t fill; /* bytes in it */
        uint64_t blob_size;
        const char *digest;
        const ImageLimits *limits;
        DecompressFlags flags;
        Sha256 hash;
        uint64_t in_bytes;
        uint64_t out_bytes;
        DecompressStatus *st;
} Child;

static int child_fail(Child *c, int r, const char *fmt, ...) _printf_(3, 4);
static int child_fail(Child *c, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->st->message, sizeof(c->st->message), fmt, ap);
        va_end(ap);
        c->st->r = r;
        return r;
}

static int child_read(Child *c, void *buf, size_t len, size_t *ret)
{
        ssize_t k;
        do
                k = read(c->in_fd, buf, len);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return child_fail(c, -errno, "reading blob: %s", strerror(errno));
        c->in_bytes += (size_t)k;
        if (c->in_bytes > c->blob_size)
                return child_fail(c, -EBADMSG, "blob %s is larger than its descriptor's size %" PRIu64,
                                  c->digest, c->blob_size);
        sha256_update(&c->hash, buf, (size_t)k);
        *ret = (size_t)k;
        return 0;
}

/* Space to inflate into: the rest of the current slot, or a fresh one (waiting for the reader to
 * hand one back). */
static int child_space(Child *c, unsigned char **ret, size_t *ret_size)
{
        if (c->slot < 0) {
                unsigned char b;
                ssize_t k;
                do
                        k = recv(c->free_fd, &b, 1, 0);
                while (k < 0 && errno == EINTR);
                if (k <= 0)
                        /* The reader stopped (its error wins). */
                        return child_fail(c, -EPIPE, "the reader stopped");
                if (b >= N_SLOTS)
                        return child_fail(c, -EIO, "invalid slot %u handed back", b);
                c->slot = b;
                c->fill = 0;
        }
        *ret = c->ring + (size_t)c->slot * SLOT_SIZE + c->fill;
        *ret_size = SLOT_SIZE - c->fill;
        return 0;
}

/* Passes the current slot on to the reader. */
static int child_flush(Child *c)
{
        if (c->slot < 0 || c->fill == 0)
                return 0;
        SlotRecord rec = {.slot = (uint32_t)c->slot, .len = (uint32_t)c->fill};
        int r = loop_write(c->full_fd, &rec, sizeof(rec));
        if (r == -EPIPE)
                return child_fail(c, r, "the reader stopped");
        if (r < 0)
                return child_fail(c, r, "passing on the uncompressed stream: %s", strerror(-r));
        c->slot = -1;
        c->fill = 0;
        return 0;
}

/* n bytes were inflated into the space child_space() gave. */
static int child_commit(Child *c, size_t n)
{
        if (n == 0)
                return 0;
        c->out_bytes += n;
        if (c->out_bytes > c->limits->max_layer_size)
                return child_fail(c, -EFBIG,
                                  "uncompressed layer exceeds the size limit of %" PRIu64 " bytes",
                                  c->limits->max_layer_size);
        if (c->out_bytes > RATIO_CHECK_AT && c->out_bytes / MAX(c->in_bytes, 1u) > c->limits->max_ratio)
                return child_fail(c, -EFBIG,
                                  "compression ratio exceeds the limit of %" PRIu64 ":1 (%" PRIu64
                                  " bytes from %" PRIu64 ")",
                                  c->limits->max_ratio, c->out_bytes, c->in_bytes);
        c->fill += n;
        return c->fill == SLOT_SIZE ? child_flush(c) : 0;
}

static int child_gzip(Child *c, unsigned char *in)
{
        z_stream z = {};
        size_t avail = 0;
        bool member_done = false;
        int r = 0;

        if (inflateInit2(&z, 15 + 16) != Z_OK)
                return child_fail(c, -ENOMEM, "initializing zlib");
        if (c->flags & DECOMPRESS_STREAM_VERIFIED)
                (void)inflateValidate(&z, 0);
        for (;;) {
                if (avail == 0) {
                        r = child_read(c, in, IN_CHUNK, &avail);
                        if (r < 0)
                                break;
                        if (avail == 0) {
                                if (!member_done || c->in_bytes == 0)
                                        r = child_fail(c, -EBADMSG,
                                                       "truncated gzip stream after %" PRIu64 " bytes",
                                                       c->in_bytes);
                                break;
                        }
                        z.next_in = in;
                        z.avail_in = (uInt)avail;
                }
                if (member_done) {
                        /* Another gzip member follows (pigz and concatenated streams). */
                        if (inflateReset(&z) != Z_OK) {
                                r = child_fail(c, -EBADMSG, "resetting zlib");
                                break;
                        }
                        member_done = false;
                        if (c->flags & DECOMPRESS_STREAM_VERIFIED)
                                (void)inflateValidate(&z, 0);
                }
                unsigned char *out;
                size_t space;
                r = child_space(c, &out, &space);
                if (r < 0)
                        break;
                z.next_out = out;
                z.avail_out = (uInt)space;
                int zr = inflate(&z, Z_NO_FLUSH);
                if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
                        r = child_fail(c, -EBADMSG, "corrupt gzip stream at byte %" PRIu64 ": %s",
                                       c->in_bytes - z.avail_in, z.msg ?: "inflate error");
                        break;
                }
                r = child_commit(c, space - z.avail_out);
                if (r < 0)
                        break;
                if (zr == Z_STREAM_END)
                        member_done = true;
                avail = z.avail_in;
                if (avail > 0 && member_done && z.next_in[0] != 0x1f) {
                        r = child_fail(c, -EBADMSG, "trailing garbage after gzip stream at byte %" PRIu64,
                                       c->in_bytes - avail);
                        break;
                }
        }
        inflateEnd(&z);
        return r;
}

static int child_zstd(Child *c, unsigned char *in)
{
        ZSTD_DCtx *z = ZSTD_createDCtx();
        ZSTD_inBuffer ib = {in, 0, 0};
        size_t last = 1;
        int r = 0;

        if (!z)
                return child_fail(c, -ENOMEM, "initializing zstd");
        /* Refuse frames that want an absurd window (memory bomb); 128 MiB is zstd --long's max. */
        ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, 27);
        for (;;) {
                if (ib.pos == ib.size) {
                        size_t n;
                        r = child_read(c, in, IN_CHUNK, &n);
                        if (r < 0)
                                break;
                        if (n == 0) {
                                if (last != 0 || c->in_bytes == 0)
                                        r = child_fail(c, -EBADMSG,
                                                       "truncated zstd stream after %" PRIu64 " bytes",
                                                       c->in_bytes);
                                break;
                        }
                        ib.size = n;
                        ib.pos = 0;
                }
                unsigned char *out;
                size_t space;
                r = child_space(c, &out, &space);
                if (r < 0)
                        break;
                ZSTD_outBuffer ob = {out, space, 0};
                last = ZSTD_decompressStream(z, &ob, &ib);
                if (ZSTD_isError(last)) {
                        r = child_fail(c, -EBADMSG, "corrupt zstd stream near byte %" PRIu64 ": %s",
                                       c->in_bytes - (ib.size - ib.pos), ZSTD_getErrorName(last));
                        break;
                }
                r = child_commit(c, ob.pos);
                if (r < 0)
                        break;
        }
        ZSTD_freeDCtx(z);
        return r;
}

static int child_none(Child *c)
{
        for (;;) {
                unsigned char *out;
                size_t space, n;
                int r = child_space(c, &out, &space);
                if (r < 0)
                        return r;
                r = child_read(c, out, MIN(space, (size_t)IN_CHUNK), &n);
                if (r < 0)
                        return r;
                if (n == 0)
                        return 0;
                r = child_commit(c, n);
                if (r < 0)
                        return r;
        }
}

static _noreturn_ void child_main(Child *c, LayerCompression comp, int status_fd)
{
        static unsigned char in[IN_CHUNK];
        DecompressStatus st = {};
        int r;

        c->st = &st;
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        sha256_init(&c->hash);
        if (comp == COMPRESSION_GZIP)
                r = child_gzip(c, in);
        else if (comp == COMPRESSION_ZSTD)
                r = child_zstd(c, in);
        else
                r = child_none(c);
        if (r >= 0)
                r = child_flush(c);
        safe_close(c->full_fd);
        safe_close(c->free_fd);
        if (r < 0 && r != -EPIPE && c->digest && c->st->message[0] && c->in_bytes <= c->blob_size) {
                /* A corrupt stream is most likely a corrupt blob: finish hashing it, so the
                 * error can say so with both digests. */
                static unsigned char rest[IN_CHUNK];
                char got[DIGEST_STR_MAX];
                ssize_t k;
                while ((k = read(c->in_fd, rest, sizeof(rest))) > 0 &&
                       c->in_bytes + (uint64_t)k <= c->blob_size) {
                        sha256_update(&c->hash, rest, (size_t)k);
                        c->in_bytes += (uint64_t)k;
                }
                if (k == 0 && c->in_bytes == c->blob_size) {
                        sha256_final(&c->hash, got);
                        if (!streq(got, c->digest))
                                child_fail(c, -EBADMSG, "blob digest mismatch: expected %s, got %s",
                                           c->digest, got);
                }
        }
        if (r >= 0) {
                char got[DIGEST_STR_MAX];
                sha256_final(&c->hash, got);
                if (c->in_bytes != c->blob_size)
                        child_fail(c, -EBADMSG,
                                   "blob %s: size %" PRIu64 " does not match the descriptor's %" PRIu64,
                                   c->digest, c->in_bytes, c->blob_size);
                else if (c->digest && !streq(got, c->digest))
                        child_fail(c, -EBADMSG, "blob digest mismatch: expected %s, got %s", c->digest, got);
                memcpy(st.digest, got, sizeof(got));
        }
        st.in_bytes = c->in_bytes;
        st.out_bytes = c->out_bytes;
        st.done = true;
        (void)loop_write(status_fd, &st, sizeof(st));
        _exit(st.r < 0 ? 1 : 0);
}

static void close_pair(int p[2])
{
        safe_close(p[0]);
        safe_close(p[1]);
}

int decompressor_start(int blob_fd, LayerCompression comp, uint64_t blob_size, const char *digest,
                       const ImageLimits *limits, DecompressFlags flags, Decompressor *ret, Error *e)
{
        int full[2] = {-EBADF, -EBADF}, free_[2] = {-EBADF, -EBADF}, status[2] = {-EBADF, -EBADF};
        int r;

        unsigned char *ring = mmap(NULL, (size_t)N_SLOTS * SLOT_SIZE, PROT_READ | PROT_WRITE,
                                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (ring == MAP_FAILED)
                return error_set(e, -errno, "mapping the decompression buffer");
        /* Slots go back through a socket, so that handing one to a child that is gone is an
         * EPIPE for send(MSG_NOSIGNAL), not a SIGPIPE for the caller. */
        if (pipe2(full, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, free_) < 0 ||
            pipe2(status, O_CLOEXEC) < 0) {
                r = error_set(e, -errno, "creating pipe");
                goto fail;
        }
        /* Every slot starts out free. The socket holds far more than N_SLOTS bytes, so handing a
         * slot back never blocks. */
        for (unsigned char i = 0; i < N_SLOTS; i++)
                if (send(free_[1], &i, 1, MSG_NOSIGNAL) != 1) {
                        r = error_set(e, -errno, "filling the slot pipe");
                        goto fail;
                }

        pid_t pid = fork();
        if (pid < 0) {
                r = error_set(e, -errno, "forking the decompressor");
                goto fail;
        }
        if (pid == 0) {
                safe_close(full[0]);
                safe_close(free_[1]);
                safe_close(status[0]);
                /* Our pipes must not be inherited elsewhere; SIGPIPE would kill us silently. */
                signal(SIGPIPE, SIG_IGN);
                Child c = {.in_fd = blob_fd,
                           .full_fd = full[1],
                           .free_fd = free_[0],
                           .ring = ring,
                           .slot = -1,
                           .blob_size = blob_size,
                           .digest = digest,
                           .limits = limits,
                           .flags = flags};
                child_main(&c, comp, status[1]);
        }
        safe_close(full[1]);
        safe_close(free_[0]);
        safe_close(status[1]);
        *ret = (Decompressor){.pid = pid,
                              .full_fd = full[0],
                              .free_fd = free_[1],
                              .status_fd = status[0],
                              .blob_fd = blob_fd,
                              .ring = ring,
                              .held = -1};
        return 0;

fail:
        close_pair(full);
        close_pair(free_);
        close_pair(status);
        munmap(ring, (size_t)N_SLOTS * SLOT_SIZE);
        return r;
}

ssize_t decompressor_read(Decompressor *d, const void **ret)
{
        SlotRecord rec;

        if (d->full_fd < 0)
                return 0;
        if (d->held >= 0) {
                unsigned char b = (unsigned char)d->held;
                d->held = -1;
                /* A child that is gone no longer needs it: EPIPE is harmless here. */
                (void)send(d->free_fd, &b, 1, MSG_NOSIGNAL);
        }
        size_t got = 0;
        while (got < sizeof(rec)) {
                ssize_t k = read(d->full_fd, (char *)&rec + got, sizeof(rec) - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                got += (size_t)k;
        }
        if (got == 0)
                return 0; /* the end (or the child stopped: finish tells which) */
        if (got != sizeof(rec) || rec.slot >= N_SLOTS || rec.len == 0 || rec.len > SLOT_SIZE)
                return -EIO;
        d->held = (int)rec.slot;
        *ret = d->ring + (size_t)rec.slot * SLOT_SIZE;
        return (ssize_t)rec.len;
}

/* Stops reading: a child still writing sees EPIPE or EOF on its pipes and ends. */
static void decompressor_close(Decompressor *d)
{
        d->full_fd = safe_close(d->full_fd);
        d->free_fd = safe_close(d->free_fd);
        d->held = -1;
}

static void decompressor_unmap(Decompressor *d)
{
        if (d->ring) {
                munmap(d->ring, (size_t)N_SLOTS * SLOT_SIZE);
                d->ring = NULL;
        }
}

int decompressor_finish(Decompressor *d, DecompressStatus *ret, Error *e)
{
        DecompressStatus st = {};
        int r = 0;

        decompressor_close(d);
        if (d->pid > 0) {
                ssize_t k;
                size_t got = 0;
                while (got < sizeof(st)) {
                        k = read(d->status_fd, (char *)&st + got, sizeof(st) - got);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                break;
                        got += (size_t)k;
                }
                int wst;
                while (waitpid(d->pid, &wst, 0) < 0 && errno == EINTR)
                        ;
                d->pid = 0;
                if (got != sizeof(st) || !st.done)
                        r = error_set_msg(e, -EIO, "the decompressor died without a result");
                else if (st.r < 0)
                        r = error_set_msg(e, st.r, "%s", st.message);
        }
        d->status_fd = safe_close(d->status_fd);
        decompressor_unmap(d);
        if (ret)
                *ret = st;
        return r;
}

void decompressor_kill(Decompressor *d)
{
        decompressor_close(d);
        if (d->pid > 0) {
                kill(d->pid, SIGKILL);
                while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                d->pid = 0;
        }
        d->status_fd = safe_close(d->status_fd);
        decompressor_unmap(d);
}

uint64_t decompressor_progress(const Decompressor *d)
{
        /* The child reads through the same open file description: its offset is ours to see. */
        off_t o = lseek(d->blob_fd, 0, SEEK_CUR);
        return o < 0 ? 0 : (uint64_t)o;
}

int blob_uncompressed_digest(int fd, LayerCompression c, char ret[static DIGEST_STR_MAX],
                             ImageProgressFn progress, const char *what, void *userdata, Error *e)
{
        uint64_t n = 0, last = 0;
        static const ImageLimits nolimits = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
        Decompressor d;
        struct stat st;
        Sha256 h = {};
        int r;

        if (fstat(fd, &st) < 0)
                return error_set(e, -errno, "stat");
        sha256_init(&h);
        /* No diff_id to check yet (this computes it): the gzip CRC-32 stays on. */
        r = decompressor_start(fd, c, (uint64_t)st.st_size, NULL, &nolimits, 0, &d, e);
        if (r < 0) {
                sha256_done(&h);
                return r;
        }
        for (;;) {
                const void *p;
                ssize_t k = decompressor_read(&d, &p);
                if (k < 0) {
                        r = error_set(e, (int)k, "reading the uncompressed stream");
                        decompressor_kill(&d);
                        sha256_done(&h);
                        return r;
                }
                if (k == 0)
                        break;
                sha256_update(&h, p, (size_t)k);
                n += (uint64_t)k;
                if (progress && n - last >= (32u << 20)) {
                        last = n;
                        progress(what, decompressor_progress(&d), (uint64_t)st.st_size, userdata);
                }
        }
        r = decompressor_finish(&d, NULL, e);
        if (r < 0) {
                sha256_done(&h);
                return r;
        }
        sha256_final(&h, ret);
        return 0;
}
