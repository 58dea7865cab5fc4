/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `features` (runtime-spec features.md) and the default config.json of `spec`. */

#include <json-c/json.h>

#include "runtime/internal.h"

static json_object *strv_json(const char *const *l)
{
        json_object *a = json_object_new_array();
        for (; l && *l; l++)
                json_object_array_add(a, json_object_new_string(*l));
        return a;
}

char *runtime_features_json(void)
{
        static const char *const hooks[] = {
                "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
                NULL};
        static const char *const mount_options[] = {
                "async",         "atime",       "bind",     "defaults",   "dev",
                "diratime",      "dirsync",     "exec",     "mand",       "noatime",
                "nodev",         "nodiratime",  "noexec",   "nomand",     "norelatime",
                "nostrictatime", "nosuid",      "private",  "rbind",      "relatime",
                "remount",       "ro",          "rprivate", "rro",        "rshared",
                "rslave",        "runbindable", "rw",       "shared",     "slave",
                "strictatime",   "suid",        "sync",     "unbindable", NULL,
        };
        static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network", "pid",
                                                 "time",   "user", "uts",   NULL};
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ociVersionMin", json_object_new_string("1.0.0"));
        json_object_object_add(o, "ociVersionMax", json_object_new_string("1.2.0"));
        json_object_object_add(o, "hooks", strv_json(hooks));
        json_object_object_add(o, "mountOptions", strv_json(mount_options));

        json_object *lx = json_object_new_object();
        json_object_object_add(lx, "namespaces", strv_json(namespaces));
        json_object *caps = json_object_new_array();
        int last = read_cap_last();
        for (int c = 0; c <= last; c++)
                if (capability_to_name(c))
                        json_object_array_add(caps, json_object_new_string(capability_to_name(c)));
        json_object_object_add(lx, "capabilities", caps);
        json_object *cg = json_object_new_object();
        json_object_object_add(cg, "v1", json_object_new_boolean(false));
        json_object_object_add(cg, "v2", json_object_new_boolean(true));
        json_object_object_add(cg, "systemd", json_object_new_boolean(true));
        json_object_object_add(cg, "systemdUser", json_object_new_boolean(false));
        json_object_object_add(lx, "cgroup", cg);
        json_object *sc = json_object_new_object();
        json_object_object_add(sc, "enabled", json_object_new_boolean(true));
        static const char *const actions[] = {"SCMP_ACT_ALLOW",       "SCMP_ACT_ERRNO",
                                              "SCMP_ACT_KILL",        "SCMP_ACT_KILL_PROCESS",
                                              "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                              "SCMP_ACT_NOTIFY",      "SCMP_ACT_TRACE",
                                              "SCMP_ACT_TRAP",        NULL};
        json_object_object_add(sc, "actions", strv_json(actions));
        static const char *const ops[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE",        "SCMP_CMP_GT", "SCMP_CMP_LE",
                                          "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL};
        json_object_object_add(sc, "operators", strv_json(ops));
        json_object_object_add(lx, "seccomp", sc);
        json_object *ap = json_object_new_object();
        json_object_object_add(ap, "enabled", json_object_new_boolean(true));
        json_object_object_add(lx, "apparmor", ap);
        json_object *se = json_object_new_object();
        json_object_object_add(se, "enabled", json_object_new_boolean(true));
        json_object_object_add(lx, "selinux", se);
        json_object *mx = json_object_new_object();
        json_object_object_add(mx, "enabled", json_object_new_boolean(false));
        json_object_object_add(lx, "intelRdt", mx);
        json_object *mext = json_object_new_object();
        json_object *idm = json_object_new_object();
        json_object_object_add(idm, "enabled", json_object_new_boolean(false));
        json_object_object_add(mext, "idmap", idm);
        json_object_object_add(lx, "mountExtensions", mext);
        json_object_object_add(o, "linux", lx);
        char *s = strdup(json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return s;
}

static const char default_spec[] =
        "{\n"
        "  \"ociVersion\": \"1.2.0\",\n"
        "  \"process\": {\n"
        "    \"terminal\": true,\n"
        "    \"user\": { \"uid\": 0, \"gid\": 0 },\n"
        "    \"args\": [ \"sh\" ],\n"
        "    \"env\": [\n"
        "      \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
        "      \"TERM=xterm\"\n"
        "    ],\n"
        "    \"cwd\": \"/\",\n"
        "    \"capabilities\": {\n"
        "      \"bounding\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
        "      \"effective\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ],\n"
        "      \"permitted\": [ \"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\" ]\n"
        "    },\n"
        "    \"rlimits\": [ { \"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024 } ],\n"
        "    \"noNewPrivileges\": true\n"
        "  },\n"
        "  \"root\": { \"path\": \"rootfs\", \"readonly\": true },\n"
        "  \"hostname\": \"ctrmgr\",\n"
        "  \"mounts\": [\n"
        "    { \"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\" },\n"
        "    { \"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
        "      \"options\": [ \"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\" ] },\n"
        "    { \"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"%s ] "
        "},\n"
        "    { \"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\" ] },\n"
        "    { \"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\" ] },\n"
        "    { \"destination\": \"/sys\", \"type\": \"%s\", \"source\": \"%s\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"ro\"%s ] },\n"
        "    { \"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
        "      \"options\": [ \"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\" ] }\n"
        "  ],\n"
        "  \"linux\": {\n"
        "%s"
        "    \"maskedPaths\": [ \"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
        "      \"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\",\n"
        "      \"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\" ],\n"
        "    \"readonlyPaths\": [ \"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\",\n"
        "      \"/proc/sysrq-trigger\" ],\n"
        "    \"namespaces\": [\n"
        "      { \"type\": \"pid\" }, { \"type\": \"ipc\" }, { \"type\": \"uts\" },\n"
        "      { \"type\": \"mount\" }, { \"type\": \"cgroup\" }%s\n"
        "    ]\n"
        "  }\n"
        "}\n";

char *runtime_spec_default_json(bool rootless)
{
        if (!rootless)
                return strprintf(default_spec, ", \"gid=5\"", "sysfs", "sysfs", "", "",
                                 ",\n      { \"type\": \"network\" }");
        uid_t u = getuid();
        gid_t g = getgid();
        _cleanup_free_ char *maps =
                strprintf("    \"uidMappings\": [ { \"containerID\": 0, \"hostID\": %u, \"size\": 1 } ],\n"
                          "    \"gidMappings\": [ { \"containerID\": 0, \"hostID\": %u, \"size\": 1 } ],\n",
                          (unsigned)u, (unsigned)g);
        if (!maps)
                return NULL;
        return strprintf(default_spec, "", "none", "/sys", ", \"rbind\"", maps,
                         ",\n      { \"type\": \"user\" }");
}
