/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linux.resources.devices on cgroup v2: there is no devices controller, the kernel asks a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup instead. We compile the rules to
 * such a program by hand (a dozen instructions per rule, no libbpf) and attach it with
 * BPF_F_ALLOW_MULTI, so programs of parent cgroups still apply (the kernel ANDs them).
 *
 * Semantics as in the v1 devices controller and runc: the last matching rule decides, nothing
 * matching is allowed (OCI configs start with a deny-all rule). An allow rule matches a request
 * whose access bits are all in the rule; a deny rule matches a request sharing any bit with it,
 * so denying "w" also refuses an "rw" open.
 */

#include <linux/bpf.h>
#include <sys/syscall.h>

#include "runtime/cgroup-internal.h"

#define DEV_MAX_INSNS 65536U

typedef struct Prog {
        struct bpf_insn *insns;
        size_t n, cap;
} Prog;

static int emit(Prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        if (p->n == p->cap) {
                size_t cap = MAX(p->cap * 2, (size_t)64);
                struct bpf_insn *n = reallocarray(p->insns, cap, sizeof(struct bpf_insn));
                if (!n)
                        return -ENOMEM;
                p->insns = n;
                p->cap = cap;
        }
        p->insns[p->n++] =
                (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
        return 0;
}

/* Instructions of one rule's block, so the "does not match" jumps can skip to the next block. */
static int16_t rule_block_len(const CgroupDeviceRule *r)
{
        int16_t n = 2; /* mov r0, verdict; exit */
        if (r->type != 'a')
                n += 1;
        if (r->access != (CGROUP_DEVICE_ACC_MKNOD | CGROUP_DEVICE_ACC_READ | CGROUP_DEVICE_ACC_WRITE))
                n += 3;
        if (r->major >= 0)
                n += 1;
        if (r->minor >= 0)
                n += 1;
        return n;
}

/*
 * Registers after the prologue: r2 = device type, r3 = requested access, r4 = major, r5 = minor.
 * Each block: every condition that fails jumps past the block's end.
 */
static int compile(const CgroupDeviceRule *rules, size_t n, Prog *p)
{
        int r = 0;

#define E(...)                                      \
        do {                                        \
                if ((r = emit(p, __VA_ARGS__)) < 0) \
                        return r;                   \
        } while (0)

        E(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type),
          0);
        E(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
        E(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
        E(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xFFFF);
        E(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
        E(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);

        /* Last rule first: the first block that matches returns. */
        for (size_t i = n; i-- > 0;) {
                const CgroupDeviceRule *rule = rules + i;
                int16_t left = rule_block_len(rule);

                /* each emitted condition: jump offset = instructions after it up to the block end */
                if (rule->type != 'a') {
                        left -= 1;
                        E(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, left,
                          rule->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
                }
                if (rule->access !=
                    (CGROUP_DEVICE_ACC_MKNOD | CGROUP_DEVICE_ACC_READ | CGROUP_DEVICE_ACC_WRITE)) {
                        E(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
                        E(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)rule->access);
                        left -= 3;
                        if (rule->allow) /* all requested bits granted: (req & rule) == req */
                                E(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, left, 0);
                        else /* any requested bit denied: (req & rule) != 0 */
                                E(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, left, 0);
                }
                if (rule->major >= 0) {
                        left -= 1;
                        E(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, left, (int32_t)(uint32_t)rule->major);
                }
                if (rule->minor >= 0) {
                        left -= 1;
                        E(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, left, (int32_t)(uint32_t)rule->minor);
                }
                E(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, rule->allow ? 1 : 0);
                E(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
                if (p->n > DEV_MAX_INSNS)
                        return -E2BIG;
                /* A rule matching everything decides alone: what follows would be unreachable,
                 * which the verifier refuses. */
                if (rule_block_len(rule) == 2)
                        return 0;
        }

        /* Nothing matched: allowed, like a v1 devices cgroup without rules. */
        E(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
        E(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
#undef E
        return 0;
}

static int bpf(int cmd, union bpf_attr *attr)
{
        long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
        return r < 0 ? negative_errno() : (int)r;
}

/* IDs of the device programs attached directly to fd. */
static int query_attached(int fd, uint32_t *ids, uint32_t *n)
{
        union bpf_attr attr = {};

        attr.query.target_fd = (uint32_t)fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = *n;
        int r = bpf(BPF_PROG_QUERY, &attr);
        if (r < 0)
                return r;
        *n = attr.query.prog_cnt;
        return 0;
}

static int detach_id(int fd, uint32_t id)
{
        union bpf_attr attr = {};
        _cleanup_close_ int prog = -EBADF;

        attr.prog_id = id;
        prog = bpf(BPF_PROG_GET_FD_BY_ID, &attr);
        if (prog < 0)
                return prog;
        attr = (union bpf_attr){};
        attr.target_fd = (uint32_t)fd;
        attr.attach_bpf_fd = (uint32_t)prog;
        attr.attach_type = BPF_CGROUP_DEVICE;
        return bpf(BPF_PROG_DETACH, &attr);
}

int cgroup_devices_apply(int fd, const char *dir, const CgroupDeviceRule *rules, size_t n, char ***warnings,
                         Error *reterr)
{
        _cleanup_close_ int prog = -EBADF;
        uint32_t old[64], n_old = ELEMENTSOF(old);
        union bpf_attr attr = {};
        char log[4096] = "";
        Prog p = {};
        int r;

        r = compile(rules, n, &p);
        if (r < 0) {
                free(p.insns);
                return error_set(reterr, r, "linux.resources.devices: compiling the device filter");
        }

        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)p.insns;
        attr.insn_cnt = (uint32_t)p.n;
        attr.license = (uint64_t)(uintptr_t) "GPL";
        prog = bpf(BPF_PROG_LOAD, &attr);
        if (prog == -EINVAL || prog == -EACCES) {
                /* Again with the verifier's log, only to say why (a full log would not fit). */
                attr.log_buf = (uint64_t)(uintptr_t)log;
                attr.log_size = sizeof(log);
                attr.log_level = 1;
                (void)bpf(BPF_PROG_LOAD, &attr);
        }
        free(p.insns);
        if (prog == -EPERM || prog == -ENOSYS) {
                /* No bpf(2) for us here (an unprivileged or seccomp-restricted setup). */
                if (warnings &&
                    strv_extendf(warnings,
                                 "linux.resources.devices: cannot load a device filter here (%s): device "
                                 "rules not enforced by the cgroup",
                                 strerror(-prog)) < 0)
                        return error_set(reterr, -ENOMEM, "warnings");
                return 0;
        }
        if (prog < 0) {
                log[strcspn(log, "\n")] = '\0'; /* the verifier's first line says why */
                return error_set(reterr, prog, "linux.resources.devices: loading the device filter%s%s",
                                 log[0] ? ": " : "", log);
        }

        /* Replace what we attached before (update), keeping parents' programs untouched. */
        if (query_attached(fd, old, &n_old) < 0)
                n_old = 0;

        attr = (union bpf_attr){};
        attr.target_fd = (uint32_t)fd;
        attr.attach_bpf_fd = (uint32_t)prog;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        r = bpf(BPF_PROG_ATTACH, &attr);
        if (r < 0)
                return error_set(reterr, r, "linux.resources.devices: attaching the device filter to %s",
                                 dir);

        for (uint32_t i = 0; i < n_old && i < ELEMENTSOF(old); i++) {
                r = detach_id(fd, old[i]);
                if (r < 0 && r != -ENOENT)
                        return error_set(reterr, r,
                                         "linux.resources.devices: detaching the previous filter of %s",
                                         dir);
        }
        return 0;
}
