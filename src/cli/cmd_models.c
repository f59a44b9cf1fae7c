/*
 * voiceclone models pull|list|import: the official model files (docs/models-manifest.json).
 *   models pull f5tts|rvc|rvc-pretrained|whisper [--size S]|all [--data DIR] [--manifest FILE] [--base-url URL]
 *   models list [--data DIR] [--manifest FILE]
 *   models import FILE --to FOLDER [--as NAME] [--data DIR]
 *                                                 (offline copy, named NAME in FOLDER; checkpoints must load safely)
 *   models import VOICE.pth|VOICE.zip [--index VOICE.index] [--name NAME] [--user USER] [--data DIR]
 *                                                 (without --to: a user's RVC voice, as POST /api/models/import)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "models/rvc/rvc_import.h"
#include "models/weights/weights_pull.h"
#include "models/whisper/whisper_engine.h"
#include "nn/weights.h"
#include "store/store.h"

typedef struct models_args { const char *verb, *name, *data, *manifest, *base_url, *to, *as, *index, *voice_name, *user, *size; } models_args;

static int parse(int argc, char **argv, models_args *a)
{
    a->data = "data";
    a->manifest = getenv("VCS_MODELS_MANIFEST") ? getenv("VCS_MODELS_MANIFEST") : "docs/models-manifest.json";
    a->base_url = getenv("VCS_MODELS_BASE_URL");
    a->verb = argc > 1 ? argv[1] : NULL;
    for (int i = 2; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--data") && v) a->data = argv[++i];
        else if (!strcmp(argv[i], "--manifest") && v) a->manifest = argv[++i];
        else if (!strcmp(argv[i], "--base-url") && v) a->base_url = argv[++i];
        else if (!strcmp(argv[i], "--to") && v) a->to = argv[++i];
        else if (!strcmp(argv[i], "--as") && v) a->as = argv[++i];
        else if (!strcmp(argv[i], "--index") && v) a->index = argv[++i];
        else if (!strcmp(argv[i], "--name") && v) a->voice_name = argv[++i];
        else if (!strcmp(argv[i], "--user") && v) a->user = argv[++i];
        else if (!strcmp(argv[i], "--size") && v) a->size = argv[++i];
        else if (!a->name && argv[i][0] != '-') a->name = argv[i];
        else return -1;
    }
    return a->verb ? 0 : -1;
}

static void show_progress(void *ctx, const char *file, double done, double total)
{
    fprintf(stderr, "\r%-28s %6.1f / %6.1f MB", file, done / 1048576.0, total / 1048576.0);
}

/* Whisper comes in sizes, one pack each ("whisper-<size>"): `pull whisper [--size S]` takes one,
 * and `pull all` only the default size (all six would be ~6 GB). */
static int pack_wanted(const models_args *a, const char *pack)
{
    char whisper[64];
    snprintf(whisper, sizeof whisper, "whisper-%s", a->size ? a->size : WHISPER_DEFAULT_SIZE);
    if (!strncmp(pack, "whisper-", 8)) return (!strcmp(a->name, "all") || !strcmp(a->name, "whisper")) && !strcmp(pack, whisper);
    return !strcmp(a->name, "all") || !strcmp(a->name, pack);
}

static int pull(const models_args *a, const json_t *packs, const char *root)
{
    const char *pack;
    json_t *files;
    int found = 0, failed = 0;
    json_object_foreach((json_t *)packs, pack, files) {
        if (!pack_wanted(a, pack)) continue;
        found = 1;
        size_t i;
        json_t *e;
        json_array_foreach(files, i, e) {
            vc_error err = {0};
            if (weights_pull_file(e, root, a->base_url, show_progress, NULL, &err) != 0) {
                fprintf(stderr, "\nvoiceclone models pull: %s\n", err.message);
                failed = 1;
            } else {
                fprintf(stderr, "\ninstalled %s/%s\n", json_string_value(json_object_get(e, "folder")), json_string_value(json_object_get(e, "file")));
            }
        }
    }
    if (!found) { fprintf(stderr, "voiceclone models pull: unknown pack '%s' (f5tts, rvc, rvc-pretrained, whisper [--size tiny|base|small|medium|large-v3|large-v3-turbo], all)\n", a->name); return 2; }
    return failed;
}

static int list(const json_t *packs, const char *root)
{
    const char *pack;
    json_t *files;
    json_object_foreach((json_t *)packs, pack, files) {
        size_t i;
        json_t *e;
        json_array_foreach(files, i, e)
            printf("%-16s %-14s %-28s %-9s %s\n", pack, json_string_value(json_object_get(e, "folder")),
                   json_string_value(json_object_get(e, "file")), weights_installed(e, root) ? "installed" : "missing",
                   json_string_value(json_object_get(e, "licence")) ? json_string_value(json_object_get(e, "licence")) : "");
    }
    return 0;
}

/* Streams src into dst_final through dst_final.part, fsynced and renamed: never a partial file. */
static int copy_atomic(const char *src, const char *final, vc_error *err)
{
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.part", final);
    FILE *in = fopen(src, "rb");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = in && fd >= 0 ? 0 : vc_fail(err, VC_ERR_IO, "cannot copy %s: %s", src, strerror(errno));
    char buf[1 << 16];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (write(fd, buf, n) != (ssize_t)n) rc = vc_fail(err, VC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (rc == 0 && ferror(in)) rc = vc_fail(err, VC_ERR_IO, "cannot read %s", src);
    if (in) fclose(in);
    if (rc == 0) return vc_commit_file(fd, tmp, final, err);
    if (fd >= 0) close(fd);
    unlink(tmp);
    return -1;
}

static int safe_name(const char *n) { return n && *n && !strchr(n, '/') && !strstr(n, ".."); }

/* Copies FILE into <root>/<folder>/ (as NAME when given) atomically; checkpoints must load
 * through the safe loaders first. */
static int import_file(const models_args *a, const char *root)
{
    vc_error err = {0};
    if (!a->name || !safe_name(a->to) || (a->as && !safe_name(a->as))) {
        fprintf(stderr, "usage: voiceclone models import FILE --to FOLDER [--as NAME]\n");
        return 2;
    }
    nn_weights *w = NULL;
    size_t len = strlen(a->name);
    int text = len > 4 && (!strcmp(a->name + len - 4, ".txt") || !strcmp(a->name + len - 5, ".yaml"));
    int tiktoken = len > 9 && !strcmp(a->name + len - 9, ".tiktoken"); /* Whisper's vocabulary: must parse */
    whisper_tokenizer tok;
    if (tiktoken && whisper_tokenizer_load(&tok, a->name, 99, &err) != 0) { fprintf(stderr, "voiceclone models import: %s\n", err.message); return 1; }
    if (tiktoken) whisper_tokenizer_free(&tok);
    if (!text && !tiktoken && nn_weights_open(a->name, &w, &err) != 0) { fprintf(stderr, "voiceclone models import: %s\n", err.message); return 1; }
    nn_weights_free(w);
    const char *base = a->as ? a->as : strrchr(a->name, '/') ? strrchr(a->name, '/') + 1 : a->name;
    char dir[1024], final[1200];
    snprintf(dir, sizeof dir, "%s/%s", root, a->to);
    snprintf(final, sizeof final, "%s/%s", dir, base);
    if (vc_mkdirs(dir, &err) != 0 || copy_atomic(a->name, final, &err) != 0) {
        fprintf(stderr, "voiceclone models import: %s\n", err.message);
        return 1;
    }
    printf("imported %s\n", final);
    return 0;
}

/* A user's voice into the store (data/models/{id}/ + its row), exactly as the API imports it. */
static int import_voice(const models_args *a)
{
    size_t len = strlen(a->name);
    int is_zip = len > 4 && !strcasecmp(a->name + len - 4, ".zip");
    if (is_zip && a->index) { fprintf(stderr, "voiceclone models import: a .zip already holds its .index; drop --index\n"); return 2; }
    rvc_import_request rq = {.user_id = a->user ? a->user : "local", .name = a->voice_name, .model_path = a->name,
                             .index_path = a->index, .filename = a->name, .is_zip = is_zip};
    vc_error err = {0};
    store *s = NULL;
    store_model m;
    int rc = store_open_url(&s, a->data, getenv("VCS_DATABASE_URL"), &err);
    if (rc == 0) rc = rvc_import_files(s, &rq, &m, &err);
    if (rc == 0) rc = store_model_record(s, &m, &err);
    if (rc == 0) printf("imported %s \"%s\": RVC %s, %d Hz, %s%s\n", m.model_id, m.name, m.version, m.sample_rate,
                        m.f0 ? "pitch-guided" : "no pitch", m.has_index ? ", with index" : "");
    else fprintf(stderr, "voiceclone models import: %s\n", err.message);
    store_close(s);
    return rc == 0 ? 0 : 1;
}

int cmd_models(int argc, char **argv)
{
    models_args a = {0};
    if (parse(argc, argv, &a) != 0) {
        fprintf(stderr, "usage: voiceclone models pull NAME|all | list | import FILE --to FOLDER [--as NAME] | "
                        "import VOICE.pth|VOICE.zip [--index F.index] [--name NAME] [--user USER]  [--data DIR] [--manifest FILE]\n");
        return 2;
    }
    char root[1024];
    snprintf(root, sizeof root, "%s/weights", a.data);
    if (!strcmp(a.verb, "import") && a.name && !a.to) return import_voice(&a);
    if (!strcmp(a.verb, "import")) return import_file(&a, root);
    json_error_t jerr;
    json_t *m = json_load_file(a.manifest, 0, &jerr);
    const json_t *packs = json_object_get(m, "packs");
    int rc;
    if (!json_is_object(packs)) { fprintf(stderr, "voiceclone models: cannot read the manifest %s\n", a.manifest); rc = 1; }
    else if (!strcmp(a.verb, "list")) rc = list(packs, root);
    else if (!strcmp(a.verb, "pull") && a.name) rc = pull(&a, packs, root);
    else { fprintf(stderr, "voiceclone models: unknown command '%s'\n", a.verb); rc = 2; }
    json_decref(m);
    return rc;
}
