/*
 * voiceclone inspect FILE [--json]: what a weight file holds (tensor names, dtypes, shapes)
 * and its non-tensor metadata, read through the same safe loaders the models use. A bad or
 * hostile file gets a clear message and exit status 1; nothing in it is ever executed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "nn/weights.h"

static const char *dtype_name(nn_dtype d)
{
    static const char *const names[NN_DTYPE_COUNT] = {"F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"};
    return (int)d >= 0 && d < NN_DTYPE_COUNT ? names[d] : "?";
}

static json_t *tensor_json(const char *name, const nn_tensor *t)
{
    json_t *shape = json_array();
    for (int d = 0; d < t->ndim; d++) json_array_append_new(shape, json_integer(t->shape[d]));
    return json_pack("{s:s,s:s,s:o}", "name", name, "dtype", dtype_name(t->dtype), "shape", shape);
}

static int print_json(const char *path, const nn_weights *w)
{
    json_t *tensors = json_array();
    for (size_t i = 0; i < nn_weights_count(w); i++) {
        const char *name = nn_weights_name(w, i);
        json_array_append_new(tensors, tensor_json(name, nn_weights_get(w, name)));
    }
    json_t *doc = json_pack("{s:s,s:o,s:O}", "file", path, "tensors", tensors, "metadata", nn_weights_meta(w));
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    if (text) puts(text);
    free(text);
    json_decref(doc);
    return 0;
}

static int print_text(const char *path, const nn_weights *w)
{
    size_t n = nn_weights_count(w);
    long long params = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = nn_weights_name(w, i);
        const nn_tensor *t = nn_weights_get(w, name);
        long long k = 1;
        printf("%-64s %-5s [", name, dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) { printf("%s%lld", d ? ", " : "", (long long)t->shape[d]); k *= t->shape[d]; }
        printf("]\n");
        params += k;
    }
    char *meta = json_dumps(nn_weights_meta(w), JSON_COMPACT);
    printf("%s: %zu tensors, %lld values\nmetadata: %.2000s\n", path, n, params, meta ? meta : "{}");
    free(meta);
    return 0;
}

int cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) as_json = 1;
        else if (!path) path = argv[i];
        else { fprintf(stderr, "usage: voiceclone inspect FILE [--json]\n"); return 2; }
    }
    if (!path) { fprintf(stderr, "usage: voiceclone inspect FILE [--json]\n"); return 2; }
    vc_error err = {0};
    nn_weights *w;
    if (nn_weights_open(path, &w, &err) != 0) {
        fprintf(stderr, "voiceclone inspect: %s\n", err.message);
        return 1;
    }
    int rc = as_json ? print_json(path, w) : print_text(path, w);
    nn_weights_free(w);
    return rc;
}
