/*
 * SSE fan-out bench: N progress-stream clients (default 1000) on one job of one `voiceclone serve`.
 * Measures what the job system promises for many watchers: server memory (VmRSS / VmHWM from
 * /proc/PID/status, idle and with every client connected) and delivery latency, from the moment
 * the job stamped an event (t_ns, CLOCK_REALTIME, just before it is persisted) to the moment a
 * client read it, p50/p99/max over every (client, event) pair.
 *
 * Why a C client: 1000 sockets on one epoll thread keep the client's own overhead small and
 * visible (its read loop is part of the measured latency, as it would be for a real client).
 *
 *   sse_fanout BIN [clients] [events] [seconds]     one JSON line on stdout
 *   (the server inherits the environment: VCS_CONN_MEMORY_KB=64 measures the smaller pool)
 *
 * Steps: start BIN serve on a free loopback port with a temporary data folder and the sleep test
 * kind; queue a blocker job and the measured job in the single-slot train lane (so the measured
 * job waits); connect every client (HTTP/1.0: the stream ends with the connection); cancel the
 * blocker so the job runs; read until every client saw "close"; stop the server (SIGTERM).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536

typedef struct client {
    int fd;
    int closed;      /* saw "event: close" or EOF */
    size_t len;      /* bytes carried over (an event not yet complete) */
    char buf[BUF];
} client;

typedef struct bench {
    const char *bin;
    int clients, events;
    double seconds;
    int port;
    pid_t pid;
    char dir[64];
    double *lat_ms; /* one per delivered stamped event */
    size_t n_lat, cap_lat;
} bench;

static double now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &len))
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static int connect_server(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

/* One blocking request; the response (headers + body, up to cap) into out. */
static int http(int port, const char *method, const char *path, const char *body, char *out, size_t cap)
{
    int fd = connect_server(port);
    if (fd < 0) return -1;
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    for (ssize_t r; got + 1 < cap && (r = read(fd, out + got, cap - 1 - got)) > 0;) got += (size_t)r;
    out[got] = '\0';
    close(fd);
    return strncmp(out, "HTTP/1.", 7) == 0 ? atoi(out + 9) : -1;
}

static int start_server(bench *b)
{
    snprintf(b->dir, sizeof b->dir, "/tmp/vcs-bench-sse-XXXXXX");
    if (!mkdtemp(b->dir)) return -1;
    b->port = free_port();
    b->pid = fork();
    if (b->pid == 0) {
        char port[16], data[96], log[96];
        snprintf(port, sizeof port, "%d", b->port);
        snprintf(data, sizeof data, "%s/data", b->dir);
        snprintf(log, sizeof log, "%s/server.log", b->dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) dup2(fd, 2);
        setenv("VCS_JOBS_TEST_KINDS", "1", 1);
        setenv("VCS_ACCESS_LOG", "0", 1);
        setenv("VCS_LANE_TRAIN", "1", 1);
        execl(b->bin, b->bin, "serve", "--host", "127.0.0.1", "--port", port, "--data", data, (char *)NULL);
        _exit(127);
    }
    char res[4096];
    for (int i = 0; i < 200; i++, usleep(50000))
        if (http(b->port, "GET", "/api/health", NULL, res, sizeof res) == 200) return 0;
    return -1;
}

static void stop_server(bench *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->dir);
    if (system(cmd)) {
    }
}

static long proc_kb(pid_t pid, const char *field)
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

/* POST /api/jobs; the job id into id. */
static int submit(bench *b, const char *params, char *id, size_t cap)
{
    char body[512], res[8192];
    snprintf(body, sizeof body, "{\"kind\":\"sleep\",\"params\":%s}", params);
    if (http(b->port, "POST", "/api/jobs", body, res, sizeof res) != 202) return -1;
    const char *p = strstr(res, "\"job_id\":\"");
    if (!p) return -1;
    p += 10;
    snprintf(id, cap, "%.*s", (int)strcspn(p, "\""), p);
    return 0;
}

static void record(bench *b, double ms)
{
    if (b->n_lat == b->cap_lat) {
        b->cap_lat = b->cap_lat ? b->cap_lat * 2 : 65536;
        b->lat_ms = realloc(b->lat_ms, b->cap_lat * sizeof *b->lat_ms);
        if (!b->lat_ms) abort();
    }
    b->lat_ms[b->n_lat++] = ms;
}

/* Complete events ("\n\n"-terminated) in c->buf: stamped ones are timed against read_ms. */
static void parse_events(bench *b, client *c, double read_ms)
{
    char *start = c->buf, *end;
    c->buf[c->len] = '\0';
    while ((end = strstr(start, "\n\n"))) {
        *end = '\0';
        const char *t = strstr(start, "\"t_ns\":");
        if (t) record(b, read_ms - (double)strtoll(t + 7, NULL, 10) / 1e6);
        if (strstr(start, "event: close")) c->closed = 1;
        start = end + 2;
    }
    c->len -= (size_t)(start - c->buf);
    memmove(c->buf, start, c->len);
}

/* Reads what is there; 1 when the client is finished. */
static int client_read(bench *b, client *c)
{
    for (;;) {
        if (c->len >= BUF - 1) c->len = 0; /* an event larger than the buffer: not ours */
        ssize_t n = read(c->fd, c->buf + c->len, BUF - 1 - c->len);
        if (n > 0) {
            c->len += (size_t)n;
            parse_events(b, c, now_ms(CLOCK_REALTIME));
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return c->closed;
        c->closed = 1;
        return 1;
    }
}

static int open_clients(bench *b, client *cl, const char *job, int ep)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET /api/progress/%s HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", job);
    for (int i = 0; i < b->clients; i++) {
        cl[i].fd = connect_server(b->port);
        if (cl[i].fd < 0 || write(cl[i].fd, req, (size_t)n) != n) return -1;
        fcntl(cl[i].fd, F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cl[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev);
    }
    return 0;
}

/* Until every client finished or timeout_s passed; returns how many finished. */
static int pump(bench *b, client *cl, int ep, double timeout_s)
{
    struct epoll_event evs[256];
    int done = 0;
    for (double t0 = now_ms(CLOCK_MONOTONIC); done < b->clients && now_ms(CLOCK_MONOTONIC) - t0 < timeout_s * 1e3;) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; i++) {
            client *c = evs[i].data.ptr;
            if (c->fd < 0 || !client_read(b, c)) continue;
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
            c->fd = -1;
            done++;
        }
    }
    (void)cl;
    return done;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const bench *b, double p)
{
    if (!b->n_lat) return -1;
    size_t i = (size_t)(p * (double)(b->n_lat - 1) + 0.5);
    return b->lat_ms[i];
}

static int raise_nofile(int need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return -1;
    if (rl.rlim_cur >= (rlim_t)need) return 0;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= (rlim_t)need ? (rlim_t)need : rl.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < (rlim_t)need ? -1 : 0;
}

static int run(bench *b, client *cl)
{
    char blocker[80], job[80], params[256], res[8192], path[128];
    if (start_server(b)) return fprintf(stderr, "sse_fanout: the server did not start\n"), -1;
    long rss_idle = proc_kb(b->pid, "VmRSS");
    snprintf(params, sizeof params, "{\"seconds\":%g,\"steps\":%d,\"lane\":\"train\"}", b->seconds, b->events);
    if (submit(b, "{\"seconds\":600,\"steps\":600,\"lane\":\"train\"}", blocker, sizeof blocker) ||
        submit(b, params, job, sizeof job))
        return fprintf(stderr, "sse_fanout: submit failed\n"), -1;
    int ep = epoll_create1(0);
    double t0 = now_ms(CLOCK_MONOTONIC);
    if (open_clients(b, cl, job, ep)) return fprintf(stderr, "sse_fanout: connecting clients failed\n"), -1;
    double connect_s = (now_ms(CLOCK_MONOTONIC) - t0) / 1e3;
    pump(b, cl, ep, 1.0); /* the replayed "queued" event (not stamped) */
    long rss_connected = proc_kb(b->pid, "VmRSS");
    snprintf(path, sizeof path, "/api/jobs/%s", blocker);
    if (http(b->port, "DELETE", path, NULL, res, sizeof res) != 200) return fprintf(stderr, "sse_fanout: cancel failed\n"), -1;
    int finished = pump(b, cl, ep, b->seconds + 60);
    long rss = proc_kb(b->pid, "VmRSS"), hwm = proc_kb(b->pid, "VmHWM");
    close(ep);
    qsort(b->lat_ms, b->n_lat, sizeof *b->lat_ms, cmp_double);
    const char *mem = getenv("VCS_CONN_MEMORY_KB");
    printf("{\"bench\":\"jobs_sse_fanout\",\"conn_memory_kb\":%d,\"clients\":%d,\"events_per_client\":%d,\"job_seconds\":%g,"
           "\"finished_clients\":%d,\"delivered\":%zu,\"expected\":%lld,\"connect_seconds\":%.2f,"
           "\"latency_ms_p50\":%.2f,\"latency_ms_p99\":%.2f,\"latency_ms_max\":%.2f,"
           "\"server_rss_kb_idle\":%ld,\"server_rss_kb_connected\":%ld,\"server_rss_kb_end\":%ld,\"server_hwm_kb\":%ld}\n",
           mem ? atoi(mem) : 256, b->clients, b->events, b->seconds, finished, b->n_lat, (long long)b->clients * b->events, connect_s,
           pct(b, 0.5), pct(b, 0.99), b->n_lat ? b->lat_ms[b->n_lat - 1] : -1, rss_idle, rss_connected, rss, hwm);
    return finished == b->clients && b->n_lat == (size_t)b->clients * (size_t)b->events ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: sse_fanout BIN [clients] [events] [seconds]\n");
        return 2;
    }
    bench b = {.bin = argv[1], .clients = argc > 2 ? atoi(argv[2]) : 1000, .events = argc > 3 ? atoi(argv[3]) : 50,
               .seconds = argc > 4 ? atof(argv[4]) : 5};
    if (b.clients < 1 || b.events < 1 || b.seconds <= 0) return 2;
    if (raise_nofile(b.clients + 64)) {
        fprintf(stderr, "sse_fanout: cannot open %d files (ulimit -n)\n", b.clients + 64);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    client *cl = calloc((size_t)b.clients, sizeof *cl);
    if (!cl) return 1;
    for (int i = 0; i < b.clients; i++) cl[i].fd = -1;
    int rc = run(&b, cl);
    for (int i = 0; i < b.clients; i++)
        if (cl[i].fd >= 0) close(cl[i].fd);
    stop_server(&b);
    free(cl);
    free(b.lat_ms);
    return rc ? 1 : 0;
}
