/*
 * Helpers shared by the API tests of the job system (see test_api.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "test_api.h"
#include "test_audio.h"

static const char *const JSON_HDR[] = {"Content-Type: application/json", NULL};

json_t *api_call(const test_server *s, const char *method, const char *path, const char *body, long want)
{
    static http_response res; /* the returned JSON lives until the next call */
    char url[512];
    http_response_free(&res);
    memset(&res, 0, sizeof res);
    if (http_request(method, test_server_url(s, url, sizeof url, path), body ? JSON_HDR : NULL, body,
                     body ? strlen(body) : 0, &res))
        fail_msg("%s %s: no response", method, path);
    if (res.status != want) fail_msg("%s %s: %ld (want %ld): %s", method, path, res.status, want, res.body);
    return http_json(&res);
}

long api_status(const test_server *s, const char *method, const char *path)
{
    http_response res = {0};
    char url[512];
    long st = http_request(method, test_server_url(s, url, sizeof url, path), NULL, NULL, 0, &res) ? 0 : res.status;
    http_response_free(&res);
    return st;
}

void api_submit_sleep(const test_server *s, const char *params, char *id, size_t cap)
{
    char body[1024];
    snprintf(body, sizeof body, "{\"kind\":\"sleep\",\"params\":%s}", params);
    json_t *j = api_call(s, "POST", "/api/jobs", body, 202);
    const char *v = json_string_value(json_object_get(j, "job_id"));
    if (!v) fail_msg("no job_id in the reply");
    snprintf(id, cap, "%s", v);
}

const char *api_job_status(const test_server *s, const char *id)
{
    static char status[32];
    char path[128];
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    const char *st = json_string_value(json_object_get(api_call(s, "GET", path, NULL, 200), "status"));
    snprintf(status, sizeof status, "%s", st ? st : "?");
    return status;
}

const char *api_wait_terminal(const test_server *s, const char *id, double seconds)
{
    for (double t0 = api_now_ms(); api_now_ms() - t0 < seconds * 1000; usleep(50000)) {
        const char *st = api_job_status(s, id);
        if (!strcmp(st, "complete") || !strcmp(st, "failed") || !strcmp(st, "cancelled")) return st;
    }
    return "timeout";
}

void api_upload_tone(const test_server *s, double seconds, char *id, size_t cap)
{
    char wav[] = "/tmp/vcs-tone-XXXXXX", url[512];
    int fd = mkstemp(wav);
    if (fd < 0) fail_msg("mkstemp");
    close(fd);
    if (test_audio_tone(wav, 16000, 1, seconds, SF_FORMAT_WAV | SF_FORMAT_PCM_16, "sine", 0.5)) fail_msg("tone");
    http_response res = {0};
    int rc = http_post_form(test_server_url(s, url, sizeof url, "/api/upload/target-audio"), NULL, wav, "tone.wav",
                            NULL, &res);
    unlink(wav);
    if (rc || res.status != 200) fail_msg("upload: %ld %s", res.status, res.body ? res.body : "");
    snprintf(id, cap, "%s", json_string_value(json_object_get(http_json(&res), "file_id")));
    http_response_free(&res);
}

int api_connect(const test_server *s, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

int api_open_stream(const test_server *s, const char *path, int rcvbuf)
{
    int fd = api_connect(s, rcvbuf);
    if (fd < 0) return -1;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

long api_proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') kb = strtol(line + n + 1, NULL, 10);
    if (f) fclose(f);
    return kb;
}

double api_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Regular files under dir whose name (or, with root_len > 0, path below the root) contains needle. */
static int count_under(const char *dir, const char *needle, size_t root_len)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    char path[1024];
    struct stat st;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st)) continue;
        const char *hay = root_len ? path + root_len : e->d_name;
        if (S_ISDIR(st.st_mode)) n += count_under(path, needle, root_len);
        else if (S_ISREG(st.st_mode) && (!needle || strstr(hay, needle))) n++;
    }
    closedir(d);
    return n;
}

int api_count_paths(const char *dir, const char *needle) { return count_under(dir, needle, strlen(dir)); }

int api_count_files(const char *dir, const char *needle) { return count_under(dir, needle, 0); }
