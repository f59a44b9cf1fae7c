/*
 * rvc_index_build: clustered synthetic feature rows become an IndexIVFFlat file that
 * rvc_index_load (the faiss-layout reader) gives back row for row; nlist follows the official
 * formula (and is 1 where it would be 0); rows land in the list of their nearest centroid, so
 * well-separated clusters are not mixed; very large sets are reduced to 10000 centres first; a
 * failed write leaves no file behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "models/rvc/rvc_index.h"
#include "models/rvc/rvc_index_build.h"

static char DIR_[64];

static int setup(void **state)
{
    snprintf(DIR_, sizeof DIR_, "/tmp/vcs-index-build-XXXXXX");
    return mkdtemp(DIR_) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", DIR_);
    return system(cmd) == 0 ? 0 : -1;
}

/* n rows of dim around `clusters` centres far apart (centre c at 10·c on every axis). */
static float *clustered(int64_t n, int dim, int clusters, unsigned seed)
{
    float *x = malloc(sizeof(float) * (size_t)n * (size_t)dim);
    srand(seed);
    for (int64_t i = 0; i < n; i++)
        for (int j = 0; j < dim; j++) x[i * dim + j] = 10.0f * (float)(i % clusters) + (float)((double)rand() / RAND_MAX) - 0.5f;
    return x;
}

static void build_and_read_back(const float *rows, int64_t n, int dim, const char *path)
{
    vc_error err = {0};
    if (rvc_index_build(rows, n, dim, 7, path, &err) != 0) fail_msg("build: %s", err.message);
    float *bank;
    int got_n, got_dim;
    if (rvc_index_load(path, &bank, &got_n, &got_dim, &err) != 0) fail_msg("load: %s", err.message);
    assert_int_equal(got_n, n);
    assert_int_equal(got_dim, dim);
    assert_memory_equal(bank, rows, sizeof(float) * (size_t)n * (size_t)dim);
    free(bank);
}

static void nlist_follows_the_official_formula(void **state)
{
    assert_int_equal(rvc_index_nlist(100000), 2564);    /* min(16·316.2, 2564) */
    assert_int_equal(rvc_index_nlist(10000), 256);      /* min(1600, 256) */
    assert_int_equal(rvc_index_nlist(1000000), 16000);  /* min(16000, 25641) */
    assert_int_equal(rvc_index_nlist(39), 1);
    assert_int_equal(rvc_index_nlist(38), 1);           /* 0 by the formula: one list instead */
    assert_int_equal(rvc_index_nlist(1), 1);
}

static void clustered_rows_round_trip(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/added.index", DIR_);
    float *x = clustered(3000, 16, 5, 1); /* nlist = min(876, 76) = 76 */
    build_and_read_back(x, 3000, 16, path);
    free(x);
    x = clustered(20, 8, 2, 2); /* fewer than 39 rows: one list */
    build_and_read_back(x, 20, 8, path);
    free(x);
}

/* Lists read from the file: with 4 far-apart clusters and 10 lists, no list mixes two clusters. */
static void lists_do_not_mix_clusters(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/lists.index", DIR_);
    int64_t n = 400; /* nlist = min(320, 10) = 10 ≥ 4 clusters */
    int dim = 4;
    float *x = clustered(n, dim, 4, 3);
    vc_error err;
    assert_int_equal(rvc_index_build(x, n, dim, 11, path, &err), 0);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    unsigned char *buf = malloc((size_t)size);
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    /* IwFl header 37 bytes, nlist, nprobe, IxF2 header 37, count, centroids, map 9, "ilar" … */
    uint64_t nlist, floats, sizes[64] = {0};
    memcpy(&nlist, buf + 37, 8);
    assert_int_equal(nlist, 10);
    memcpy(&floats, buf + 37 + 16 + 37, 8);
    assert_int_equal(floats, nlist * (uint64_t)dim);
    const unsigned char *p = buf + 37 + 16 + 37 + 8 + floats * 4 + 9;
    assert_memory_equal(p, "ilar", 4);
    p += 4 + 16;
    if (!memcmp(p, "full", 4)) { for (uint64_t l = 0; l < nlist; l++) memcpy(&sizes[l], p + 12 + 8 * l, 8); p += 12 + 8 * nlist; }
    else { uint64_t m; memcpy(&m, p + 4, 8); for (uint64_t i = 0; i < m; i += 2) { uint64_t l, s; memcpy(&l, p + 12 + 8 * i, 8); memcpy(&s, p + 20 + 8 * i, 8); sizes[l] = s; } p += 12 + 8 * m; }
    uint64_t total = 0;
    for (uint64_t l = 0; l < nlist; l++) {
        const unsigned char *ids = p + sizes[l] * dim * 4; /* int64 ids, not aligned in the file */
        int64_t first, id;
        memcpy(&first, ids, 8);
        for (uint64_t i = 1; i < sizes[l]; i++) {
            memcpy(&id, ids + 8 * i, 8);
            assert_int_equal(id % 4, first % 4);
        }
        p += sizes[l] * (dim * 4 + 8);
        total += sizes[l];
    }
    assert_int_equal(total, n);
    assert_ptr_equal(p, buf + size);
    free(buf);
    free(x);
}

static void large_sets_are_reduced_to_centres(void **state)
{
    char path[128];
    snprintf(path, sizeof path, "%s/big.index", DIR_);
    int64_t n = RVC_INDEX_REDUCE_ABOVE + 1;
    int dim = 2;
    float *x = clustered(n, dim, 50, 4);
    vc_error err;
    assert_int_equal(rvc_index_build(x, n, dim, 5, path, &err), 0);
    float *bank;
    int got_n, got_dim;
    assert_int_equal(rvc_index_load(path, &bank, &got_n, &got_dim, &err), 0);
    assert_int_equal(got_n, RVC_INDEX_REDUCED);
    assert_int_equal(got_dim, dim);
    for (int64_t i = 0; i < (int64_t)got_n * dim; i++) assert_true(bank[i] > -1.0f && bank[i] < 491.0f); /* inside the data */
    free(bank);
    free(x);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void failures_leave_no_file(void **state)
{
    float *x = clustered(100, 4, 2, 5);
    vc_error err;
    assert_int_equal(rvc_index_build(x, 100, 4, 1, "/nonexistent-dir/added.index", &err), -1);
    assert_int_equal(err.code, VC_ERR_IO);
    char sub[128], path[160];
    snprintf(sub, sizeof sub, "%s/sub", DIR_);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/keep", sub);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof path, "%s/added.index", sub);
    assert_int_equal(mkdir(path, 0755), 0); /* the target is a folder: rename fails after writing */
    assert_int_equal(rvc_index_build(x, 100, 4, 1, path, &err), -1);
    assert_int_equal(err.code, VC_ERR_IO);
    assert_int_equal(count_entries(sub), 2); /* keep + the folder: no temp file left */
    assert_int_equal(rvc_index_build(x, 0, 4, 1, path, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_REQUEST);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nlist_follows_the_official_formula),
        cmocka_unit_test(clustered_rows_round_trip),
        cmocka_unit_test(lists_do_not_mix_clusters),
        cmocka_unit_test(large_sets_are_reduced_to_centres),
        cmocka_unit_test(failures_leave_no_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
