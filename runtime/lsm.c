/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * AppArmor and SELinux: whether the host has them, checked at create (and exec) so that a label
 * on a host without its LSM fails there with a clear message, not at start with a raw errno from
 * /proc/<tid>/attr. The labels themselves are written by the exec trampoline (process.c) and, for
 * linux.mountLabel, given to the container's mounts (mount.c).
 */

#include <sys/stat.h>
#include <sys/statfs.h>

#include "runtime/internal.h"

#define SELINUX_MAGIC 0xf97cff8c

/* As runc: securityfs shows AppArmor and the module says it is enabled. */
bool lsm_apparmor_enabled(void)
{
        if (access("/sys/kernel/security/apparmor", F_OK) < 0)
                return false;
        _cleanup_free_ char *v = NULL;
        return read_one_line_file("/sys/module/apparmor/parameters/enabled", &v) >= 0 && v[0] == 'Y';
}

/* selinuxfs is mounted where libselinux looks for it and has its enforce switch. */
bool lsm_selinux_enabled(void)
{
        struct statfs sfs;
        return statfs("/sys/fs/selinux", &sfs) >= 0 && (uint32_t)sfs.f_type == SELINUX_MAGIC &&
               access("/sys/fs/selinux/enforce", F_OK) >= 0;
}

/* A label asked for must be writable as it is and its LSM must be there to apply it: runc drops
 * a label silently without its LSM, but one asked for and not applied is worth an error. */
static int check_label(const char *field, const char *label, const char *lsm, bool (*enabled)(void),
                       Error *reterr)
{
        if (!label)
                return 0;
        /* Written as they are to attr files and into mount options (context="…"). */
        for (const char *c = label; *c; c++)
                if (*c == '"' || *c == '\n' || *c == '\\')
                        return error_set_msg(reterr, -EINVAL, "%s: invalid label \"%s\"", field, label);
        if (isempty(label))
                return error_set_msg(reterr, -EINVAL, "%s: empty label", field);
        if (!enabled())
                return error_set_msg(reterr, -EOPNOTSUPP, "%s \"%s\": %s is not enabled on this host", field,
                                     label, lsm);
        return 0;
}

int lsm_check_process(const RuntimeProcess *p, Error *reterr)
{
        int r = check_label("process.apparmorProfile", p->apparmor_profile, "AppArmor", lsm_apparmor_enabled,
                            reterr);
        if (r < 0)
                return r;
        return check_label("process.selinuxLabel", p->selinux_label, "SELinux", lsm_selinux_enabled, reterr);
}

int lsm_check_spec(const RuntimeSpec *s, Error *reterr)
{
        int r;
        if (s->process && (r = lsm_check_process(s->process, reterr)) < 0)
                return r;
        return check_label("linux.mountLabel", s->mount_label, "SELinux", lsm_selinux_enabled, reterr);
}
