/*
 * The file layer's local back end (src/store/files.h): key rules, put/read round trips, that a
 * reader never sees a partly written object under its key (a writer process replaces it while
 * this one reads), staged files invisible until published, copies across file systems, listing,
 * removal of trees, and errors returned as values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/files.h"
#include "store/store.h"

typedef struct fixture {
    char dir[256];
    file_store *f;
} fixture;

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "/tmp/vcs-files-test-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    vc_error err;
    assert_int_equal(files_local_open(&x->f, x->dir, &err), 0);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    fixture *x = *state;
    files_close(x->f);
    vc_remove_tree(x->dir, NULL);
    free(x);
    return 0;
}

/* Reads key whole into a malloc'd buffer; *n gets the size the open reported. */
static char *read_key(file_store *f, const char *key, int64_t *n)
{
    int fd;
    vc_error err;
    if (files_open_read(f, key, &fd, n, &err)) return NULL;
    char *buf = malloc((size_t)*n + 1);
    int64_t got = 0;
    for (ssize_t r; got < *n && (r = read(fd, buf + got, (size_t)(*n - got))) > 0;) got += r;
    close(fd);
    assert_int_equal(got, *n);
    return buf;
}

static int count_temps(const char *dir)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "find %s -name '*.tmp.*' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    assert_int_equal(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

static void test_key_rules(void **state)
{
    static const char *const GOOD[] = {"a", "outputs/u1/audio_1.wav", "models/m_1/model.index", "x/.y", "a..b"};
    static const char *const BAD[] = {"", "/etc/passwd", "a/", "a//b", "../x", "a/../b", "./a", "a/.", "a b",
                                      "a\\b", "ä", "a\nb"};
    for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++) assert_true(files_key_valid(GOOD[i]));
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) assert_false(files_key_valid(BAD[i]));
    assert_false(files_key_valid(NULL));
    char longkey[FILES_KEY_MAX + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_false(files_key_valid(longkey));
}

static void test_put_read_overwrite(void **state)
{
    fixture *x = *state;
    vc_error err;
    int64_t n = -1;
    assert_int_equal(files_exists(x->f, "outputs/u/a.bin", &n, &err), 0);
    assert_int_equal(files_put_bytes(x->f, "outputs/u/a.bin", "hello", 5, &err), 0);
    assert_int_equal(files_exists(x->f, "outputs/u/a.bin", &n, &err), 1);
    assert_int_equal(n, 5);
    char *b = read_key(x->f, "outputs/u/a.bin", &n);
    assert_memory_equal(b, "hello", 5);
    free(b);
    assert_int_equal(files_put_bytes(x->f, "outputs/u/a.bin", "hi", 2, &err), 0);
    b = read_key(x->f, "outputs/u/a.bin", &n);
    assert_int_equal(n, 2);
    assert_memory_equal(b, "hi", 2);
    free(b);
    assert_int_equal(files_put_bytes(x->f, "outputs/u/empty", "", 0, &err), 0);
    assert_int_equal(files_exists(x->f, "outputs/u/empty", &n, &err), 1);
    assert_int_equal(n, 0);
    char path[600];
    assert_int_equal(files_local_path(x->f, "outputs/u/a.bin", path, sizeof path, &err), 0);
    char want[600];
    snprintf(want, sizeof want, "%s/outputs/u/a.bin", x->dir);
    assert_string_equal(path, want);
    assert_int_equal(count_temps(x->dir), 0);
}

#define SMALL (256 * 1024)
#define LARGE (3 * 1024 * 1024)

/* A child replaces key over and over with SMALL bytes of 'a' or LARGE bytes of 'b' (alternating
 * between put_bytes and a staged put_file); the parent reads meanwhile. A writer that wrote in
 * place would show a short or mixed file. */
static void test_reader_never_sees_a_partial_object(void **state)
{
    fixture *x = *state;
    vc_error err;
    char *small = malloc(SMALL), *large = malloc(LARGE);
    memset(small, 'a', SMALL);
    memset(large, 'b', LARGE);
    assert_int_equal(files_put_bytes(x->f, "outputs/u/race.bin", small, SMALL, &err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int bad = 0;
        for (int i = 0; i < 60 && !bad; i++) {
            if (i % 2 == 0) {
                bad = files_put_bytes(x->f, "outputs/u/race.bin", i % 4 ? small : large, i % 4 ? SMALL : LARGE, &err);
                continue;
            }
            char stage[700];
            bad = files_stage_path(x->f, "outputs/u/race.bin", stage, sizeof stage, &err);
            FILE *o = bad ? NULL : fopen(stage, "w");
            if (o) {
                fwrite(i % 4 == 1 ? large : small, 1, i % 4 == 1 ? LARGE : SMALL, o);
                fclose(o);
            }
            if (!bad) bad = files_put_file(x->f, "outputs/u/race.bin", stage, &err);
        }
        _exit(bad ? 1 : 0);
    }
    int reads = 0, st = 0;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        int64_t n = 0;
        char *b = read_key(x->f, "outputs/u/race.bin", &n);
        assert_non_null(b);
        assert_true(n == SMALL || n == LARGE);
        assert_memory_equal(b, n == SMALL ? small : large, (size_t)n);
        reads++;
        free(b);
    }
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(reads > 0);
    assert_int_equal(count_temps(x->dir), 0);
    free(small);
    free(large);
}

typedef struct seen { char keys[8][128]; int n; } seen;

static int collect(const char *key, int64_t size, void *ctx)
{
    seen *s = ctx;
    if (s->n < 8) snprintf(s->keys[s->n++], sizeof s->keys[0], "%s:%lld", key, (long long)size);
    return 0;
}

/* Bytes written to a staged path are not under the key until put_file; the staged file is gone after. */
static void test_staged_file_invisible_until_put(void **state)
{
    fixture *x = *state;
    vc_error err;
    char stage[700];
    assert_int_equal(files_stage_path(x->f, "models/m1/model.pth", stage, sizeof stage, &err), 0);
    FILE *o = fopen(stage, "w");
    fputs("weights", o);
    fclose(o);
    assert_int_equal(files_exists(x->f, "models/m1/model.pth", NULL, &err), 0);
    seen s = {0};
    assert_int_equal(files_list(x->f, "models", collect, &s, &err), 0);
    assert_int_equal(s.n, 0); /* the staged file is no object */
    assert_int_equal(files_put_file(x->f, "models/m1/model.pth", stage, &err), 0);
    assert_int_not_equal(access(stage, F_OK), 0);
    int64_t n;
    char *b = read_key(x->f, "models/m1/model.pth", &n);
    assert_int_equal(n, 7);
    assert_memory_equal(b, "weights", 7);
    free(b);
}

/* A staged file on another file system (/dev/shm is tmpfs) is copied in, then removed. */
static void test_put_from_another_file_system(void **state)
{
    fixture *x = *state;
    vc_error err;
    struct stat a, b;
    char src[] = "/dev/shm/vcs-files-src-XXXXXX";
    int fd = mkstemp(src);
    if (fd < 0) skip();
    assert_int_equal(write(fd, "across", 6), 6);
    close(fd);
    assert_int_equal(stat(src, &a), 0);
    assert_int_equal(stat(x->dir, &b), 0);
    assert_int_equal(files_put_file(x->f, "outputs/u/x.bin", src, &err), 0);
    assert_int_not_equal(access(src, F_OK), 0);
    int64_t n;
    char *buf = read_key(x->f, "outputs/u/x.bin", &n);
    assert_int_equal(n, 6);
    assert_memory_equal(buf, "across", 6);
    free(buf);
    assert_int_equal(count_temps(x->dir), 0);
    if (a.st_dev == b.st_dev) print_message("note: /dev/shm and /tmp are one file system here: the copy path was not taken\n");
}

static int stop_at_first(const char *key, int64_t size, void *ctx) { (void)key, (void)size, (void)ctx; return 7; }

static int has(const seen *s, const char *k)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->keys[i], k)) return 1;
    return 0;
}

static void test_list_and_remove_tree(void **state)
{
    fixture *x = *state;
    vc_error err;
    assert_int_equal(files_put_bytes(x->f, "models/a/model.pth", "12", 2, &err), 0);
    assert_int_equal(files_put_bytes(x->f, "models/a/sub/model.index", "123", 3, &err), 0);
    assert_int_equal(files_put_bytes(x->f, "models/ab/config.json", "{}", 2, &err), 0);
    char stage[700];
    assert_int_equal(files_stage_path(x->f, "models/a/in-flight", stage, sizeof stage, &err), 0);
    seen s = {0};
    assert_int_equal(files_list(x->f, "models/a", collect, &s, &err), 0);
    assert_int_equal(s.n, 2); /* not models/ab/…, not the staged temp file */
    assert_true(has(&s, "models/a/model.pth:2"));
    assert_true(has(&s, "models/a/sub/model.index:3"));
    assert_int_equal(files_list(x->f, "models", stop_at_first, NULL, &err), 7);
    seen none = {0};
    assert_int_equal(files_list(x->f, "nothing/here", collect, &none, &err), 0);
    assert_int_equal(none.n, 0);
    assert_int_equal(files_remove(x->f, "models/a", &err), 0);
    assert_int_equal(files_exists(x->f, "models/a/model.pth", NULL, &err), 0);
    assert_int_equal(files_exists(x->f, "models/ab/config.json", NULL, &err), 1);
    assert_int_equal(files_remove(x->f, "models/a", &err), 0); /* missing is fine */
    assert_int_equal(files_remove(x->f, "models/ab/config.json", &err), 0);
    assert_int_equal(files_exists(x->f, "models/ab/config.json", NULL, &err), 0);
}

static void test_errors_are_values(void **state)
{
    fixture *x = *state;
    vc_error err = {0};
    int fd = 99;
    int64_t n;
    assert_int_equal(files_open_read(x->f, "outputs/u/missing.wav", &fd, &n, &err), -1);
    assert_int_equal(err.code, VC_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "outputs/u/missing.wav"));
    assert_int_equal(fd, -1);
    err.code = VC_OK;
    assert_int_equal(files_put_bytes(x->f, "../escape", "x", 1, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
    assert_int_equal(files_remove(x->f, "/", &err), -1);
    assert_int_equal(files_list(x->f, "a/../..", collect, NULL, &err), -1);
    /* a folder where the object should be: refused, nothing changed */
    assert_int_equal(files_put_bytes(x->f, "outputs/dir/inner", "1", 1, &err), 0);
    err.code = VC_OK;
    assert_int_equal(files_put_bytes(x->f, "outputs/dir", "2", 1, &err), -1);
    assert_int_equal(err.code, VC_ERR_IO);
    assert_int_equal(files_exists(x->f, "outputs/dir/inner", NULL, &err), 1);
    /* an object where a folder is needed */
    assert_int_equal(files_put_bytes(x->f, "outputs/dir/inner/deeper", "3", 1, &err), -1);
    assert_int_equal(err.code, VC_ERR_IO);
    /* put_file of a missing source, and of a valid one under a bad key (the source is consumed) */
    assert_int_equal(files_put_file(x->f, "outputs/u/y", "/nonexistent/vcs-src", &err), -1);
    assert_int_equal(err.code, VC_ERR_NOT_FOUND);
    char src[300];
    snprintf(src, sizeof src, "%s/src.bin", x->dir);
    FILE *o = fopen(src, "w");
    fputs("z", o);
    fclose(o);
    assert_int_equal(files_put_file(x->f, "outputs//y", src, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
    assert_int_not_equal(access(src, F_OK), 0);
    assert_int_equal(count_temps(x->dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_rules),
        cmocka_unit_test_setup_teardown(test_put_read_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_never_sees_a_partial_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staged_file_invisible_until_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_from_another_file_system, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_remove_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_are_values, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
