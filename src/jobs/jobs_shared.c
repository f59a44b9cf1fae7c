/*
 * Models shared by concurrent jobs. Opening a model costs seconds and (for the parts that are
 * not memory-mapped: folded weight-norm kernels, fp16→fp32 copies) hundreds of MB, so two
 * conversions running at once must use one copy, and a queue of quick clones must not reload
 * the weights for every job. Kinds ask for a model by (kind, key) — the F5-TTS weights folder,
 * an RVC voice's files — and get the loaded object, opened by the first asker; loaded models
 * must be read-only while in use, which the engines are (their run functions take const).
 *
 * Lifetime: an entry lives while jobs hold it (refs > 0) and stays loaded when idle so the next
 * job starts at once; beyond JOBS_SHARED_MAX_IDLE idle entries the least recently used is
 * closed. Everything is closed by jobs_stop after the workers have exited. Opening happens under
 * the cache lock: a second asker for the same model waits for it instead of loading it twice.
 * Keys carry a stamp of the weight folders (jobs_files_stamp), so weights replaced while the
 * server runs (`voiceclone models pull`) make a new key: the next job loads them.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jobs/jobs_internal.h"

#define JOBS_SHARED_MAX_IDLE 2

typedef struct shared_entry {
    const job_shared_kind *kind;
    char *key;
    void *res;
    int refs;
    int64_t last_used_ms;
    struct shared_entry *next;
} shared_entry;

struct jobs_shared {
    pthread_mutex_t mu;
    shared_entry *head;
};

jobs_shared *jobs_shared_new(void)
{
    jobs_shared *s = calloc(1, sizeof *s);
    if (s) pthread_mutex_init(&s->mu, NULL);
    return s;
}

static void entry_free(shared_entry *e)
{
    e->kind->close(e->res);
    free(e->key);
    free(e);
}

void jobs_shared_free(jobs_shared *s)
{
    if (!s) return;
    for (shared_entry *e = s->head, *next; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static shared_entry *find(jobs_shared *s, const job_shared_kind *kind, const char *key)
{
    for (shared_entry *e = s->head; e; e = e->next)
        if (e->kind == kind && !strcmp(e->key, key)) return e;
    return NULL;
}

static int count_idle(const jobs_shared *s)
{
    int n = 0;
    for (const shared_entry *e = s->head; e; e = e->next) n += e->refs == 0;
    return n;
}

/* Closes least recently used idle entries until at most JOBS_SHARED_MAX_IDLE remain (under mu). */
static void evict_idle(jobs_shared *s)
{
    while (count_idle(s) > JOBS_SHARED_MAX_IDLE) {
        shared_entry **oldest = NULL;
        for (shared_entry **p = &s->head; *p; p = &(*p)->next)
            if ((*p)->refs == 0 && (!oldest || (*p)->last_used_ms < (*oldest)->last_used_ms)) oldest = p;
        shared_entry *e = *oldest;
        *oldest = e->next;
        entry_free(e);
    }
}

int jobs_shared_acquire(jobs_shared *s, const job_shared_kind *kind, const char *key, void **res, vc_error *err)
{
    *res = NULL;
    pthread_mutex_lock(&s->mu);
    shared_entry *e = find(s, kind, key);
    if (!e) {
        e = calloc(1, sizeof *e);
        char *k = strdup(key);
        void *opened = NULL;
        int rc = (e && k) ? kind->open(key, &opened, err) : vc_fail(err, VC_ERR_NOMEM, "out of memory");
        if (rc != 0) {
            free(e); free(k);
            pthread_mutex_unlock(&s->mu);
            return -1;
        }
        *e = (shared_entry){kind, k, opened, 0, 0, s->head};
        s->head = e;
    }
    e->refs++;
    *res = e->res;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void jobs_shared_release(jobs_shared *s, void *res)
{
    if (!res) return;
    pthread_mutex_lock(&s->mu);
    for (shared_entry *e = s->head; e; e = e->next)
        if (e->res == res && e->refs > 0) {
            e->refs--;
            e->last_used_ms = jobs_now_ms();
            break;
        }
    evict_idle(s);
    pthread_mutex_unlock(&s->mu);
}

int jobs_shared_count(jobs_shared *s)
{
    pthread_mutex_lock(&s->mu);
    int n = 0;
    for (const shared_entry *e = s->head; e; e = e->next) n++;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The sum of FNV-1a hashes of each plain file's "folder|name|size|mtime": independent of the
 * order readdir lists them in. */
static unsigned long long fnv1a(const char *s, int len)
{
    unsigned long long h = 1469598103934665603ull;
    for (int k = 0; k < len; k++) h = (h ^ (unsigned char)s[k]) * 1099511628211ull;
    return h;
}

void jobs_files_stamp(const char *const *dirs, int n, char out[JOBS_STAMP_MAX])
{
    unsigned long long sum = 0;
    for (int i = 0; i < n; i++) {
        DIR *d = opendir(dirs[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            char path[2048], rec[2200];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", dirs[i], e->d_name);
            if (e->d_name[0] == '.' || stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
            int len = snprintf(rec, sizeof rec, "%s|%lld|%lld.%09ld", path, (long long)st.st_size,
                               (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
            sum += fnv1a(rec, len < (int)sizeof rec ? len : (int)sizeof rec - 1);
        }
        if (d) closedir(d);
    }
    snprintf(out, JOBS_STAMP_MAX, "%016llx", sum);
}
