#!/usr/bin/python3
"""bench_memory: what the worst request of each route costs the gateway.

Starts `sluice --server` (embedded simulator) on a free loopback port, then,
route by route, sends PARALLEL requests at once, each the most expensive
shape that route accepts under the body limit (10 MB): thousands of tiny
parts, 100 embed requests (Gemini's cap), one huge text. While they run it
samples the gateway's resident set (VmRSS) every 20 ms and times GET /health
every 100 ms. Prints, per route: answers by status, peak RSS, RSS after the
burst, the slowest /health, and the memory budget the gateway reported.

    /usr/bin/python3 tests/bench/bench_memory.py [--sluice build/release/app/sluice]
        [--parallel 20] [--memory-budget-bytes N] [--body-mb 9]

Run on demand; it asserts nothing. Bounded: every request has a 120 s
timeout, the whole run stops by itself, and the gateway is ended by PID.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def http(port, method, path, body=b"", timeout=120.0):
    """One request on its own connection; (status, body bytes) or (0, error)."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        s.sendall(head + body)
        chunks = []
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            chunks.append(d)
        s.close()
        raw = b"".join(chunks)
        return int(raw[9:12]), raw[raw.find(b"\r\n\r\n") + 4:]
    except Exception as e:  # noqa: BLE001 - reported as status 0
        return 0, str(e).encode()


def bodies(body_mb):
    n = body_mb * 1024 * 1024
    tiny_part = '{"text":"a"},'
    parts = "[" + (tiny_part * (n // len(tiny_part)))[:-1] + "]"
    many_parts = ('{"contents":[{"role":"user","parts":' + parts + "}]}").encode()
    huge_text = json.dumps({"contents": [{"parts": [{"text": "word " * (n // 5)}]}]}).encode()
    per = n // 100
    embed100 = json.dumps({"requests": [{"model": "models/gemini-embedding-001",
                                         "content": {"parts": [{"text": "x" * per}]}} for _ in range(100)]}).encode()
    embed_one = json.dumps({"content": {"parts": [{"text": "word " * (n // 5)}]}}).encode()
    m = "/v1beta/models/gemini-2.0-flash"
    e = "/v1beta/models/gemini-embedding-001"
    return [
        ("generateContent, tiny parts", m + ":generateContent", many_parts),
        ("generateContent, one huge text", m + ":generateContent", huge_text),
        ("streamGenerateContent, tiny parts", m + ":streamGenerateContent?alt=sse", many_parts),
        ("countTokens, tiny parts", m + ":countTokens", many_parts),
        ("embedContent, huge text", e + ":embedContent", embed_one),
        ("batchEmbedContents, 100 requests", e + ":batchEmbedContents", embed100),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sluice", default=os.path.join(ROOT, "build/release/app/sluice"))
    ap.add_argument("--parallel", type=int, default=20)
    ap.add_argument("--body-mb", type=int, default=9)
    ap.add_argument("--memory-budget-bytes", type=int, default=None)
    args = ap.parse_args()

    cmd = [args.sluice, "--server", "--port", "0", "--log-level", "warning"]
    if args.memory_budget_bytes is not None:
        cmd += ["--memory-budget-bytes", str(args.memory_budget_bytes)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_") and k != "GEMINI_API_KEY"}
    # A simulator that answers fast, so the bench measures holding, not waiting.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        port = 0
        deadline = time.time() + 20
        while time.time() < deadline and not port:
            line = proc.stdout.readline()
            if "listening on " in line:
                port = int(line.rsplit(":", 1)[1])
        if not port:
            sys.exit("bench_memory: sluice did not print 'listening on' within 20 s")
        print(f"sluice pid {proc.pid}, port {port}, {args.parallel} parallel requests per route, bodies ~{args.body_mb} MB")
        print(f"RSS at start: {rss_mib(proc.pid):.0f} MiB")
        print(f"{'route':36} {'answers':28} {'peak RSS':>9} {'after':>7} {'max /health':>12} {'budget used max':>16}")
        for name, path, body in bodies(args.body_mb):
            results = []
            peak = [rss_mib(proc.pid)]
            budget_peak = [0.0]
            health = []
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_mib(proc.pid))
                    time.sleep(0.02)

            def probe():
                while not done.is_set():
                    t = time.time()
                    st, _ = http(port, "GET", "/health", timeout=30)
                    health.append((time.time() - t, st))
                    st, b = http(port, "GET", "/api/v1/stats", timeout=30)
                    if st == 200:
                        used = json.loads(b).get("memoryBudget", {}).get("usedBytes", 0)
                        budget_peak[0] = max(budget_peak[0], used / 1048576.0)
                    time.sleep(0.1)

            def one():
                results.append(http(port, "POST", path, body)[0])

            threads = [threading.Thread(target=sample), threading.Thread(target=probe)]
            threads += [threading.Thread(target=one) for _ in range(args.parallel)]
            for t in threads:
                t.start()
            for t in threads[2:]:
                t.join()
            done.set()
            for t in threads[:2]:
                t.join()
            time.sleep(3)  # the idle trim runs every 2 s
            counts = {}
            for st in results:
                counts[st] = counts.get(st, 0) + 1
            answers = ", ".join(f"{n}×{st}" for st, n in sorted(counts.items()))
            worst = max((d for d, st in health), default=0.0)
            failed = sum(1 for d, st in health if st != 200)
            hs = f"{worst * 1000:.0f} ms" + (f" ({failed} failed)" if failed else "")
            print(f"{name:36} {answers:28} {peak[0]:8.0f}M {rss_mib(proc.pid):6.0f}M {hs:>12} {budget_peak[0]:15.0f}M",
                  flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
