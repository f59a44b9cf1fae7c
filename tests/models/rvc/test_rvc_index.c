/*
 * faiss index reader: files laid out as faiss' index_write.cpp writes IndexIVFFlat (full and
 * sparse list sizes) and IndexFlatL2 give back every vector at its id; damaged files are refused.
 * (No faiss here to produce real files: these are built by hand from the documented layout.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/rvc/rvc_index.h"

#define D 4
#define N 5

static void w64(FILE *f, uint64_t v) { fwrite(&v, 8, 1, f); }
static void w32(FILE *f, int32_t v) { fwrite(&v, 4, 1, f); }

static void header(FILE *f, const char *fourcc, int d, int64_t ntotal)
{
    fwrite(fourcc, 1, 4, f);
    w32(f, d);
    w64(f, (uint64_t)ntotal);
    w64(f, 1 << 20);
    w64(f, 1 << 20);
    fputc(1, f);  /* is_trained */
    w32(f, 1);    /* METRIC_L2 */
}

static float value(int id, int j) { return (float)(id * 10 + j); }

/* two lists: ids {3, 0} and {4, 1, 2} */
static void write_ivf(const char *path, int sparse, int cut)
{
    FILE *f = fopen(path, "wb");
    header(f, "IwFl", D, N);
    w64(f, 2); w64(f, 1);                      /* nlist, nprobe */
    header(f, "IxF2", D, 2);                   /* quantizer with 2 centroids */
    w64(f, 2 * D);                             /* xb vector: count of floats */
    for (int i = 0; i < 2 * D; i++) { float c = 0.5f; fwrite(&c, 4, 1, f); }
    fputc(0, f);                               /* direct map: none, */
    w64(f, 0);                                 /* and its empty id array */
    fwrite("ilar", 1, 4, f);
    w64(f, 2); w64(f, D * 4);
    if (sparse) { fwrite("sprs", 1, 4, f); w64(f, 4); w64(f, 0); w64(f, 2); w64(f, 1); w64(f, 3); }
    else { fwrite("full", 1, 4, f); w64(f, 2); w64(f, 2); w64(f, 3); }
    int lists[2][3] = {{3, 0, -1}, {4, 1, 2}};
    for (int l = 0; l < 2; l++) {
        int n = l ? 3 : 2;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < D; j++) { float v = value(lists[l][i], j); fwrite(&v, 4, 1, f); }
        for (int i = 0; i < n; i++) w64(f, (uint64_t)lists[l][i]);
    }
    fclose(f);
    if (cut) { FILE *g = fopen(path, "r+b"); fseek(g, 0, SEEK_END); long sz = ftell(g); fclose(g); truncate(path, sz - 9); }
}

static void check_bank(const char *path)
{
    float *bank;
    int n, d;
    vc_error err;
    assert_int_equal(rvc_index_load(path, &bank, &n, &d, &err), 0);
    assert_int_equal(n, N);
    assert_int_equal(d, D);
    for (int id = 0; id < N; id++)
        for (int j = 0; j < D; j++) assert_true(bank[id * D + j] == value(id, j));
    free(bank);
}

static void reads_ivf_flat_full_and_sparse(void **state)
{
    char path[] = "/tmp/vcs-index-XXXXXX";
    close(mkstemp(path));
    write_ivf(path, 0, 0);
    check_bank(path);
    write_ivf(path, 1, 0);
    check_bank(path);
    unlink(path);
}

static void reads_flat_index(void **state)
{
    char path[] = "/tmp/vcs-index-XXXXXX";
    close(mkstemp(path));
    FILE *f = fopen(path, "wb");
    header(f, "IxF2", D, N);
    w64(f, N * D);
    for (int id = 0; id < N; id++)
        for (int j = 0; j < D; j++) { float v = value(id, j); fwrite(&v, 4, 1, f); }
    fclose(f);
    check_bank(path);
    unlink(path);
}

static void refuses_damaged_files(void **state)
{
    char path[] = "/tmp/vcs-index-XXXXXX";
    close(mkstemp(path));
    float *bank;
    int n, d;
    vc_error err;
    write_ivf(path, 0, 1);
    assert_int_equal(rvc_index_load(path, &bank, &n, &d, &err), -1);
    assert_int_equal(err.code, VC_ERR_INVALID_FORMAT);
    FILE *f = fopen(path, "wb");
    fputs("IxHQ not an index we read", f);
    fclose(f);
    assert_int_equal(rvc_index_load(path, &bank, &n, &d, &err), -1);
    unlink(path);
    assert_int_equal(rvc_index_load("/nonexistent.index", &bank, &n, &d, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_ivf_flat_full_and_sparse), cmocka_unit_test(reads_flat_index), cmocka_unit_test(refuses_damaged_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
