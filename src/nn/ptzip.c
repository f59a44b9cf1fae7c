/*
 * PyTorch zip checkpoints (.pth/.pt/.bin written by torch.save) without running any code.
 *
 * A checkpoint is a zip archive (entries stored, not compressed) holding <root>/data.pkl, a
 * pickle that describes the object graph, and <root>/data/<key>, the raw bytes of each
 * storage. torch.load executes the pickle, which lets a hostile file run anything. Here the
 * pickle is interpreted by a small stack machine that only knows data: numbers, strings,
 * tuples, lists, dicts, and an allow-list of globals that rebuild tensors
 * (torch._utils._rebuild_tensor_v2, _rebuild_parameter, OrderedDict, the typed storage
 * classes). Every other global becomes an inert record {"__class__": "module.name", "args":
 * …, "state": …}: an argparse Namespace around fairseq's hubert_base.pt is kept as data and
 * the state dict beside it is still found. Nothing is ever called.
 *
 * The resulting object is flattened: nested dicts become dotted names ("weight.enc_p.…"),
 * tensors go into the weight table (storage bytes viewed in place when possible), everything
 * else into the JSON metadata. Caps bound the stack, memo, nesting and sizes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/checked.h"
#include "nn/weights_internal.h"

#define MAX_STACK 100000
#define MAX_MEMO 1000000
#define MAX_DEPTH 64
#define MAX_VALUES 500000 /* real checkpoints hold a few tens of thousands; each value is ~200 bytes */
#define MAX_ZIP_ENTRIES 1000000
/* Total work of turning the object graph into metadata and names: every key, value and element
 * visited counts one, a shared (memoised) object counts its whole size each time it is reached.
 * A pickle that references one list twice per level (a DAG) is refused at this count instead of
 * growing without bound; real checkpoints use a few thousand. */
#define MAX_META_NODES 200000
#define MAX_DIM_VALUE (1ll << 40)

/* ---- zip directory --------------------------------------------------------------------- */

typedef struct zip_entry {
    const char *name; /* points into the mapping, not NUL-terminated */
    size_t name_len;
    const unsigned char *data;
    uint64_t size;
} zip_entry;

typedef struct zip_dir {
    zip_entry *entries;
    size_t count;
} zip_dir;

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* ZIP64 extra field: sizes/offset replace 0xFFFFFFFF fields, in order. */
static void apply_zip64(const unsigned char *extra, size_t len, uint64_t *usize, uint64_t *csize, uint64_t *offset)
{
    for (size_t i = 0; i + 4 <= len;) {
        uint16_t id = rd16(extra + i), sz = rd16(extra + i + 2);
        if (i + 4 + sz > len) return;
        if (id == 1) {
            const unsigned char *p = extra + i + 4, *end = p + sz;
            if (*usize == 0xFFFFFFFFu && p + 8 <= end) { *usize = rd64(p); p += 8; }
            if (*csize == 0xFFFFFFFFu && p + 8 <= end) { *csize = rd64(p); p += 8; }
            if (*offset == 0xFFFFFFFFu && p + 8 <= end) { *offset = rd64(p); }
            return;
        }
        i += 4 + sz;
    }
}

static int find_central_directory(const unsigned char *m, size_t n, uint64_t *cd_off, uint64_t *cd_count, vc_error *err)
{
    if (n < 22) return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: file too short");
    size_t lo = n > 22 + 65535 ? n - 22 - 65535 : 0;
    for (size_t i = n - 22 + 1; i-- > lo;) {
        if (rd32(m + i) != 0x06054b50) continue;
        *cd_count = rd16(m + i + 10);
        *cd_off = rd32(m + i + 16);
        if ((*cd_off == 0xFFFFFFFFu || *cd_count == 0xFFFF) && i >= 20 && rd32(m + i - 20) == 0x07064b50) {
            uint64_t z64 = rd64(m + i - 20 + 8);
            if (!ck_fits(z64, 56, n) || rd32(m + z64) != 0x06064b50) return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: bad ZIP64 record");
            *cd_count = rd64(m + z64 + 32);
            *cd_off = rd64(m + z64 + 48);
        }
        return 0;
    }
    return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: no end-of-central-directory record");
}

static int read_entry(const unsigned char *m, size_t n, size_t *pos, zip_entry *e, vc_error *err)
{
    size_t p = *pos;
    if (p + 46 > n || rd32(m + p) != 0x02014b50) return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: damaged central directory");
    uint16_t method = rd16(m + p + 10), name_len = rd16(m + p + 28), extra_len = rd16(m + p + 30), comment = rd16(m + p + 32);
    uint64_t csize = rd32(m + p + 20), usize = rd32(m + p + 24), offset = rd32(m + p + 42);
    if (p + 46 + (size_t)name_len + extra_len > n) return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: entry runs past the file");
    apply_zip64(m + p + 46 + name_len, extra_len, &usize, &csize, &offset);
    e->name = (const char *)m + p + 46;
    e->name_len = name_len;
    if (method != 0) return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: entry '%.*s' is compressed (torch.save never compresses)", (int)name_len, e->name);
    if (csize != usize || offset > n || n - offset < 30 || rd32(m + offset) != 0x04034b50)
        return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: entry '%.*s' has a bad local header", (int)name_len, e->name);
    uint64_t data = offset + 30 + rd16(m + offset + 26) + rd16(m + offset + 28); /* offset <= n - 30: cannot wrap */
    if (data > n || usize > n - data) return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: entry '%.*s' runs past the file", (int)name_len, e->name);
    e->data = m + data;
    e->size = usize;
    *pos = p + 46 + name_len + extra_len + comment;
    return 0;
}

static int zip_read_dir(const unsigned char *m, size_t n, zip_dir *z, vc_error *err)
{
    uint64_t off = 0, count = 0;
    if (find_central_directory(m, n, &off, &count, err) != 0) return -1;
    /* every directory record is at least 46 bytes: a count the file cannot hold is a lie */
    if (count > MAX_ZIP_ENTRIES || off > n || count > (n - off) / 46) return vc_fail(err, VC_ERR_INVALID_FORMAT, "zip: implausible directory");
    z->entries = calloc(count ? count : 1, sizeof(zip_entry));
    if (!z->entries) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    size_t pos = off;
    for (z->count = 0; z->count < count; z->count++)
        if (read_entry(m, n, &pos, &z->entries[z->count], err) != 0) return -1;
    return 0;
}

/* Entry whose name is <anything>/<suffix> (torch puts everything under one root folder). */
static const zip_entry *zip_find(const zip_dir *z, const char *suffix)
{
    size_t sl = strlen(suffix);
    for (size_t i = 0; i < z->count; i++) {
        const zip_entry *e = &z->entries[i];
        if (e->name_len > sl && !memcmp(e->name + e->name_len - sl, suffix, sl) && e->name[e->name_len - sl - 1] == '/') {
            const char *slash = memchr(e->name, '/', e->name_len);
            if (slash && (size_t)(slash - e->name) == e->name_len - sl - 1) return e;
        }
    }
    return NULL;
}

/* ---- pickle values --------------------------------------------------------------------- */

typedef enum pv_kind { PV_NONE, PV_BOOL, PV_INT, PV_FLOAT, PV_STR, PV_BYTES, PV_TUPLE, PV_LIST, PV_DICT, PV_GLOBAL,
                       PV_OBJECT, PV_STORAGE, PV_TENSOR, PV_MARK } pv_kind;

typedef struct pv pv;
struct pv {
    pv_kind kind;
    int64_t i;
    double f;
    char *s;          /* STR/BYTES (len in i), GLOBAL "module.name" */
    pv **items;       /* TUPLE/LIST items, DICT keys and values interleaved, OBJECT [class, args, state] */
    size_t n, cap;
    /* STORAGE: s = key, i = dtype; TENSOR: items[0] = storage, shape/stride below */
    int ndim;
    int64_t shape[NN_MAX_DIMS], stride[NN_MAX_DIMS], offset;
    /* metadata conversion: the JSON of a container converted once (shared by every later
     * reference, never rebuilt), its size in nodes, and a flag that catches cycles */
    json_t *json;
    uint64_t json_nodes;
    int visiting;
};

typedef struct unpickler {
    const unsigned char *p, *end;
    pv **stack;
    size_t sp;
    pv **memo;
    size_t memo_cap, memo_count; /* memo_count = len(memo) in Python terms, for MEMOIZE */
    pv **all; /* every value, freed at the end (the graph may share nodes through the memo) */
    size_t n_all, cap_all;
    vc_error *err;
} unpickler;

static pv *pv_new(unpickler *u, pv_kind kind)
{
    if (u->n_all == u->cap_all) {
        if (u->n_all >= MAX_VALUES) return NULL;
        size_t cap = u->cap_all ? u->cap_all * 2 : 1024;
        pv **grown = realloc(u->all, sizeof(pv *) * cap);
        if (!grown) return NULL;
        u->all = grown;
        u->cap_all = cap;
    }
    pv *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->kind = kind;
    u->all[u->n_all++] = v;
    return v;
}

static int pv_push_item(pv *c, pv *item)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        pv **grown = realloc(c->items, sizeof(pv *) * cap);
        if (!grown) return -1;
        c->items = grown;
        c->cap = cap;
    }
    c->items[c->n++] = item;
    return 0;
}

static void unpickler_free(unpickler *u)
{
    for (size_t i = 0; i < u->n_all; i++) { json_decref(u->all[i]->json); free(u->all[i]->s); free(u->all[i]->items); free(u->all[i]); }
    free(u->all); free(u->stack); free(u->memo);
}

static int fail(unpickler *u, const char *what) { return vc_fail(u->err, VC_ERR_INVALID_FORMAT, "pickle: %s", what); }

static int push(unpickler *u, pv *v)
{
    if (!v) return vc_fail(u->err, VC_ERR_NOMEM, "pickle: out of memory or too many objects");
    if (u->sp >= MAX_STACK) return fail(u, "stack too deep");
    u->stack[u->sp++] = v;
    return 0;
}

static pv *pop(unpickler *u) { return u->sp ? u->stack[--u->sp] : NULL; }
static pv *top(unpickler *u) { return u->sp ? u->stack[u->sp - 1] : NULL; }

static int need(unpickler *u, size_t n) { return (size_t)(u->end - u->p) >= n ? 0 : fail(u, "truncated"); }

static size_t mark_index(unpickler *u)
{
    for (size_t i = u->sp; i-- > 0;)
        if (u->stack[i]->kind == PV_MARK) return i;
    return (size_t)-1;
}

/* Pops everything down to the last MARK into a new container of kind. */
static int collect_to_mark(unpickler *u, pv_kind kind, pv **out)
{
    size_t m = mark_index(u);
    if (m == (size_t)-1) return fail(u, "missing MARK");
    pv *c = pv_new(u, kind);
    if (!c) return push(u, NULL);
    for (size_t i = m + 1; i < u->sp; i++)
        if (pv_push_item(c, u->stack[i]) != 0) return push(u, NULL);
    u->sp = m;
    *out = c;
    return 0;
}

static int memo_put(unpickler *u, size_t idx, pv *v)
{
    if (!v || idx >= MAX_MEMO) return fail(u, "memo index out of range");
    if (idx >= u->memo_cap) {
        size_t cap = u->memo_cap ? u->memo_cap : 64;
        while (cap <= idx) cap *= 2;
        pv **grown = realloc(u->memo, sizeof(pv *) * cap);
        if (!grown) return vc_fail(u->err, VC_ERR_NOMEM, "out of memory");
        memset(grown + u->memo_cap, 0, sizeof(pv *) * (cap - u->memo_cap));
        u->memo = grown;
        u->memo_cap = cap;
    }
    if (!u->memo[idx]) u->memo_count++;
    u->memo[idx] = v;
    return 0;
}

static int memo_get(unpickler *u, size_t idx)
{
    if (idx >= u->memo_cap || !u->memo[idx]) return fail(u, "memo reference to nothing");
    return push(u, u->memo[idx]);
}

static int push_string(unpickler *u, pv_kind kind, size_t len)
{
    if (need(u, len) != 0) return -1;
    pv *v = pv_new(u, kind);
    if (!v || !(v->s = malloc(len + 1))) return push(u, NULL);
    memcpy(v->s, u->p, len);
    v->s[len] = '\0';
    v->i = (int64_t)len;
    u->p += len;
    return push(u, v);
}

static int push_int(unpickler *u, int64_t x)
{
    pv *v = pv_new(u, PV_INT);
    if (v) v->i = x;
    return push(u, v);
}

static int push_global(unpickler *u, const char *module, size_t ml, const char *name, size_t nl)
{
    pv *v = pv_new(u, PV_GLOBAL);
    if (!v || !(v->s = malloc(ml + nl + 2))) return push(u, NULL);
    snprintf(v->s, ml + nl + 2, "%.*s.%.*s", (int)ml, module, (int)nl, name);
    return push(u, v);
}

/* ---- the allow-list: what REDUCE / BINPERSID may build ---------------------------------- */

static int storage_dtype(const char *global, nn_dtype *d)
{
    static const struct { const char *name; nn_dtype dtype; } map[] = {
        {"torch.FloatStorage", NN_F32}, {"torch.HalfStorage", NN_F16},  {"torch.BFloat16Storage", NN_BF16},
        {"torch.DoubleStorage", NN_F64}, {"torch.LongStorage", NN_I64}, {"torch.IntStorage", NN_I32},
        {"torch.ShortStorage", NN_I16}, {"torch.CharStorage", NN_I8},   {"torch.ByteStorage", NN_U8},
        {"torch.BoolStorage", NN_BOOL},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(global, map[i].name)) { *d = map[i].dtype; return 0; }
    return -1;
}

/* ('storage', <StorageType global>, key, location, numel) → STORAGE */
static int persistent_load(unpickler *u, pv *pid)
{
    nn_dtype d;
    if (!pid || pid->kind != PV_TUPLE || pid->n < 5 || pid->items[0]->kind != PV_STR || strcmp(pid->items[0]->s, "storage") ||
        pid->items[1]->kind != PV_GLOBAL || storage_dtype(pid->items[1]->s, &d) != 0 || pid->items[2]->kind != PV_STR)
        return fail(u, "unsupported persistent id (only torch storages are accepted)");
    pv *s = pv_new(u, PV_STORAGE);
    if (!s || !(s->s = strdup(pid->items[2]->s))) return push(u, NULL);
    s->i = d;
    return push(u, s);
}

static int int_tuple(const pv *t, int64_t *out, int *n)
{
    if (!t || t->kind != PV_TUPLE || t->n > NN_MAX_DIMS) return -1;
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->kind != PV_INT || t->items[i]->i < 0 || t->items[i]->i > MAX_DIM_VALUE) return -1;
        out[i] = t->items[i]->i;
    }
    *n = (int)t->n;
    return 0;
}

/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata]) */
static pv *rebuild_tensor(unpickler *u, const pv *args)
{
    if (!args || args->kind != PV_TUPLE || args->n < 4 || args->items[0]->kind != PV_STORAGE || args->items[1]->kind != PV_INT) return NULL;
    pv *t = pv_new(u, PV_TENSOR);
    int nstride;
    if (!t || int_tuple(args->items[2], t->shape, &t->ndim) != 0 || int_tuple(args->items[3], t->stride, &nstride) != 0 ||
        nstride != t->ndim || args->items[1]->i < 0 || args->items[1]->i > MAX_DIM_VALUE)
        return NULL;
    t->offset = args->items[1]->i;
    if (pv_push_item(t, args->items[0]) != 0) return NULL;
    return t;
}

/* Inert record of a call we refuse to make: [class, args, state]. */
static pv *inert_object(unpickler *u, pv *callable, pv *args)
{
    pv *o = pv_new(u, PV_OBJECT);
    if (!o || pv_push_item(o, callable) != 0 || pv_push_item(o, args) != 0) return NULL;
    return o;
}

static int reduce(unpickler *u)
{
    pv *args = pop(u), *callable = pop(u);
    if (!args || !callable) return fail(u, "REDUCE on an empty stack");
    const char *g = callable->kind == PV_GLOBAL ? callable->s : "";
    if (!strcmp(g, "collections.OrderedDict")) return push(u, pv_new(u, PV_DICT));
    if (!strcmp(g, "torch._utils._rebuild_tensor_v2")) {
        pv *t = rebuild_tensor(u, args);
        return t ? push(u, t) : fail(u, "malformed _rebuild_tensor_v2 arguments");
    }
    if (!strcmp(g, "torch._utils._rebuild_parameter") || !strcmp(g, "torch._utils._rebuild_parameter_with_state")) {
        if (args->kind != PV_TUPLE || args->n < 1 || args->items[0]->kind != PV_TENSOR) return fail(u, "malformed _rebuild_parameter");
        return push(u, args->items[0]);
    }
    return push(u, inert_object(u, callable, args));
}

static int build(unpickler *u)
{
    pv *state = pop(u), *obj = top(u);
    if (!state || !obj) return fail(u, "BUILD on an empty stack");
    if (obj->kind == PV_OBJECT && obj->n == 2) return pv_push_item(obj, state) == 0 ? 0 : push(u, NULL);
    return 0; /* e.g. OrderedDict _metadata or tensor hooks: data we do not need */
}

static int set_items(unpickler *u)
{
    size_t m = mark_index(u);
    if (m == (size_t)-1 || m == 0 || (u->sp - m - 1) % 2) return fail(u, "bad SETITEMS");
    pv *d = u->stack[m - 1];
    if (d->kind != PV_DICT) return fail(u, "SETITEMS on a non-dict");
    for (size_t i = m + 1; i < u->sp; i++)
        if (pv_push_item(d, u->stack[i]) != 0) return push(u, NULL);
    u->sp = m;
    return 0;
}

static int append_items(unpickler *u)
{
    size_t m = mark_index(u);
    if (m == (size_t)-1 || m == 0) return fail(u, "bad APPENDS");
    pv *l = u->stack[m - 1];
    if (l->kind != PV_LIST && l->kind != PV_OBJECT) return fail(u, "APPENDS on a non-list");
    for (size_t i = m + 1; i < u->sp; i++)
        if (l->kind == PV_LIST && pv_push_item(l, u->stack[i]) != 0) return push(u, NULL);
    u->sp = m;
    return 0;
}

static int tuple_of(unpickler *u, int n)
{
    if (u->sp < (size_t)n) return fail(u, "TUPLE on a short stack");
    pv *t = pv_new(u, PV_TUPLE);
    if (!t) return push(u, NULL);
    for (int i = n; i > 0; i--)
        if (pv_push_item(t, u->stack[u->sp - (size_t)i]) != 0) return push(u, NULL);
    u->sp -= (size_t)n;
    return push(u, t);
}

static int read_line(unpickler *u, const char **s, size_t *len)
{
    const unsigned char *nl = memchr(u->p, '\n', (size_t)(u->end - u->p));
    if (!nl) return fail(u, "truncated text opcode");
    *s = (const char *)u->p;
    *len = (size_t)(nl - u->p);
    u->p = nl + 1;
    return 0;
}

static int op_global(unpickler *u)
{
    const char *mod = NULL, *name = NULL;
    size_t ml = 0, nl = 0;
    if (read_line(u, &mod, &ml) != 0 || read_line(u, &name, &nl) != 0) return -1;
    return push_global(u, mod, ml, name, nl);
}

static int op_stack_global(unpickler *u)
{
    pv *name = pop(u), *mod = pop(u);
    if (!name || !mod || name->kind != PV_STR || mod->kind != PV_STR) return fail(u, "bad STACK_GLOBAL");
    return push_global(u, mod->s, strlen(mod->s), name->s, strlen(name->s));
}

static int op_long(unpickler *u, size_t n)
{
    if (need(u, n) != 0) return -1;
    if (n > 8) { u->p += n; return push_int(u, 0); } /* beyond int64: not a size we accept anywhere */
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) x |= (uint64_t)u->p[i] << (8 * i);
    if (n && n < 8 && (u->p[n - 1] & 0x80)) x |= ~0ull << (8 * n);
    u->p += n;
    return push_int(u, (int64_t)x);
}

static int op_binfloat(unpickler *u)
{
    if (need(u, 8) != 0) return -1;
    uint64_t b = 0;
    for (int i = 0; i < 8; i++) b = b << 8 | u->p[i];
    u->p += 8;
    pv *v = pv_new(u, PV_FLOAT);
    if (v) memcpy(&v->f, &b, 8);
    return push(u, v);
}

static int step(unpickler *u, int *done)
{
    if (need(u, 1) != 0) return -1;
    unsigned char op = *u->p++;
    size_t len;
    pv *v;
    switch (op) {
    case 0x80: return need(u, 1) == 0 ? (u->p++, 0) : -1;                          /* PROTO */
    case 0x95: return need(u, 8) == 0 ? (u->p += 8, 0) : -1;                       /* FRAME */
    case '.': *done = 1; return 0;                                                 /* STOP */
    case '(': return push(u, pv_new(u, PV_MARK));
    case 'N': return push(u, pv_new(u, PV_NONE));
    case 0x88: case 0x89: v = pv_new(u, PV_BOOL); if (v) v->i = op == 0x88; return push(u, v);
    case '}': return push(u, pv_new(u, PV_DICT));
    case ']': return push(u, pv_new(u, PV_LIST));
    case ')': return push(u, pv_new(u, PV_TUPLE));
    case 0x8f: return push(u, pv_new(u, PV_LIST));                                 /* EMPTY_SET */
    case 'J': if (need(u, 4)) return -1; len = rd32(u->p); u->p += 4; return push_int(u, (int32_t)len);
    case 'K': if (need(u, 1)) return -1; return push_int(u, *u->p++);
    case 'M': if (need(u, 2)) return -1; len = rd16(u->p); u->p += 2; return push_int(u, (int64_t)len);
    case 0x8a: if (need(u, 1)) return -1; len = *u->p++; return op_long(u, len);
    case 0x8b: if (need(u, 4)) return -1; len = rd32(u->p); u->p += 4; return op_long(u, len);
    case 'G': return op_binfloat(u);
    case 0x8c: case 'U': if (need(u, 1)) return -1; len = *u->p++; return push_string(u, PV_STR, len);
    case 'X': case 'T': if (need(u, 4)) return -1; len = rd32(u->p); u->p += 4; return push_string(u, PV_STR, len);
    case 0x8d: case 0x8e: if (need(u, 8)) return -1; len = (size_t)rd64(u->p); u->p += 8; return push_string(u, op == 0x8d ? PV_STR : PV_BYTES, len);
    case 'C': if (need(u, 1)) return -1; len = *u->p++; return push_string(u, PV_BYTES, len);
    case 'B': if (need(u, 4)) return -1; len = rd32(u->p); u->p += 4; return push_string(u, PV_BYTES, len);
    case 'q': if (need(u, 1)) return -1; return memo_put(u, *u->p++, top(u));
    case 'r': if (need(u, 4)) return -1; len = rd32(u->p); u->p += 4; return memo_put(u, len, top(u));
    case 0x94: return memo_put(u, u->memo_count, top(u));                         /* MEMOIZE */
    case 'h': if (need(u, 1)) return -1; return memo_get(u, *u->p++);
    case 'j': if (need(u, 4)) return -1; len = rd32(u->p); u->p += 4; return memo_get(u, len);
    case 't': if (collect_to_mark(u, PV_TUPLE, &v) != 0) return -1; return push(u, v);
    case 'l': if (collect_to_mark(u, PV_LIST, &v) != 0) return -1; return push(u, v);
    case 'd': if (collect_to_mark(u, PV_DICT, &v) != 0) return -1; return push(u, v);
    case 0x91: if (collect_to_mark(u, PV_LIST, &v) != 0) return -1; return push(u, v); /* FROZENSET */
    case 0x85: return tuple_of(u, 1);
    case 0x86: return tuple_of(u, 2);
    case 0x87: return tuple_of(u, 3);
    case 's': { pv *val = pop(u), *key = pop(u), *d = top(u);
                if (!val || !key || !d || d->kind != PV_DICT) return fail(u, "bad SETITEM");
                return (pv_push_item(d, key) || pv_push_item(d, val)) ? push(u, NULL) : 0; }
    case 'u': return set_items(u);
    case 'a': { pv *x = pop(u), *l = top(u);
                if (!x || !l || l->kind != PV_LIST) return fail(u, "bad APPEND");
                return pv_push_item(l, x) ? push(u, NULL) : 0; }
    case 'e': case 0x90: return append_items(u);
    case 'c': return op_global(u);
    case 0x93: return op_stack_global(u);
    case 'R': return reduce(u);
    case 0x81: { pv *args = pop(u), *cls = pop(u); if (!args || !cls) return fail(u, "bad NEWOBJ"); return push(u, inert_object(u, cls, args)); }
    case 0x92: { pv *kw = pop(u), *args = pop(u), *cls = pop(u); (void)kw; if (!args || !cls) return fail(u, "bad NEWOBJ_EX"); return push(u, inert_object(u, cls, args)); }
    case 'b': return build(u);
    case 'Q': return persistent_load(u, pop(u));
    case '0': return pop(u) ? 0 : fail(u, "POP on an empty stack");
    case '1': { size_t m = mark_index(u); if (m == (size_t)-1) return fail(u, "bad POP_MARK"); u->sp = m; return 0; }
    case '2': return top(u) ? push(u, top(u)) : fail(u, "DUP on an empty stack");
    default: {
        char what[64];
        snprintf(what, sizeof what, "unsupported opcode 0x%02x", op);
        return fail(u, what);
    }
    }
}

/* ---- flattening into the weight table ------------------------------------------------- */

typedef struct flatten_ctx {
    nn_weights *w;
    const zip_dir *zip;
    vc_error *err;
    uint64_t nodes;       /* work done so far (see MAX_META_NODES) */
    uint64_t bytes;       /* tensor bytes materialised so far (copies and conversions) */
    uint64_t bytes_limit; /* what the file can plausibly need: a few times its own size */
    int too_big;
} flatten_ctx;

static int count_node(flatten_ctx *c, uint64_t n)
{
    if (ck_add_u64(c->nodes, n, &c->nodes) != 0 || c->nodes > MAX_META_NODES) c->too_big = 1;
    return c->too_big ? -1 : 0;
}

static json_t *to_json(flatten_ctx *c, pv *v, int depth);

static json_t *items_json(flatten_ctx *c, pv *v, int depth)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < v->n && !c->too_big; i++) json_array_append_new(a, to_json(c, v->items[i], depth + 1));
    return a;
}

static json_t *container_json(flatten_ctx *c, pv *v, int depth)
{
    switch (v->kind) {
    case PV_TUPLE: case PV_LIST: return items_json(c, v, depth);
    case PV_DICT: {
        json_t *o = json_object();
        for (size_t i = 0; o && i + 1 < v->n && !c->too_big; i += 2) {
            const pv *k = v->items[i];
            char key[64];
            if (k->kind == PV_STR) json_object_set_new(o, k->s, to_json(c, v->items[i + 1], depth + 1));
            else { snprintf(key, sizeof key, "%lld", (long long)k->i); json_object_set_new(o, key, to_json(c, v->items[i + 1], depth + 1)); }
        }
        return o;
    }
    default: /* PV_OBJECT */
        return json_pack("{s:o,s:o,s:o}", "__class__", to_json(c, v->items[0], depth + 1), "args", to_json(c, v->items[1], depth + 1),
                         "state", v->n > 2 ? to_json(c, v->items[2], depth + 1) : json_null());
    }
}

/* Non-tensor values as inert JSON (tensors inside metadata are described, not loaded). A
 * container reached again (the pickle memo shares it) reuses its first conversion. */
static json_t *to_json(flatten_ctx *c, pv *v, int depth)
{
    if (count_node(c, 1) != 0) return json_null();
    if (depth > MAX_DEPTH) return json_string("<too deep>");
    switch (v->kind) {
    case PV_NONE: return json_null();
    case PV_BOOL: return json_boolean(v->i);
    case PV_INT: return json_integer(v->i);
    case PV_FLOAT: return isfinite(v->f) ? json_real(v->f) : json_string("nan/inf");
    case PV_STR: { json_t *s = json_stringn(v->s, (size_t)v->i); return s ? s : json_string("<not UTF-8>"); }
    case PV_BYTES: return json_pack("{s:I}", "bytes", (json_int_t)v->i);
    case PV_TUPLE: case PV_LIST: case PV_DICT: case PV_OBJECT: {
        if (v->json) return count_node(c, v->json_nodes) == 0 ? json_incref(v->json) : json_null();
        if (v->visiting) return json_string("<cycle>");
        uint64_t before = c->nodes;
        v->visiting = 1;
        json_t *j = container_json(c, v, depth);
        v->visiting = 0;
        if (j && !c->too_big) { v->json = json_incref(j); v->json_nodes = c->nodes - before; }
        return j;
    }
    case PV_GLOBAL: return json_pack("{s:s}", "__global__", v->s);
    case PV_TENSOR: return json_pack("{s:s}", "__tensor__", "skipped");
    default: return json_null();
    }
}

/* Number of elements of a view, or -1 when it overflows (dims are each <= MAX_DIM_VALUE). */
static int64_t product(const int64_t *shape, int n)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        if (ck_mul_i64(p, shape[i], &p) != 0) return -1;
    return p;
}

/* Copies a strided view into contiguous raw bytes of elem size (the view was bounds-checked). */
static void gather_strided(unsigned char *dst, const unsigned char *src, const pv *t, size_t elem, int64_t n)
{
    int64_t idx[NN_MAX_DIMS] = {0};
    for (int64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
        memcpy(dst + (size_t)k * elem, src + (size_t)off * elem, elem);
        for (int d = t->ndim - 1; d >= 0 && ++idx[d] == t->shape[d]; d--) idx[d] = 0;
    }
}

static int is_contiguous(const pv *t)
{
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != s) return 0;
        if (ck_mul_i64(s, t->shape[d], &s) != 0) return 0;
    }
    return 1;
}

/* Last element the view touches + 1, in elements from the storage start; -1 when it overflows. */
static int64_t view_end(const pv *t)
{
    int64_t end = t->offset, span;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 0) return t->offset; /* empty: touches nothing */
        if (ck_mul_i64(t->shape[d] - 1, t->stride[d], &span) != 0 || ck_add_i64(end, span, &end) != 0) return -1;
    }
    return ck_add_i64(end, 1, &end) == 0 ? end : -1;
}

static int add_tensor(flatten_ctx *c, const char *name, const pv *t)
{
    const pv *storage = t->items[0];
    char suffix[300];
    snprintf(suffix, sizeof suffix, "data/%s", storage->s);
    const zip_entry *e = zip_find(c->zip, suffix);
    nn_dtype dtype = (nn_dtype)storage->i;
    size_t elem = nn_dtype_size(dtype);
    if (!e) return vc_fail(c->err, VC_ERR_INVALID_FORMAT, "tensor '%s': storage %s missing from the archive", name, storage->s);
    int64_t n = product(t->shape, t->ndim), end = view_end(t);
    uint64_t end_bytes = 0, out_bytes = 0;
    if (n < 0 || n > MAX_DIM_VALUE || end < 0 || (n && (ck_mul_u64((uint64_t)end, elem, &end_bytes) != 0 || end_bytes > e->size)))
        return vc_fail(c->err, VC_ERR_INVALID_FORMAT, "tensor '%s': view exceeds its storage", name);
    /* views may overlap (stride 0): what they expand to is bounded by the file, not by the view */
    if (ck_mul_u64((uint64_t)n, elem < 4 ? 4 : elem, &out_bytes) != 0 || ck_add_u64(c->bytes, out_bytes, &c->bytes) != 0 ||
        c->bytes > c->bytes_limit)
        return vc_fail(c->err, VC_ERR_INVALID_FORMAT, "tensor '%s': the checkpoint's views expand to more than %llu MB; "
                       "this is not a plain weight file", name, (unsigned long long)(c->bytes_limit >> 20));
    nn_tensor out = {.ndim = t->ndim};
    memcpy(out.shape, t->shape, sizeof out.shape);
    nn_tensor_set_contiguous(&out);
    const unsigned char *raw = e->data + (size_t)t->offset * elem;
    unsigned char *packed = NULL;
    if (n && !is_contiguous(t)) {
        packed = malloc((size_t)n * elem + 1);
        if (!packed) return vc_fail(c->err, VC_ERR_NOMEM, "out of memory");
        gather_strided(packed, raw, t, elem, n);
        raw = packed;
    }
    int rc = nn_weights_materialise(&out, raw, n, dtype, c->err);
    if (rc == 0 && packed && !out.owns_data) { out.data = packed; out.owns_data = 1; packed = NULL; }
    free(packed);
    if (rc == 0 && nn_weights_add(c->w, name, &out, c->err) != 0) {
        if (out.owns_data) free(out.data);
        return -1;
    }
    return rc;
}

static int too_big(flatten_ctx *c)
{
    return vc_fail(c->err, VC_ERR_INVALID_FORMAT, "pickle: the object graph expands to more than %d values (objects "
                   "referenced over and over); this is not a plain checkpoint", MAX_META_NODES);
}

/* Only plain data and tensors under string keys. Tensors anywhere else are left out. */
static int flatten(flatten_ctx *c, pv *v, const char *prefix, json_t *meta, int depth)
{
    if (depth > MAX_DEPTH) return vc_fail(c->err, VC_ERR_INVALID_FORMAT, "pickle: nesting deeper than %d", MAX_DEPTH);
    if (v->visiting) return 0; /* a dict inside itself: its names were already taken */
    v->visiting = 1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i + 1 < v->n; i += 2) {
        pv *k = v->items[i], *val = v->items[i + 1];
        if (k->kind != PV_STR) continue;
        if (count_node(c, 1) != 0) { rc = too_big(c); break; }
        char name[512];
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", k->s);
        if (val->kind == PV_TENSOR) rc = add_tensor(c, name, val);
        else if (val->kind == PV_DICT) {
            json_t *sub = json_object();
            if (flatten(c, val, name, sub, depth + 1) != 0) { json_decref(sub); rc = -1; break; }
            if (json_object_size(sub)) json_object_set_new(meta, k->s, sub); else json_decref(sub);
        } else {
            json_t *j = to_json(c, val, depth + 1);
            if (c->too_big) { json_decref(j); rc = too_big(c); break; }
            json_object_set_new(meta, k->s, j);
        }
    }
    v->visiting = 0;
    return rc;
}

static int unpickle(unpickler *u, const zip_entry *pkl, pv **root)
{
    u->p = pkl->data;
    u->end = pkl->data + pkl->size;
    u->stack = malloc(sizeof(pv *) * MAX_STACK);
    if (!u->stack) return vc_fail(u->err, VC_ERR_NOMEM, "out of memory");
    int done = 0;
    while (!done)
        if (step(u, &done) != 0) return -1;
    *root = pop(u);
    return *root ? 0 : fail(u, "empty result");
}

int nn_ptzip_load(nn_weights *w, const char *path, vc_error *err)
{
    zip_dir z = {0};
    unpickler u = {.err = err};
    pv *root = NULL;
    int rc = zip_read_dir(w->map, w->map_size, &z, err);
    const zip_entry *pkl = rc == 0 ? zip_find(&z, "data.pkl") : NULL;
    if (rc == 0 && !pkl) rc = vc_fail(err, VC_ERR_INVALID_FORMAT, "zip archive without data.pkl (not a PyTorch checkpoint)");
    if (rc == 0) rc = unpickle(&u, pkl, &root);
    if (rc == 0 && root->kind != PV_DICT) rc = vc_fail(err, VC_ERR_INVALID_FORMAT, "checkpoint is not a dict of tensors");
    if (rc == 0) {
        flatten_ctx c = {.w = w, .zip = &z, .err = err, .bytes_limit = 4 * (uint64_t)w->map_size + (256ull << 20)};
        rc = flatten(&c, root, "", w->meta, 0);
    }
    unpickler_free(&u);
    free(z.entries);
    return rc == 0 ? 0 : vc_error_wrap(err, "%s", path);
}
