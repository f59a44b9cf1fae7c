#!/usr/bin/env python3
"""Scale-out benches (issue 16), one JSON object per line on stdout:

  scaleout_throughput   N empty jobs (sleep kind, 0 s) claimed and completed per second by
                        1, 4 and 8 worker processes (one cpu slot each) on PostgreSQL; the SQLite
                        one-process figure is `voiceclone bench jobs` (bench/jobs/run.sh)
  scaleout_sse_latency  p50/p99 from a progress event written by a worker (its t_ns) to a client
                        reading the stream from an API node with no workers
  scaleout_failover     time from SIGKILL of the worker running a job to the job running again
                        (lease VCS_LEASE_MS, default here 5000)
  scaleout_idle_worker  peak RSS (VmHWM) of a worker that has been idle for 3 s

Starts its own PostgreSQL (scripts/pg-tmp.sh), API node and workers; needs python3 and psql.
Usage: bench/scaleout/scaleout.py BUILD_DIR
"""
import json, os, signal, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build"), "voiceclone")
LEASE_MS = int(os.environ.get("VCS_LEASE_MS", "5000"))
N_JOBS = int(os.environ.get("SCALEOUT_JOBS", "400"))


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout.strip()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Cluster:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="vcs-bench-scale-")
        os.chmod(self.tmp, 0o755)
        self.pg = os.path.join(self.tmp, "pg")
        admin = sh("bash", os.path.join(ROOT, "scripts/pg-tmp.sh"), "start", self.pg)
        sh("psql", "-Atq", admin, "-c", "CREATE DATABASE bench")
        self.url = sh("bash", os.path.join(ROOT, "scripts/pg-tmp.sh"), "url", self.pg, "bench")
        self.data = os.path.join(self.tmp, "data")
        os.makedirs(self.data)
        self.env = dict(os.environ, VCS_JOBS_TEST_KINDS="1", VCS_LEASE_MS=str(LEASE_MS), VCS_ACCESS_LOG="0")
        self.procs = []
        self.port = free_port()
        self.api = self.spawn("serve", "--port", str(self.port), "--no-workers")
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base() + "/api/health", timeout=1)
                break
            except Exception:
                time.sleep(0.05)

    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def spawn(self, verb, *args):
        log = open(os.path.join(self.tmp, "%s-%d.log" % (verb, len(self.procs))), "w")
        p = subprocess.Popen([BIN, verb, "--data", self.data, "--database", self.url, *args], env=self.env,
                             stdout=log, stderr=log)
        self.procs.append(p)
        return p

    def worker(self, name, lanes="cpu=1"):
        return self.spawn("worker", "--name", name, "--lanes", lanes)

    def stop(self, p, sig=signal.SIGTERM):
        p.send_signal(sig)
        p.wait()

    def sql(self, q):
        return sh("psql", "-Atq", self.url, "-c", q)

    def post(self, path, body):
        req = urllib.request.Request(self.base() + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(req))

    def get(self, path):
        return json.load(urllib.request.urlopen(self.base() + path))

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["bash", os.path.join(ROOT, "scripts/pg-tmp.sh"), "stop", self.pg], capture_output=True)
        subprocess.run(["rm", "-rf", self.tmp])


def throughput(c):
    for workers in (1, 4, 8):
        c.sql("DELETE FROM job_events; DELETE FROM jobs")
        # queued straight in SQL: this measures claim → run → complete, not HTTP submit
        c.sql("INSERT INTO jobs (job_id, user_id, kind, lane, priority, state, phase, params_json) "
              "SELECT 'job_b' || g, 'local', 'sleep', 'cpu', 20, 'queued', 'queued', "
              "'{\"seconds\":0,\"steps\":1}' FROM generate_series(1, %d) g" % N_JOBS)
        t0 = time.time()
        ps = [c.worker("t%d" % i) for i in range(workers)]
        while int(c.sql("SELECT count(*) FROM jobs WHERE state = 'complete'")) < N_JOBS:
            time.sleep(0.05)
        dt = time.time() - t0
        for p in ps:
            c.stop(p)
        print(json.dumps({"bench": "scaleout_throughput", "db": "postgresql", "workers": workers, "jobs": N_JOBS,
                          "seconds": round(dt, 2), "jobs_per_s": round(N_JOBS / dt, 1),
                          "note": "includes worker process start (~tens of ms)"}), flush=True)


def sse_latency(c):
    w = c.worker("lat", "cpu=1")
    job = c.post("/api/jobs", {"kind": "sleep", "params": {"seconds": 5, "steps": 100}})["job_id"]
    s = socket.create_connection(("127.0.0.1", c.port))
    s.sendall(("GET /api/progress/%s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n" % job).encode())
    buf, lat = b"", []
    while b"event: close" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        now = time.time_ns()
        buf += chunk
        for line in chunk.split(b"\n"):
            if line.startswith(b"data: ") and b"t_ns" in line:
                try:
                    lat.append((now - json.loads(line[6:])["t_ns"]) / 1e6)
                except ValueError:
                    pass
    s.close()
    c.stop(w)
    lat.sort()
    if lat:
        print(json.dumps({"bench": "scaleout_sse_latency", "events": len(lat), "p50_ms": round(lat[len(lat) // 2], 2),
                          "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
                          "max_ms": round(lat[-1], 2),
                          "path": "worker process -> PostgreSQL NOTIFY -> API node -> client"}), flush=True)


def failover(c):
    a, b = c.worker("fa", "cpu=1"), c.worker("fb", "cpu=1")
    job = c.post("/api/jobs", {"kind": "sleep", "params": {"seconds": 30, "steps": 300}})["job_id"]
    while c.get("/api/jobs/" + job)["status"] != "running":
        time.sleep(0.02)
    victim = a if c.get("/api/jobs/" + job)["worker"] == "fa" else b
    t0 = time.time()
    c.stop(victim, signal.SIGKILL)
    while True:
        j = c.get("/api/jobs/" + job)
        if j["status"] == "running" and j["attempts"] == 2:
            break
        time.sleep(0.02)
    dt = time.time() - t0
    print(json.dumps({"bench": "scaleout_failover", "lease_ms": LEASE_MS, "seconds_to_running_again": round(dt, 2)}),
          flush=True)
    urllib.request.urlopen(urllib.request.Request(c.base() + "/api/jobs/" + job, method="DELETE"))
    for p in (a, b):
        if p.poll() is None:
            c.stop(p)


def idle_worker(c):
    w = c.worker("idle", "train=1,convert=2,cpu=2")
    time.sleep(3)
    hwm = rss = None
    with open("/proc/%d/status" % w.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    c.stop(w)
    print(json.dumps({"bench": "scaleout_idle_worker", "vm_hwm_kb": hwm, "vm_rss_kb": rss}), flush=True)


def main():
    c = Cluster()
    try:
        throughput(c)
        sse_latency(c)
        failover(c)
        idle_worker(c)
    finally:
        c.close()


if __name__ == "__main__":
    main()
