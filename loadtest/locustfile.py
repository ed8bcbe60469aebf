"""Sluice load test: agents sending Gemini-format traffic through the gateway.

Written for Locust 2.12.1 from Debian (run it as /usr/bin/locust).

Traffic mix and sizes come from the environment (weights are relative):
  SLUICE_MODEL            model id (default gemini-2.0-flash)
  SLUICE_MIX_SHORT        weight of short generateContent        (default 6)
  SLUICE_MIX_LONG         weight of long generateContent         (default 2)
  SLUICE_MIX_STREAM       weight of streamGenerateContent (SSE)  (default 1)
  SLUICE_MIX_EMBED        weight of embedContent                 (default 1)
  SLUICE_SHORT_WORDS      words in a short prompt                (default 12)
  SLUICE_LONG_WORDS       words in a long prompt                 (default 400)
  SLUICE_MAX_OUTPUT_TOKENS maxOutputTokens of each generation    (default 128)
  SLUICE_WAIT_MS          think time between an agent's requests (default 0)

Step load shape (used when SLUICE_STEPS is set; otherwise --users/-r apply):
  SLUICE_START_USERS      users in the first step          (default SLUICE_STEP_USERS)
  SLUICE_STEP_USERS       users added per step             (default 10)
  SLUICE_STEP_SECONDS     duration of each step            (default 10)
  SLUICE_STEPS            number of steps
  SLUICE_SPAWN_RATE       users started per second         (default: a whole step at once)

Rejections (429 RESOURCE_EXHAUSTED, 503 UNAVAILABLE) are backpressure, not
crashes: they are reported under their own names ("... [429]") as failures
with the reason, so the error rate counts them and nothing raises.

Driven load shape (used when SLUICE_SHAPE_FILE is set; LocustRunner's knee
search): the file holds "USERS SPAWN_RATE" (the users wanted now) or "stop";
the shape reads it every second, so the runner changes the load between
steps without restarting Locust. It runs on the master when Locust is
distributed (--master plus local --worker processes), like StepLoadShape.

Per-second samples (SLUICE_SAMPLES_FILE, written by the process that holds
the aggregated statistics: the master, or the only process): one JSON line a
second with the running users, the cumulative request and failure counts,
the requests and failures completed in each of the last seconds (Locust's
own per-second counters, which the workers' reports fill in after the fact)
and the response times (rounded ms -> count) recorded since the previous
line. LocustRunner measures a step's window from them: its throughput from
whole seconds, its percentiles from the response times.

Locust 2.12.1 flushes its CSV history only every 10 s and never closes the
files at exit (a 20 s run kept 10 s of history; a run stopped by SIGTERM kept
one row). This file makes the CSV writer flush every second and writes a
final history row and closes the files when Locust quits. Workers report to
the master every second instead of every 3 s, so a step's window on the
master lags the requests by about a second rather than three.
"""

import json
import os
import random
import time

import gevent
import locust.runners as _runners
import locust.stats as _stats
from locust import FastHttpUser, LoadTestShape, between, constant, events, task


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"locustfile: {name} must be an integer, got {value!r}")


# --- complete CSV history -------------------------------------------------
_stats.CSV_STATS_FLUSH_INTERVAL_SEC = 0  # flush on every 1 s history row
_csv_writers = []
_original_init = _stats.StatsCSVFileWriter.__init__


def _tracking_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    _csv_writers.append(self)


_stats.StatsCSVFileWriter.__init__ = _tracking_init


@events.quit.add_listener
def _write_final_rows(**_kwargs):
    for writer in _csv_writers:
        try:
            writer._stats_history_data_rows(writer.stats_history_csv_writer, time.time())
            writer.requests_csv_filehandle.seek(0)
            writer.requests_csv_writer.writerow(writer.requests_csv_columns)
            writer._requests_data_rows(writer.requests_csv_writer)
            writer.requests_csv_filehandle.truncate()
            writer.close_files()
        except (ValueError, OSError):
            pass  # already closed


# --- distributed: workers report every second --------------------------------
_runners.WORKER_REPORT_INTERVAL = 1.0
# Debian's python3-locust has an empty version string (locust/_version.py), and
# a master refuses a worker that announces an empty version as "old (pre 2.0)":
# distributed runs never start. Master and workers load this file, so both
# announce and expect the same version.
if not _runners.__version__:
    _runners.__version__ = "2.12.1"


# --- per-second samples -------------------------------------------------------
SAMPLES_FILE = os.environ.get("SLUICE_SAMPLES_FILE", "")
_SAMPLE_SECONDS_BACK = 6  # per-second counts repeated in each line: a worker's late report still lands


def _write_samples(environment, path):
    runner = environment.runner
    last_times = {}
    last_requests = 0
    with open(path, "a", encoding="utf-8") as out:
        while True:
            # Just past each whole second, so the second that ended is complete locally.
            gevent.sleep(1.02 - (time.time() % 1.0))
            now = time.time()
            total = environment.stats.total
            if total.num_requests < last_requests:  # statistics were reset
                last_times = {}
            times = total.response_times
            delta = [[ms, count - last_times.get(ms, 0)] for ms, count in times.items() if count != last_times.get(ms, 0)]
            last_times = dict(times)
            last_requests = total.num_requests
            second = int(now)
            per_second = [[s, total.num_reqs_per_sec.get(s, 0), total.num_fail_per_sec.get(s, 0)]
                          for s in range(second - _SAMPLE_SECONDS_BACK, second)]
            line = {
                "t": round(now, 3),
                "users": runner.user_count,
                "target": _DRIVEN_TARGET[0],
                "workers": getattr(runner, "worker_count", 0),
                "requests": total.num_requests,
                "failures": total.num_failures,
                "perSecond": per_second,
                "rt": delta,
            }
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            out.flush()


@events.init.add_listener
def _start_samples(environment, **_kwargs):
    if SAMPLES_FILE and not isinstance(environment.runner, _runners.WorkerRunner):
        gevent.spawn(_write_samples, environment, SAMPLES_FILE)


# --- traffic ----------------------------------------------------------------
MODEL = os.environ.get("SLUICE_MODEL", "gemini-2.0-flash")
SHORT_WORDS = _env_int("SLUICE_SHORT_WORDS", 12)
LONG_WORDS = _env_int("SLUICE_LONG_WORDS", 400)
MAX_OUTPUT_TOKENS = _env_int("SLUICE_MAX_OUTPUT_TOKENS", 128)
WAIT_MS = _env_int("SLUICE_WAIT_MS", 0)
_VOCABULARY = ("agent batch queue latency gemini token stream river gate water flow measure "
               "throughput window deadline retry quota model answer question summary plan").split()


def _prompt(words, rng):
    return " ".join(rng.choice(_VOCABULARY) for _ in range(words))


def _generate_body(words, rng):
    return {
        "contents": [{"role": "user", "parts": [{"text": _prompt(words, rng)}]}],
        "generationConfig": {"maxOutputTokens": MAX_OUTPUT_TOKENS},
    }


class GeminiAgent(FastHttpUser):
    wait_time = constant(WAIT_MS / 1000.0) if WAIT_MS else between(0, 0)

    def on_start(self):
        self.rng = random.Random(id(self))

    def _post(self, name, path, body, stream=False):
        with self.client.post(path, json=body, name=name, catch_response=True,
                              headers={"Content-Type": "application/json"}) as resp:
            if resp.status_code in (429, 503):
                resp.failure(f"rejected {resp.status_code} (backpressure, Retry-After={resp.headers.get('Retry-After')})")
            elif resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}: {(resp.text or '')[:200]}")
            elif stream and not (resp.text or "").startswith("data: "):
                resp.failure("streaming answer is not SSE")
            else:
                resp.success()

    @task(_env_int("SLUICE_MIX_SHORT", 6))
    def short_generate(self):
        self._post("generateContent short", f"/v1beta/models/{MODEL}:generateContent",
                   _generate_body(SHORT_WORDS, self.rng))

    @task(_env_int("SLUICE_MIX_LONG", 2))
    def long_generate(self):
        self._post("generateContent long", f"/v1beta/models/{MODEL}:generateContent",
                   _generate_body(LONG_WORDS, self.rng))

    @task(_env_int("SLUICE_MIX_STREAM", 1))
    def stream_generate(self):
        self._post("streamGenerateContent", f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
                   _generate_body(SHORT_WORDS, self.rng), stream=True)

    @task(_env_int("SLUICE_MIX_EMBED", 1))
    def embed(self):
        self._post("embedContent", "/v1beta/models/gemini-embedding-001:embedContent",
                   {"content": {"parts": [{"text": _prompt(SHORT_WORDS, self.rng)}]}})


_DRIVEN_TARGET = [-1]  # the users the driven shape asks for; -1 without it

if os.environ.get("SLUICE_SHAPE_FILE"):
    class DrivenShape(LoadTestShape):
        """The users named in SLUICE_SHAPE_FILE ("USERS SPAWN_RATE", or "stop"), read every second."""

        path = os.environ["SLUICE_SHAPE_FILE"]
        last = (0, 1.0)

        def tick(self):
            try:
                with open(self.path, encoding="utf-8") as f:
                    words = f.read().split()
            except OSError:
                words = []  # being replaced: keep the last target
            if words and words[0] == "stop":
                return None
            if len(words) >= 2:
                try:
                    users, rate = int(words[0]), float(words[1])
                    self.last = (max(users, 0), rate if rate > 0 else float(max(users, 1)))
                except ValueError:
                    pass
            _DRIVEN_TARGET[0] = self.last[0]
            return self.last

elif os.environ.get("SLUICE_STEPS"):
    class StepLoadShape(LoadTestShape):
        """SLUICE_STEPS steps of SLUICE_STEP_SECONDS each; step i runs start + i*step users."""

        steps = _env_int("SLUICE_STEPS", 5)
        step_users = _env_int("SLUICE_STEP_USERS", 10)
        start_users = _env_int("SLUICE_START_USERS", step_users)
        step_seconds = _env_int("SLUICE_STEP_SECONDS", 10)
        spawn_rate = _env_int("SLUICE_SPAWN_RATE", 0)

        def tick(self):
            run_time = self.get_run_time()
            step = int(run_time // self.step_seconds)
            if step >= self.steps:
                return None
            users = self.start_users + step * self.step_users
            return users, float(self.spawn_rate or max(users, 1))
