/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for units/: every syntax rule of notes section 2.11, every first-release key with
 * good and bad values, search paths, masking, drop-ins, templates, specifiers, load-all, cat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "common/common.h"
#include "units/unit.h"

/* ---------------------------------------------------------------- helpers */

#define IMG "[Container]\nImage=busybox:latest\n" /* lines 1-2 */

static void dump_diags(const Unit *u)
{
        for (size_t i = 0; i < u->n_diags; i++)
                print_message("    diag: %s\n", u->diags[i].text);
}

static Unit *parse_named(const char *name, const char *text)
{
        Unit *u = NULL;
        Error e = ERROR_INIT;
        int r = unit_parse_string(name, "/t/test.ctr", text, strlen(text), &u, &e);
        if (r < 0)
                print_message("unit_parse_string: %s\n", error_message(&e));
        error_done(&e);
        assert_int_equal(r, 0);
        assert_non_null(u);
        return u;
}

static Unit *parse(const char *text)
{
        return parse_named("test", text);
}

static const UnitDiag *find_diag(const Unit *u, UnitDiagLevel level, unsigned line, const char *substr)
{
        for (size_t i = 0; i < u->n_diags; i++) {
                const UnitDiag *d = &u->diags[i];
                if (d->level == level && d->line == line && (!substr || strstr(d->message, substr)))
                        return d;
        }
        return NULL;
}

#define assert_diag(u, level, line, substr)                                                               \
        do {                                                                                              \
                if (!find_diag((u), (level), (line), (substr))) {                                         \
                        print_message("expected %s at line %u containing '%s'\n",                         \
                                      (level) == UNIT_DIAG_ERROR ? "error" : "warning", (unsigned)(line), \
                                      (substr) ? (substr) : "");                                          \
                        dump_diags(u);                                                                    \
                        fail();                                                                           \
                }                                                                                         \
        } while (0)

#define assert_loaded_clean(u)                                                     \
        do {                                                                       \
                if ((u)->load_state != UNIT_LOAD_LOADED || (u)->n_diags > 0) {     \
                        print_message("expected a clean load, got %s\n",           \
                                      unit_load_state_to_string((u)->load_state)); \
                        dump_diags(u);                                             \
                        fail();                                                    \
                }                                                                  \
        } while (0)

#define assert_loaded(u)                                   \
        do {                                               \
                if ((u)->load_state != UNIT_LOAD_LOADED) { \
                        dump_diags(u);                     \
                        fail();                            \
                }                                          \
        } while (0)

static void assert_strv_eq(char **l, const char *const *want)
{
        size_t n = 0;
        while (want[n])
                n++;
        if (strv_length(l) != n) {
                print_message("length %zu, want %zu\n", strv_length(l), n);
                STRV_FOREACH (s, l)
                        print_message("   '%s'\n", *s);
                fail();
        }
        for (size_t i = 0; i < n; i++)
                assert_string_equal(l[i], want[i]);
}
#define STRV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---------------------------------------------------------------- syntax (notes 2.1, 2.11 #1) */

static void test_comments(void **state)
{
        Unit *u = parse("# comment\n; another\n" IMG
                        "  # indented comment\nHostName=a\n;HostName=b\n#HostName=c\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.hostname, "a");
        unit_free(u);

        /* no inline comments: "# x" after a value is part of the value */
        u = parse(IMG "[Unit]\nDescription=web # not a comment ; nor this\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.description, "web # not a comment ; nor this");
        unit_free(u);
}

static void test_whitespace(void **state)
{
        Unit *u = parse("   [Container]   \n\t Image \t=   busybox:latest   \n\n\n  HostName=  h  \n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.image, "busybox:latest");
        assert_string_equal(u->config.hostname, "h");
        unit_free(u);
}

static void test_continuation(void **state)
{
        /* backslash becomes a space, the next line is appended stripped */
        Unit *u = parse(IMG "[Unit]\nDescription=one \\\n    two\\\nthree\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.description, "one  two three");
        unit_free(u);

        /* comment lines inside a continuation are skipped */
        u = parse(IMG "Exec=echo a \\\n# comment\n; comment\n  b \\\n  c\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.exec, STRV("echo", "a", "b", "c"));
        unit_free(u);

        /* a comment ending in a backslash is just a comment */
        u = parse(IMG "# not continued \\\nHostName=x\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.hostname, "x");
        unit_free(u);

        /* an even number of backslashes does not continue (and is an escaped backslash) */
        u = parse(IMG "Exec=echo a\\\\\nHostName=x\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.exec, STRV("echo", "a\\"));
        assert_string_equal(u->config.hostname, "x");
        unit_free(u);

        /* an odd number (3) continues */
        u = parse(IMG "Exec=echo a\\\\\\\nb\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.exec, STRV("echo", "a\\", "b"));
        unit_free(u);

        /* a dangling continuation at the end of the file is parsed as the last line */
        u = parse(IMG "HostName=x \\");
        assert_loaded_clean(u);
        assert_string_equal(u->config.hostname, "x");
        unit_free(u);

        /* problems in a continued line are reported at its first line */
        u = parse(IMG "HostName=a \\\n  b\n");
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_diag(u, UNIT_DIAG_ERROR, 3, "Invalid host name");
        unit_free(u);

        /* a continuation into a section header line is just text */
        u = parse(IMG "[Unit]\nDescription=a \\\n[Install]\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.description, "a  [Install]");
        unit_free(u);

        /* an empty line ends the continuation */
        u = parse(IMG "[Unit]\nDescription=a \\\n\nDocumentation=man:x(1)\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.description, "a");
        unit_free(u);
}

static void test_bom_crlf(void **state)
{
        Unit *u = parse("\xef\xbb\xbf[Container]\nImage=busybox:latest\n");
        assert_loaded_clean(u);
        unit_free(u);

        u = parse("[Container]\r\nImage=busybox:latest\r\nHostName=h\r\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.image, "busybox:latest");
        assert_string_equal(u->config.hostname, "h");
        unit_free(u);

        /* a BOM elsewhere is not skipped */
        u = parse(IMG "\xef\xbb\xbfHostName=h\n");
        assert_diag(u, UNIT_DIAG_WARNING, 3, "Unknown key");
        unit_free(u);
}

static void test_limits(void **state)
{
        /* a logical line over 1 MiB: error, rest of the file ignored */
        size_t n = UNIT_LINE_MAX + 10;
        char *big = malloc(n + 64);
        assert_non_null(big);
        strcpy(big, IMG "[Unit]\nDescription=");
        size_t l = strlen(big);
        memset(big + l, 'a', n);
        strcpy(big + l + n, "\n");
        Unit *u = parse(big);
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_diag(u, UNIT_DIAG_ERROR, 4, "Line too long");
        unit_free(u);

        /* just under the limit is fine */
        memset(big + l, 'a', UNIT_LINE_MAX - 100);
        strcpy(big + l + UNIT_LINE_MAX - 100, "\n");
        u = parse(big);
        assert_loaded_clean(u);
        assert_int_equal(strlen(u->config.description), UNIT_LINE_MAX - 100);
        unit_free(u);

        /* the same via continuation lines */
        free(big);
        size_t chunks = UNIT_LINE_MAX / 1000 + 2;
        big = malloc(chunks * 1003 + 64);
        assert_non_null(big);
        strcpy(big, IMG "[Unit]\nDescription=");
        l = strlen(big);
        for (size_t i = 0; i < chunks; i++) {
                memset(big + l, 'b', 1000);
                l += 1000;
                strcpy(big + l, "\\\n");
                l += 2;
        }
        strcpy(big + l, "end\n");
        u = parse(big);
        assert_diag(u, UNIT_DIAG_ERROR, 4, "Line too long");
        unit_free(u);
        free(big);

        /* whole file over UNIT_FILE_SIZE_MAX */
        n = UNIT_FILE_SIZE_MAX + 1;
        big = malloc(n + 1);
        assert_non_null(big);
        memset(big, '\n', n);
        memcpy(big, IMG, strlen(IMG));
        big[n] = '\0';
        u = parse(big);
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_diag(u, UNIT_DIAG_ERROR, 0, "larger than");
        unit_free(u);
        free(big);
}

static void test_bad_bytes(void **state)
{
        Unit *u = parse(IMG "[Unit]\nDescription=\xff\xfe bad\nDocumentation=man:a(1)\n");
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 4, "UTF-8");
        assert_null(u->config.description);
        assert_strv_eq(u->config.documentation, STRV("man:a(1)"));
        unit_free(u);

        static const char nul[] = "[Container]\nImage=busybox:latest\nHostName=a\0b\nWorkingDir=/w\n";
        Error e = ERROR_INIT;
        assert_int_equal(unit_parse_string("test", "/t/test.ctr", nul, sizeof(nul) - 1, &u, &e), 0);
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 3, "NUL");
        assert_null(u->config.hostname);
        assert_string_equal(u->config.working_dir, "/w");
        unit_free(u);
}

static void test_sections(void **state)
{
        /* invalid header: error at its line; keys below it are not applied */
        Unit *u = parse("[Container\nImage=busybox:latest\n");
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_diag(u, UNIT_DIAG_ERROR, 1, "Invalid section header");
        unit_free(u);

        u = parse(IMG "[]\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "Invalid section header");
        unit_free(u);

        u = parse(IMG "[Unit]junk\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "Invalid section header");
        unit_free(u);

        /* unknown section: one warning at the header, its keys ignored silently */
        u = parse(IMG "[Quadlet]\nDefaultDependencies=false\nAnything=1\n[Container]\nHostName=h\n");
        assert_loaded(u);
        assert_int_equal(u->n_warnings, 1);
        assert_diag(u, UNIT_DIAG_WARNING, 3, "Unknown section 'Quadlet'");
        assert_string_equal(u->config.hostname, "h");
        unit_free(u);

        /* X- sections: silent */
        u = parse(IMG "[X-Mine]\nFoo=bar\n");
        assert_loaded_clean(u);
        unit_free(u);

        /* section names are case-sensitive */
        u = parse(IMG "[container]\nHostName=h\n");
        assert_diag(u, UNIT_DIAG_WARNING, 3, "Unknown section 'container'");
        assert_null(u->config.hostname);
        unit_free(u);

        /* a section name longer than inih's buffer is kept whole */
        u = parse(IMG "[ThisIsAVeryLongSectionNameThatInihWouldTruncateAtFiftyCharacters]\nFoo=1\n");
        assert_diag(u, UNIT_DIAG_WARNING, 3,
                    "ThisIsAVeryLongSectionNameThatInihWouldTruncateAtFiftyCharacters");
        unit_free(u);

        /* no [Container] at all */
        u = parse("[Unit]\nDescription=x\n");
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_diag(u, UNIT_DIAG_ERROR, 1, "No [Container] section");
        unit_free(u);

        /* sections may repeat; keys merge */
        u = parse(IMG "[Unit]\nDescription=a\n[Container]\nHostName=h\n[Unit]\nAfter=db\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.description, "a");
        assert_strv_eq(u->config.after, STRV("db"));
        unit_free(u);
}

static void test_keys_unknown(void **state)
{
        Unit *u = parse(
                IMG
                "Bogus=1\nX-Mine=ok\nimage=lowercase\n[Unit]\nNope=2\n[Service]\nExecStartPre=/bin/true\n");
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 3, "Unknown key 'Bogus' in section [Container]");
        assert_null(find_diag(u, UNIT_DIAG_WARNING, 4, NULL));
        assert_diag(u, UNIT_DIAG_WARNING, 5, "Unknown key 'image'");
        assert_diag(u, UNIT_DIAG_WARNING, 7, "Unknown key 'Nope' in section [Unit]");
        assert_diag(u, UNIT_DIAG_WARNING, 9, "ExecStartPre");
        assert_int_equal(u->n_warnings, 4);
        assert_int_equal(u->n_errors, 0);
        unit_free(u);

        /* Quadlet keys ctrmgr does not support yet: a specific warning */
        u = parse(IMG "PublishPort=8080:80\n");
        assert_diag(u, UNIT_DIAG_WARNING, 3, "not supported by ctrmgr yet");
        unit_free(u);
}

static void test_malformed_lines(void **state)
{
        Unit *u = parse(IMG "just words\n=value\nKey:Colon=1\n");
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 3, "Missing '='");
        assert_diag(u, UNIT_DIAG_WARNING, 4, "Missing key name");
        assert_diag(u, UNIT_DIAG_WARNING, 5, "Invalid key name 'Key:Colon'");
        unit_free(u);

        /* "Key: value" is not an assignment (inih would take it) */
        u = parse(IMG "HostName: h\n");
        assert_diag(u, UNIT_DIAG_WARNING, 3, "Missing '='");
        assert_null(u->config.hostname);
        unit_free(u);

        /* a value may contain '=' and ':' */
        u = parse(IMG "Environment=A=b:c=d\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.environment, STRV("A=b:c=d"));
        unit_free(u);

        u = parse("HostName=h\n" IMG);
        assert_diag(u, UNIT_DIAG_WARNING, 1, "outside of section");
        assert_null(u->config.hostname);
        unit_free(u);
}

static void test_repeat_and_reset(void **state)
{
        /* scalars: last wins */
        Unit *u = parse(IMG "HostName=a\nHostName=b\nImage=alpine:3\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.hostname, "b");
        assert_string_equal(u->config.image, "alpine:3");
        unit_free(u);

        /* lists append, empty assignment resets */
        u = parse(IMG "Environment=A=1\nEnvironment=B=2 C=3\nEnvironment=\nEnvironment=D=4\n"
                      "Label=a=1\nLabel=\nLabel=b=2\nAddCapability=CAP_CHOWN\nAddCapability=\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.environment, STRV("D=4"));
        assert_strv_eq(u->config.labels, STRV("b=2"));
        assert_int_equal(u->config.add_capabilities, 0);
        unit_free(u);

        /* the same variable twice: the later value, in the first position */
        u = parse(IMG "Environment=A=1 B=2\nEnvironment=A=3\n");
        assert_strv_eq(u->config.environment, STRV("A=3", "B=2"));
        unit_free(u);

        /* dependencies only add: an empty assignment warns and changes nothing */
        u = parse(IMG "[Unit]\nAfter=a\nAfter=\nAfter=b a\n");
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 5, "cannot be reset");
        assert_strv_eq(u->config.after, STRV("a", "b"));
        unit_free(u);

        /* Exec= is a scalar command: last wins, empty resets to the image's */
        u = parse(IMG "Exec=a b\nExec=c\n");
        assert_strv_eq(u->config.exec, STRV("c"));
        unit_free(u);
        u = parse(IMG "Exec=a b\nExec=\n");
        assert_null(u->config.exec);
        unit_free(u);
}

/* ---------------------------------------------------------------- quoting and escapes (2.2) */

static void test_quoting(void **state)
{
        Unit *u = parse(IMG "Exec=sh -c \"echo a  b\" 'x y' z \"\" ''\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.exec, STRV("sh", "-c", "echo a  b", "x y", "z", "", ""));
        unit_free(u);

        /* quotes inside a word are literal */
        u = parse(IMG "Exec=echo a\"b c\"d\n");
        assert_strv_eq(u->config.exec, STRV("echo", "a\"b", "c\"d"));
        unit_free(u);

        /* the other quote inside quotes */
        u = parse(IMG "Exec=echo \"it's\" 'say \"hi\"'\n");
        assert_strv_eq(u->config.exec, STRV("echo", "it's", "say \"hi\""));
        unit_free(u);

        u = parse(IMG "Exec=echo \"unterminated\n");
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_diag(u, UNIT_DIAG_ERROR, 3, "Unterminated");
        unit_free(u);

        u = parse(IMG "Exec=echo \"a\"b\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "Trailing garbage");
        unit_free(u);

        /* Environment= uses the same rules */
        u = parse(IMG "Environment=\"A=two words\" 'B=x\"y' C=\\\"q\\\"\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.environment, STRV("A=two words", "B=x\"y", "C=\"q\""));
        unit_free(u);
}

static void test_escapes(void **state)
{
        Unit *u = parse(
                IMG "Exec=x \\a\\b\\f\\n\\r\\t\\v \\\\ \\\" \\' a\\sb \\x41 \\101 \\u00e9 \\U0001F600\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.exec, STRV("x", "\a\b\f\n\r\t\v", "\\", "\"", "'", "a b", "A", "A",
                                            "\xc3\xa9", "\xf0\x9f\x98\x80"));
        unit_free(u);

        /* escapes inside quotes too */
        u = parse(IMG "Exec=x \"a\\tb\\\"c\"\n");
        assert_strv_eq(u->config.exec, STRV("x", "a\tb\"c"));
        unit_free(u);

        /* unknown escape: warning, kept literally */
        u = parse(IMG "Exec=grep a\\d\n");
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 3, "Unknown escape");
        assert_strv_eq(u->config.exec, STRV("grep", "a\\d"));
        unit_free(u);

        static const char *const bad[] = {
                "Exec=x \\xZZ\n", "Exec=x \\x00\n", "Exec=x \\u12\n",       "Exec=x \\ud800\n",
                "Exec=x \\000\n", "Exec=x \\08\n",  "Exec=x \\U00110000\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *t = strjoin(IMG, bad[i]);
                u = parse(t);
                if (u->load_state != UNIT_LOAD_ERROR)
                        print_message("case: %s", bad[i]);
                assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
                assert_diag(u, UNIT_DIAG_ERROR, 3, NULL);
                unit_free(u);
        }

        /* ';' as a word separates commands in systemd: refused; "\;" is a literal */
        u = parse(IMG "Exec=a ; b\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "';'");
        unit_free(u);
        u = parse(IMG "Exec=find . -exec echo {} \\;\n");
        assert_loaded(u);
        assert_strv_eq(u->config.exec, STRV("find", ".", "-exec", "echo", "{}", ";"));
        unit_free(u);
}

/* ---------------------------------------------------------------- specifiers (2.7) */

static void test_specifiers(void **state)
{
        Unit *u = parse_named("web-db@east",
                              IMG "Environment=n=%n N=%N p=%p i=%i I=%I j=%j J=%J f=%f H=%H l=%l\n"
                                  "Environment=pct=%% y=%y Y=%Y t=%t S=%S T=%T V=%V E=%E\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.environment,
                       STRV("n=web-db@east.ctr", "N=web-db@east", "p=web-db", "i=east", "I=east", "j=db",
                            "J=db", "f=/east", "H=localhost", "l=localhost", "pct=%", "y=/t/test.ctr",
                            "Y=/t", "t=/run", "S=/var/lib", "T=/tmp", "V=/var/tmp", "E=/etc"));
        unit_free(u);

        /* unescaping: %I, %P, %f */
        u = parse_named("mnt@srv-data\\x2dold", IMG "Environment=i=%i I=%I f=%f P=%P\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.environment,
                       STRV("i=srv-data-old", "I=srv/data-old", "f=/srv/data-old", "P=mnt"));
        unit_free(u);

        /* no instance: %i empty, %p == %N */
        u = parse_named("plain", IMG "Environment=i=%i p=%p j=%j\n");
        assert_strv_eq(u->config.environment, STRV("i=", "p=plain", "j=plain"));
        unit_free(u);

        /* unknown and incomplete specifiers are errors for that setting */
        u = parse(IMG "HostName=a%z\nWorkingDir=/x%\n");
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_diag(u, UNIT_DIAG_ERROR, 3, "Unknown specifier '%z'");
        assert_diag(u, UNIT_DIAG_ERROR, 4, "Incomplete specifier");
        unit_free(u);

        /* specifiers are expanded regardless of quoting */
        u = parse_named("w@1", IMG "Exec=echo '%i' \"%%i\"\n");
        assert_strv_eq(u->config.exec, STRV("echo", "1", "%i"));
        unit_free(u);

        /* in paths and [Unit]/[Install] too */
        u = parse_named("w@blue", IMG "Volume=/srv/%i:/data\n[Unit]\nDescription=Worker %i\nAfter=db@%i\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.mounts[0].source, "/srv/blue");
        assert_string_equal(u->config.description, "Worker blue");
        assert_strv_eq(u->config.after, STRV("db@blue"));
        unit_free(u);

        /* percentages take no specifiers, as in systemd */
        u = parse(IMG "CPUQuota=50%\nMemoryMax=10%\nTasksMax=5%\n");
        assert_loaded_clean(u);
        unit_free(u);
}

static void test_diag_format(void **state)
{
        Unit *u = parse(IMG "Memory=lots\nBogus=1\n");
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_int_equal(u->n_errors, 1);
        assert_int_equal(u->n_warnings, 1);
        assert_string_equal(u->diags[0].text, "/t/test.ctr:3: error: Invalid memory size 'lots'");
        assert_string_equal(u->diags[1].text,
                            "/t/test.ctr:4: warning: Unknown key 'Bogus' in section [Container], ignoring");
        assert_string_equal(u->diags[0].file, "/t/test.ctr");
        assert_int_equal(u->diags[0].line, 3);
        /* load_error has the errors only */
        assert_string_equal(u->load_error, "/t/test.ctr:3: error: Invalid memory size 'lots'");
        /* a failed unit keeps no half model */
        assert_null(u->config.image);
        unit_free(u);

        /* errors continue to be collected after the first */
        u = parse(IMG "Memory=x\nPidsLimit=y\nNotify=z\n");
        assert_int_equal(u->n_errors, 3);
        assert_non_null(strstr(u->load_error, ":5: error:"));
        unit_free(u);

        /* what [Container] lacks is reported at its first assignment */
        u = parse("[Container]\nExec=true\n");
        assert_diag(u, UNIT_DIAG_ERROR, 2, "Neither Image= nor Rootfs=");
        assert_string_equal(u->diags[0].text, "/t/test.ctr:2: error: Neither Image= nor Rootfs= is set in "
                                              "[Container] (exactly one is required)");
        unit_free(u);
}

/* ---------------------------------------------------------------- keys: bad values */

typedef struct BadCase {
        const char *section;
        const char *line;
        const char *msg; /* substring of the error, or NULL */
} BadCase;

static const BadCase bad_cases[] = {
        {"Unit", "After=not/a/name", "Invalid unit name"},
        {"Unit", "Requires=web@", "template"},
        {"Unit", "Wants=a b@c@d", "Invalid unit name"},
        {"Unit", "BindsTo=.hidden", "Invalid unit name"},
        {"Unit", "Conflicts=x y/z", NULL},
        {"Unit", "Before=bad name\\x01", NULL},
        {"Unit", "StartLimitBurst=x", NULL},
        {"Unit", "StartLimitIntervalSec=soon", "time span"},
        {"Container", "Image=Busybox:latest", "Invalid image reference"},
        {"Container", "Image=busybox:", "tag"},
        {"Container", "Image=busybox:-bad", "tag"},
        {"Container", "Image=busybox@sha256:abc", "64"},
        {"Container", "Image=busybox@md5:0123", "digest"},
        {"Container", "Image=a//b", "repository"},
        {"Container", "Image=oci:relative/dir", "absolute"},
        {"Container", "Image=oci:/a/../b", ".."},
        {"Container", "Image=oci:/layout:", "reference"},
        {"Container", "Image=base.image", "not supported"},
        {"Container", "Image=app.build", "not supported"},
        {"Container", "Rootfs=relative", "absolute"},
        {"Container", "Rootfs=/srv/root:O", "overlay"},
        {"Container", "Exec=a ; b", "';'"},
        {"Container", "Exec=\"open", "Unterminated"},
        {"Container", "Entrypoint=[\"a\",", "JSON"},
        {"Container", "Entrypoint=[\"a\" \"b\"]", "JSON"},
        {"Container", "Entrypoint=[1]", "JSON"},
        {"Container", "Entrypoint=[\"a\\u0000\"]", "JSON"},
        {"Container", "WorkingDir=relative", "absolute"},
        {"Container", "WorkingDir=/a/../b", ".."},
        {"Container", "User=a:b", "Group="},
        {"Container", "User=-x", "Invalid user"},
        {"Container", "User=4294967295", "Invalid user"},
        {"Container", "Group=a b", "Invalid user or group"},
        {"Container", "Environment=NOVALUE", "Invalid environment"},
        {"Container", "Environment==x", "Invalid environment"},
        {"Container", "Environment=1A=x", "Invalid environment"},
        {"Container", "Environment=A-B=x", "Invalid environment"},
        {"Container", "EnvironmentFile=-", "Empty"},
        {"Container", "HostName=-bad", "host name"},
        {"Container", "HostName=a..b", "host name"},
        {"Container", "HostName=a_b", "host name"},
        {"Container", "HostName=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "host name"},
        {"Container", "RunInit=maybe", "boolean"},
        {"Container", "Volume=a:b:c:d", "Invalid Volume"},
        {"Container", "Volume=rel/x:/data", "volume name"},
        {"Container", "Volume=/src:relative", "Unknown volume option 'relative'"},
        {"Container", "Volume=/src:/dst:bogus", "Unknown volume option"},
        {"Container", "Volume=/src:/dst:U", "not supported"},
        {"Container", "Volume=/src:/dst:O", "not supported"},
        {"Container", "Volume=data.volume:/d", ".volume"},
        {"Container", "Volume=:/d", "Empty volume source"},
        {"Container", "Volume=/a:/b/../c", ".."},
        {"Container", "Volume=relative", "absolute"},
        {"Container", "Volume=", "not supported"},
        {"Container", "Tmpfs=relative", "absolute"},
        {"Container", "Tmpfs=/t:size=0", "size"},
        {"Container", "Tmpfs=/t:size=lots", "size"},
        {"Container", "Tmpfs=/t:mode=99999", "mode"},
        {"Container", "Tmpfs=/t:mode=abc", "mode"},
        {"Container", "Tmpfs=/t:uid=x", "option"},
        {"Container", "Tmpfs=/t:foo", "Unknown tmpfs option"},
        {"Container", "Mount=type=nfs,dst=/x", "Unsupported mount type"},
        {"Container", "Mount=src=/a,dst=/b", "type="},
        {"Container", "Mount=type=bind,dst=/b", "source"},
        {"Container", "Mount=type=bind,src=/a", "destination"},
        {"Container", "Mount=type=bind,src=/a,dst=relative", "absolute"},
        {"Container", "Mount=type=bind,src=rel,dst=/b", "absolute"},
        {"Container", "Mount=type=bind,src=/a,dst=/b,bogus", "Unknown or unsupported mount option"},
        {"Container", "Mount=type=bind,src=/a,dst=/b,ro=maybe", "boolean"},
        {"Container", "Mount=type=bind,src=/a,dst=/b,bind-propagation=wide", "bind-propagation"},
        {"Container", "Mount=type=tmpfs,src=/a,dst=/b", "no source"},
        {"Container", "Mount=type=tmpfs,dst=/b,tmpfs-size=x", "size"},
        {"Container", "Mount=type=volume,src=/abs,dst=/b", "type=bind"},
        {"Container", "Mount=type=volume,src=bad/name,dst=/b", "volume name"},
        {"Container", "Mount=type=volume,dst=/b,tmpfs-size=1M", "Unknown or unsupported"},
        {"Container", "ReadOnly=2", "boolean"},
        {"Container", "ReadOnlyTmpfs=x", "boolean"},
        {"Container", "ShmSize=abc", "size"},
        {"Container", "ShmSize=0", "size"},
        {"Container", "Network=bridge", "not supported"},
        {"Container", "Network=db.network", "not supported"},
        {"Container", "Network=container:x", "not supported"},
        {"Container", "Network=foo", "Invalid Network"},
        {"Container", "AddCapability=CAP_NOPE", "Unknown capability"},
        {"Container", "DropCapability=CAP_CHOWN nope", "Unknown capability 'nope'"},
        {"Container", "NoNewPrivileges=x", "boolean"},
        {"Container", "SeccompProfile=rel.json", "absolute"},
        {"Container", "Mask=relative", "absolute"},
        {"Container", "Unmask=/a:rel", "absolute"},
        {"Container", "Sysctl=kernel.panic=1", "not namespaced"},
        {"Container", "Sysctl=noequals", "name=value"},
        {"Container", "Sysctl=net..x=1", "Invalid sysctl name"},
        {"Container", "Sysctl==1", "name=value"},
        {"Container", "AddDevice=/dev/null:/x:rwz", "permissions"},
        {"Container", "AddDevice=/dev/null:rr", "permissions"},
        {"Container", "AddDevice=/etc/passwd", "below /dev"},
        {"Container", "AddDevice=rel", "absolute"},
        {"Container", "AddDevice=/dev/a:/b:r:x", "Invalid AddDevice"},
        {"Container", "AddDevice=/dev/a:rel:r", "absolute"},
        {"Container", "UserNS=keep-id", "Unsupported UserNS"},
        {"Container", "UserNS=auto:foo=1", "size=N"},
        {"Container", "UserNS=auto:size=0", "range"},
        {"Container", "UIDMap=0:1000", "CONTAINER:HOST:SIZE"},
        {"Container", "UIDMap=0:1000:0", "empty"},
        {"Container", "UIDMap=a:b:c", "CONTAINER:HOST:SIZE"},
        {"Container", "UIDMap=+0:1000:1", "CONTAINER:HOST:SIZE"},
        {"Container", "UIDMap=0:4294967295:2", "overflows"},
        {"Container", "GIDMap=x", "GIDMap"},
        {"Container", "Memory=0", "memory size"},
        {"Container", "Memory=lots", "memory size"},
        {"Container", "Memory=infinity", "memory size"},
        {"Container", "PidsLimit=-2", "PidsLimit"},
        {"Container", "PidsLimit=x", "PidsLimit"},
        {"Container", "Ulimit=nofile", "NAME=SOFT"},
        {"Container", "Ulimit=bogus=1", "Unknown ulimit"},
        {"Container", "Ulimit=nofile=10:5", "above the hard"},
        {"Container", "Ulimit=nofile=x", "value"},
        {"Container", "Ulimit=nofile=-5", "value"},
        {"Container", "MemoryMax=lots", "Invalid value"},
        {"Container", "MemoryMax=200%", "percentage"},
        {"Container", "MemoryMax=0%", "percentage"},
        {"Container", "MemoryMax=%", "percentage"},
        {"Container", "MemoryHigh=-1", "Invalid value"},
        {"Container", "TasksMax=0", "greater than zero"},
        {"Container", "TasksMax=1K", "Invalid value"},
        {"Container", "CPUWeight=0", "range"},
        {"Container", "CPUWeight=10001", "range"},
        {"Container", "CPUWeight=x", "number"},
        {"Container", "CPUQuota=20", "percentage"},
        {"Container", "CPUQuota=0%", "above 0"},
        {"Container", "CPUQuota=abc%", "CPUQuota"},
        {"Container", "IOWeight=0", "range"},
        {"Container", "StopSignal=NOPE", "Unknown signal"},
        {"Container", "StopSignal=0", "Unknown signal"},
        {"Container", "StopSignal=65", "Unknown signal"},
        {"Container", "StopTimeout=soon", "time span"},
        {"Container", "StopTimeout=infinity", "infinity"},
        {"Container", "Notify=maybe", "Notify"},
        {"Container", "HealthCmd=[\"a\"", "JSON"},
        {"Container", "HealthCmd=[]", "JSON"},
        {"Container", "HealthCmd=[\"CMD\"]", "Empty"},
        {"Container", "HealthInterval=0", "greater than zero"},
        {"Container", "HealthInterval=x", "time span"},
        {"Container", "HealthTimeout=0", "greater than zero"},
        {"Container", "HealthTimeout=infinity", "finite"},
        {"Container", "HealthRetries=0", "range"},
        {"Container", "HealthRetries=x", "number"},
        {"Container", "HealthStartPeriod=x", "time span"},
        {"Container", "HealthOnFailure=explode", "HealthOnFailure"},
        {"Container", "ReloadCmd=a ; b", "';'"},
        {"Container", "ReloadSignal=NOPE", "Unknown signal"},
        {"Container", "Label=novalue", "key=value"},
        {"Container", "Label==x", "key=value"},
        {"Container", "Annotation=novalue", "key=value"},
        {"Service", "Restart=sometimes", "Invalid Restart"},
        {"Service", "Restart=on-failure:x", "number"},
        {"Service", "Restart=on-failure:-1", "number"},
        {"Service", "Restart=on-watchdog", "watchdog"},
        {"Service", "RestartSec=x", "time span"},
        {"Service", "RestartSec=infinity", "infinity"},
        {"Service", "RestartSteps=x", "number"},
        {"Service", "RestartSteps=3000", "range"},
        {"Service", "RestartMaxDelaySec=x", "time span"},
        {"Service", "TimeoutStartSec=x", "time span"},
        {"Service", "TimeoutStopSec=-1", "time span"},
        {"Service", "StartLimitBurst=-1", "number"},
        {"Service", "StartLimitIntervalSec=x", "time span"},
        {"Service", "RestartPreventExitStatus=256", "range"},
        {"Service", "RestartPreventExitStatus=1 SIGNOPE", "SIGNOPE"},
        {"Service", "CPUQuota=x", "CPUQuota"},
        {"Install", "Alias=a/b", "Invalid alias"},
        {"Install", "Alias=web@x", "template"},
        {"Install", "WantedBy=\"open", "Unterminated"},
};

static void test_bad_values(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const BadCase *c = &bad_cases[i];
                _cleanup_free_ char *t = strprintf(IMG "[%s]\n%s\n", c->section, c->line);
                Unit *u = parse(t);
                if (u->load_state != UNIT_LOAD_ERROR || !find_diag(u, UNIT_DIAG_ERROR, 4, c->msg)) {
                        print_message("case [%s] %s: state %s, want an error at line 4 with '%s'\n",
                                      c->section, c->line, unit_load_state_to_string(u->load_state),
                                      strempty(c->msg));
                        dump_diags(u);
                        fail();
                }
                unit_free(u);
        }
}

/* Every value here must load without any diagnostic. */
static const char *const good_lines[] = {
        "[Unit]\nDescription=Some text, with = and : and # and ;",
        "[Unit]\nDocumentation=https://a.example/ http://b man:c(1) file:/usr/share/doc info:x",
        "[Unit]\nAfter=db db.ctr other.container network-online.target x@y",
        "[Unit]\nStartLimitBurst=0\nStartLimitIntervalSec=infinity",
        "[Container]\nImage=docker.io/library/busybox:1.36",
        "[Container]\nImage=localhost:5000/a/b_c/d-e.f:v1.0_rc-2",
        "[Container]\nImage=busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "[Container]\nImage=reg.example:443/ns/"
        "img:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "[Container]\nImage=oci:/var/lib/layouts/x",
        "[Container]\nImage=oci:/var/lib/layouts/x:1.0",
        "[Container]\nImage=a__b:x",
        "[Container]\nUser=nobody\nGroup=nogroup",
        "[Container]\nUser=1000\nGroup=1000",
        "[Container]\nUser=_svc$",
        "[Container]\nEnvironment=_A=1 a1=\"\" EMPTY=",
        "[Container]\nEnvironmentFile=/etc/app.env\nEnvironmentFile=-/etc/optional.env\nEnvironmentFile=./"
        "rel.env",
        "[Container]\nHostName=web-1.example.com",
        "[Container]\nRunInit=yes\nReadOnly=on\nReadOnlyTmpfs=0\nNoNewPrivileges=FALSE",
        "[Container]\nVolume=/src:/dst\nVolume=/a:/b:ro,nosuid,nodev,noexec,rbind,rshared",
        "[Container]\nVolume=named:/data:rw,nocopy\nVolume=/anon\nVolume=/anon2:ro\nVolume=./rel:/rel",
        "[Container]\nTmpfs=/tmp\nTmpfs=/run:size=64m,mode=0755,exec,suid,dev,nr_inodes=1k,uid=0,gid=0,ro",
        "[Container]\nMount=type=bind,source=/a,destination=/"
        "b,ro,bind-propagation=rslave,bind-nonrecursive=true",
        "[Container]\nMount=type=volume,src=data,dst=/d,volume-nocopy\nMount=type=volume,target=/anon",
        "[Container]\nMount=type=tmpfs,destination=/cache,tmpfs-size=64M,tmpfs-mode=1777",
        "[Container]\nShmSize=64m",
        "[Container]\nNetwork=none\nNetwork=host\nNetwork=private",
        "[Container]\nAddCapability=CAP_NET_ADMIN net_raw\nDropCapability=all",
        "[Container]\nSeccompProfile=/etc/seccomp.json\nSeccompProfile=unconfined",
        "[Container]\nMask=/proc/a:/proc/b\nUnmask=ALL\nUnmask=/sys/fs",
        "[Container]\nSysctl=net.ipv4.ip_forward=1 kernel.shmmax=1000 "
        "fs.mqueue.msg_max=20\nSysctl=net/core/somaxconn=1024",
        "[Container]\nAddDevice=/dev/fuse\nAddDevice=-/dev/dri:/dev/dri:rw\nAddDevice=/dev/null:r",
        "[Container]\nUserNS=auto\nUserNS=auto:size=1000\nUserNS=host",
        "[Container]\nUIDMap=0:100000:65536\nGIDMap=0:100000:65536",
        "[Container]\nMemory=512M\nMemory=1g\nPidsLimit=100\nPidsLimit=-1\nPidsLimit=0",
        "[Container]\nUlimit=nofile=1024:4096\nUlimit=core=unlimited\nUlimit=nproc=-1:-1",
        "[Container]\nMemoryMax=1G\nMemoryHigh=80%\nTasksMax=infinity\nCPUWeight=100\nCPUQuota=150%"
        "\nIOWeight=10000",
        "[Service]\nMemoryMax=infinity\nTasksMax=12.5%\nCPUQuota=0.5%\nCPUWeight=1\nIOWeight=1",
        "[Container]\nStopSignal=SIGINT\nStopSignal=TERM\nStopSignal=9\nStopTimeout=30\nStopTimeout=1min "
        "30s",
        "[Container]\nNotify=true\nNotify=false\nNotify=yes",
        "[Container]\nHealthCmd=curl -f "
        "http://localhost/\nHealthInterval=1m30s\nHealthTimeout=5s\nHealthRetries=5\n"
        "HealthStartPeriod=0\nHealthStartPeriod=2min\nHealthOnFailure=kill\nNotify=healthy",
        "[Container]\nHealthCmd=[\"CMD-SHELL\", \"exit 0\"]\nHealthInterval=disable",
        "[Container]\nHealthCmd=none",
        "[Container]\nReloadCmd=/usr/sbin/nginx -s reload",
        "[Container]\nReloadSignal=SIGHUP\nReloadSignal=USR1",
        "[Container]\nLabel=a=1 \"b=x y\" c.d/e=f\nAnnotation=io.x=1",
        "[Service]\nRestart=no\nRestart=on-success\nRestart=on-failure\nRestart=on-abnormal\nRestart=on-"
        "abort\nRestart=always",
        "[Service]\nRestart=unless-stopped\nRestart=on-failure:3\nRestart=on-failure:0",
        "[Service]\nRestartSec=100ms\nRestartSteps=5\nRestartMaxDelaySec=1min\nRestartMaxDelaySec=infinity",
        "[Service]\nTimeoutStartSec=infinity\nTimeoutStartSec=0\nTimeoutStopSec=5min",
        "[Service]\nStartLimitBurst=10\nStartLimitIntervalSec=0",
        "[Service]\nRestartPreventExitStatus=0 1 255 SIGTERM KILL\nRestartPreventExitStatus=",
        "[Install]\nWantedBy=multi-user.target default.target\nAlias=web2 web3.ctr",
};

static void test_good_values(void **state)
{
        for (size_t i = 0; i < ELEMENTSOF(good_lines); i++) {
                _cleanup_free_ char *t = strprintf(IMG "%s\n", good_lines[i]);
                Unit *u = parse(t);
                if (u->load_state != UNIT_LOAD_LOADED || u->n_diags > 0) {
                        print_message("case: %s\n", good_lines[i]);
                        dump_diags(u);
                        fail();
                }
                unit_free(u);
        }
}

/* ---------------------------------------------------------------- keys: the model */

static void test_unit_section(void **state)
{
        Unit *u = parse(
                IMG "[Unit]\nDescription=D\nDocumentation=man:a(1) bogus https://x\n"
                    "After=db.ctr net.container network-online.target\nBefore=z\nRequires=db\nWants=w@1\n"
                    "BindsTo=b\nConflicts=c\nAfter=test\n");
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 5, "Invalid URL 'bogus'");
        assert_diag(u, UNIT_DIAG_WARNING, 12, "depends on itself");
        assert_string_equal(u->config.description, "D");
        assert_strv_eq(u->config.documentation, STRV("man:a(1)", "https://x"));
        assert_strv_eq(u->config.after, STRV("db", "net", "network-online.target"));
        assert_strv_eq(u->config.before, STRV("z"));
        assert_strv_eq(u->config.requires, STRV("db"));
        assert_strv_eq(u->config.wants, STRV("w@1"));
        assert_strv_eq(u->config.binds_to, STRV("b"));
        assert_strv_eq(u->config.conflicts, STRV("c"));
        assert_true(unit_name_is_systemd("network-online.target"));
        assert_false(unit_name_is_systemd("db"));
        unit_free(u);
}

static void test_image_rootfs(void **state)
{
        Unit *u = parse("[Container]\nRootfs=/srv/root//fs/\n");
        assert_loaded_clean(u);
        assert_null(u->config.image);
        assert_string_equal(u->config.rootfs, "/srv/root/fs");
        unit_free(u);

        /* exactly one of Image/Rootfs */
        u = parse(IMG "Rootfs=/srv/rootfs\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "exclude each other");
        unit_free(u);
        u = parse("[Container]\nHostName=x\n");
        assert_diag(u, UNIT_DIAG_ERROR, 2, "Neither Image= nor Rootfs=");
        unit_free(u);
        /* a drop-in-style reset then set */
        u = parse(IMG "Image=\nRootfs=/r\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.rootfs, "/r");
        unit_free(u);
}

static void test_exec_entrypoint(void **state)
{
        Unit *u = parse(
                IMG
                "Exec=/bin/sh -c 'sleep inf'\nEntrypoint=[\"/bin/tini\", \"--\", \"a\\\"b\\u00e9\\n\"]\n");
        assert_loaded_clean(u);
        assert_strv_eq(u->config.exec, STRV("/bin/sh", "-c", "sleep inf"));
        assert_true(u->config.entrypoint_set);
        assert_strv_eq(u->config.entrypoint, STRV("/bin/tini", "--", "a\"b\xc3\xa9\n"));
        unit_free(u);

        /* plain form: words */
        u = parse(IMG "Entrypoint=/foo.sh --flag\n");
        assert_strv_eq(u->config.entrypoint, STRV("/foo.sh", "--flag"));
        unit_free(u);

        /* empty: clear the image's entrypoint; [] the same */
        u = parse(IMG "Entrypoint=/x\nEntrypoint=\n");
        assert_true(u->config.entrypoint_set);
        assert_null(u->config.entrypoint);
        unit_free(u);
        u = parse(IMG "Entrypoint=[]\n");
        assert_true(u->config.entrypoint_set);
        assert_null(u->config.entrypoint);
        unit_free(u);

        /* unset: the image's */
        u = parse(IMG);
        assert_false(u->config.entrypoint_set);
        assert_null(u->config.exec);
        unit_free(u);
}

static void test_process(void **state)
{
        Unit *u = parse(
                IMG "WorkingDir=/app//x/\nUser=app\nGroup=app\nHostName=h1\nRunInit=true\n"
                    "Environment=A=1 \"B=2 3\"\nEnvironmentFile=./app.env\nEnvironmentFile=-/etc/x.env\n");
        assert_loaded_clean(u);
        assert_string_equal(u->config.working_dir, "/app/x");
        assert_string_equal(u->config.user, "app");
        assert_string_equal(u->config.group, "app");
        assert_string_equal(u->config.hostname, "h1");
        assert_true(u->config.run_init);
        assert_strv_eq(u->config.environment, STRV("A=1", "B=2 3"));
        /* relative to the unit file's directory */
        assert_strv_eq(u->config.environment_files, STRV("/t/app.env", "-/etc/x.env"));
        unit_free(u);

        u = parse(IMG "Group=100\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "Group= needs User=");
        unit_free(u);
}

static void test_storage(void **state)
{
        Unit *u = parse(IMG "Volume=/srv/www:/var/www:ro,nosuid\n"
                            "Volume=data:/data\n"
                            "Volume=/cache\n"
                            "Volume=./conf:/etc/app:ro\n"
                            "Tmpfs=/tmp:size=64m,mode=1777\n"
                            "Mount=type=bind,src=/etc/ssl,dst=/etc/ssl,readonly,bind-propagation=rprivate\n"
                            "Mount=type=tmpfs,dst=/run,tmpfs-size=1M,exec\n"
                            "Mount=type=volume,source=logs,target=/logs,volume-nocopy\n"
                            "ReadOnly=yes\nReadOnlyTmpfs=no\nShmSize=128M\n");
        assert_loaded_clean(u);
        UnitConfig *c = &u->config;
        assert_int_equal(c->n_mounts, 8);

        assert_int_equal(c->mounts[0].type, UNIT_MOUNT_BIND);
        assert_string_equal(c->mounts[0].source, "/srv/www");
        assert_string_equal(c->mounts[0].destination, "/var/www");
        assert_true(c->mounts[0].read_only);
        assert_true(c->mounts[0].nosuid);
        assert_true(c->mounts[0].recursive);
        assert_int_equal(c->mounts[0].line, 3);

        assert_int_equal(c->mounts[1].type, UNIT_MOUNT_VOLUME);
        assert_string_equal(c->mounts[1].source, "data");
        assert_false(c->mounts[1].read_only);
        assert_true(c->mounts[1].copy_up);

        assert_int_equal(c->mounts[2].type, UNIT_MOUNT_ANONYMOUS);
        assert_null(c->mounts[2].source);
        assert_string_equal(c->mounts[2].destination, "/cache");

        assert_int_equal(c->mounts[3].type, UNIT_MOUNT_BIND);
        assert_string_equal(c->mounts[3].source, "/t/conf");

        assert_int_equal(c->mounts[4].type, UNIT_MOUNT_TMPFS);
        assert_int_equal(c->mounts[4].tmpfs_size, 64 * 1024 * 1024);
        assert_int_equal(c->mounts[4].tmpfs_mode, 01777);
        assert_string_equal(c->mounts[4].tmpfs_options, "size=67108864,mode=1777");
        assert_true(c->mounts[4].noexec && c->mounts[4].nosuid && c->mounts[4].nodev);

        assert_int_equal(c->mounts[5].type, UNIT_MOUNT_BIND);
        assert_true(c->mounts[5].read_only);
        assert_int_equal(c->mounts[5].propagation, UNIT_PROPAGATION_RPRIVATE);

        assert_int_equal(c->mounts[6].type, UNIT_MOUNT_TMPFS);
        assert_false(c->mounts[6].noexec);
        assert_string_equal(c->mounts[6].tmpfs_options, "size=1048576");

        assert_int_equal(c->mounts[7].type, UNIT_MOUNT_VOLUME);
        assert_false(c->mounts[7].copy_up);

        assert_true(c->read_only);
        assert_false(c->read_only_tmpfs);
        assert_int_equal(c->shm_size, 128 * 1024 * 1024);
        unit_free(u);

        /* two mounts on one destination */
        u = parse(IMG "Volume=/a:/x\nTmpfs=/x\n");
        assert_diag(u, UNIT_DIAG_ERROR, 4, "Duplicate mount destination");
        unit_free(u);

        /* SELinux options: warning */
        u = parse(IMG "Volume=/a:/x:Z\n");
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 3, "SELinux");
        unit_free(u);

        /* defaults */
        u = parse(IMG);
        assert_true(u->config.read_only_tmpfs);
        assert_false(u->config.read_only);
        assert_int_equal(u->config.network, UNIT_NETWORK_PRIVATE);
        unit_free(u);
}

static void test_security(void **state)
{
        Unit *u = parse(
                IMG "AddCapability=CAP_NET_ADMIN sys_time\nAddCapability=CAP_CHOWN\nDropCapability=ALL\n"
                    "NoNewPrivileges=false\nSeccompProfile=/etc/s.json\nMask=/proc/x:/proc/y\nMask=/proc/x\n"
                    "Unmask=/sys/a\nSysctl=net.ipv4.ip_forward=1 "
                    "net.core.somaxconn=1\nSysctl=net.ipv4.ip_forward=0\n"
                    "AddDevice=-/dev/dri/card0\nAddDevice=/dev/sda:/dev/xvda:r\nUserNS=auto:size=2048\n");
        assert_loaded_clean(u);
        UnitConfig *c = &u->config;
        assert_int_equal(c->add_capabilities,
                         (UINT64_C(1) << 12) | (UINT64_C(1) << 25) | (UINT64_C(1) << 0));
        assert_true(c->drop_all_capabilities);
        assert_false(c->no_new_privileges);
        assert_string_equal(c->seccomp_profile, "/etc/s.json");
        assert_false(c->seccomp_unconfined);
        assert_strv_eq(c->mask, STRV("/proc/x", "/proc/y"));
        assert_strv_eq(c->unmask, STRV("/sys/a"));
        assert_false(c->unmask_all);
        assert_strv_eq(c->sysctl, STRV("net.ipv4.ip_forward=0", "net.core.somaxconn=1"));
        assert_int_equal(c->n_devices, 2);
        assert_true(c->devices[0].optional);
        assert_string_equal(c->devices[0].host_path, "/dev/dri/card0");
        assert_string_equal(c->devices[0].container_path, "/dev/dri/card0");
        assert_string_equal(c->devices[0].permissions, "rwm");
        assert_false(c->devices[1].optional);
        assert_string_equal(c->devices[1].container_path, "/dev/xvda");
        assert_string_equal(c->devices[1].permissions, "r");
        assert_int_equal(c->userns, UNIT_USERNS_AUTO);
        assert_int_equal(c->userns_auto_size, 2048);
        unit_free(u);

        /* defaults: the security baseline */
        u = parse(IMG);
        assert_true(u->config.no_new_privileges);
        assert_int_equal(u->config.userns, UNIT_USERNS_HOST);
        assert_null(u->config.seccomp_profile);
        unit_free(u);

        /* maps */
        u = parse(IMG "UIDMap=0:100000:1000\nUIDMap=1000:200000:10\nGIDMap=0:100000:1010\n");
        assert_loaded_clean(u);
        assert_int_equal(u->config.userns, UNIT_USERNS_MAP);
        assert_int_equal(u->config.n_uid_map, 2);
        assert_int_equal(u->config.uid_map[1].container_id, 1000);
        assert_int_equal(u->config.uid_map[1].host_id, 200000);
        assert_int_equal(u->config.uid_map[1].size, 10);
        unit_free(u);

        u = parse(IMG "UIDMap=0:100000:1000\nUIDMap=500:300000:10\n");
        assert_diag(u, UNIT_DIAG_ERROR, 4, "overlaps");
        unit_free(u);
        u = parse(IMG "UIDMap=0:100000:1000\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "together");
        unit_free(u);
        u = parse(IMG "UserNS=auto\nUIDMap=0:1:1\nGIDMap=0:1:1\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "excludes");
        unit_free(u);
        /* net sysctls need a network namespace */
        u = parse(IMG "Network=host\nSysctl=net.ipv4.ip_forward=1\n");
        assert_diag(u, UNIT_DIAG_ERROR, 4, "Network=host");
        unit_free(u);
        u = parse(IMG "Unmask=ALL\nSeccompProfile=unconfined\n");
        assert_true(u->config.unmask_all);
        assert_true(u->config.seccomp_unconfined);
        unit_free(u);
}

static void test_resources(void **state)
{
        Unit *u = parse(
                IMG
                "Memory=20g\nPidsLimit=500\nUlimit=nofile=1000:2000\nUlimit=core=0\nUlimit=nofile=5\n"
                "MemoryMax=1G\nMemoryHigh=50%\nTasksMax=100\nCPUWeight=200\nCPUQuota=12.5%\nIOWeight=50\n");
        assert_loaded_clean(u);
        UnitConfig *c = &u->config;
        assert_int_equal(c->memory, UINT64_C(20) * 1024 * 1024 * 1024);
        assert_int_equal(c->pids_limit, 500);
        assert_int_equal(c->n_ulimits, 2);
        assert_int_equal(c->ulimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(c->ulimits[0].soft, 5);
        assert_int_equal(c->ulimits[0].hard, 5);
        assert_int_equal(c->ulimits[1].resource, RLIMIT_CORE);
        assert_true(c->memory_max.set);
        assert_int_equal(c->memory_max.value, 1024 * 1024 * 1024);
        assert_int_equal(c->memory_max.scale, 0);
        assert_true(c->memory_high.set);
        assert_int_equal(c->memory_high.scale, UINT32_MAX / 2 + 1);
        assert_int_equal(c->tasks_max.value, 100);
        assert_int_equal(c->cpu_weight, 200);
        assert_int_equal(c->cpu_quota_per_sec_usec, 125000);
        assert_int_equal(c->io_weight, 50);
        unit_free(u);

        u = parse(
                IMG
                "PidsLimit=0\nUlimit=nofile=unlimited\nMemoryMax=infinity\nTasksMax=100%\nCPUQuota=200%\n");
        assert_loaded_clean(u);
        assert_int_equal(u->config.pids_limit, -1);
        assert_int_equal(u->config.ulimits[0].soft, UINT64_MAX);
        assert_int_equal(u->config.memory_max.value, UINT64_MAX);
        assert_int_equal(u->config.tasks_max.scale, UINT32_MAX);
        assert_int_equal(u->config.cpu_quota_per_sec_usec, 2000000);
        unit_free(u);

        /* unset */
        u = parse(IMG);
        assert_false(u->config.memory_max.set);
        assert_int_equal(u->config.cpu_weight, 0);
        assert_int_equal(u->config.pids_limit, 0);
        unit_free(u);
}

static void test_lifecycle(void **state)
{
        Unit *u = parse(
                IMG
                "StopSignal=SIGINT\nStopTimeout=20\nNotify=healthy\nHealthCmd=curl -f http://x/\n"
                "HealthInterval=1min\nHealthTimeout=3s\nHealthRetries=7\nHealthStartPeriod=15s\n"
                "HealthOnFailure=restart\nReloadCmd=/usr/sbin/nginx -s reload\nLabel=a=1 b=2\nLabel=a=3\n"
                "Annotation=x.y=z\n");
        assert_loaded_clean(u);
        UnitConfig *c = &u->config;
        assert_int_equal(c->stop_signal, SIGINT);
        assert_int_equal(c->stop_timeout_usec, 20 * USEC_PER_SEC);
        assert_int_equal(c->notify, UNIT_NOTIFY_HEALTHY);
        assert_strv_eq(c->health_cmd, STRV("/bin/sh", "-c", "curl -f http://x/"));
        assert_int_equal(c->health_interval_usec, 60 * USEC_PER_SEC);
        assert_int_equal(c->health_timeout_usec, 3 * USEC_PER_SEC);
        assert_int_equal(c->health_retries, 7);
        assert_int_equal(c->health_start_period_usec, 15 * USEC_PER_SEC);
        assert_int_equal(c->health_on_failure, UNIT_HEALTH_ON_FAILURE_RESTART);
        assert_strv_eq(c->reload_cmd, STRV("/usr/sbin/nginx", "-s", "reload"));
        assert_int_equal(c->reload_signal, 0);
        assert_strv_eq(c->labels, STRV("a=3", "b=2"));
        assert_strv_eq(c->annotations, STRV("x.y=z"));
        unit_free(u);

        /* JSON health commands, Docker's CMD / CMD-SHELL / NONE */
        u = parse(IMG "HealthCmd=[\"CMD\", \"/bin/check\", \"-v\"]\n");
        assert_strv_eq(u->config.health_cmd, STRV("/bin/check", "-v"));
        unit_free(u);
        u = parse(IMG "HealthCmd=[\"CMD-SHELL\", \"test -f /ok\"]\n");
        assert_strv_eq(u->config.health_cmd, STRV("/bin/sh", "-c", "test -f /ok"));
        unit_free(u);
        u = parse(IMG "HealthCmd=[\"/bin/check\"]\nHealthCmd=none\n");
        assert_null(u->config.health_cmd);
        unit_free(u);

        /* defaults */
        u = parse(IMG);
        c = &u->config;
        assert_int_equal(c->stop_signal, 0); /* unset: the image's, else SIGTERM */
        assert_int_equal(c->stop_timeout_usec, 10 * USEC_PER_SEC);
        assert_int_equal(c->notify, UNIT_NOTIFY_FALSE);
        assert_int_equal(c->health_interval_usec, 30 * USEC_PER_SEC);
        assert_int_equal(c->health_timeout_usec, 30 * USEC_PER_SEC);
        assert_int_equal(c->health_retries, 3);
        unit_free(u);

        /* cross-key rules */
        u = parse(IMG "ReloadCmd=/bin/true\nReloadSignal=SIGHUP\n");
        assert_diag(u, UNIT_DIAG_ERROR, 4, "exclude each other");
        unit_free(u);
        u = parse(IMG "Notify=healthy\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "needs HealthCmd=");
        unit_free(u);
        u = parse(IMG "HealthOnFailure=kill\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "needs HealthCmd=");
        unit_free(u);
        u = parse(IMG "ReloadSignal=SIGUSR2\n");
        assert_int_equal(u->config.reload_signal, SIGUSR2);
        unit_free(u);
        u = parse(IMG "StopTimeout=2min\n[Service]\nTimeoutStopSec=1min\n");
        assert_diag(u, UNIT_DIAG_ERROR, 3, "longer than TimeoutStopSec");
        unit_free(u);
        u = parse(IMG "HealthCmd=true\nHealthInterval=5s\nHealthTimeout=10s\n");
        assert_loaded(u);
        assert_diag(u, UNIT_DIAG_WARNING, 5, "longer than HealthInterval");
        unit_free(u);
}

static void test_service(void **state)
{
        Unit *u = parse(
                IMG "[Service]\nRestart=on-abnormal\nRestartSec=5\nRestartSteps=3\nRestartMaxDelaySec=1min\n"
                    "TimeoutStartSec=0\nTimeoutStopSec=2min\nStartLimitBurst=3\nStartLimitIntervalSec=1h\n"
                    "RestartPreventExitStatus=3 42 SIGUSR1\n");
        assert_loaded_clean(u);
        UnitConfig *c = &u->config;
        assert_int_equal(c->restart, UNIT_RESTART_ON_ABNORMAL);
        assert_int_equal(c->restart_usec, 5 * USEC_PER_SEC);
        assert_int_equal(c->restart_steps, 3);
        assert_int_equal(c->restart_max_delay_usec, 60 * USEC_PER_SEC);
        assert_int_equal(c->timeout_start_usec, USEC_INFINITY);
        assert_int_equal(c->timeout_stop_usec, 120 * USEC_PER_SEC);
        assert_int_equal(c->start_limit_burst, 3);
        assert_int_equal(c->start_limit_interval_usec, 3600 * USEC_PER_SEC);
        assert_true(unit_restart_prevented(c, 3, 0));
        assert_true(unit_restart_prevented(c, 42, 0));
        assert_false(unit_restart_prevented(c, 1, 0));
        assert_true(unit_restart_prevented(c, -1, SIGUSR1));
        assert_false(unit_restart_prevented(c, -1, SIGTERM));
        unit_free(u);

        /* Docker sugar */
        u = parse(IMG "[Service]\nRestart=unless-stopped\n");
        assert_int_equal(u->config.restart, UNIT_RESTART_ALWAYS);
        assert_true(u->config.restart_unless_stopped);
        unit_free(u);
        u = parse(IMG "[Service]\nRestart=on-failure:4\n");
        assert_int_equal(u->config.restart, UNIT_RESTART_ON_FAILURE);
        assert_int_equal(u->config.start_limit_burst, 5);
        assert_int_equal(u->config.start_limit_interval_usec, USEC_INFINITY);
        unit_free(u);
        /* a later explicit StartLimitBurst= wins */
        u = parse(IMG "[Service]\nRestart=on-failure:4\nStartLimitBurst=9\n");
        assert_int_equal(u->config.start_limit_burst, 9);
        unit_free(u);
        /* StartLimit* in [Unit] as systemd has them */
        u = parse(IMG "[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=30s\n");
        assert_loaded_clean(u);
        assert_int_equal(u->config.start_limit_burst, 2);
        assert_int_equal(u->config.start_limit_interval_usec, 30 * USEC_PER_SEC);
        unit_free(u);

        /* defaults */
        u = parse(IMG);
        c = &u->config;
        assert_int_equal(c->restart, UNIT_RESTART_NO);
        assert_int_equal(c->restart_usec, 100 * USEC_PER_MSEC);
        assert_int_equal(c->timeout_start_usec, 90 * USEC_PER_SEC);
        assert_int_equal(c->start_limit_burst, 5);
        assert_int_equal(c->start_limit_interval_usec, 10 * USEC_PER_SEC);
        unit_free(u);

        u = parse(IMG "[Service]\nRestartSec=10s\nRestartSteps=2\nRestartMaxDelaySec=1s\n");
        assert_diag(u, UNIT_DIAG_ERROR, 6, "below RestartSec");
        unit_free(u);
}

static void test_install(void **state)
{
        Unit *u = parse(IMG "[Install]\nWantedBy=multi-user.target\nAlias=www www.ctr\n");
        assert_loaded_clean(u);
        assert_true(u->enabled);
        assert_strv_eq(u->config.wanted_by, STRV("multi-user.target"));
        assert_strv_eq(u->config.alias, STRV("www"));
        unit_free(u);

        u = parse(IMG "[Install]\nWantedBy=default.target\n");
        assert_true(u->enabled);
        unit_free(u);

        u = parse(IMG "[Install]\nWantedBy=graphical.target\n");
        assert_loaded(u);
        assert_false(u->enabled);
        assert_diag(u, UNIT_DIAG_WARNING, 4, "no effect");
        unit_free(u);

        u = parse(IMG "[Install]\nWantedBy=multi-user.target\nWantedBy=\n");
        assert_false(u->enabled);
        unit_free(u);

        u = parse(IMG);
        assert_false(u->enabled);
        unit_free(u);

        /* templates: DefaultInstance=, never enabled themselves */
        u = parse_named("w@", IMG "[Install]\nWantedBy=multi-user.target\nDefaultInstance=one\nAlias=x@\n");
        assert_loaded_clean(u);
        assert_true(u->is_template);
        assert_false(u->enabled);
        assert_string_equal(u->config.default_instance, "one");
        unit_free(u);
        u = parse_named("w@", IMG "[Install]\nDefaultInstance=a/b\n");
        assert_diag(u, UNIT_DIAG_ERROR, 4, "Invalid instance name");
        unit_free(u);
        u = parse(IMG "[Install]\nDefaultInstance=one\n");
        assert_diag(u, UNIT_DIAG_WARNING, 4, "only applies to templates");
        unit_free(u);
        /* an instance is enabled by WantedBy= */
        u = parse_named("w@two", IMG "[Install]\nWantedBy=multi-user.target\n");
        assert_true(u->enabled);
        unit_free(u);
}

/* ---------------------------------------------------------------- names */

static void test_names(void **state)
{
        static const char *const good[] = {"web", "web.ctr", "web.container", "a-b_c:d.e", "w@",
                                           "w@x", "w@x.ctr", "w@a\\x2db",     "my.app"};
        static const char *const bad[] = {"",    ".hidden",    "@x",       "a@b@c",  "a/b",
                                          "a b", "db.service", "x.target", "ümlaut", "a\nb"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                if (!unit_name_is_valid(good[i]))
                        print_message("should be valid: %s\n", good[i]);
                assert_true(unit_name_is_valid(good[i]));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (unit_name_is_valid(bad[i]))
                        print_message("should be invalid: %s\n", bad[i]);
                assert_false(unit_name_is_valid(bad[i]));
        }
        char long_name[300];
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        assert_false(unit_name_is_valid(long_name));
        long_name[UNIT_NAME_MAX - STRLEN(UNIT_SUFFIX_QUADLET)] = '\0';
        assert_true(unit_name_is_valid(long_name));

        char *n = NULL;
        assert_int_equal(unit_name_normalize("web.ctr", &n), 0);
        assert_string_equal(n, "web");
        free(n);
        assert_int_equal(unit_name_normalize("web.container", &n), 0);
        assert_string_equal(n, "web");
        free(n);
        assert_int_equal(unit_name_normalize("a/b", &n), -EINVAL);
        assert_int_equal(unit_name_template("web@blue.ctr", &n), 0);
        assert_string_equal(n, "web@");
        free(n);
        assert_int_equal(unit_name_template("web", &n), -EINVAL);
        assert_int_equal(unit_name_template("web@", &n), -EINVAL);

        Unit *u = NULL;
        Error e = ERROR_INIT;
        assert_int_equal(unit_parse_string("bad name", "/x", "", 0, &u, &e), -EINVAL);
        assert_non_null(strstr(error_message(&e), "Invalid unit name"));
        error_done(&e);

        assert_string_equal(unit_load_state_to_string(UNIT_LOAD_NOT_FOUND), "not-found");
        assert_string_equal(unit_restart_to_string(UNIT_RESTART_ON_ABORT), "on-abort");
        assert_string_equal(unit_notify_to_string(UNIT_NOTIFY_HEALTHY), "healthy");
        assert_string_equal(unit_mount_type_to_string(UNIT_MOUNT_TMPFS), "tmpfs");
        assert_null(unit_restart_to_string(_UNIT_RESTART_MAX));
}

/* ---------------------------------------------------------------- the loader (file system) */

static char *tmp_root;

static void write_file(const char *rel, const char *content)
{
        _cleanup_free_ char *p = path_join(tmp_root, rel);
        _cleanup_free_ char *dir = NULL;
        assert_int_equal(path_dirname(p, &dir), 0);
        assert_int_equal(mkdir_p(dir, 0755), 0);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void make_symlink(const char *target, const char *rel)
{
        _cleanup_free_ char *p = path_join(tmp_root, rel);
        _cleanup_free_ char *dir = NULL;
        assert_int_equal(path_dirname(p, &dir), 0);
        assert_int_equal(mkdir_p(dir, 0755), 0);
        assert_int_equal(symlink(target, p), 0);
}

static char *tp(const char *rel)
{
        char *p = path_join(tmp_root, rel);
        assert_non_null(p);
        return p;
}

static int setup_tmp(void **state)
{
        char t[] = "/tmp/test-units-XXXXXX";
        if (!mkdtemp(t))
                return -1;
        tmp_root = strdup(t);
        return tmp_root ? 0 : -1;
}

static int teardown_tmp(void **state)
{
        if (tmp_root) {
                rm_rf_at(AT_FDCWD, tmp_root);
                tmp_root = mfree(tmp_root);
        }
        return 0;
}

static UnitLoader *loader3(void)
{
        _cleanup_free_ char *a = tp("etc"), *b = tp("run"), *c = tp("usr");
        char *dirs[] = {a, b, c, NULL};
        UnitLoader *l = NULL;
        assert_int_equal(unit_loader_new(dirs, &l), 0);
        assert_int_equal(unit_loader_set_host(l, "host.example", "0123abcd", "b00t", "6.1.0"), 0);
        return l;
}

static Unit *load(UnitLoader *l, const char *name)
{
        Unit *u = NULL;
        Error e = ERROR_INIT;
        int r = unit_loader_load(l, name, &u, &e);
        if (r < 0)
                print_message("load %s: %s\n", name, error_message(&e));
        error_done(&e);
        assert_int_equal(r, 0);
        return u;
}

static void test_search_path(void **state)
{
        write_file("usr/web.ctr", IMG "HostName=usr\n");
        write_file("run/web.ctr", IMG "HostName=run\n");
        write_file("etc/web.ctr", IMG "HostName=etc\n");
        write_file("usr/only-usr.ctr", IMG "HostName=usr\n");
        write_file("run/quad.container", IMG "HostName=quadlet\n");
        write_file("etc/both.ctr", IMG "HostName=ctr\n");
        write_file("etc/both.container", IMG "HostName=container\n");

        UnitLoader *l = loader3();
        Unit *u = load(l, "web");
        assert_loaded_clean(u);
        assert_string_equal(u->config.hostname, "etc");
        _cleanup_free_ char *p = tp("etc/web.ctr");
        assert_string_equal(u->fragment_path, p);
        unit_free(u);

        u = load(l, "only-usr.ctr");
        assert_string_equal(u->config.hostname, "usr");
        unit_free(u);

        /* Quadlet file names */
        u = load(l, "quad");
        assert_loaded_clean(u);
        assert_string_equal(u->config.hostname, "quadlet");
        unit_free(u);
        u = load(l, "quad.container");
        assert_string_equal(u->name, "quad");
        unit_free(u);

        /* .ctr wins over .container in the same directory, with a warning */
        u = load(l, "both");
        assert_string_equal(u->config.hostname, "ctr");
        assert_int_equal(u->n_warnings, 1);
        unit_free(u);

        u = load(l, "missing");
        assert_int_equal(u->load_state, UNIT_LOAD_NOT_FOUND);
        assert_null(u->fragment_path);
        assert_non_null(strstr(u->load_error, "not found"));
        unit_free(u);

        Error e = ERROR_INIT;
        assert_int_equal(unit_loader_load(l, "../etc/passwd", &u, &e), -EINVAL);
        error_done(&e);
        unit_loader_free(l);

        /* the default search path */
        assert_int_equal(unit_loader_new(NULL, &l), 0);
        char *const *d = unit_loader_dirs(l);
        assert_string_equal(d[0], "/etc/ctrmgr");
        assert_string_equal(d[1], "/run/ctrmgr/units");
        assert_string_equal(d[2], "/usr/lib/ctrmgr/units");
        assert_null(d[3]);
        unit_loader_free(l);
}

static void test_masking(void **state)
{
        write_file("usr/a.ctr", IMG);
        make_symlink("/dev/null", "etc/a.ctr");
        write_file("usr/b.ctr", IMG);
        write_file("run/b.ctr", "");
        make_symlink("/dev/null", "etc/c.ctr");
        write_file("usr/d.ctr", IMG);
        make_symlink("/nonexistent/d.ctr", "etc/d.ctr");

        UnitLoader *l = loader3();
        Unit *u = load(l, "a");
        assert_int_equal(u->load_state, UNIT_LOAD_MASKED);
        assert_null(u->effective_text);
        char *t = NULL;
        assert_int_equal(unit_cat(u, &t), -ENOENT);
        unit_free(u);

        u = load(l, "b"); /* empty file masks */
        assert_int_equal(u->load_state, UNIT_LOAD_MASKED);
        unit_free(u);

        u = load(l, "c"); /* masked without any unit */
        assert_int_equal(u->load_state, UNIT_LOAD_MASKED);
        unit_free(u);

        u = load(l, "d"); /* a dangling symlink is skipped with a warning */
        assert_loaded(u);
        assert_int_equal(u->n_warnings, 1);
        unit_free(u);
        unit_loader_free(l);
}

static void test_dropins(void **state)
{
        write_file("usr/a-b-c.ctr", IMG "HostName=base\nEnvironment=BASE=1\n");
        /* the unit's own directory, in two search dirs */
        write_file("usr/a-b-c.ctr.d/10-x.conf", "[Container]\nEnvironment=X=usr\n");
        write_file("etc/a-b-c.ctr.d/10-x.conf", "[Container]\nEnvironment=X=etc\n"); /* shadows usr's */
        write_file("run/a-b-c.ctr.d/30-z.conf", "[Container]\nHostName=from-run\n");
        /* prefix dirs */
        write_file("usr/a-b-.ctr.d/20-y.conf", "[Container]\nEnvironment=Y=ab\n");
        write_file("usr/a-.ctr.d/20-y.conf", "[Container]\nEnvironment=Y=a\n"); /* shadowed by a-b- */
        write_file("usr/a-.ctr.d/25-a.conf", "[Container]\nEnvironment=A=1\n");
        /* top-level, and a masked one */
        write_file("usr/ctr.d/05-all.conf", "[Container]\nLabel=all=1\n");
        write_file("usr/ctr.d/40-masked.conf", "[Container]\nHostName=never\n");
        make_symlink("/dev/null", "etc/ctr.d/40-masked.conf");
        /* ignored files */
        write_file("usr/a-b-c.ctr.d/.hidden.conf", "[Container]\nHostName=hidden\n");
        write_file("usr/a-b-c.ctr.d/50-notconf.txt", "[Container]\nHostName=txt\n");
        write_file("usr/a-b-c.ctr.d/60-x.conf.ignore", "[Container]\nHostName=ignore\n");
        /* a drop-in for the .container family applies too */
        write_file("usr/a-b-c.container.d/35-q.conf", "[Container]\nEnvironment=Q=1\n");

        UnitLoader *l = loader3();
        Unit *u = load(l, "a-b-c");
        assert_loaded_clean(u);
        assert_string_equal(u->config.hostname, "from-run");
        assert_strv_eq(u->config.environment, STRV("BASE=1", "X=etc", "Y=ab", "A=1", "Q=1"));
        assert_strv_eq(u->config.labels, STRV("all=1"));

        /* merge order: lexical by file name, regardless of directory */
        _cleanup_free_ char *d0 = tp("usr/ctr.d/05-all.conf"), *d1 = tp("etc/a-b-c.ctr.d/10-x.conf"),
                            *d2 = tp("usr/a-b-.ctr.d/20-y.conf"), *d3 = tp("usr/a-.ctr.d/25-a.conf"),
                            *d4 = tp("run/a-b-c.ctr.d/30-z.conf"),
                            *d5 = tp("usr/a-b-c.container.d/35-q.conf");
        assert_strv_eq(u->dropin_paths, STRV(d0, d1, d2, d3, d4, d5));

        /* cat: the fragment then each drop-in, with '# path' headers */
        _cleanup_free_ char *text = NULL, *frag = tp("usr/a-b-c.ctr");
        assert_int_equal(unit_cat(u, &text), 0);
        _cleanup_free_ char *want = strprintf(
                "# %s\n" IMG "HostName=base\nEnvironment=BASE=1\n\n# %s\n[Container]\nLabel=all=1\n", frag,
                d0);
        assert_true(startswith(text, want) != NULL);
        assert_non_null(strstr(text, "\n# "));
        unit_free(u);

        /* diagnostics in a drop-in name the drop-in */
        write_file("etc/a-b-c.ctr.d/90-bad.conf", "[Container]\nMemory=lots\n");
        u = load(l, "a-b-c");
        _cleanup_free_ char *bad = tp("etc/a-b-c.ctr.d/90-bad.conf");
        _cleanup_free_ char *want_text = strprintf("%s:2: error: Invalid memory size 'lots'", bad);
        assert_int_equal(u->load_state, UNIT_LOAD_ERROR);
        assert_string_equal(u->load_error, want_text);
        unit_free(u);
        unit_loader_free(l);
}

static void test_templates(void **state)
{
        write_file("usr/w@.ctr", IMG "HostName=w-%i\nEnvironment=I=%i N=%N H=%H M=%m B=%b "
                                     "V=%v\n[Install]\nWantedBy=multi-user.target\n");
        write_file("usr/w@.ctr.d/10-t.conf", "[Container]\nEnvironment=T=template\n");
        write_file("usr/w@blue.ctr.d/20-i.conf", "[Container]\nEnvironment=T=instance\n");
        make_symlink("w@.ctr", "usr/w@linked.ctr");
        write_file("usr/w@special.ctr", IMG "HostName=special\n");

        UnitLoader *l = loader3();
        Unit *u = load(l, "w@blue");
        assert_loaded_clean(u);
        assert_string_equal(u->name, "w@blue");
        assert_string_equal(u->prefix, "w");
        assert_string_equal(u->instance, "blue");
        assert_false(u->is_template);
        _cleanup_free_ char *tpl = tp("usr/w@.ctr");
        assert_string_equal(u->fragment_path, tpl);
        assert_string_equal(u->config.hostname, "w-blue");
        assert_strv_eq(u->config.environment, STRV("I=blue", "N=w@blue", "H=host.example", "M=0123abcd",
                                                   "B=b00t", "V=6.1.0", "T=instance"));
        assert_true(u->enabled);
        unit_free(u);

        /* an instance file (symlink to the template) */
        u = load(l, "w@linked");
        assert_loaded_clean(u);
        assert_string_equal(u->config.hostname, "w-linked");
        _cleanup_free_ char *lk = tp("usr/w@linked.ctr");
        assert_string_equal(u->fragment_path, lk);
        unit_free(u);

        /* an instance with its own file */
        u = load(l, "w@special");
        assert_string_equal(u->config.hostname, "special");
        unit_free(u);

        /* the template itself */
        u = load(l, "w@");
        assert_loaded_clean(u);
        assert_true(u->is_template);
        assert_string_equal(u->config.hostname, "w-" UNIT_TEMPLATE_CHECK_INSTANCE);
        assert_false(u->enabled);
        unit_free(u);

        /* no template: not found */
        u = load(l, "nothing@x");
        assert_int_equal(u->load_state, UNIT_LOAD_NOT_FOUND);
        unit_free(u);
        unit_loader_free(l);
}

static void test_load_all(void **state)
{
        write_file("etc/web.ctr", IMG "[Install]\nWantedBy=multi-user.target\n");
        write_file("usr/web.ctr", "[Container]\nBroken\n");
        write_file("usr/job.ctr", IMG);
        write_file("run/bad.ctr", IMG "Memory=x\n");
        make_symlink("/dev/null", "etc/masked.ctr");
        write_file("usr/masked.ctr", IMG);
        write_file("usr/t@.ctr", IMG "[Install]\nWantedBy=multi-user.target\nDefaultInstance=first\n");
        make_symlink("t@.ctr", "usr/t@second.ctr");
        write_file("usr/q.container", IMG);
        write_file("usr/bad name.ctr", IMG);
        write_file("usr/.hidden.ctr", IMG);
        write_file("usr/x.ctr.ignore", IMG);
        write_file("usr/notes.txt", "hello");
        assert_int_equal(mkdir_p(tmp_root, 0755), 0);
        _cleanup_free_ char *dirunit = tp("usr/dir.ctr");
        assert_int_equal(mkdir_p(dirunit, 0755), 0);

        UnitLoader *l = loader3();
        UnitSet *set = NULL;
        Error e = ERROR_INIT;
        assert_int_equal(unit_loader_load_all(l, &set, &e), 0);

        const char *want[] = {"bad", "job", "masked", "q", "t@", "t@first", "t@second", "web"};
        assert_int_equal(set->n_units, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_string_equal(set->units[i]->name, want[i]);

        assert_int_equal(unit_set_find(set, "bad")->load_state, UNIT_LOAD_ERROR);
        assert_int_equal(unit_set_find(set, "job.ctr")->load_state, UNIT_LOAD_LOADED);
        assert_int_equal(unit_set_find(set, "masked")->load_state, UNIT_LOAD_MASKED);
        assert_true(unit_set_find(set, "web")->enabled);
        assert_false(unit_set_find(set, "job")->enabled);
        assert_true(unit_set_find(set, "t@")->is_template);
        assert_false(unit_set_find(set, "t@")->enabled);
        assert_true(unit_set_find(set, "t@first")->enabled);
        assert_true(unit_set_find(set, "t@second")->enabled);
        assert_null(unit_set_find(set, "nope"));
        assert_null(unit_set_find(set, "bad name"));

        /* the bad file name is reported on the set */
        assert_int_equal(set->n_diags, 1);
        assert_non_null(strstr(set->diags[0].text, "bad name.ctr: error: Invalid unit file name"));
        unit_set_free(set);

        /* reload comparison: unchanged → equal; changed file → different */
        UnitSet *s1 = NULL, *s2 = NULL;
        assert_int_equal(unit_loader_load_all(l, &s1, NULL), 0);
        write_file("usr/job.ctr", IMG "HostName=changed\n");
        assert_int_equal(unit_loader_load_all(l, &s2, NULL), 0);
        assert_true(unit_equal(unit_set_find(s1, "web"), unit_set_find(s2, "web")));
        assert_false(unit_equal(unit_set_find(s1, "job"), unit_set_find(s2, "job")));
        assert_int_not_equal(unit_set_find(s1, "job")->content_hash, unit_set_find(s2, "job")->content_hash);
        unit_set_free(s1);
        unit_set_free(s2);
        unit_loader_free(l);

        /* an empty or missing search path is fine */
        char *none[] = {(char *)"/nonexistent-ctrmgr-test", NULL};
        assert_int_equal(unit_loader_new(none, &l), 0);
        assert_int_equal(unit_loader_load_all(l, &set, NULL), 0);
        assert_int_equal(set->n_units, 0);
        unit_set_free(set);
        unit_loader_free(l);
}

static void test_aliases(void **state)
{
        write_file("usr/web.ctr", IMG "HostName=web\n");
        make_symlink("web.ctr", "usr/www.ctr");         /* alias in the same directory */
        make_symlink("../usr/web.ctr", "etc/site.ctr"); /* alias across search directories */
        write_file("elsewhere/other.ctr", IMG "HostName=other\n");
        _cleanup_free_ char *other = tp("elsewhere/other.ctr");
        make_symlink(other, "etc/linked.ctr"); /* outside the search path: a linked unit file */

        UnitLoader *l = loader3();
        Unit *u = load(l, "www");
        assert_loaded_clean(u);
        assert_string_equal(u->name, "web");
        assert_strv_eq(u->aliases, STRV("www"));
        unit_free(u);

        u = load(l, "linked");
        assert_loaded_clean(u);
        assert_string_equal(u->name, "linked");
        assert_string_equal(u->config.hostname, "other");
        assert_null(u->aliases);
        unit_free(u);

        /* load-all: one unit "web" with both aliases, no duplicate containers */
        UnitSet *set = NULL;
        assert_int_equal(unit_loader_load_all(l, &set, NULL), 0);
        assert_int_equal(set->n_units, 2);
        assert_string_equal(set->units[0]->name, "linked");
        assert_string_equal(set->units[1]->name, "web");
        assert_int_equal(strv_length(set->units[1]->aliases), 2);
        assert_true(strv_contains(set->units[1]->aliases, "www"));
        assert_true(strv_contains(set->units[1]->aliases, "site"));
        assert_ptr_equal(unit_set_find(set, "site.ctr"), set->units[1]);
        unit_set_free(set);
        unit_loader_free(l);
}

static void test_load_file(void **state)
{
        write_file("elsewhere/app.ctr", IMG "HostName=file\n");
        write_file("elsewhere/app.ctr.d/10.conf", "[Container]\nEnvironment=BESIDE=1\n");
        write_file("etc/app.ctr.d/20.conf", "[Container]\nEnvironment=SEARCH=1\n");
        write_file("etc/app.ctr", IMG "HostName=search-path\n");

        UnitLoader *l = loader3();
        _cleanup_free_ char *p = tp("elsewhere/app.ctr");
        Unit *u = NULL;
        Error e = ERROR_INIT;
        assert_int_equal(unit_loader_load_file(l, p, &u, &e), 0);
        assert_loaded_clean(u);
        assert_string_equal(u->name, "app");
        assert_string_equal(u->fragment_path, p);
        assert_string_equal(u->config.hostname, "file");
        assert_strv_eq(u->config.environment, STRV("BESIDE=1", "SEARCH=1"));
        unit_free(u);

        _cleanup_free_ char *missing = tp("elsewhere/none.ctr");
        assert_int_equal(unit_loader_load_file(l, missing, &u, &e), 0);
        assert_int_equal(u->load_state, UNIT_LOAD_NOT_FOUND);
        unit_free(u);

        _cleanup_free_ char *wrong = tp("elsewhere/app.txt");
        assert_int_equal(unit_loader_load_file(l, wrong, &u, &e), -EINVAL);
        error_done(&e);
        unit_loader_free(l);
}

static void test_environment_file(void **state)
{
        write_file("env/app.env", "# comment\n; also\nA=1\nexport B=\"two words\"\n  C = 'x' "
                                  "\nD=multi\\\nline\nA=override\n\n");
        _cleanup_free_ char *p = tp("env/app.env");
        char **env = strv_new("Z=0", "A=old", NULL);
        Error e = ERROR_INIT;
        assert_int_equal(unit_environment_file_read(p, &env, &e), 0);
        assert_strv_eq(env, STRV("Z=0", "A=override", "B=two words", "C=x", "D=multiline"));
        strv_free(env);
        env = NULL;

        assert_int_equal(unit_environment_file_read("-/nonexistent/x.env", &env, &e), 0);
        assert_null(env);
        assert_true(unit_environment_file_read("/nonexistent/x.env", &env, &e) < 0);
        error_done(&e);

        write_file("env/bad.env", "1A=x\n");
        _cleanup_free_ char *b = tp("env/bad.env");
        assert_int_equal(unit_environment_file_read(b, &env, &e), -EINVAL);
        assert_non_null(strstr(error_message(&e), "invalid variable name"));
        error_done(&e);
        strv_free(env);
}

static void test_corpus(void **state)
{
        /* tests/data/units/good loads clean, every unit */
        const char *data = getenv("CTRMGR_TEST_DATA");
        if (!data)
                skip();
        _cleanup_free_ char *good = path_join(data, "units", "good");
        char *dirs[] = {good, NULL};
        UnitLoader *l = NULL;
        UnitSet *set = NULL;
        assert_int_equal(unit_loader_new(dirs, &l), 0);
        assert_int_equal(unit_loader_load_all(l, &set, NULL), 0);
        assert_true(set->n_units >= 6);
        for (size_t i = 0; i < set->n_units; i++) {
                Unit *u = set->units[i];
                if (u->load_state != UNIT_LOAD_LOADED || u->n_errors > 0) {
                        print_message("unit %s\n", u->name);
                        dump_diags(u);
                        fail();
                }
        }
        Unit *w = unit_set_find(set, "web");
        assert_non_null(w);
        assert_true(w->enabled);
        assert_true(w->config.memory_max.set);
        assert_strv_eq(w->config.labels, STRV("managed-by=ctrmgr"));
        Unit *s = unit_set_find(set, "sleeper");
        assert_non_null(s);
        assert_int_equal(s->config.timeout_start_usec, 900 * USEC_PER_SEC);
        assert_true(unit_set_find(set, "worker@one") != NULL);
        Unit *j = unit_set_find(set, "job");
        assert_strv_eq(j->config.exec, STRV("sh", "-c", "echo start;  date"));
        unit_set_free(set);
        unit_loader_free(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_comments),
                cmocka_unit_test(test_whitespace),
                cmocka_unit_test(test_continuation),
                cmocka_unit_test(test_bom_crlf),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_bad_bytes),
                cmocka_unit_test(test_sections),
                cmocka_unit_test(test_keys_unknown),
                cmocka_unit_test(test_malformed_lines),
                cmocka_unit_test(test_repeat_and_reset),
                cmocka_unit_test(test_quoting),
                cmocka_unit_test(test_escapes),
                cmocka_unit_test(test_specifiers),
                cmocka_unit_test(test_diag_format),
                cmocka_unit_test(test_bad_values),
                cmocka_unit_test(test_good_values),
                cmocka_unit_test(test_unit_section),
                cmocka_unit_test(test_image_rootfs),
                cmocka_unit_test(test_exec_entrypoint),
                cmocka_unit_test(test_process),
                cmocka_unit_test(test_storage),
                cmocka_unit_test(test_security),
                cmocka_unit_test(test_resources),
                cmocka_unit_test(test_lifecycle),
                cmocka_unit_test(test_service),
                cmocka_unit_test(test_install),
                cmocka_unit_test(test_names),
                cmocka_unit_test_setup_teardown(test_search_path, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_masking, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_dropins, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_templates, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_load_all, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_aliases, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_load_file, setup_tmp, teardown_tmp),
                cmocka_unit_test_setup_teardown(test_environment_file, setup_tmp, teardown_tmp),
                cmocka_unit_test(test_corpus),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
