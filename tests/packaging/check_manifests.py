#!/usr/bin/python3
"""Offline check of the Kubernetes manifests in packaging/k8s.

No cluster and no kubectl: every manifest is validated against the
hand-written JSON Schemas in tests/packaging/k8s-schemas (one per kind; every
object level closed, so a misspelt field fails), then cross-checked for what
a schema cannot say:

  * a Deployment's or StatefulSet's selector matches its pod template's labels;
  * each Service selects the pods of exactly one workload here, and its
    targetPort is one of their container ports; a StatefulSet's serviceName
    is a headless Service that selects it;
  * the PodDisruptionBudget selects the gateway's pods and cannot block every
    eviction;
  * the HorizontalPodAutoscaler targets a Deployment here by name, its range
    holds the Deployment's replicas, and each Pods metric is served by a
    prometheus-adapter rule (prometheus-adapter.yaml) whose series sluice
    really exports as a gauge (server/routes/prometheusexporter.cpp);
  * the gateway's readiness probe is GET /health on the port sluice listens
    on (the image's SLUICE_PORT, packaging/Dockerfile), its liveness probe and
    the Prometheus annotations name that port too;
  * terminationGracePeriodSeconds exceeds the preStop sleep plus the drain
    grace sluice is given (--drain-grace-ms, else SLUICE_DRAIN_GRACE_MS, else
    the default in app/appconfig.h), so the kubelet never kills a drain;
  * SLUICE_ALLOWED_HOSTS names the gateway's Service (else 421);
  * SLUICE_BUDGET_STORE names the Redis Service here (port included) and
    SLUICE_BUDGET_REPLICAS is 0 (the count Redis last showed) or at least the
    HPA's maxReplicas; the memory limit
    leaves room above sluice's memory budget;
  * kustomization.yaml lists files that exist, and every manifest is listed.

Usage:
  check_manifests.py [--root REPO]          check packaging/k8s, exit 1 on errors
  check_manifests.py --self-test [--root]   break copies of the manifests one
                                            way at a time and require each to be
                                            rejected with the file and field named

Needs python3-yaml and python3-jsonschema (Debian 12: jsonschema 4.10).
"""

import argparse
import difflib
import json
import os
import re
import shutil
import sys
import tempfile

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_DIR = os.path.join(HERE, "k8s-schemas")
SCHEMA_FOR_KIND = {
    "Deployment": "deployment.json",
    "StatefulSet": "statefulset.json",
    "Service": "service.json",
    "PodDisruptionBudget": "poddisruptionbudget.json",
    "HorizontalPodAutoscaler": "horizontalpodautoscaler.json",
    "ConfigMap": "configmap.json",
    "Kustomization": "kustomization.json",
}
ADAPTER_SCHEMA = "prometheus-adapter-config.json"
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
# Room the process needs beyond what its memory budget admits (Qt, threads,
# metrics history, the dashboard's files): a margin, not a measurement.
MEMORY_HEADROOM = 256 * 1024 * 1024


# --- loading -----------------------------------------------------------------

class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping, as kubectl does
    (PyYAML would silently keep the last one)."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark,
                f"key {key!r} is given twice (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Doc:
    """One YAML document of one manifest file."""

    def __init__(self, file, index, obj):
        self.file = file      # name relative to the manifest directory
        self.index = index    # position in a multi-document file
        self.obj = obj

    @property
    def kind(self):
        return self.obj.get("kind") if isinstance(self.obj, dict) else None

    @property
    def name(self):
        meta = self.obj.get("metadata") if isinstance(self.obj, dict) else None
        return meta.get("name") if isinstance(meta, dict) else None

    def where(self):
        doc = f" document {self.index + 1}" if self.index else ""
        what = f"{self.kind} {self.name}" if self.kind else "no kind"
        return f"{self.file}{doc} ({what})"


def load_schemas():
    schemas = {}
    for name in sorted(os.listdir(SCHEMA_DIR)):
        if name.endswith(".json"):
            with open(os.path.join(SCHEMA_DIR, name), encoding="utf-8") as f:
                schemas[name] = json.load(f)
    store = {s["$id"]: s for s in schemas.values()}
    validators = {}
    for name, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        resolver = jsonschema.RefResolver.from_schema(schema, store=store)
        validators[name] = jsonschema.Draft202012Validator(schema, resolver=resolver)
    return validators


# --- schema errors as sentences ----------------------------------------------

def fmt_path(parts, prefix=""):
    out = prefix
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", str(p)):
            out += ("." if out else "") + str(p)
        else:
            out += ("." if out else "") + json.dumps(p)
    return out or "(top level)"


def _type_name(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return {"dict": "mapping", "list": "list"}.get(type(value).__name__, type(value).__name__)


def _shown(value):
    text = json.dumps(value) if not isinstance(value, (dict, list)) else ""
    return text if len(text) <= 60 else text[:57] + "..."


def yaml_error(e):
    """A YAML error on one line: where, and what."""
    mark = getattr(e, "problem_mark", None)
    where = f"line {mark.line + 1}: " if mark else ""
    return f"not valid YAML: {where}{getattr(e, 'problem', None) or e}"


def describe(err, schema_name, prefix=""):
    """One or more sentences for a jsonschema error: path, what is wrong."""
    path = list(err.absolute_path)
    here = fmt_path(path, prefix)
    v, schema, inst = err.validator, err.schema, err.instance
    desc = schema.get("description")
    if v == "additionalProperties" and isinstance(inst, dict):
        known = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        out = []
        for key in sorted(inst):
            if key in known or any(re.search(p, key) for p in patterns):
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else \
                f"; known here: {', '.join(known)} (a real field missing from {schema_name}: add it there)"
            out.append(f"{fmt_path(path + [key], prefix)}: unknown field{hint}")
        return out
    if v == "required":
        missing = [r for r in err.validator_value if isinstance(inst, dict) and r not in inst]
        return [f"{fmt_path(path + [m], prefix)}: required field is missing" for m in missing] or [f"{here}: {err.message}"]
    if v == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
        got = f"{_type_name(inst)} {_shown(inst)}".strip()
        return [f"{here}: must be {'a' if want[0] not in 'aeiou' else 'an'} {want}, got {'a ' if not _shown(inst) else ''}{got}"]
    if v == "const":
        return [f"{here}: must be {json.dumps(err.validator_value)}, got {_shown(inst)}"]
    if v == "enum":
        return [f"{here}: must be one of {', '.join(json.dumps(x) for x in err.validator_value)}, got {_shown(inst)}"]
    if v in ("minimum", "maximum"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        rng = f"from {lo} to {hi}" if lo is not None and hi is not None else (f"at least {lo}" if lo is not None else f"at most {hi}")
        return [f"{here}: {_shown(inst)} is out of range (must be {rng})"]
    if v in ("pattern", "maxLength", "minLength", "anyOf", "oneOf", "not", "minProperties", "maxProperties") and desc:
        if isinstance(inst, (dict, list)):
            return [f"{here}: must be {desc}"]
        return [f"{here}: {_shown(inst)} is not valid: must be {desc}"]
    if v in ("anyOf", "oneOf") and err.context:
        # Name the branch that came closest: the deepest sub-error.
        best = max(err.context, key=lambda e: len(e.absolute_path))
        return describe(best, schema_name, prefix)
    return [f"{here}: {err.message}"]


def schema_errors(validator, obj, schema_name, prefix=""):
    errors = sorted(validator.iter_errors(obj), key=lambda e: fmt_path(e.absolute_path))
    out = []
    for e in errors:
        out.extend(describe(e, schema_name, prefix))
    return out


# --- helpers for the cross-checks --------------------------------------------

def dig(obj, *keys, default=None):
    for k in keys:
        if isinstance(obj, dict) and k in obj:
            obj = obj[k]
        elif isinstance(obj, list) and isinstance(k, int) and 0 <= k < len(obj):
            obj = obj[k]
        else:
            return default
    return obj


def as_int(value, default=None):
    """value when it is an integer (the schema reports it otherwise), else default."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def selects(selector, labels):
    return bool(selector) and isinstance(labels, dict) and all(labels.get(k) == v for k, v in selector.items())


def parse_quantity(q):
    """Bytes (or cores) of a Kubernetes quantity; None when unreadable."""
    if isinstance(q, (int, float)) and not isinstance(q, bool):
        return float(q)
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?", str(q))
    if not m:
        return None
    scale = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}[m.group(2)]
    return float(m.group(1)) * scale


def env_value(container, name):
    for e in container.get("env") or []:
        if isinstance(e, dict) and e.get("name") == name:
            return e.get("value")
    return None


def option_value(args, option):
    """The value of --option=V or --option V in a container's args."""
    args = [str(a) for a in args or []]
    for i, a in enumerate(args):
        if a.startswith(option + "="):
            return a[len(option) + 1:], i
        if a == option and i + 1 < len(args):
            return args[i + 1], i + 1
    return None, None


def read_source(root, rel):
    path = os.path.join(root, rel)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise SystemExit(f"check_manifests: cannot read {rel} under {root}: {e.strerror}")


class Sources:
    """What the cross-checks read from the code: defaults and exported metrics."""

    def __init__(self, root):
        self.root = root
        appconfig = read_source(root, "app/appconfig.h")
        m = re.search(r"\bint\s+drainGraceMs\s*=\s*(\d+)\s*;", appconfig)
        if not m:
            raise SystemExit("check_manifests: no `int drainGraceMs = N;` default in app/appconfig.h")
        self.default_drain_ms = int(m.group(1))
        m = re.search(r"\bmemoryBudgetBytes\s*=\s*([^;]+);", appconfig)
        # `qint64(1024) * 1024 * 1024`: the product of the numbers, casts dropped.
        factors = re.findall(r"\d+", re.sub(r"\b[A-Za-z_]\w*\s*\(", "(", m.group(1))) if m else []
        if not factors:
            raise SystemExit("check_manifests: no memoryBudgetBytes default in app/appconfig.h")
        self.default_memory_budget = 1
        for f in factors:
            self.default_memory_budget *= int(f)
        dockerfile = read_source(root, "packaging/Dockerfile")
        m = re.search(r"^ENV\b.*\bSLUICE_PORT=(\d+)", dockerfile, re.M)
        if not m:
            raise SystemExit("check_manifests: no `ENV ... SLUICE_PORT=N` in packaging/Dockerfile")
        self.image_port = int(m.group(1))
        self.exporter_path = "server/routes/prometheusexporter.cpp"
        self.exporter = read_source(root, self.exporter_path)

    def metric_kind(self, name):
        """'gauge', 'other' (exported, not as a gauge) or None (not exported)."""
        if re.search(r"\bgauge\s*\(\s*\w+\s*,\s*\"" + re.escape(name) + r"\"", self.exporter):
            return "gauge"
        if f'"{name}"' in self.exporter:
            return "other"
        return None


def runs_sluice(container):
    image = str(container.get("image", ""))
    return re.search(r"(^|/)sluice(:|@|$)", image) is not None


# --- the check ---------------------------------------------------------------

def check(k8s_dir, root, validators=None, sources=None):
    """Every problem found, one sentence each (empty: all good)."""
    validators = validators or load_schemas()
    sources = sources or Sources(root)
    errors = []
    err = errors.append

    # Kustomization first: it says which files make the set.
    kfile = "kustomization.yaml"
    kpath = os.path.join(k8s_dir, kfile)
    listed = []
    if not os.path.exists(kpath):
        err(f"{kfile}: missing (kubectl apply -k needs it)")
    else:
        try:
            with open(kpath, encoding="utf-8") as f:
                kust = yaml.load(f, Loader=StrictLoader)
        except yaml.YAMLError as e:
            err(f"{kfile}: {yaml_error(e)}")
            kust = None
        if isinstance(kust, dict):
            for line in schema_errors(validators[SCHEMA_FOR_KIND["Kustomization"]], kust, "kustomization.json"):
                err(f"{kfile}: {line}")
            listed = [r for r in kust.get("resources") or [] if isinstance(r, str)]
            for i, r in enumerate(listed):
                if not os.path.isfile(os.path.join(k8s_dir, r)):
                    err(f"{kfile}: resources[{i}]: '{r}' does not exist (next to kustomization.yaml)")
        elif kust is not None:
            err(f"{kfile}: must be a mapping, got {_type_name(kust)}")
    manifests = sorted(f for f in os.listdir(k8s_dir)
                       if f.endswith((".yaml", ".yml")) and f != kfile)
    for f in manifests:
        if f not in listed:
            err(f"{f}: not listed in {kfile} resources (kubectl apply -k would leave it out)")

    # Every manifest file: YAML, then its schema.
    docs = []
    for f in manifests:
        try:
            with open(os.path.join(k8s_dir, f), encoding="utf-8") as fh:
                loaded = list(yaml.load_all(fh, Loader=StrictLoader))
        except yaml.YAMLError as e:
            err(f"{f}: {yaml_error(e)}")
            continue
        for i, obj in enumerate(x for x in loaded if x is not None):
            d = Doc(f, i, obj)
            if not isinstance(obj, dict):
                err(f"{d.where()}: a manifest must be a mapping, got {_type_name(obj)}")
                continue
            schema_name = SCHEMA_FOR_KIND.get(d.kind)
            if schema_name is None or d.kind == "Kustomization":
                err(f"{d.where()}: kind: no schema for kind {d.kind!r} in tests/packaging/k8s-schemas "
                    f"(known: {', '.join(k for k in SCHEMA_FOR_KIND if k != 'Kustomization')})")
                continue
            for line in schema_errors(validators[schema_name], obj, schema_name):
                err(f"{d.where()}: {line}")
            docs.append(d)

    seen = {}
    for d in docs:
        key = (d.kind, d.name, dig(d.obj, "metadata", "namespace"))
        if key in seen:
            err(f"{d.where()}: metadata.name: another {d.kind} named {d.name!r} is in {seen[key]}")
        seen[key] = d.file

    def of_kind(*kinds):
        return [d for d in docs if d.kind in kinds]

    workloads = of_kind(*WORKLOAD_KINDS)
    services = of_kind("Service")

    def pod_labels(w):
        return dig(w.obj, "spec", "template", "metadata", "labels", default={}) or {}

    def containers(w):
        return [c for c in dig(w.obj, "spec", "template", "spec", "containers", default=[]) or [] if isinstance(c, dict)]

    def container_ports(w):
        """(container index, port name or None, number) of every container port."""
        out = []
        for ci, c in enumerate(containers(w)):
            for p in c.get("ports") or []:
                if isinstance(p, dict):
                    out.append((ci, p.get("name"), p.get("containerPort")))
        return out

    def resolve_port(ports, ref):
        for _, name, number in ports:
            if (isinstance(ref, str) and ref == name) or (isinstance(ref, int) and ref == number):
                return number
        return None

    def selected_workloads(selector):
        return [w for w in workloads if selects(selector, pod_labels(w))]

    # Workloads: selector, names, references inside the pod.
    for w in workloads:
        sel = dig(w.obj, "spec", "selector", default={}) or {}
        if sel.get("matchExpressions"):
            err(f"{w.where()}: spec.selector.matchExpressions: this check compares matchLabels only; use matchLabels")
        match = sel.get("matchLabels") or {}
        labels = pod_labels(w)
        for k, v in match.items():
            if labels.get(k) != v:
                got = f"{k}={labels[k]}" if k in labels else f"no label {k}"
                err(f"{w.where()}: spec.selector.matchLabels.{k}: {k}={v} does not match the pod template "
                    f"(spec.template.metadata.labels has {got}); the API refuses a selector that does not "
                    f"select its own template")
        volumes = {v.get("name") for v in dig(w.obj, "spec", "template", "spec", "volumes", default=[]) or []
                   if isinstance(v, dict)}
        names = set()
        for ci, c in enumerate(containers(w)):
            cpath = f"spec.template.spec.containers[{ci}]"
            if c.get("name") in names:
                err(f"{w.where()}: {cpath}.name: {c.get('name')!r} is used by another container")
            names.add(c.get("name"))
            env_names = set()
            for ei, e in enumerate(c.get("env") or []):
                if not isinstance(e, dict):
                    continue
                if e.get("name") in env_names:
                    err(f"{w.where()}: {cpath}.env[{ei}].name: {e.get('name')} is set twice (the last one wins)")
                # The kubelet expands $(NAME) only for variables defined above.
                for ref in re.findall(r"(?<!\$)\$\(([-._a-zA-Z0-9]+)\)", str(e.get("value", ""))):
                    if ref not in env_names:
                        err(f"{w.where()}: {cpath}.env[{ei}].value: $({ref}) refers to no variable defined "
                            f"before {e.get('name')} (it would stay literally '$({ref})')")
                env_names.add(e.get("name"))
            port_names = set()
            for pi, p in enumerate(c.get("ports") or []):
                if isinstance(p, dict) and p.get("name") is not None:
                    if p["name"] in port_names:
                        err(f"{w.where()}: {cpath}.ports[{pi}].name: port name {p['name']!r} is used twice")
                    port_names.add(p["name"])
            for mi, m in enumerate(c.get("volumeMounts") or []):
                if isinstance(m, dict) and m.get("name") not in volumes:
                    err(f"{w.where()}: {cpath}.volumeMounts[{mi}].name: no volume named {m.get('name')!r} "
                        f"in spec.template.spec.volumes")
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                ref = dig(c, probe, "httpGet", "port", default=dig(c, probe, "tcpSocket", "port"))
                if ref is not None and resolve_port(container_ports(w), ref) is None:
                    which = "httpGet" if dig(c, probe, "httpGet") else "tcpSocket"
                    err(f"{w.where()}: {cpath}.{probe}.{which}.port: {ref!r} is not one of the container's ports")

    # Services select exactly one workload's pods, on one of its ports.
    for s in services:
        sel = dig(s.obj, "spec", "selector", default={}) or {}
        matched = selected_workloads(sel)
        shown = ", ".join(f"{k}={v}" for k, v in sel.items())
        if not matched:
            err(f"{s.where()}: spec.selector: {shown} selects the pods of no Deployment or StatefulSet here "
                f"({', '.join(w.where() for w in workloads) or 'none'})")
            continue
        if len(matched) > 1:
            err(f"{s.where()}: spec.selector: {shown} selects the pods of "
                f"{' and '.join(w.where() for w in matched)}; a Service must send to one of them")
            continue
        w = matched[0]
        ports = container_ports(w)
        for pi, p in enumerate(dig(s.obj, "spec", "ports", default=[]) or []):
            if not isinstance(p, dict):
                continue
            target = p.get("targetPort", p.get("port"))
            if resolve_port(ports, target) is None:
                have = ", ".join(f"{n}={num}" if n else str(num) for _, n, num in ports) or "none"
                err(f"{s.where()}: spec.ports[{pi}].targetPort: {target!r} is not a container port of "
                    f"{w.where()} (its ports: {have})")
    for w in workloads:
        if not any(selects(dig(s.obj, "spec", "selector", default={}) or {}, pod_labels(w)) for s in services):
            err(f"{w.where()}: spec.template.metadata.labels: no Service here selects these pods")
    for w in of_kind("StatefulSet"):
        name = dig(w.obj, "spec", "serviceName")
        svc = next((s for s in services if s.name == name), None)
        if svc is None:
            err(f"{w.where()}: spec.serviceName: no Service named {name!r} here")
        else:
            if dig(svc.obj, "spec", "clusterIP") != "None":
                err(f"{svc.where()}: spec.clusterIP: must be None (headless): it is the serviceName of {w.where()}")
            if not selects(dig(svc.obj, "spec", "selector", default={}) or {}, pod_labels(w)):
                err(f"{w.where()}: spec.serviceName: Service {name!r} does not select this StatefulSet's pods")

    # The gateway: the Deployments whose containers run the sluice image.
    gateways = [(w, ci, c) for w in of_kind("Deployment") for ci, c in enumerate(containers(w)) if runs_sluice(c)]
    if not gateways:
        err("no Deployment here runs the sluice image (containers[].image sluice:TAG or REGISTRY/sluice:TAG)")
    hpas = of_kind("HorizontalPodAutoscaler")
    for w, ci, c in gateways:
        cpath = f"spec.template.spec.containers[{ci}]"
        ports = [p for p in container_ports(w) if p[0] == ci]
        listen = sources.image_port
        port_from = "SLUICE_PORT in packaging/Dockerfile"
        if env_value(c, "SLUICE_PORT") is not None:
            listen, port_from = int(env_value(c, "SLUICE_PORT")), f"{cpath}.env SLUICE_PORT"
        opt, _ = option_value(c.get("args"), "--port")
        if opt is not None:
            listen, port_from = int(opt), f"{cpath}.args --port"
        if listen not in [num for _, _, num in ports]:
            err(f"{w.where()}: {cpath}.ports: sluice listens on {listen} ({port_from}), which is not a containerPort")
        # Readiness: /health on the port sluice listens on (503 while draining).
        rp = dig(c, "readinessProbe")
        if not rp:
            err(f"{w.where()}: {cpath}.readinessProbe: missing; without it a draining replica keeps getting traffic")
        elif not dig(rp, "httpGet"):
            err(f"{w.where()}: {cpath}.readinessProbe: must be an httpGet of /health (its 503 while draining is what drops readiness)")
        else:
            if dig(rp, "httpGet", "path") != "/health":
                err(f"{w.where()}: {cpath}.readinessProbe.httpGet.path: must be /health, got {dig(rp, 'httpGet', 'path')!r}")
            if resolve_port(ports, dig(rp, "httpGet", "port")) != listen:
                err(f"{w.where()}: {cpath}.readinessProbe.httpGet.port: {dig(rp, 'httpGet', 'port')!r} is not the "
                    f"port sluice listens on ({listen}, {port_from})")
        lp = dig(c, "livenessProbe")
        if not lp:
            err(f"{w.where()}: {cpath}.livenessProbe: missing")
        else:
            ref = dig(lp, "httpGet", "port", default=dig(lp, "tcpSocket", "port"))
            if ref is not None and resolve_port(ports, ref) != listen:
                err(f"{w.where()}: {cpath}.livenessProbe: port {ref!r} is not the port sluice listens on ({listen})")
        ann = dig(w.obj, "spec", "template", "metadata", "annotations", default={}) or {}
        if ann.get("prometheus.io/scrape") == "true":
            if ann.get("prometheus.io/port") != str(listen):
                err(f"{w.where()}: spec.template.metadata.annotations.prometheus.io/port: must be \"{listen}\", "
                    f"got {ann.get('prometheus.io/port')!r}")
            if ann.get("prometheus.io/path", "/metrics") != "/metrics":
                err(f"{w.where()}: spec.template.metadata.annotations.prometheus.io/path: must be /metrics")

        # Clients reach the pods by the Service's name: sluice answers 421 to
        # a Host it was not told about (DNS-rebinding protection).
        hosts = [h.strip().lower() for h in str(env_value(c, "SLUICE_ALLOWED_HOSTS") or "").split(",")]
        for s in services:
            if selects(dig(s.obj, "spec", "selector", default={}) or {}, pod_labels(w)) \
                    and "*" not in hosts and s.name not in hosts:
                err(f"{w.where()}: {cpath}.env SLUICE_ALLOWED_HOSTS: lacks {s.name!r}, the name of "
                    f"{s.where()}: requests through it would get 421")

        # Shutdown: preStop sleep + drain grace < terminationGracePeriodSeconds.
        drain_ms, drain_from = sources.default_drain_ms, "the default in app/appconfig.h"
        if env_value(c, "SLUICE_DRAIN_GRACE_MS") is not None:
            drain_ms, drain_from = env_value(c, "SLUICE_DRAIN_GRACE_MS"), f"{cpath}.env SLUICE_DRAIN_GRACE_MS"
        opt, idx = option_value(c.get("args"), "--drain-grace-ms")
        if opt is not None:
            drain_ms, drain_from = opt, f"{cpath}.args[{idx}] --drain-grace-ms"
        try:
            drain_ms = int(drain_ms)
        except ValueError:
            err(f"{w.where()}: {drain_from}: {drain_ms!r} is not a whole number of milliseconds")
            drain_ms = None
        pre = dig(c, "lifecycle", "preStop", default={}) or {}
        pre_s = 0
        cmd = dig(pre, "exec", "command", default=[]) or []
        if dig(pre, "sleep", "seconds") is not None:
            pre_s = dig(pre, "sleep", "seconds")
        elif cmd[:1] == ["sleep"] and len(cmd) == 2 and re.fullmatch(r"\d+", str(cmd[1])):
            pre_s = int(cmd[1])
        elif cmd:
            err(f"{w.where()}: {cpath}.lifecycle.preStop.exec.command: expected [\"sleep\", \"N\"] (this check "
                f"adds N to the drain), got {cmd!r}")
        grace = dig(w.obj, "spec", "template", "spec", "terminationGracePeriodSeconds", default=30)
        if drain_ms is not None and as_int(grace) is not None and not grace > pre_s + drain_ms / 1000:
            err(f"{w.where()}: spec.template.spec.terminationGracePeriodSeconds: {grace} s does not exceed the "
                f"preStop sleep ({pre_s} s) plus sluice's drain grace ({drain_ms / 1000:g} s, {drain_from}): "
                f"the kubelet would SIGKILL a drain still in progress")

        # The shared budget: Redis here, and the replica count for outages.
        store = env_value(c, "SLUICE_BUDGET_STORE")
        redis_workloads = [x for x in workloads
                           if any(re.search(r"(^|/)redis(:|@|$)", str(k.get("image", ""))) for k in containers(x))]
        if store is None:
            err(f"{w.where()}: {cpath}.env: SLUICE_BUDGET_STORE is not set: each replica would spend the "
                f"whole quota on its own")
        else:
            m = re.fullmatch(r"redis://(?:[^@/]*@)?([A-Za-z0-9.-]+)(?::(\d+))?(?:/(\d+))?", store)
            if not m:
                err(f"{w.where()}: {cpath}.env SLUICE_BUDGET_STORE: {store!r} is not redis://HOST[:PORT][/DB]")
            elif redis_workloads:
                host, port = m.group(1), int(m.group(2) or 6379)
                svc = next((s for s in services if s.name == host.split(".")[0]), None)
                targets = [r.name for r in redis_workloads]
                if svc is None or not any(selects(dig(svc.obj, "spec", "selector", default={}) or {}, pod_labels(r))
                                          for r in redis_workloads):
                    err(f"{w.where()}: {cpath}.env SLUICE_BUDGET_STORE: host {host!r} is not the Service of the "
                        f"Redis here ({', '.join(targets)}); for an external Redis, remove redis.yaml")
                elif port not in [p.get("port") for p in dig(svc.obj, "spec", "ports", default=[]) or []
                                  if isinstance(p, dict)]:
                    err(f"{w.where()}: {cpath}.env SLUICE_BUDGET_STORE: port {port} is not a port of "
                        f"{svc.where()}")
        replicas = env_value(c, "SLUICE_BUDGET_REPLICAS")
        hpa_max = max([as_int(dig(h.obj, "spec", "maxReplicas"), 0) for h in hpas
                       if dig(h.obj, "spec", "scaleTargetRef", "name") == w.name] or [0])
        most = max(hpa_max, as_int(dig(w.obj, "spec", "replicas"), 1))
        if replicas is None:
            err(f"{w.where()}: {cpath}.env: SLUICE_BUDGET_REPLICAS is not set")
        elif not re.fullmatch(r"0|[1-9][0-9]*", str(replicas)):
            err(f"{w.where()}: {cpath}.env SLUICE_BUDGET_REPLICAS: {replicas!r} is not a whole number")
        elif 0 < int(replicas) < most:  # 0: the count Redis last showed, sluice's own choice
            err(f"{w.where()}: {cpath}.env SLUICE_BUDGET_REPLICAS: {replicas} is below the {most} replicas that "
                f"may run (HPA maxReplicas): while Redis is down they would spend {most}/{replicas} of the quota")

        # Memory: the limit leaves room above what sluice admits.
        limit = parse_quantity(dig(c, "resources", "limits", "memory"))
        budget = env_value(c, "SLUICE_MEMORY_BUDGET_BYTES")
        budget = int(budget) if budget is not None and str(budget).isdigit() else sources.default_memory_budget
        if limit is None:
            err(f"{w.where()}: {cpath}.resources.limits.memory: missing")
        elif budget and limit < budget + MEMORY_HEADROOM:
            err(f"{w.where()}: {cpath}.resources.limits.memory: {dig(c, 'resources', 'limits', 'memory')} leaves "
                f"less than {MEMORY_HEADROOM >> 20} MiB above sluice's memory budget ({budget >> 20} MiB): the OOM "
                f"killer would end the pod before sluice answers 503")

    # PodDisruptionBudget: selects the gateway, and allows an eviction.
    for p in of_kind("PodDisruptionBudget"):
        match = dig(p.obj, "spec", "selector", "matchLabels", default={}) or {}
        matched = selected_workloads(match)
        shown = ", ".join(f"{k}={v}" for k, v in match.items())
        if not matched:
            err(f"{p.where()}: spec.selector.matchLabels: {shown} selects no pods of a Deployment or StatefulSet here")
        elif len(matched) > 1:
            err(f"{p.where()}: spec.selector.matchLabels: {shown} selects the pods of "
                f"{' and '.join(w.where() for w in matched)}")
        elif not any(m is g[0] for m in matched for g in gateways):
            err(f"{p.where()}: spec.selector.matchLabels: selects {matched[0].where()}, not the gateway")
        for w in matched:
            floor = min([as_int(dig(h.obj, "spec", "minReplicas"), 1) for h in hpas
                         if dig(h.obj, "spec", "scaleTargetRef", "name") == w.name]
                        or [as_int(dig(w.obj, "spec", "replicas"), 1)])
            mina = dig(p.obj, "spec", "minAvailable")
            if as_int(mina) is not None and mina >= floor:
                err(f"{p.where()}: spec.minAvailable: {mina} of {floor} replicas blocks every voluntary eviction "
                    f"(node drains would hang)")
            if dig(p.obj, "spec", "maxUnavailable") == 0:
                err(f"{p.where()}: spec.maxUnavailable: 0 blocks every voluntary eviction (node drains would hang)")

    # prometheus-adapter rules: schema, then what each exposes.
    exposed = {}  # metric name the custom metrics API serves -> (doc, rule path, series name)
    for cm in of_kind("ConfigMap"):
        text = dig(cm.obj, "data", "config.yaml")
        if not isinstance(text, str):
            continue
        prefix = 'data."config.yaml"'
        try:
            cfg = yaml.load(text, Loader=StrictLoader)
        except yaml.YAMLError as e:
            err(f"{cm.where()}: {prefix}: {yaml_error(e)}")
            continue
        if not isinstance(cfg, dict) or "rules" not in cfg and "resourceRules" not in cfg:
            continue
        for line in schema_errors(validators[ADAPTER_SCHEMA], cfg, ADAPTER_SCHEMA, prefix):
            err(f"{cm.where()}: {line}")
        for ri, rule in enumerate(cfg.get("rules") or []):
            if not isinstance(rule, dict):
                continue
            rpath = f"{prefix}.rules[{ri}]"
            sq = str(rule.get("seriesQuery", ""))
            m = re.match(r"\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{|$)", sq) or \
                re.search(r"__name__\s*=~?\s*\"\^?([a-zA-Z_:][a-zA-Z0-9_:]*)\$?\"", sq)
            if not m:
                err(f"{cm.where()}: {rpath}.seriesQuery: names no single metric (this check needs "
                    f"`name{{...}}` or __name__=\"name\"), got {sq!r}")
                continue
            series = m.group(1)
            kind = sources.metric_kind(series)
            if kind is None:
                err(f"{cm.where()}: {rpath}.seriesQuery: sluice exports no metric {series!r} "
                    f"(not in {sources.exporter_path})")
            elif kind != "gauge":
                err(f"{cm.where()}: {rpath}.seriesQuery: {series!r} is not a gauge in {sources.exporter_path}; "
                    f"an average per pod of a counter needs rate() in metricsQuery")
            name = rule.get("name") or {}
            pattern, replacement = name.get("matches", "^(.*)$"), name.get("as", "")
            try:
                served = re.sub(pattern, replacement.replace("${", "\\g<").replace("}", ">") or "\\g<0>", series) \
                    if re.search(pattern, series) else None
            except re.error as e:
                err(f"{cm.where()}: {rpath}.name: {e}")
                continue
            if served is None:
                err(f"{cm.where()}: {rpath}.name.matches: {pattern!r} does not match the series {series!r}")
                continue
            exposed[served] = (cm, rpath, series)
            overrides = dig(rule, "resources", "overrides", default={}) or {}
            resources = {dig(v, "resource") for v in overrides.values() if isinstance(v, dict)}
            for needed in ("namespace", "pod"):
                if needed not in resources and needed + "s" not in resources:
                    err(f"{cm.where()}: {rpath}.resources.overrides: no label maps to resource {needed!r}; "
                        f"a Pods metric is looked up by namespace and pod")
            mq = str(rule.get("metricsQuery", ""))
            for token in ("<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>"):
                if token not in mq:
                    err(f"{cm.where()}: {rpath}.metricsQuery: lacks {token} (the adapter fills it in per request)")

    # HPA: targets the gateway Deployment; its Pods metrics are served.
    for h in hpas:
        ref = dig(h.obj, "spec", "scaleTargetRef", default={}) or {}
        target = next((w for w in workloads if w.kind == ref.get("kind") and w.name == ref.get("name")), None)
        if target is None:
            have = ", ".join(f"{w.kind} {w.name}" for w in workloads) or "none"
            err(f"{h.where()}: spec.scaleTargetRef.name: no {ref.get('kind')} named {ref.get('name')!r} here "
                f"(workloads: {have})")
        elif ref.get("apiVersion") not in (None, "apps/v1"):
            err(f"{h.where()}: spec.scaleTargetRef.apiVersion: must be apps/v1 for {target.kind}, got {ref.get('apiVersion')!r}")
        lo, hi = as_int(dig(h.obj, "spec", "minReplicas", default=1)), as_int(dig(h.obj, "spec", "maxReplicas"))
        if lo is not None and hi is not None:
            if lo > hi:
                err(f"{h.where()}: spec.minReplicas: {lo} is above spec.maxReplicas {hi}")
            reps = as_int(dig(target.obj, "spec", "replicas")) if target else None
            if reps is not None and not lo <= reps <= hi:
                err(f"{target.where()}: spec.replicas: {reps} is outside the range of {h.where()} ({lo}..{hi})")
        for mi, metric in enumerate(dig(h.obj, "spec", "metrics", default=[]) or []):
            if dig(metric, "type") != "Pods":
                continue
            mname = dig(metric, "pods", "metric", "name")
            if mname not in exposed:
                err(f"{h.where()}: spec.metrics[{mi}].pods.metric.name: {mname!r} is served by no prometheus-adapter "
                    f"rule here (rules serve: {', '.join(sorted(exposed)) or 'nothing'})")
    return errors


# --- self-test: the check must reject broken copies ---------------------------

def _edit_yaml(k8s_dir, file, fn):
    path = os.path.join(k8s_dir, file)
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    fn(docs)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)


def _first(docs, kind):
    return next(d for d in docs if d.get("kind") == kind)


def _gateway(docs):
    return _first(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def _set_env(container, name, value):
    for e in container["env"]:
        if e["name"] == name:
            e["value"] = value
            return
    container["env"].append({"name": name, "value": value})


def _rename_key(d, old, new):
    d[new] = d.pop(old)


def _adapter_rule(docs):
    cm = _first(docs, "ConfigMap")
    cfg = yaml.safe_load(cm["data"]["config.yaml"])
    return cm, cfg


def _edit_adapter(fn):
    def edit(docs):
        cm, cfg = _adapter_rule(docs)
        fn(cfg["rules"][0])
        cm["data"]["config.yaml"] = yaml.safe_dump(cfg, sort_keys=False)
    return edit


def _text_edit(file, old, new):
    def apply(k8s_dir):
        path = os.path.join(k8s_dir, file)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if old not in text:
            raise AssertionError(f"self-test mutation: {old!r} is not in {file}")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new, 1))
    return apply


def _yaml_edit(file, fn):
    return lambda k8s_dir: _edit_yaml(k8s_dir, file, fn)


# (what is broken, the mutation, substrings one error line must contain: the
# file and the field).
MUTATIONS = [
    # deployment.yaml
    ("Deployment: misspelt field livenesProbe",
     _yaml_edit("deployment.yaml", lambda d: _rename_key(_gateway(d), "livenessProbe", "livenesProbe")),
     ["deployment.yaml", "containers[0].livenesProbe", "unknown field", "livenessProbe"]),
    ("Deployment: misspelt field terminationGracePeriodSecond",
     _yaml_edit("deployment.yaml", lambda d: _rename_key(_first(d, "Deployment")["spec"]["template"]["spec"],
                                                        "terminationGracePeriodSeconds", "terminationGracePeriodSecond")),
     ["deployment.yaml", "spec.template.spec.terminationGracePeriodSecond", "unknown field"]),
    ("Deployment: replicas as a string",
     _yaml_edit("deployment.yaml", lambda d: _first(d, "Deployment")["spec"].__setitem__("replicas", "3")),
     ["deployment.yaml", "spec.replicas", "must be an integer", "string"]),
    ("Deployment: containerPort out of range",
     _yaml_edit("deployment.yaml", lambda d: _gateway(d)["ports"][0].__setitem__("containerPort", 80800)),
     ["deployment.yaml", "containers[0].ports[0].containerPort", "out of range"]),
    ("Deployment: annotation value not a string",
     _yaml_edit("deployment.yaml", lambda d: _first(d, "Deployment")["spec"]["template"]["metadata"]["annotations"]
                .__setitem__("prometheus.io/port", 8080)),
     ["deployment.yaml", "annotations", "prometheus.io/port", "must be a string"]),
    ("Deployment: spec.selector missing",
     _yaml_edit("deployment.yaml", lambda d: _first(d, "Deployment")["spec"].pop("selector")),
     ["deployment.yaml", "spec.selector", "required field is missing"]),
    ("Deployment: container without image",
     _yaml_edit("deployment.yaml", lambda d: _gateway(d).pop("image")),
     ["deployment.yaml", "containers[0].image", "required field is missing"]),
    ("Deployment: selector does not match the template's labels",
     _yaml_edit("deployment.yaml", lambda d: _first(d, "Deployment")["spec"]["selector"]["matchLabels"]
                .__setitem__("app.kubernetes.io/component", "gatewy")),
     ["deployment.yaml", "spec.selector.matchLabels.app.kubernetes.io/component", "does not match"]),
    ("Deployment: readiness probe on /healthz",
     _yaml_edit("deployment.yaml", lambda d: _gateway(d)["readinessProbe"]["httpGet"].__setitem__("path", "/healthz")),
     ["deployment.yaml", "readinessProbe.httpGet.path", "/health"]),
    ("Deployment: readiness probe on a port that is not the container's",
     _yaml_edit("deployment.yaml", lambda d: _gateway(d)["readinessProbe"]["httpGet"].__setitem__("port", 9090)),
     ["deployment.yaml", "readinessProbe.httpGet.port", "9090"]),
    ("Deployment: probe with two handlers",
     _yaml_edit("deployment.yaml", lambda d: _gateway(d)["livenessProbe"].__setitem__("tcpSocket", {"port": "http"})),
     ["deployment.yaml", "containers[0].livenessProbe", "exactly one handler"]),
    ("Deployment: termination grace shorter than the drain",
     _yaml_edit("deployment.yaml", lambda d: _first(d, "Deployment")["spec"]["template"]["spec"]
                .__setitem__("terminationGracePeriodSeconds", 60)),
     ["deployment.yaml", "terminationGracePeriodSeconds", "drain"]),
    ("Deployment: drain grace raised past the termination grace",
     _yaml_edit("deployment.yaml", lambda d: _gateway(d).__setitem__("args", ["--drain-grace-ms=200000"])),
     ["deployment.yaml", "terminationGracePeriodSeconds", "--drain-grace-ms"]),
    ("Deployment: budget store pointing at a Service that is not Redis's",
     _yaml_edit("deployment.yaml", lambda d: _set_env(_gateway(d), "SLUICE_BUDGET_STORE", "redis://redis:6379/0")),
     ["deployment.yaml", "SLUICE_BUDGET_STORE", "'redis'"]),
    ("Deployment: budget store on the wrong port",
     _yaml_edit("deployment.yaml", lambda d: _set_env(_gateway(d), "SLUICE_BUDGET_STORE", "redis://sluice-redis:6380/0")),
     ["deployment.yaml", "SLUICE_BUDGET_STORE", "port 6380"]),
    ("Deployment: budget replicas below the HPA's maximum",
     _yaml_edit("deployment.yaml", lambda d: _set_env(_gateway(d), "SLUICE_BUDGET_REPLICAS", "3")),
     ["deployment.yaml", "SLUICE_BUDGET_REPLICAS", "maxReplicas"]),
    ("Deployment: allowed hosts without the Service's name",
     _yaml_edit("deployment.yaml", lambda d: _set_env(_gateway(d), "SLUICE_ALLOWED_HOSTS", "gateway.example.com")),
     ["deployment.yaml", "SLUICE_ALLOWED_HOSTS", "'sluice'", "421"]),
    ("Deployment: $(POD_NAMESPACE) used before it is defined",
     _yaml_edit("deployment.yaml", lambda d: _gateway(d)["env"].append(_gateway(d)["env"].pop(0))),
     ["deployment.yaml", "containers[0].env[", "$(POD_NAMESPACE)"]),
    ("Deployment: memory limit below the memory budget",
     _yaml_edit("deployment.yaml", lambda d: _gateway(d)["resources"]["limits"].__setitem__("memory", "1Gi")),
     ["deployment.yaml", "resources.limits.memory", "memory budget"]),
    ("Deployment: memory limit below the default memory budget (app/appconfig.h)",
     _yaml_edit("deployment.yaml", lambda d: (
         _gateway(d).__setitem__("env", [e for e in _gateway(d)["env"] if e["name"] != "SLUICE_MEMORY_BUDGET_BYTES"]),
         _gateway(d)["resources"]["limits"].__setitem__("memory", "1200Mi"))),
     ["deployment.yaml", "resources.limits.memory", "(1024 MiB)"]),
    ("Deployment: misspelt resource name",
     _yaml_edit("deployment.yaml", lambda d: _rename_key(_gateway(d)["resources"]["requests"], "memory", "memroy")),
     ["deployment.yaml", "resources.requests.memroy", "unknown field", "memory"]),
    ("Deployment: a key given twice",
     _text_edit("deployment.yaml", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  revisionHistoryLimit: 6\n"),
     ["deployment.yaml", "revisionHistoryLimit", "given twice"]),
    # service.yaml
    ("Service: selector selects nothing",
     _yaml_edit("service.yaml", lambda d: _first(d, "Service")["spec"]["selector"]
                .__setitem__("app.kubernetes.io/name", "sluicee")),
     ["service.yaml", "spec.selector", "selects the pods of no"]),
    ("Service: port as a string",
     _yaml_edit("service.yaml", lambda d: _first(d, "Service")["spec"]["ports"][0].__setitem__("port", "8080")),
     ["service.yaml", "spec.ports[0].port", "must be an integer"]),
    ("Service: targetPort names no container port",
     _yaml_edit("service.yaml", lambda d: _first(d, "Service")["spec"]["ports"][0].__setitem__("targetPort", "htp")),
     ["service.yaml", "spec.ports[0].targetPort", "'htp'"]),
    ("Service: misspelt selector",
     _yaml_edit("service.yaml", lambda d: _rename_key(_first(d, "Service")["spec"], "selector", "selecter")),
     ["service.yaml", "spec.selecter", "unknown field"]),
    # pdb.yaml
    ("PodDisruptionBudget: selector selects nothing",
     _yaml_edit("pdb.yaml", lambda d: _first(d, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"]
                .__setitem__("app.kubernetes.io/component", "gw")),
     ["pdb.yaml", "spec.selector.matchLabels", "selects no pods"]),
    ("PodDisruptionBudget: selects Redis instead of the gateway",
     _yaml_edit("pdb.yaml", lambda d: _first(d, "PodDisruptionBudget")["spec"]["selector"].__setitem__(
         "matchLabels", {"app.kubernetes.io/name": "sluice-redis"})),
     ["pdb.yaml", "spec.selector.matchLabels", "not the gateway"]),
    ("PodDisruptionBudget: misspelt maxUnavailable",
     _yaml_edit("pdb.yaml", lambda d: _rename_key(_first(d, "PodDisruptionBudget")["spec"], "maxUnavailable", "maxUnavailble")),
     ["pdb.yaml", "spec.maxUnavailble", "unknown field"]),
    ("PodDisruptionBudget: minAvailable and maxUnavailable both",
     _yaml_edit("pdb.yaml", lambda d: _first(d, "PodDisruptionBudget")["spec"].__setitem__("minAvailable", 2)),
     ["pdb.yaml", "spec", "exactly one of minAvailable, maxUnavailable"]),
    ("PodDisruptionBudget: minAvailable that blocks every eviction",
     _yaml_edit("pdb.yaml", lambda d: (_first(d, "PodDisruptionBudget")["spec"].pop("maxUnavailable"),
                                       _first(d, "PodDisruptionBudget")["spec"].__setitem__("minAvailable", 3))),
     ["pdb.yaml", "spec.minAvailable", "blocks every voluntary eviction"]),
    # redis.yaml
    ("StatefulSet: serviceName names no Service",
     _yaml_edit("redis.yaml", lambda d: _first(d, "StatefulSet")["spec"].__setitem__("serviceName", "redis")),
     ["redis.yaml", "spec.serviceName", "'redis'"]),
    ("StatefulSet: replicas as a string",
     _yaml_edit("redis.yaml", lambda d: _first(d, "StatefulSet")["spec"].__setitem__("replicas", "1")),
     ["redis.yaml", "spec.replicas", "must be an integer"]),
    ("StatefulSet: selector does not match the template's labels",
     _yaml_edit("redis.yaml", lambda d: _first(d, "StatefulSet")["spec"]["selector"]["matchLabels"]
                .__setitem__("app.kubernetes.io/name", "redis")),
     ["redis.yaml", "spec.selector.matchLabels.app.kubernetes.io/name", "does not match"]),
    ("Service (Redis): no longer headless",
     _yaml_edit("redis.yaml", lambda d: _first(d, "Service")["spec"].pop("clusterIP")),
     ["redis.yaml", "spec.clusterIP", "headless"]),
    ("StatefulSet: misspelt readinessProbe field",
     _yaml_edit("redis.yaml", lambda d: _rename_key(_first(d, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
                                                    ["readinessProbe"], "periodSeconds", "periodSecond")),
     ["redis.yaml", "readinessProbe.periodSecond", "unknown field"]),
    # hpa.yaml
    ("HPA: targets a Deployment that is not here",
     _yaml_edit("hpa.yaml", lambda d: _first(d, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
                .__setitem__("name", "sluice-gateway")),
     ["hpa.yaml", "spec.scaleTargetRef.name", "sluice-gateway"]),
    ("HPA: metric name the adapter does not serve",
     _yaml_edit("hpa.yaml", lambda d: _first(d, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["pods"]["metric"]
                .__setitem__("name", "sluice_queue_length")),
     ["hpa.yaml", "spec.metrics[0].pods.metric.name", "sluice_queue_length"]),
    ("HPA: minReplicas above maxReplicas",
     _yaml_edit("hpa.yaml", lambda d: _first(d, "HorizontalPodAutoscaler")["spec"].__setitem__("minReplicas", 20)),
     ["hpa.yaml", "spec.minReplicas", "above"]),
    ("HPA: type Pods without pods",
     _yaml_edit("hpa.yaml", lambda d: _rename_key(_first(d, "HorizontalPodAutoscaler")["spec"]["metrics"][0], "pods", "pod")),
     ["hpa.yaml", "spec.metrics[0].pod", "unknown field"]),
    ("HPA: target type Utilization for a Pods metric",
     _yaml_edit("hpa.yaml", lambda d: _first(d, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["pods"]["target"]
                .__setitem__("type", "Utilization")),
     ["hpa.yaml", "spec.metrics[0].pods.target.type", "AverageValue"]),
    ("HPA: averageValue that is not a quantity",
     _yaml_edit("hpa.yaml", lambda d: _first(d, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["pods"]["target"]
                .__setitem__("averageValue", "32 requests")),
     ["hpa.yaml", "spec.metrics[0].pods.target.averageValue", "quantity"]),
    ("HPA: old apiVersion",
     _yaml_edit("hpa.yaml", lambda d: _first(d, "HorizontalPodAutoscaler").__setitem__("apiVersion", "autoscaling/v2beta2")),
     ["hpa.yaml", "apiVersion", "autoscaling/v2"]),
    # prometheus-adapter.yaml
    ("adapter: rule serves another name than the HPA's",
     _yaml_edit("prometheus-adapter.yaml", _edit_adapter(lambda r: r["name"].__setitem__("as", "sluice_queue"))),
     ["hpa.yaml", "pods.metric.name", "sluice_queue_depth"]),
    ("adapter: a metric sluice does not export (HPA and rule agree)",
     lambda k8s_dir: (
         _edit_yaml(k8s_dir, "prometheus-adapter.yaml", _edit_adapter(lambda r: r.update(
             seriesQuery='sluice_queue_depths{namespace!="",pod!=""}',
             name={"matches": "^sluice_queue_depths$", "as": "sluice_queue_depths"}))),
         _edit_yaml(k8s_dir, "hpa.yaml", lambda d: _first(d, "HorizontalPodAutoscaler")["spec"]["metrics"][0]["pods"]
                    ["metric"].__setitem__("name", "sluice_queue_depths"))),
     ["prometheus-adapter.yaml", "seriesQuery", "sluice_queue_depths", "prometheusexporter.cpp"]),
    ("adapter: a counter averaged as if it were a gauge",
     _yaml_edit("prometheus-adapter.yaml", _edit_adapter(lambda r: r.update(
         seriesQuery='sluice_requests_total{namespace!="",pod!=""}',
         name={"matches": "^sluice_requests_total$", "as": "sluice_queue_depth"}))),
     ["prometheus-adapter.yaml", "seriesQuery", "not a gauge"]),
    ("adapter: metricsQuery without <<.GroupBy>>",
     _yaml_edit("prometheus-adapter.yaml", _edit_adapter(lambda r: r.__setitem__(
         "metricsQuery", "avg(<<.Series>>{<<.LabelMatchers>>})"))),
     ["prometheus-adapter.yaml", "rules[0].metricsQuery", "<<.GroupBy>>"]),
    ("adapter: misspelt seriesQuery",
     _yaml_edit("prometheus-adapter.yaml", _edit_adapter(lambda r: _rename_key(r, "seriesQuery", "seriesQuerry"))),
     ["prometheus-adapter.yaml", "rules[0].seriesQuerry", "unknown field"]),
    ("adapter: no label mapped to pods",
     _yaml_edit("prometheus-adapter.yaml", _edit_adapter(lambda r: r["resources"]["overrides"].pop("pod"))),
     ["prometheus-adapter.yaml", "resources.overrides", "'pod'"]),
    ("adapter: config.yaml as a mapping instead of text",
     _yaml_edit("prometheus-adapter.yaml", lambda d: _first(d, "ConfigMap")["data"].__setitem__(
         "config.yaml", yaml.safe_load(_first(d, "ConfigMap")["data"]["config.yaml"]))),
     ["prometheus-adapter.yaml", 'data."config.yaml"', "must be a string"]),
    # kustomization.yaml
    ("kustomization: lists a file that does not exist",
     _yaml_edit("kustomization.yaml", lambda d: d[0]["resources"].append("ingress.yaml")),
     ["kustomization.yaml", "resources[6]", "ingress.yaml", "does not exist"]),
    ("kustomization: a manifest not listed",
     _yaml_edit("kustomization.yaml", lambda d: d[0]["resources"].remove("pdb.yaml")),
     ["pdb.yaml", "not listed in kustomization.yaml"]),
    ("kustomization: misspelt resources",
     _yaml_edit("kustomization.yaml", lambda d: _rename_key(d[0], "resources", "resource")),
     ["kustomization.yaml", "resource", "unknown field"]),
]


def self_test(k8s_dir, root):
    validators, sources = load_schemas(), Sources(root)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="sluice-k8s-selftest-") as tmp:
        # The copies are rewritten through PyYAML; the unmutated round trip
        # must pass, or a rejection below could be the rewrite's fault.
        base = os.path.join(tmp, "base")
        shutil.copytree(k8s_dir, base)
        for f in sorted(os.listdir(base)):
            if f.endswith((".yaml", ".yml")):
                _edit_yaml(base, f, lambda docs: None)
        errs = check(base, root, validators, sources)
        if errs:
            failures += 1
            print("not ok - the unmutated copy passes:\n    " + "\n    ".join(errs))
        else:
            print("ok - the unmutated copy passes")
        for i, (what, mutate, expected) in enumerate(MUTATIONS):
            work = os.path.join(tmp, f"m{i}")
            shutil.copytree(base, work)
            mutate(work)
            errs = check(work, root, validators, sources)
            hit = next((e for e in errs if all(s in e for s in expected)), None)
            if hit:
                print(f"ok - rejects {what}\n    {hit}")
            else:
                failures += 1
                print(f"not ok - rejects {what}: no error line contains {expected}")
                for e in errs or ["(no errors at all)"]:
                    print(f"    {e}")
    print(f"self-test: {len(MUTATIONS) + 1 - failures} passed, {failures} failed")
    return failures == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.abspath(os.path.join(HERE, "..", "..")),
                    help="repository root (default: two levels above this script)")
    ap.add_argument("--dir", help="manifest directory (default: ROOT/packaging/k8s)")
    ap.add_argument("--self-test", action="store_true",
                    help="check that broken copies of the manifests are rejected")
    args = ap.parse_args()
    k8s_dir = args.dir or os.path.join(args.root, "packaging", "k8s")
    if args.self_test:
        return 0 if self_test(k8s_dir, args.root) else 1
    errors = check(k8s_dir, args.root)
    rel = os.path.relpath(k8s_dir, args.root)
    for e in errors:
        print(f"{rel}/{e}")
    if errors:
        print(f"check_manifests: {len(errors)} problem(s) in {rel}")
        return 1
    files = sorted(f for f in os.listdir(k8s_dir) if f.endswith((".yaml", ".yml")))
    print(f"check_manifests: {rel}: {len(files)} files valid against tests/packaging/k8s-schemas, cross-checks hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
