/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Signal and capability name tables (the kernel's names, as podman, runc and systemd spell them). */
#include <ctype.h>
#include <signal.h>

#include "common.h"

static const char *const signal_names[] = {
        [SIGHUP] = "HUP",   [SIGINT] = "INT",       [SIGQUIT] = "QUIT", [SIGILL] = "ILL",
        [SIGTRAP] = "TRAP", [SIGABRT] = "ABRT",     [SIGBUS] = "BUS",   [SIGFPE] = "FPE",
        [SIGKILL] = "KILL", [SIGUSR1] = "USR1",     [SIGSEGV] = "SEGV", [SIGUSR2] = "USR2",
        [SIGPIPE] = "PIPE", [SIGALRM] = "ALRM",     [SIGTERM] = "TERM", [SIGSTKFLT] = "STKFLT",
        [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",     [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
        [SIGTTIN] = "TTIN", [SIGTTOU] = "TTOU",     [SIGURG] = "URG",   [SIGXCPU] = "XCPU",
        [SIGXFSZ] = "XFSZ", [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH",
        [SIGIO] = "IO",     [SIGPWR] = "PWR",       [SIGSYS] = "SYS",
};

static const char *const signal_full_names[] = {
        [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
        [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",     [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
        [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
        [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
        [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",     [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
        [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
        [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
        [SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",       [SIGSYS] = "SIGSYS",
};

int signal_from_string(const char *s)
{
        if (isempty(s))
                return -EINVAL;

        unsigned n;
        if (safe_atou(s, &n) >= 0)
                return n >= 1 && n < (unsigned)_NSIG ? (int)n : -EINVAL;

        const char *name = startswith_no_case(s, "SIG") ?: s;

        /* Aliases the kernel's table has no slot for. */
        if (strcasecmp(name, "IOT") == 0)
                return SIGABRT;
        if (strcasecmp(name, "POLL") == 0)
                return SIGIO;
        if (strcasecmp(name, "CLD") == 0)
                return SIGCHLD;

        for (size_t i = 1; i < ELEMENTSOF(signal_names); i++)
                if (signal_names[i] && strcasecmp(name, signal_names[i]) == 0)
                        return (int)i;

        const char *off;
        int base = 0;
        if ((off = startswith_no_case(name, "RTMIN")))
                base = SIGRTMIN;
        else if ((off = startswith_no_case(name, "RTMAX")))
                base = SIGRTMAX;
        if (base != 0) {
                if (*off == '\0')
                        return base;
                int k;
                if ((*off == '+' || *off == '-') && safe_atoi(off, &k) >= 0) {
                        int sig = base + k;
                        if (sig >= SIGRTMIN && sig <= SIGRTMAX)
                                return sig;
                }
        }
        return -EINVAL;
}

const char *signal_to_string(int sig)
{
        if (sig > 0 && (size_t)sig < ELEMENTSOF(signal_full_names) && signal_full_names[sig])
                return signal_full_names[sig];
        return NULL;
}

static const char *const capability_names[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

int capability_from_name(const char *s)
{
        if (isempty(s))
                return -EINVAL;
        const char *name = startswith_no_case(s, "CAP_") ?: s;
        for (size_t i = 0; i < ELEMENTSOF(capability_names); i++)
                if (strcasecmp(name, capability_names[i] + STRLEN("CAP_")) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *capability_to_name(int cap)
{
        if (cap < 0 || (size_t)cap >= ELEMENTSOF(capability_names))
                return NULL;
        return capability_names[cap];
}

int capability_last_known(void)
{
        return (int)ELEMENTSOF(capability_names) - 1;
}
