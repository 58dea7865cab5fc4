/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "common/common.h"

static void test_error_chain(void **state)
{
        _cleanup_error_ Error e = ERROR_INIT;
        assert_false(error_isset(&e));
        assert_int_equal(error_set(&e, -EACCES, "mount `%s`", "/proc"), -EACCES);
        assert_string_equal(error_message(&e), "mount `/proc`: Permission denied");
        assert_int_equal(error_prefix(&e, -EACCES, "setting up rootfs"), -EACCES);
        assert_string_equal(error_message(&e), "setting up rootfs: mount `/proc`: Permission denied");
        assert_int_equal(e.code, -EACCES);

        Error f = ERROR_INIT;
        error_prefix(&f, -ENOENT, "opening %s", "x");
        assert_string_equal(error_message(&f), "opening x: No such file or directory");
        error_set_msg(&f, -EINVAL, "linux.namespaces[2].type: unknown namespace \"foo\"");
        assert_string_equal(error_message(&f), "linux.namespaces[2].type: unknown namespace \"foo\"");
        error_move(&e, &f);
        assert_false(error_isset(&f));
        assert_string_equal(error_message(&e), "linux.namespaces[2].type: unknown namespace \"foo\"");
        /* A NULL Error is allowed everywhere. */
        assert_int_equal(error_set(NULL, -EIO, "x"), -EIO);
        assert_int_equal(error_prefix(NULL, -EIO, "x"), -EIO);
}

static void test_strv(void **state)
{
        _cleanup_strv_free_ char **l = strv_split("  a b\tc  ", " \t");
        assert_int_equal(strv_length(l), 3);
        assert_string_equal(l[2], "c");
        assert_int_equal(strv_extend(&l, "b"), 0);
        strv_uniq(l);
        assert_int_equal(strv_length(l), 3);
        _cleanup_free_ char *j = strv_join(l, ",");
        assert_string_equal(j, "a,b,c");
        assert_true(strv_contains(l, "b"));
        assert_int_equal(strv_remove(l, "b"), 1);
        assert_false(strv_contains(l, "b"));
        _cleanup_strv_free_ char **n = strv_new("z", "y", NULL);
        strv_sort(n);
        assert_string_equal(n[0], "y");
        _cleanup_strv_free_ char **c = strv_copy(n);
        assert_int_equal(strv_extend_strv(&c, l), 0);
        assert_int_equal(strv_length(c), 4);
        assert_true(strv_isempty(NULL));
}

static void test_strings(void **state)
{
        _cleanup_free_ char *a = strjoin("a", "/", "b");
        assert_string_equal(a, "a/b");
        assert_string_equal(startswith("foobar", "foo"), "bar");
        assert_null(startswith("foobar", "bar"));
        assert_string_equal(endswith("foobar", "bar"), "bar");
        char s[] = "  x y \n";
        assert_string_equal(strstrip(s), "x y");
        assert_true(utf8_is_valid("grüß"));
        assert_false(utf8_is_valid("\xc0\xaf"));
        assert_false(utf8_is_valid("\xed\xa0\x80"));
        _cleanup_free_ char *e = cescape("a\nb\x01");
        assert_string_equal(e, "a\\nb\\x01");
        _cleanup_free_ char *x = NULL;
        assert_int_equal(strextend_with_separator(&x, ", ", "a"), 0);
        assert_int_equal(strextend_with_separator(&x, ", ", "b"), 0);
        assert_string_equal(x, "a, b");
}

static void test_paths(void **state)
{
        assert_true(path_is_normalized("/a/b"));
        assert_true(path_is_normalized("a"));
        assert_false(path_is_normalized("/a//b"));
        assert_false(path_is_normalized("/a/../b"));
        assert_false(path_is_normalized("/a/"));
        assert_false(path_is_safe("../x"));
        assert_false(path_is_safe("a/../../x"));
        assert_true(path_is_safe("a/..b"));
        char p[] = "//a/./b///c/.";
        assert_string_equal(path_simplify(p), "/a/b/c");
        char q[] = "./.";
        assert_string_equal(path_simplify(q), ".");
        _cleanup_free_ char *j = path_join("/a/", "/b", "c");
        assert_string_equal(j, "/a/b/c");
        assert_true(filename_is_valid("x.ctr"));
        assert_false(filename_is_valid(".."));
        assert_false(filename_is_valid("a/b"));
        assert_string_equal(path_basename("/x/y.ctr"), "y.ctr");
        _cleanup_free_ char *d = NULL;
        assert_int_equal(path_dirname("/x/y", &d), 0);
        assert_string_equal(d, "/x");
        assert_true(path_startswith_dir("/a/b", "/a"));
        assert_false(path_startswith_dir("/ab", "/a"));
        assert_true(path_startswith_dir("/a", "/a"));
}

static void test_numbers(void **state)
{
        uint64_t u;
        int i;
        uint32_t u32;
        assert_int_equal(safe_atou64("18446744073709551615", &u), 0);
        assert_int_equal(safe_atou64("18446744073709551616", &u), -ERANGE);
        assert_int_equal(safe_atou64("-1", &u), -EINVAL);
        assert_int_equal(safe_atou64(" 1", &u), -EINVAL);
        assert_int_equal(safe_atou64("1x", &u), -EINVAL);
        assert_int_equal(safe_atou64("", &u), -EINVAL);
        assert_int_equal(safe_atoi("-42", &i), 0);
        assert_int_equal(i, -42);
        assert_int_equal(safe_atoi("2147483648", &i), -ERANGE);
        assert_int_equal(safe_atou32("4294967296", &u32), -ERANGE);
        mode_t m;
        assert_int_equal(parse_mode("0755", &m), 0);
        assert_int_equal(m, 0755);
        assert_int_equal(parse_mode("0789", &m), -EINVAL);
        assert_int_equal(parse_boolean("YES"), 1);
        assert_int_equal(parse_boolean("t"), 1);
        assert_int_equal(parse_boolean("off"), 0);
        assert_int_equal(parse_boolean("maybe"), -EINVAL);
}

static void test_timespan(void **state)
{
        uint64_t t;
        assert_int_equal(parse_timespan("50", USEC_PER_SEC, &t), 0);
        assert_true(t == 50 * USEC_PER_SEC);
        assert_int_equal(parse_timespan("1min 30s", USEC_PER_SEC, &t), 0);
        assert_true(t == 90 * USEC_PER_SEC);
        assert_int_equal(parse_timespan("55s500ms", USEC_PER_SEC, &t), 0);
        assert_true(t == 55500 * USEC_PER_MSEC);
        assert_int_equal(parse_timespan("1.5h", USEC_PER_SEC, &t), 0);
        assert_true(t == 90 * USEC_PER_MINUTE);
        assert_int_equal(parse_timespan("300ms20s 5day", USEC_PER_SEC, &t), 0);
        assert_true(t == 300 * USEC_PER_MSEC + 20 * USEC_PER_SEC + 5 * USEC_PER_DAY);
        assert_int_equal(parse_timespan("1m30s", USEC_PER_SEC, &t), 0); /* Go duration */
        assert_true(t == 90 * USEC_PER_SEC);
        assert_int_equal(parse_timespan("2M", USEC_PER_SEC, &t), 0); /* months, case matters */
        assert_true(t == 2 * 2629800ULL * USEC_PER_SEC);
        assert_int_equal(parse_timespan("infinity", USEC_PER_SEC, &t), 0);
        assert_true(t == USEC_INFINITY);
        assert_int_equal(parse_timespan("10", USEC_PER_MSEC, &t), 0);
        assert_true(t == 10 * USEC_PER_MSEC);
        assert_int_equal(parse_timespan("5 µs", USEC_PER_SEC, &t), 0);
        assert_true(t == 5);
        assert_int_equal(parse_timespan("", USEC_PER_SEC, &t), -EINVAL);
        assert_int_equal(parse_timespan("-5s", USEC_PER_SEC, &t), -ERANGE);
        assert_int_equal(parse_timespan("5x", USEC_PER_SEC, &t), -EINVAL);
        assert_int_equal(parse_timespan("5mx", USEC_PER_SEC, &t), -EINVAL);
        assert_int_equal(parse_timespan("99999999999999999999s", USEC_PER_SEC, &t), -ERANGE);
        assert_int_equal(parse_timespan("9999999999999y", USEC_PER_SEC, &t), -ERANGE);

        char buf[FORMAT_TIMESPAN_MAX];
        assert_string_equal(format_timespan(buf, sizeof buf, 90 * USEC_PER_SEC), "1min 30s");
        assert_string_equal(format_timespan(buf, sizeof buf, USEC_INFINITY), "infinity");
        assert_string_equal(format_timespan(buf, sizeof buf, 1500 * USEC_PER_MSEC), "1s 500ms");
        assert_string_equal(format_timespan(buf, sizeof buf, 0), "0");
}

static void test_size(void **state)
{
        uint64_t b;
        assert_int_equal(parse_size("512M", &b), 0);
        assert_true(b == 512ULL << 20);
        assert_int_equal(parse_size("1.5G", &b), 0);
        assert_true(b == 3ULL << 29);
        assert_int_equal(parse_size("20g", &b), 0);
        assert_true(b == 20ULL << 30);
        assert_int_equal(parse_size("100m", &b), 0);
        assert_true(b == 100ULL << 20);
        assert_int_equal(parse_size("1kb", &b), 0);
        assert_true(b == 1024);
        assert_int_equal(parse_size("512b", &b), 0);
        assert_true(b == 512);
        assert_int_equal(parse_size("4096", &b), 0);
        assert_true(b == 4096);
        assert_int_equal(parse_size("1G 512M", &b), 0);
        assert_true(b == (1ULL << 30) + (512ULL << 20));
        assert_int_equal(parse_size("infinity", &b), 0);
        assert_true(b == SIZE_INFINITY);
        assert_int_equal(parse_size("1.5", &b), -EINVAL);
        assert_int_equal(parse_size("12Q", &b), -EINVAL);
        assert_int_equal(parse_size("-1M", &b), -ERANGE);
        assert_int_equal(parse_size("17E", &b), -ERANGE);
        assert_int_equal(parse_size("", &b), -EINVAL);

        char buf[FORMAT_BYTES_MAX];
        assert_string_equal(format_bytes(buf, sizeof buf, 3ULL << 29), "1.5G");
        assert_string_equal(format_bytes(buf, sizeof buf, 512ULL << 20), "512M");
        assert_string_equal(format_bytes(buf, sizeof buf, 100), "100B");
}

static void test_names(void **state)
{
        assert_int_equal(signal_from_string("SIGTERM"), SIGTERM);
        assert_int_equal(signal_from_string("term"), SIGTERM);
        assert_int_equal(signal_from_string("9"), SIGKILL);
        assert_int_equal(signal_from_string("RTMIN+3"), SIGRTMIN + 3);
        assert_int_equal(signal_from_string("SIGFOO"), -EINVAL);
        assert_int_equal(signal_from_string("0"), -EINVAL);
        assert_int_equal(signal_from_string("999"), -EINVAL);
        assert_string_equal(signal_to_string(SIGHUP), "SIGHUP");
        assert_int_equal(capability_from_name("CAP_NET_ADMIN"), 12);
        assert_int_equal(capability_from_name("net_admin"), 12);
        assert_int_equal(capability_from_name("CAP_NOPE"), -EINVAL);
        assert_string_equal(capability_to_name(0), "CAP_CHOWN");
        assert_int_equal(capability_last_known(), 40);
}

/* A tree with escapes: root/{dir, abs -> /etc, rel -> ../../.., loop -> loop, inner -> dir} */
static char *make_tree(void)
{
        char tmpl[] = "/tmp/test-common-XXXXXX";
        char *d = mkdtemp(tmpl);
        assert_non_null(d);
        char *root = strdup(d);
        int fd = open(root, O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mkdirat(fd, "dir", 0755), 0);
        assert_int_equal(symlinkat("/etc", fd, "abs"), 0);
        assert_int_equal(symlinkat("../../..", fd, "rel"), 0);
        assert_int_equal(symlinkat("loop", fd, "loop"), 0);
        assert_int_equal(symlinkat("dir", fd, "inner"), 0);
        assert_int_equal(symlinkat("/dir/new", fd, "dangling"), 0);
        close(fd);
        return root;
}

static void check_resolve(bool fallback)
{
        _cleanup_free_ char *root = make_tree();
        _cleanup_close_ int rfd = open(root, O_DIRECTORY | O_CLOEXEC);
        openat_resolve_force_fallback(fallback);

        /* IN_ROOT: an absolute symlink resolves against the root, so /etc is root/etc (absent). */
        assert_int_equal(openat_resolve(rfd, "abs/passwd", O_RDONLY, 0, CTR_RESOLVE_IN_ROOT), -ENOENT);
        /* ".." is clamped at the root: rel/dir is root/dir. */
        int fd = openat_resolve(rfd, "rel/dir", O_PATH | O_DIRECTORY, 0, CTR_RESOLVE_IN_ROOT);
        assert_true(fd >= 0);
        struct stat a, b;
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(fstatat(rfd, "dir", &b, 0), 0);
        assert_true(a.st_ino == b.st_ino);
        close(fd);
        /* BENEATH: escaping is refused. */
        assert_int_equal(openat_resolve(rfd, "abs", O_PATH, 0, CTR_RESOLVE_BENEATH), -EXDEV);
        assert_int_equal(openat_resolve(rfd, "../x", O_PATH, 0, CTR_RESOLVE_BENEATH), -EXDEV);
        assert_int_equal(openat_resolve(rfd, "loop", O_RDONLY, 0, CTR_RESOLVE_IN_ROOT), -ELOOP);
        assert_int_equal(
                openat_resolve(rfd, "inner", O_PATH, 0, CTR_RESOLVE_NO_SYMLINKS | CTR_RESOLVE_IN_ROOT),
                -ELOOP);
        /* O_CREAT through a dangling absolute symlink creates the target inside the root. */
        fd = openat_resolve(rfd, "dangling", O_WRONLY | O_CREAT, 0644, CTR_RESOLVE_IN_ROOT);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(fstatat(rfd, "dir/new", &a, 0), 0);
        /* O_NOFOLLOW on the last component gets the link itself with O_PATH. */
        fd = openat_resolve(rfd, "inner", O_PATH | O_NOFOLLOW, 0, CTR_RESOLVE_IN_ROOT);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &a), 0);
        assert_true(S_ISLNK(a.st_mode));
        close(fd);

        /* mkdir -p inside the root, through symlinks, never outside it. */
        int dfd = -1;
        /* A dangling symlink on the way is not created through. */
        assert_int_equal(mkdirat_p_in_root(rfd, "abs/created/deep", 0755, NULL), -ENOENT);
        assert_int_equal(mkdirat(rfd, "etc", 0755), 0);
        assert_int_equal(mkdirat_p_in_root(rfd, "abs/created/deep", 0755, &dfd), 0);
        close(dfd);
        assert_int_equal(fstatat(rfd, "etc/created/deep", &a, 0), 0);
        assert_int_equal(mkdirat_p_in_root(rfd, "rel/x/y", 0755, NULL), 0);
        assert_int_equal(fstatat(rfd, "x/y", &a, 0), 0);

        openat_resolve_force_fallback(false);
        assert_int_equal(rm_rf_at(AT_FDCWD, root), 0);
        assert_int_equal(access(root, F_OK), -1);
}

static void test_resolve_native(void **state)
{
        check_resolve(false);
}

static void test_resolve_fallback(void **state)
{
        check_resolve(true);
}

static void test_files(void **state)
{
        char tmpl[] = "/tmp/test-common-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        _cleanup_close_ int dfd = open(tmpl, O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(write_file_atomic_at(dfd, "state.json", "{}", 2, 0600), 0);
        assert_int_equal(write_file_atomic_at(dfd, "state.json", "{\"a\":1}", 7, 0600), 0);
        _cleanup_free_ char *c = NULL;
        size_t n;
        assert_int_equal(read_full_file_at(dfd, "state.json", 100, &c, &n), 0);
        assert_string_equal(c, "{\"a\":1}");
        assert_int_equal(n, 7);
        struct stat st;
        assert_int_equal(fstatat(dfd, "state.json", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        /* Size limit. */
        char *big = NULL;
        assert_int_equal(read_full_file_at(dfd, "state.json", 3, &big, NULL), -EFBIG);
        /* Refuses to replace a symlink (it would redirect the write). */
        assert_int_equal(symlinkat("/etc/passwd", dfd, "link"), 0);
        assert_int_equal(write_file_atomic_at(dfd, "link", "x", 1, 0600), -ELOOP);
        /* No temporary files are left behind. */
        DIR *d = opendir(tmpl);
        struct dirent *de;
        unsigned count = 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
                        count++;
        closedir(d);
        assert_int_equal(count, 2);
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpl), 0);
        assert_int_equal(rm_rf_at(AT_FDCWD, tmpl), 0); /* missing is success */
}

static void test_cloexec(void **state)
{
        int fd = open("/dev/null", O_RDONLY);
        assert_true(fd >= 3);
        assert_int_equal(fd_cloexec(fd, false), 0);
        assert_int_equal(fds_cloexec_from(3), 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_chain),    cmocka_unit_test(test_strv),
                cmocka_unit_test(test_strings),        cmocka_unit_test(test_paths),
                cmocka_unit_test(test_numbers),        cmocka_unit_test(test_timespan),
                cmocka_unit_test(test_size),           cmocka_unit_test(test_names),
                cmocka_unit_test(test_resolve_native), cmocka_unit_test(test_resolve_fallback),
                cmocka_unit_test(test_files),          cmocka_unit_test(test_cloexec),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
