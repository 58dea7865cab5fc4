/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The decompressor helper: a forked child that reads a layer blob, hashes it (the blob digest)
 * and checks its size, inflates it (gzip or zstd) and writes the tar stream into a pipe, while
 * the caller parses the tar and writes files on the other core. It enforces the size and ratio
 * limits on the uncompressed stream, and at the end reports a status record on a second pipe.
 *
 * A process, not a thread: the daemon forks containers, and STYLE says no threads in such
 * processes. The child touches nothing but its three descriptors and exits with _exit().
 */
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

#include "image/decompress.h"

#define IN_CHUNK       (256 * 1024)
#define OUT_CHUNK      (256 * 1024)
#define RATIO_CHECK_AT (UINT64_C(64) << 20)

typedef struct Child {
        int in_fd;
        int out_fd;
        uint64_t blob_size;
        const char *digest;
        const ImageLimits *limits;
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

static int child_emit(Child *c, const void *p, size_t n)
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
        int r = loop_write(c->out_fd, p, n);
        if (r == -EPIPE)
                return child_fail(c, r, "the reader stopped");
        if (r < 0)
                /* EPIPE: the reader stopped (its error wins); anything else is ours. */
                return child_fail(c, r, "writing the uncompressed stream: %s", strerror(-r));
        return 0;
}

static int child_gzip(Child *c, unsigned char *in, unsigned char *out)
{
        z_stream z = {};
        size_t avail = 0;
        bool member_done = false;
        int r = 0;

        if (inflateInit2(&z, 15 + 16) != Z_OK)
                return child_fail(c, -ENOMEM, "initializing zlib");
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
                }
                z.next_out = out;
                z.avail_out = OUT_CHUNK;
                int zr = inflate(&z, Z_NO_FLUSH);
                if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
                        r = child_fail(c, -EBADMSG, "corrupt gzip stream at byte %" PRIu64 ": %s",
                                       c->in_bytes - z.avail_in, z.msg ?: "inflate error");
                        break;
                }
                r = child_emit(c, out, OUT_CHUNK - z.avail_out);
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

static int child_zstd(Child *c, unsigned char *in, unsigned char *out)
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
                ZSTD_outBuffer ob = {out, OUT_CHUNK, 0};
                last = ZSTD_decompressStream(z, &ob, &ib);
                if (ZSTD_isError(last)) {
                        r = child_fail(c, -EBADMSG, "corrupt zstd stream near byte %" PRIu64 ": %s",
                                       c->in_bytes - (ib.size - ib.pos), ZSTD_getErrorName(last));
                        break;
                }
                r = child_emit(c, out, ob.pos);
                if (r < 0)
                        break;
        }
        ZSTD_freeDCtx(z);
        return r;
}

static int child_none(Child *c, unsigned char *in)
{
        for (;;) {
                size_t n;
                int r = child_read(c, in, IN_CHUNK, &n);
                if (r < 0)
                        return r;
                if (n == 0)
                        return 0;
                r = child_emit(c, in, n);
                if (r < 0)
                        return r;
        }
}

static _noreturn_ void child_main(Child *c, LayerCompression comp, int status_fd)
{
        static unsigned char in[IN_CHUNK], out[OUT_CHUNK];
        DecompressStatus st = {};
        int r;

        c->st = &st;
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (sha256_init(&c->hash) < 0)
                r = child_fail(c, -ENOMEM, "initializing SHA-256");
        else if (comp == COMPRESSION_GZIP)
                r = child_gzip(c, in, out);
        else if (comp == COMPRESSION_ZSTD)
                r = child_zstd(c, in, out);
        else
                r = child_none(c, in);
        safe_close(c->out_fd);
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

int decompressor_start(int blob_fd, LayerCompression comp, uint64_t blob_size, const char *digest,
                       const ImageLimits *limits, Decompressor *ret, Error *e)
{
        int data[2], status[2];

        if (pipe2(data, O_CLOEXEC) < 0)
                return error_set(e, -errno, "creating pipe");
        if (pipe2(status, O_CLOEXEC) < 0) {
                int r = -errno;
                safe_close(data[0]);
                safe_close(data[1]);
                return error_set(e, r, "creating pipe");
        }
        /* A big pipe lets the two sides run without lock-step; the default max is 1 MiB. */
        (void)fcntl(data[1], F_SETPIPE_SZ, 1024 * 1024);

        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                safe_close(data[0]);
                safe_close(data[1]);
                safe_close(status[0]);
                safe_close(status[1]);
                return error_set(e, r, "forking the decompressor");
        }
        if (pid == 0) {
                safe_close(data[0]);
                safe_close(status[0]);
                /* Our pipe must not be inherited elsewhere; SIGPIPE would kill us silently. */
                signal(SIGPIPE, SIG_IGN);
                Child c = {.in_fd = blob_fd,
                           .out_fd = data[1],
                           .blob_size = blob_size,
                           .digest = digest,
                           .limits = limits};
                child_main(&c, comp, status[1]);
        }
        safe_close(data[1]);
        safe_close(status[1]);
        *ret = (Decompressor){.pid = pid, .data_fd = data[0], .status_fd = status[0], .blob_fd = blob_fd};
        return 0;
}

int decompressor_finish(Decompressor *d, DecompressStatus *ret, Error *e)
{
        DecompressStatus st = {};
        int r = 0;

        d->data_fd = safe_close(d->data_fd);
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
        if (ret)
                *ret = st;
        return r;
}

void decompressor_kill(Decompressor *d)
{
        d->data_fd = safe_close(d->data_fd);
        if (d->pid > 0) {
                kill(d->pid, SIGKILL);
                while (waitpid(d->pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                d->pid = 0;
        }
        d->status_fd = safe_close(d->status_fd);
}

uint64_t decompressor_progress(const Decompressor *d)
{
        /* The child reads through the same open file description: its offset is ours to see. */
        off_t o = lseek(d->blob_fd, 0, SEEK_CUR);
        return o < 0 ? 0 : (uint64_t)o;
}

int blob_uncompressed_digest(int fd, LayerCompression c, char ret[static DIGEST_STR_MAX], Error *e)
{
        static const ImageLimits nolimits = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
        Decompressor d;
        struct stat st;
        Sha256 h = {};
        int r;

        if (fstat(fd, &st) < 0)
                return error_set(e, -errno, "stat");
        r = sha256_init(&h);
        if (r < 0)
                return error_set(e, r, "initializing SHA-256");
        r = decompressor_start(fd, c, (uint64_t)st.st_size, NULL, &nolimits, &d, e);
        if (r < 0) {
                sha256_done(&h);
                return r;
        }
        static char buf[256 * 1024];
        for (;;) {
                ssize_t k = read(d.data_fd, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = error_set(e, -errno, "reading the uncompressed stream");
                        decompressor_kill(&d);
                        sha256_done(&h);
                        return r;
                }
                if (k == 0)
                        break;
                sha256_update(&h, buf, (size_t)k);
        }
        r = decompressor_finish(&d, NULL, e);
        if (r < 0) {
                sha256_done(&h);
                return r;
        }
        sha256_final(&h, ret);
        return 0;
}
