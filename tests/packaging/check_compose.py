#!/usr/bin/python3
"""Offline check of packaging/docker-compose.yml and packaging/nginx/sluice.conf.

No Docker engine is started or needed:

  1. Compose: `docker-compose config -q` accepts the file (the default
     services), `--profile scaled config` resolves it, and the resolved
     configuration has what the scaled profile promises: the default `sluice`
     and `locust` services unchanged (no profile); a `redis` service with a
     `redis-cli ping` healthcheck; `sluice-replica` with deploy.replicas
     (3 by default), SLUICE_BUDGET_STORE pointing at the redis service,
     SLUICE_BUDGET_REPLICAS equal to the replica count, the host name clients
     use for nginx in SLUICE_ALLOWED_HOSTS and no published port; `nginx`
     with sluice.conf mounted into conf.d; `locust-master` (--master,
     --expect-workers = the workers' replicas, headless, against nginx) and
     `locust-worker` (--worker --master-host locust-master), both with
     ../loadtest mounted read-only; every dependency of a scaled service
     enabled with it. Run once more with SLUICE_REPLICAS=5 LOCUST_WORKERS=4:
     the counts that must agree move together.
  2. nginx, static: sluice.conf's upstream names the replica service and
     port, keeps connections alive, streams (proxy_buffering off, gzip off),
     waits 330 s, accepts bodies larger than sluice's own limit, passes
     /health.
  3. nginx -t: the real nginx parses sluice.conf inside an http {} block,
     service names replaced by 127.0.0.1 (nginx resolves upstream names while
     testing), with a private prefix (-p, -e), so no root is needed.
  4. nginx live: nginx runs that configuration on a free loopback port in
     front of a small Python stand-in for a replica, and the behaviour the
     replicas rely on is measured: the client's Host (with its port) reaches
     the replica, a 429's Retry-After comes back unchanged, two requests share
     one upstream connection (keepalive), an SSE event asked for with
     Accept-Encoding: gzip arrives uncompressed before the answer ends, a
     20 MiB body gets through, /health passes.

Usage:
  check_compose.py [--root REPO]         run the checks, exit 1 on a problem
  check_compose.py --self-test [--root]  break copies one way at a time and
                                         require each to be rejected, naming
                                         the file and the field

Needs docker-compose (1.29, Debian's), nginx (nginx-light) and python3-yaml.
"""

import argparse
import copy
import http.client
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
COMPOSE_REL = "packaging/docker-compose.yml"
NGINX_REL = "packaging/nginx/sluice.conf"
SCALED = "scaled"
# The variables the file reads; cleared so the caller's environment cannot
# change what is checked, then set as each run needs.
COMPOSE_VARS = ("SLUICE_ADMIN_TOKEN", "GEMINI_API_KEY", "SLUICE_MAX_BATCH_SIZE", "SLUICE_MAX_QUEUE",
                "SLUICE_ALLOWED_HOSTS", "SLUICE_REPLICAS", "SLUICE_SCALED_PORT", "LOCUST_USERS",
                "LOCUST_SPAWN_RATE", "LOCUST_RUN_TIME", "LOCUST_WORKERS")


def find_tool(name, *fallbacks):
    path = shutil.which(name)
    if path:
        return path
    for f in fallbacks:
        if os.access(f, os.X_OK):
            return f
    return None


# --- compose -------------------------------------------------------------------

def run_compose(compose_file, args, extra_env=None):
    """(status, stdout, stderr) of docker-compose -f FILE ARGS, offline."""
    tool = find_tool("docker-compose")
    if tool is None:
        return 127, "", "docker-compose is not installed (packaging/install-deps.sh installs it)"
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_VARS and not k.startswith("COMPOSE_")}
    env["SLUICE_ADMIN_TOKEN"] = "check-compose-token"
    # No engine is contacted by `config`; an unreachable DOCKER_HOST makes sure.
    env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    env.update(extra_env or {})
    p = subprocess.run([tool, "-f", compose_file] + args, capture_output=True, text=True, env=env,
                       cwd=os.path.dirname(compose_file), timeout=60)
    return p.returncode, p.stdout, p.stderr


def command_args(service):
    cmd = service.get("command")
    if cmd is None:
        return []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def option(args, name):
    """The value after `name` (or of name=value) in a command line, else None."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1:]
    return None


def volume_mounts(service):
    """(source, target, read_only) of each mount, long or short syntax."""
    out = []
    for v in service.get("volumes") or []:
        if isinstance(v, dict):
            out.append((v.get("source"), v.get("target"), bool(v.get("read_only"))))
        else:
            parts = str(v).split(":")
            out.append((parts[0], parts[1] if len(parts) > 1 else parts[0],
                        len(parts) > 2 and "ro" in parts[2].split(",")))
    return out


def depends(service):
    d = service.get("depends_on") or {}
    return d if isinstance(d, dict) else {name: {"condition": "service_started"} for name in d}


def env_of(service):
    e = service.get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) if "=" in x else (x, None) for x in e)
    return {k: (None if v is None else str(v)) for k, v in e.items()}


def replicas(service):
    return (service.get("deploy") or {}).get("replicas", service.get("scale", 1))


def check_resolved(cfg, root, expect_replicas, expect_workers, nginx_conf_text):
    """Problems in the resolved (`config`) output of the scaled profile."""
    errs = []
    f = COMPOSE_REL

    def err(service, field, what):
        errs.append(f"{f}: services.{service}{'.' + field if field else ''}: {what}")

    services = cfg.get("services") or {}
    for name in ("sluice", "locust", "redis", "sluice-replica", "nginx", "locust-master", "locust-worker"):
        if name not in services:
            errs.append(f"{f}: services.{name}: missing")
    if errs:
        return errs
    # The default set works as before: no profile, sluice published, locust at it.
    for name in ("sluice", "locust"):
        if services[name].get("profiles"):
            err(name, "profiles", f"{services[name]['profiles']}: the default service must stay in the default set")
    if "8080" not in json.dumps(services["sluice"].get("ports")):
        err("sluice", "ports", "the default gateway no longer publishes 8080")
    if option(command_args(services["locust"]), "--host") != "http://sluice:8080":
        err("locust", "command", "--host is no longer http://sluice:8080")
    for name in ("redis", "sluice-replica", "nginx", "locust-master", "locust-worker"):
        if SCALED not in (services[name].get("profiles") or []):
            err(name, "profiles", f"must include {SCALED!r}, got {services[name].get('profiles')}")
    # A dependency outside the profile would not start with it.
    for name, s in services.items():
        for dep in depends(s):
            if dep not in services:
                err(name, f"depends_on.{dep}", "no such service")
            elif services[dep].get("profiles") and not set(services[dep]["profiles"]) & set(s.get("profiles") or []):
                err(name, f"depends_on.{dep}", f"{dep} is in profiles {services[dep]['profiles']}, "
                                                f"{name} in {s.get('profiles') or 'the default set'}")

    redis = services["redis"]
    if not str(redis.get("image", "")).startswith("redis:7"):
        err("redis", "image", f"must be redis:7, got {redis.get('image')!r}")
    test = (redis.get("healthcheck") or {}).get("test") or []
    if "redis-cli" not in " ".join(map(str, test)) or "ping" not in " ".join(map(str, test)):
        err("redis", "healthcheck.test", f"must run `redis-cli ping`, got {test!r}")
    redis_args = command_args(redis)
    redis_port = int(option(redis_args, "--port") or 6379)

    rep = services["sluice-replica"]
    n = replicas(rep)
    if n != expect_replicas:
        err("sluice-replica", "deploy.replicas", f"must be {expect_replicas}, got {n!r}")
    env = env_of(rep)
    store = env.get("SLUICE_BUDGET_STORE")
    m = re.fullmatch(r"redis://(?:[^@/]*@)?([A-Za-z0-9.-]+)(?::(\d+))?(?:/(\d+))?", store or "")
    if not m:
        err("sluice-replica", "environment.SLUICE_BUDGET_STORE", f"must be redis://HOST:PORT/DB, got {store!r}")
    elif m.group(1) != "redis" or int(m.group(2) or 6379) != redis_port:
        err("sluice-replica", "environment.SLUICE_BUDGET_STORE",
            f"{store!r} does not name the redis service (redis:{redis_port})")
    if env.get("SLUICE_BUDGET_REPLICAS") != str(n):
        err("sluice-replica", "environment.SLUICE_BUDGET_REPLICAS",
            f"must equal deploy.replicas ({n}), got {env.get('SLUICE_BUDGET_REPLICAS')!r}")
    if "redis" not in depends(rep) or depends(rep)["redis"].get("condition") != "service_healthy":
        err("sluice-replica", "depends_on.redis", "must wait for condition: service_healthy")
    if rep.get("ports"):
        err("sluice-replica", "ports", "replicas must not publish a host port (they would collide); nginx does")
    if rep.get("container_name"):
        err("sluice-replica", "container_name", "a fixed name allows one container only")
    if rep.get("image") != services["sluice"].get("image") or rep.get("build") != services["sluice"].get("build"):
        err("sluice-replica", "image", "must be the same image and build as the sluice service")
    if not env.get("SLUICE_ADMIN_TOKEN"):
        err("sluice-replica", "environment.SLUICE_ADMIN_TOKEN", "missing: the entrypoint refuses to start without it")

    ngx = services["nginx"]
    mounts = volume_mounts(ngx)
    conf_src = os.path.join(root, NGINX_REL)
    mounted = [t for s, t, ro in mounts if s and os.path.abspath(s) == os.path.abspath(conf_src)]
    if not mounted:
        err("nginx", "volumes", f"{NGINX_REL} is not mounted (mounts: {mounts})")
    elif not re.fullmatch(r"/etc/nginx/conf\.d/[^/]+\.conf", mounted[0]):
        err("nginx", "volumes", f"{NGINX_REL} is mounted at {mounted[0]}, which the image's nginx.conf "
                                f"does not include (it reads /etc/nginx/conf.d/*.conf)")
    elif not any(ro for s, t, ro in mounts if t == mounted[0]):
        err("nginx", "volumes", f"{mounted[0]} should be read-only")
    if "sluice-replica" not in depends(ngx):
        err("nginx", "depends_on", "must depend on sluice-replica (nginx resolves its name at start)")
    listen = re.search(r"^\s*listen\s+(?:[\d.]+:)?(\d+)", nginx_conf_text, re.M)
    nginx_port = int(listen.group(1)) if listen else None
    targets = [p.get("target") if isinstance(p, dict) else int(str(p).split(":")[-1]) for p in ngx.get("ports") or []]
    if nginx_port not in targets:
        err("nginx", "ports", f"does not publish the port sluice.conf listens on ({nginx_port})")

    # nginx passes the client's Host through, so the replicas must accept the
    # name clients use for nginx (Locust: its --host).
    master, worker = services["locust-master"], services["locust-worker"]
    margs, wargs = command_args(master), command_args(worker)
    host_url = option(margs, "--host") or ""
    hm = re.fullmatch(r"http://([^:/]+)(?::(\d+))?/?", host_url)
    if not hm or hm.group(1) != "nginx" or int(hm.group(2) or 80) != nginx_port:
        err("locust-master", "command", f"--host must be http://nginx:{nginx_port} (through nginx), got {host_url!r}")
    elif hm.group(1) not in [h.strip() for h in (env.get("SLUICE_ALLOWED_HOSTS") or "").split(",")]:
        err("sluice-replica", "environment.SLUICE_ALLOWED_HOSTS",
            f"lacks {hm.group(1)!r}, the host Locust sends through nginx: the replicas would answer 421")
    for flag in ("--master", "--headless"):
        if flag not in margs:
            err("locust-master", "command", f"lacks {flag}")
    workers = replicas(worker)
    if workers != expect_workers:
        err("locust-worker", "deploy.replicas", f"must be {expect_workers}, got {workers!r}")
    if option(margs, "--expect-workers") != str(workers):
        err("locust-master", "command", f"--expect-workers must equal locust-worker's replicas ({workers}), "
                                        f"got {option(margs, '--expect-workers')!r}")
    if "--worker" not in wargs or option(wargs, "--master-host") != "locust-master":
        err("locust-worker", "command", f"must run --worker --master-host locust-master, got {' '.join(wargs)!r}")
    loadtest = os.path.join(root, "loadtest")
    for name, args in (("locust-master", margs), ("locust-worker", wargs)):
        locustfile = option(args, "-f")
        ok = [t for s, t, ro in volume_mounts(services[name])
              if s and os.path.abspath(s) == os.path.abspath(loadtest) and ro]
        if not ok:
            err(name, "volumes", "must mount ../loadtest read-only")
        elif not locustfile or not locustfile.startswith(ok[0].rstrip("/") + "/") \
                or not os.path.isfile(os.path.join(loadtest, locustfile[len(ok[0].rstrip('/')) + 1:])):
            err(name, "command", f"-f {locustfile!r} is not a file in the mounted ../loadtest ({ok[0]})")
    return errs


def check_compose(root, nginx_conf_text):
    errs = []
    compose = os.path.join(root, COMPOSE_REL)
    rc, out, stderr = run_compose(compose, ["config", "-q"])
    if rc != 0:
        return [f"{COMPOSE_REL}: docker-compose config rejects it: {stderr.strip()}"]
    rc, out, stderr = run_compose(compose, ["config", "--profiles"])
    if rc != 0 or SCALED not in out.split():
        errs.append(f"{COMPOSE_REL}: profiles: no {SCALED!r} profile (docker-compose config --profiles: {out.split()})")
    runs = [({}, 3, 2), ({"SLUICE_REPLICAS": "5", "LOCUST_WORKERS": "4"}, 5, 4)]
    for extra, n, w in runs:
        rc, out, stderr = run_compose(compose, ["--profile", SCALED, "config"], extra)
        if rc != 0:
            errs.append(f"{COMPOSE_REL}: docker-compose --profile {SCALED} config rejects it: {stderr.strip()}")
            continue
        shown = " ".join(f"{k}={v}" for k, v in extra.items())
        for e in check_resolved(yaml.safe_load(out), root, n, w, nginx_conf_text):
            errs.append(e + (f" (with {shown})" if shown else ""))
    return errs


# --- nginx ---------------------------------------------------------------------

def strip_comments(text):
    return "\n".join(re.sub(r"#.*", "", line) for line in text.splitlines())


def directives(text, name):
    """Arguments of each `name ...;` in the configuration (comments removed)."""
    return [m.group(1).split() for m in re.finditer(r"(?:^|[;{}\s])" + re.escape(name) + r"\s+([^;{}]*);",
                                                    strip_comments(text))]


def seconds(value):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", value or "")
    if not m:
        return None
    return int(m.group(1)) * {"ms": 0.001, None: 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def size_bytes(value):
    m = re.fullmatch(r"(\d+)([kKmMgG])?", value or "")
    if not m:
        return None
    return int(m.group(1)) * {None: 1, "k": 1024, "m": 1024**2, "g": 1024**3}[(m.group(2) or "").lower() or None]


def check_nginx_static(text, root, replica_service="sluice-replica"):
    errs = []
    f = NGINX_REL
    body = strip_comments(text)
    up = re.search(r"upstream\s+(\S+)\s*\{([^}]*)\}", body)
    if not up:
        return [f"{f}: upstream: no upstream block (keepalive needs one)"]
    servers = directives(up.group(2), "server")
    dockerfile = open(os.path.join(root, "packaging/Dockerfile"), encoding="utf-8").read()
    port = re.search(r"^ENV\b.*\bSLUICE_PORT=(\d+)", dockerfile, re.M)
    want = f"{replica_service}:{port.group(1) if port else 8080}"
    if not servers or servers[0][0] != want:
        errs.append(f"{f}: upstream {up.group(1)}: server must be {want} (the replica service and the port "
                    f"sluice listens on), got {servers[0][0] if servers else 'none'}")
    if not directives(up.group(2), "keepalive"):
        errs.append(f"{f}: upstream {up.group(1)}: keepalive missing (a new connection per request)")
    kt = directives(up.group(2), "keepalive_timeout")
    if kt and (seconds(kt[0][0]) or 0) >= 60:
        errs.append(f"{f}: keepalive_timeout: {kt[0][0]} must be under sluice's 60 s idle timeout")

    # Server-level settings: what every location inherits (the /health
    # location's own shorter timeout is its business).
    outer = re.sub(r"\b(location|upstream|map)\b[^{]*\{[^}]*\}", "", body)

    def one(name):
        d = directives(outer, name)
        return d[-1] if d else None

    if one("proxy_http_version") != ["1.1"]:
        errs.append(f"{f}: proxy_http_version: must be 1.1 (keepalive and streaming), got {one('proxy_http_version')}")
    if one("proxy_buffering") != ["off"]:
        errs.append(f"{f}: proxy_buffering: must be off (streams pass through, nothing read ahead of the client), "
                    f"got {one('proxy_buffering')}")
    read = one("proxy_read_timeout")
    if not read or (seconds(read[0]) or 0) < 330:
        errs.append(f"{f}: proxy_read_timeout: must be at least 330s (requests wait for the shared quota), got {read}")
    appconfig = open(os.path.join(root, "app/appconfig.h"), encoding="utf-8").read()
    m = re.search(r"maxBodyBytes\s*=\s*([^;]+);", appconfig)
    limit = 1
    for factor in re.findall(r"\d+", re.sub(r"\b[A-Za-z_]\w*\s*\(", "(", m.group(1) if m else "10485760")):
        limit *= int(factor)
    body_max = one("client_max_body_size")
    if not body_max or (size_bytes(body_max[0]) or 0) <= limit:
        errs.append(f"{f}: client_max_body_size: must exceed sluice's own limit ({limit >> 20} MiB, "
                    f"app/appconfig.h), so sluice answers 413 in Gemini's shape; got {body_max}")
    if "Retry-After" in " ".join(" ".join(d) for d in directives(body, "proxy_hide_header")):
        errs.append(f"{f}: proxy_hide_header: Retry-After must reach clients")
    if one("gzip") != ["off"]:
        errs.append(f"{f}: gzip: must be off (compression holds SSE events back), got {one('gzip')}")
    if one("proxy_intercept_errors") == ["on"]:
        errs.append(f"{f}: proxy_intercept_errors: on would replace sluice's 429/503 answers")
    if not re.search(r"location\s*=\s*/health\s*\{[^}]*proxy_pass\s+http://" + re.escape(up.group(1)), body):
        errs.append(f"{f}: location = /health: missing or not passed to upstream {up.group(1)}")
    return errs


def rewrite_conf(text, service_ports, listen_port=None):
    """sluice.conf with `server NAME:PORT` of compose services pointed at
    127.0.0.1 (ports from service_ports, or kept), and `listen` moved."""
    def server(m):
        name, port = m.group(2), m.group(3)
        if name in service_ports:
            return f"{m.group(1)}127.0.0.1:{service_ports[name] or port}"
        return m.group(0)
    text = re.sub(r"(\bserver\s+)([A-Za-z][A-Za-z0-9_.-]*):(\d+)", server, text)
    if listen_port is not None:
        text = re.sub(r"^(\s*listen\s+)\S+;", rf"\g<1>127.0.0.1:{listen_port};", text, flags=re.M)
    return text


def nginx_prefix(tmp, conf_text, name="sluice.conf"):
    """A private nginx prefix in tmp holding conf_text inside an http {} block."""
    os.makedirs(os.path.join(tmp, "logs"), exist_ok=True)
    os.chmod(tmp, 0o755)  # the workers (nobody, when the master is root) read and write under it
    with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
        f.write(conf_text)
    wrapper = os.path.join(tmp, "wrapper.conf")
    with open(wrapper, "w", encoding="utf-8") as f:
        f.write(f"""daemon off;
worker_processes 1;
error_log {tmp}/logs/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/{name};
}}
""")
    return wrapper


def check_nginx_t(conf_text, service_names):
    nginx = find_tool("nginx", "/usr/sbin/nginx")
    if nginx is None:
        return [f"{NGINX_REL}: nginx is not installed (packaging/install-deps.sh installs nginx-light)"]
    with tempfile.TemporaryDirectory(prefix="sluice-nginx-t-") as tmp:
        wrapper = nginx_prefix(tmp, rewrite_conf(conf_text, {n: None for n in service_names}))
        p = subprocess.run([nginx, "-t", "-q", "-p", tmp, "-e", f"{tmp}/logs/error.log", "-c", wrapper],
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            msg = (p.stderr + p.stdout).strip().replace(f"{tmp}/sluice.conf", NGINX_REL).replace(tmp, "<prefix>")
            msg = "; ".join(line for line in msg.splitlines() if "test failed" not in line)
            return [f"{NGINX_REL}: nginx -t rejects it: {msg}"]
    return []


class Replica(http.server.BaseHTTPRequestHandler):
    """A stand-in for one sluice replica: echoes what nginx sent it."""
    protocol_version = "HTTP/1.1"
    sse_gap = 1.0

    def log_message(self, *args):
        pass

    def _send(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self._send(200, {"status": "ok"})
        elif self.path == "/echo":
            self._send(200, {"headers": {k.lower(): v for k, v in self.headers.items()},
                             "version": self.request_version, "peer": self.client_address[1]})
        elif self.path == "/busy":
            self._send(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "queue full"}},
                       [("Retry-After", "7"), ("X-Queue-Depth", "2048")])
        elif self.path == "/sse":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, event in enumerate((b"data: first\r\n\r\n", b"data: second\r\n\r\n")):
                if i:
                    time.sleep(self.sse_gap)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, {})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        remaining, got = length, 0
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            got += len(chunk)
            remaining -= len(chunk)
        self._send(200, {"received": got})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_nginx_live(conf_text, replica_service="sluice-replica"):
    """Runs nginx with sluice.conf in front of a stand-in replica and measures
    what the replicas rely on."""
    nginx = find_tool("nginx", "/usr/sbin/nginx")
    if nginx is None:
        return [f"{NGINX_REL}: nginx is not installed (packaging/install-deps.sh installs nginx-light)"]
    errs = []
    f = NGINX_REL
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Replica)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="sluice-nginx-live-")
    port = free_port()
    proc = None
    try:
        wrapper = nginx_prefix(tmp, rewrite_conf(conf_text, {replica_service: backend.server_address[1]}, port))
        proc = subprocess.Popen([nginx, "-p", tmp, "-e", f"{tmp}/logs/error.log", "-c", wrapper],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return [f"{f}: nginx did not start: {proc.stderr.read().decode().strip()}"]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            return [f"{f}: nginx did not listen on 127.0.0.1:{port} within 10 s"]

        def request(method, path, body=None, headers=None):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            c.close()
            return r, data

        r, data = request("GET", "/health")
        if r.status != 200:
            errs.append(f"{f}: location = /health: GET /health answered {r.status}, not the replica's 200")
        host = f"127.0.0.1:{port}"
        r1, d1 = request("GET", "/echo")
        r2, d2 = request("GET", "/echo")
        e1, e2 = json.loads(d1), json.loads(d2)
        if e1["headers"].get("host") != host:
            errs.append(f"{f}: proxy_set_header Host: the replica saw Host {e1['headers'].get('host')!r}, "
                        f"not the client's {host!r} (sluice checks it against SLUICE_ALLOWED_HOSTS)")
        if e1["version"] != "HTTP/1.1" or e1["headers"].get("connection", "").lower() == "close":
            errs.append(f"{f}: proxy_http_version/Connection: the replica got {e1['version']} with "
                        f"Connection: {e1['headers'].get('connection')!r}; keepalive needs HTTP/1.1 without close")
        if e1["peer"] != e2["peer"]:
            errs.append(f"{f}: keepalive: two requests reached the replica on two connections "
                        f"(ports {e1['peer']} and {e2['peer']})")
        r, data = request("GET", "/busy")
        if r.status != 429 or r.getheader("Retry-After") != "7" or r.getheader("X-Queue-Depth") != "2048" \
                or b"RESOURCE_EXHAUSTED" not in data:
            errs.append(f"{f}: a replica's 429 did not come back unchanged (status {r.status}, Retry-After "
                        f"{r.getheader('Retry-After')!r}, X-Queue-Depth {r.getheader('X-Queue-Depth')!r})")
        # SSE: the first event must arrive well before the second is written.
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        start = time.monotonic()
        # As the SDKs do: they accept gzip, which would hold events back.
        s.sendall(f"GET /sse HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: gzip\r\n"
                  f"Connection: close\r\n\r\n".encode())
        seen, first_at = b"", None
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            seen += chunk
            if first_at is None and b"data: first" in seen:
                first_at = time.monotonic() - start
        s.close()
        head = seen.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
        if "content-encoding:" in head:
            errs.append(f"{f}: gzip: nginx compressed the SSE answer ({head.split('content-encoding:')[1].split()[0]}), "
                        f"which holds events back until a compressed block fills")
        elif first_at is None or b"data: second" not in seen:
            errs.append(f"{f}: the SSE answer did not come through whole")
        elif first_at > Replica.sse_gap * 0.6:
            errs.append(f"{f}: proxy_buffering: the first SSE event took {first_at:.2f} s, arriving with the "
                        f"last ({Replica.sse_gap} s later): nginx buffered the stream")
        big = 20 * 1024 * 1024
        r, data = request("POST", "/upload", body=b"x" * big, headers={"Content-Type": "application/json"})
        if r.status != 200 or json.loads(data).get("received") != big:
            errs.append(f"{f}: client_max_body_size: a 20 MiB body got {r.status}, not through to the replica")
    except (OSError, http.client.HTTPException, ValueError) as e:
        errs.append(f"{f}: talking to nginx failed: {e}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        backend.shutdown()
        backend.server_close()
        shutil.rmtree(tmp, ignore_errors=True)
    return errs


def compose_service_names(root):
    with open(os.path.join(root, COMPOSE_REL), encoding="utf-8") as fh:
        return list((yaml.safe_load(fh) or {}).get("services") or {})


def check_all(root):
    with open(os.path.join(root, NGINX_REL), encoding="utf-8") as fh:
        conf = fh.read()
    errs = check_compose(root, conf)
    errs += check_nginx_static(conf, root)
    errs += check_nginx_t(conf, compose_service_names(root))
    if not errs:  # a configuration nginx refuses cannot be run
        errs += check_nginx_live(conf)
    return errs


# --- self-test -----------------------------------------------------------------

def _svc(name, fn):
    def mutate(cfg):
        fn(cfg["services"][name])
    return mutate


def _set_env(name, key, value):
    return _svc(name, lambda s: s["environment"].__setitem__(key, value))


def _replace_arg(name, old, new):
    def fn(s):
        s["command"] = " ".join(new if a == old else a for a in command_args(s))
    return _svc(name, fn)


# Broken resolved configurations (the scaled profile's `config` output, edited):
# what check_resolved() must reject, and what its message must name.
RESOLVED_MUTATIONS = [
    ("no redis service", lambda c: c["services"].pop("redis"), ["services.redis", "missing"]),
    ("one replica", _svc("sluice-replica", lambda s: s["deploy"].__setitem__("replicas", 1)),
     ["services.sluice-replica.deploy.replicas", "must be 3"]),
    ("budget store on another host", _set_env("sluice-replica", "SLUICE_BUDGET_STORE", "redis://cache:6379/0"),
     ["services.sluice-replica.environment.SLUICE_BUDGET_STORE", "redis service"]),
    ("budget store missing", _svc("sluice-replica", lambda s: s["environment"].pop("SLUICE_BUDGET_STORE")),
     ["services.sluice-replica.environment.SLUICE_BUDGET_STORE"]),
    ("budget replicas not the replica count", _set_env("sluice-replica", "SLUICE_BUDGET_REPLICAS", "2"),
     ["services.sluice-replica.environment.SLUICE_BUDGET_REPLICAS", "deploy.replicas"]),
    ("allowed hosts without nginx", _set_env("sluice-replica", "SLUICE_ALLOWED_HOSTS", "sluice"),
     ["services.sluice-replica.environment.SLUICE_ALLOWED_HOSTS", "421"]),
    ("replicas publishing a port", _svc("sluice-replica", lambda s: s.__setitem__("ports", ["8080:8080"])),
     ["services.sluice-replica.ports"]),
    ("replicas not waiting for a healthy redis",
     _svc("sluice-replica", lambda s: s["depends_on"]["redis"].__setitem__("condition", "service_started")),
     ["services.sluice-replica.depends_on.redis", "service_healthy"]),
    ("nginx without its configuration", _svc("nginx", lambda s: s.pop("volumes")),
     ["services.nginx.volumes", "sluice.conf"]),
    ("nginx configuration mounted where nginx does not read it",
     _svc("nginx", lambda s: s.__setitem__("volumes", [v.replace("/etc/nginx/conf.d/default.conf", "/etc/nginx/sluice.conf")
                                                        for v in s["volumes"]])),
     ["services.nginx.volumes", "conf.d"]),
    ("redis without its healthcheck", _svc("redis", lambda s: s.pop("healthcheck")),
     ["services.redis.healthcheck.test", "redis-cli ping"]),
    ("workers that are not workers", _replace_arg("locust-worker", "--worker", "--headless"),
     ["services.locust-worker.command", "--worker"]),
    ("master expecting another worker count", _replace_arg("locust-master", "2", "3"),
     ["services.locust-master.command", "--expect-workers"]),
    ("master load-testing a replica directly, not nginx",
     _replace_arg("locust-master", "http://nginx:8080", "http://sluice-replica:8080"),
     ["services.locust-master.command", "--host"]),
    ("locustfile mounted read-write", _svc("locust-worker", lambda s: s.__setitem__(
        "volumes", [re.sub(r":ro$", "", v) for v in s["volumes"]])),
     ["services.locust-worker.volumes", "read-only"]),
    ("default gateway moved into the profile", _svc("sluice", lambda s: s.__setitem__("profiles", ["scaled"])),
     ["services.sluice.profiles", "default set"]),
    ("a scaled service depending on a service of another profile",
     _svc("redis", lambda s: s.__setitem__("profiles", ["cache"])),
     ["services.sluice-replica.depends_on.redis", "profiles"]),
]

# Broken copies of the Compose file that docker-compose itself must refuse.
COMPOSE_TEXT_MUTATIONS = [
    ("misspelt key under deploy", "      replicas: ${SLUICE_REPLICAS:-3}", "      replica: ${SLUICE_REPLICAS:-3}",
     ["docker-compose.yml", "replica"]),
    ("replicas that are not a number", "      replicas: ${LOCUST_WORKERS:-2}", "      replicas: two",
     ["docker-compose.yml", "replicas"]),
]

# Broken copies of sluice.conf: (what, old, new, checker, expected substrings).
NGINX_MUTATIONS = [
    ("a misspelt directive (nginx -t)", "proxy_buffering off;", "proxy_bufering off;", "t",
     ["sluice.conf", "proxy_bufering"]),
    ("buffered streams (static)", "proxy_buffering off;", "proxy_buffering on;", "static",
     ["sluice.conf", "proxy_buffering", "off"]),
    ("compressed streams (measured)", "gzip off;", "gzip on; gzip_types text/event-stream; gzip_min_length 1;",
     "live", ["sluice.conf", "gzip", "SSE"]),
    ("compressed streams (static)", "gzip off;", "gzip on;", "static", ["sluice.conf", "gzip"]),
    ("no keepalive (static)", "    keepalive 64;\n", "", "static", ["sluice.conf", "keepalive"]),
    ("no keepalive (measured)", "    keepalive 64;\n", "", "live", ["sluice.conf", "keepalive", "two connections"]),
    ("the upstream's Host instead of the client's (measured)", "    proxy_set_header Host $sluice_host;\n", "",
     "live", ["sluice.conf", "Host", "SLUICE_ALLOWED_HOSTS"]),
    ("a body limit below sluice's", "client_max_body_size 32m;", "client_max_body_size 1m;", "static",
     ["sluice.conf", "client_max_body_size"]),
    ("a body limit below 20 MiB (measured)", "client_max_body_size 32m;", "client_max_body_size 1m;", "live",
     ["sluice.conf", "client_max_body_size", "20 MiB"]),
    ("a read timeout of 60 s", "proxy_read_timeout 330s;", "proxy_read_timeout 60s;", "static",
     ["sluice.conf", "proxy_read_timeout", "330"]),
    ("Retry-After hidden", "proxy_buffering off;", "proxy_buffering off;\n    proxy_hide_header Retry-After;", "live",
     ["sluice.conf", "Retry-After"]),
    ("an upstream naming the wrong service", "server sluice-replica:8080", "server sluice:8080", "static",
     ["sluice.conf", "upstream", "sluice-replica:8080"]),
    ("a keepalive_timeout past sluice's idle timeout", "keepalive_timeout 55s;", "keepalive_timeout 75s;", "static",
     ["sluice.conf", "keepalive_timeout", "60 s"]),
    ("no /health location", "location = /health {", "location = /status {", "static",
     ["sluice.conf", "/health"]),
]


def self_test(root):
    failures = 0
    passed = 0

    def report(what, errs, expected):
        nonlocal failures, passed
        hit = next((e for e in errs if all(s in e for s in expected)), None)
        if hit:
            passed += 1
            print(f"ok - rejects {what}\n    {hit}")
        else:
            failures += 1
            print(f"not ok - rejects {what}: no error line contains {expected}")
            for e in errs or ["(no errors at all)"]:
                print(f"    {e}")

    with open(os.path.join(root, NGINX_REL), encoding="utf-8") as fh:
        conf = fh.read()
    errs = check_all(root)
    if errs:
        failures += 1
        print("not ok - the real files pass:\n    " + "\n    ".join(errs))
    else:
        passed += 1
        print("ok - the real files pass (compose, nginx -t, nginx live)")

    rc, out, stderr = run_compose(os.path.join(root, COMPOSE_REL), ["--profile", SCALED, "config"])
    if rc != 0:
        print(f"not ok - docker-compose config: {stderr.strip()}")
        return False
    resolved = yaml.safe_load(out)
    for what, mutate, expected in RESOLVED_MUTATIONS:
        cfg = copy.deepcopy(resolved)
        mutate(cfg)
        report(what, check_resolved(cfg, root, 3, 2, conf), expected)

    with tempfile.TemporaryDirectory(prefix="sluice-compose-selftest-") as tmp:
        # A copy of the tree the Compose file refers to (relative paths).
        os.makedirs(os.path.join(tmp, "packaging"))
        shutil.copy(os.path.join(root, COMPOSE_REL), os.path.join(tmp, COMPOSE_REL))
        shutil.copytree(os.path.join(root, "packaging/nginx"), os.path.join(tmp, "packaging/nginx"))
        for what, old, new, expected in COMPOSE_TEXT_MUTATIONS:
            with open(os.path.join(root, COMPOSE_REL), encoding="utf-8") as fh:
                text = fh.read()
            assert old in text, f"self-test: {old!r} is not in {COMPOSE_REL}"
            with open(os.path.join(tmp, COMPOSE_REL), "w", encoding="utf-8") as fh:
                fh.write(text.replace(old, new, 1))
            report(what, check_compose(tmp, conf), expected)

    checkers = {"static": lambda t: check_nginx_static(t, root),
                "t": lambda t: check_nginx_t(t, compose_service_names(root)),
                "live": check_nginx_live}
    for what, old, new, checker, expected in NGINX_MUTATIONS:
        assert old in conf, f"self-test: {old!r} is not in {NGINX_REL}"
        report(what, checkers[checker](conf.replace(old, new, 1)), expected)
    print(f"self-test: {passed} passed, {failures} failed")
    return failures == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.abspath(os.path.join(HERE, "..", "..")),
                    help="repository root (default: two levels above this script)")
    ap.add_argument("--self-test", action="store_true",
                    help="check that broken copies of the files are rejected")
    args = ap.parse_args()
    if args.self_test:
        return 0 if self_test(args.root) else 1
    errs = check_all(args.root)
    for e in errs:
        print(e)
    if errs:
        print(f"check_compose: {len(errs)} problem(s)")
        return 1
    print(f"check_compose: {COMPOSE_REL} (default set and profile {SCALED!r}) and {NGINX_REL} "
          f"(static, nginx -t, live behind nginx) hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
