"""Several Yiwang nodes on one machine, a mixed load over them and kill -9 (issue 12 §3).

Used by bench/chaos.py (60 s, two of everything) and tests/platform/test_multinode.py (a short run). Nothing here
imports Django: the nodes are subprocesses (`yiwang serve`, `yiwang worker`, `yiwang mqtt-consume`,
`yiwang audit sequencer`) against one PostgreSQL database the run creates and drops, one Redis database number
it flushes, and the MQTT broker under a topic prefix of its own. The Django-side preparation and checks run as
`python -m tests.platform.world` subprocesses (tests/platform/world.py).

Every child starts in a session (process group) of its own, so `kill9` takes a node down with its workers, as a
machine failure would, and `stop_all` (also registered with atexit) leaves nothing behind.
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
MQTT_URL = os.environ.get("YIWANG_MQTT_URL", "mqtt://127.0.0.1:1883")


# --- the database and Redis ----------------------------------------------------------------------------------
def _admin(url: str):
    import psycopg
    from dj_database_url import parse

    db = parse(url)
    conn = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname="postgres",
        autocommit=True,
    )
    return conn, db["NAME"]


def database_create(url: str, template: str = "") -> None:
    """A new database (dropped first if it exists); a copy of `template` (a migrated database nobody is
    connected to) when given, which saves the migrations."""
    database_drop(url)
    conn, name = _admin(url)
    with conn:
        if template:
            _template_release(conn, template)
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def _template_release(conn, template: str) -> None:
    """PostgreSQL copies a template only while nobody is connected to it. The template is this test process's
    own database with Django's connections closed; a session still there was left by an earlier test in the same
    process (a background thread's connection), so it is named on stderr and ended."""
    lingering = conn.execute(
        "SELECT pid, application_name, state, left(query, 120) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        [template],
    ).fetchall()
    for pid, app, state, query in lingering:
        print(
            f"[multinode] ending a session left on {template}: pid {pid} {app!r} {state} {query!r}",
            file=sys.stderr,
        )
        conn.execute("SELECT pg_terminate_backend(%s)", [pid])
    for _ in range(50):  # termination is asynchronous: wait (≤ 5 s) until the sessions are gone
        left = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [template]
        ).fetchone()[0]
        if not left:
            return
        time.sleep(0.1)


def database_drop(url: str) -> None:
    conn, name = _admin(url)
    with conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def postgres_reachable(url: str) -> bool:
    try:
        conn, _name = _admin(url)
    except Exception:
        return False
    conn.close()
    return True


# --- the nodes -----------------------------------------------------------------------------------------------
@dataclass
class Node:
    role: str  # web / huey / mqtt / sequencer
    index: int
    argv: list[str]
    popen: subprocess.Popen | None = None
    starts: int = 0
    kills: int = 0

    @property
    def name(self) -> str:
        return f"{self.role}{self.index}"


@dataclass
class Cluster:
    database_url: str
    var: Path
    redis_url: str
    run: str
    web_ports: list[int]
    huey: int = 2
    mqtt: int = 2
    sequencer: bool = True
    nodes: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.var.mkdir(parents=True, exist_ok=True)
        (self.var / "logs").mkdir(exist_ok=True)
        self.mqtt_prefix = f"chaos/{self.run}/sensors"
        self.mqtt_group = f"chaos{self.run}"
        self.env = {
            **os.environ,
            "YIWANG_DATABASE_URL": self.database_url,
            "YIWANG_VAR_DIR": str(self.var),
            "YIWANG_KEYSTORE": str(self.var / "keystore.json"),
            "YIWANG_REDIS_URL": self.redis_url,
            "YIWANG_MQTT_URL": MQTT_URL,
            "YIWANG_LOG_LEVEL": "WARNING",
            "YIWANG_RATE_LIMITS_ENABLED": "0",  # the load is one citizen and one clerk, by design
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        cli = [PY, "-m", "yiwang.cli"]
        for i, port in enumerate(self.web_ports):
            self._add("web", i, [*cli, "serve", "--port", str(port), "--workers", "1", "--threads", "4"])
        for i in range(self.huey):
            self._add("huey", i, [*cli, "worker"])
        for i in range(self.mqtt):
            self._add(
                "mqtt",
                i,
                [
                    *cli,
                    "mqtt-consume",
                    "--topic-prefix",
                    self.mqtt_prefix,
                    "--group",
                    self.mqtt_group,
                    "--client-id",
                    f"chaos-{self.run}-{i}",
                    "--session-expiry",
                    "600",
                ],
            )
        if self.sequencer:
            self._add("sequencer", 0, [*cli, "audit", "sequencer"])
        atexit.register(self.stop_all)

    def _add(self, role: str, index: int, argv: list[str]) -> None:
        node = Node(role, index, argv)
        self.nodes[node.name] = node

    # --- commands ------------------------------------------------------------------------------------------
    def yiwang(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PY, "-m", "yiwang.cli", *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def world(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PY, "-m", "tests.platform.world", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )

    def setup(self, *, world: str, devices: int, intakes: int, template: str = "") -> dict:
        """Creates the database (from a migrated `template` when given), keys, schema and the world; returns
        the load plan."""
        database_create(self.database_url, template)
        redis_flush(self.redis_url)
        for args in (("keys", "init"), ("migrate", "-v", "0")):
            done = self.yiwang(*args)
            if done.returncode:
                raise RuntimeError(f"yiwang {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        if world == "demo":
            done = self.yiwang("demo", "--scale", "0.05")
            if done.returncode:
                raise RuntimeError(f"yiwang demo failed:\n{done.stderr[-3000:]}")
        out = self.var / "plan.json"
        done = self.world(
            "prepare",
            str(out),
            "--world",
            world,
            "--run",
            self.run,
            "--devices",
            str(devices),
            "--intakes",
            str(intakes),
        )
        if done.returncode:
            raise RuntimeError(f"prepare failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())

    def check(self, record: dict, *, wait: float) -> dict:
        path = self.var / "record.json"
        path.write_text(json.dumps(record, ensure_ascii=False))
        done = self.world("check", str(path), "--wait", str(wait), timeout=wait + 300)
        if done.returncode:
            raise RuntimeError(f"check failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def audit_verify(self) -> dict:
        done = self.yiwang("audit", "verify", timeout=600)
        return {"ok": done.returncode == 0, "output": (done.stdout + done.stderr).strip()[-800:]}

    # --- processes -----------------------------------------------------------------------------------------
    def start(self, name: str) -> None:
        node = self.nodes[name]
        log = open(self.var / "logs" / f"{name}.log", "ab")  # noqa: SIM115 — the child keeps it
        node.popen = subprocess.Popen(
            node.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
        )
        log.close()
        node.starts += 1

    def start_all(self) -> None:
        for name in self.nodes:
            self.start(name)

    def kill9(self, name: str) -> None:
        """SIGKILL to the node's whole process group: the node and its workers die at once."""
        node = self.nodes[name]
        if node.popen is not None and node.popen.poll() is None:
            try:
                os.killpg(node.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            node.popen.wait(timeout=10)
            node.kills += 1

    def stop(self, name: str, timeout: float = 15) -> None:
        node = self.nodes[name]
        if node.popen is None or node.popen.poll() is not None:
            return
        try:
            os.killpg(node.popen.pid, signal.SIGTERM)
            node.popen.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill9(name)
        try:  # a worker its parent left behind (granian's, when the master went first) goes too
            os.killpg(node.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def stop_all(self) -> None:
        threads = [threading.Thread(target=self.stop, args=(name,)) for name in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def alive(self) -> dict[str, bool]:
        return {n: bool(node.popen and node.popen.poll() is None) for n, node in self.nodes.items()}

    def wait_web(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for port in self.web_ports:
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"web node on port {port} did not come up")
                time.sleep(0.3)

    def wait_mqtt_sessions(self, timeout: float = 30) -> None:
        """Until every MQTT consumer has connected once (its persistent session exists at the broker)."""
        deadline = time.monotonic() + timeout
        for name, node in self.nodes.items():
            if node.role != "mqtt":
                continue
            log = self.var / "logs" / f"{name}.log"
            while "client id" not in (log.read_text(errors="replace") if log.exists() else ""):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start")
                time.sleep(0.2)
        time.sleep(1.5)  # the banner precedes the connection by a moment


# --- the load --------------------------------------------------------------------------------------------------
class Http:
    """One keep-alive connection per port; a request goes to the next port in turn."""

    def __init__(self, ports: list[int], start: int = 0):
        self.ports = ports
        self.turn = start
        self.conns: dict[int, http.client.HTTPConnection] = {}

    def request(self, method: str, path: str, body: dict | None, token: str, *, port: int | None = None):
        if port is None:
            port = self.ports[self.turn % len(self.ports)]
            self.turn += 1
        conn = self.conns.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conns[port] = conn
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            conn.request(method, path, body=json.dumps(body, ensure_ascii=False).encode(), headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.conns.pop(port, None)
            raise
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return response.status, data


@dataclass
class Record:
    run: str
    started_at: float
    submitted: dict = field(default_factory=dict)  # idempotency key -> case public id (answered 2xx)
    accepted: list = field(default_factory=list)  # case public ids whose accept was answered 2xx
    intakes: list = field(default_factory=list)  # incident numbers answered 2xx
    intake_ids: list = field(default_factory=list)
    licences: list = field(default_factory=list)  # licence public ids answered 2xx
    licence_identifiers: list = field(default_factory=list)
    alarmed_devices: list = field(default_factory=list)  # alarms the broker acknowledged (QoS 1)
    alarm_repeats: int = 0
    counts: dict = field(default_factory=dict)  # outcome counters per kind
    latencies: dict = field(default_factory=dict)  # kind -> seconds of each answered request
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, key: str, seconds: float | None = None) -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            if seconds is not None:
                self.latencies.setdefault(key.split("_")[0], []).append(seconds)

    def latency_summary(self) -> dict:
        out = {}
        for kind, values in self.latencies.items():
            ordered = sorted(values)
            out[kind] = {
                "n": len(ordered),
                "p50_ms": round(ordered[len(ordered) // 2] * 1000),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000),
            }
        return out

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k not in ("lock", "latencies")}
        data["latency"] = self.latency_summary()
        return data


class Load:
    """The mixed load: applications (with idempotency keys, retried on another node when the answer is lost),
    accepts by the window clerk, hotline intakes, licence issues and MQTT alarms (QoS 1)."""

    def __init__(
        self, cluster: Cluster, plan: dict, *, submitters: int = 3, intakers: int = 2, alarms_per_s: float = 4
    ):
        self.cluster, self.plan = cluster, plan
        self.record = Record(run=cluster.run, started_at=plan["started_at"])
        self.stop = threading.Event()
        self.to_accept: queue.Queue = queue.Queue()
        self.submitters, self.intakers, self.alarms_per_s = submitters, intakers, alarms_per_s
        self.intake_bodies = iter(plan["intakes"])
        self.intake_lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def _submit(self, tid: int) -> None:
        http = Http(self.cluster.web_ports, tid)
        n = 0
        while not self.stop.is_set():
            n += 1
            key = f"{self.cluster.run}-{tid}-{n}"
            body = {**self.plan["application"], "idempotency_key": key}
            began = time.monotonic()
            for attempt in range(6):  # the same key on the other node until one answers
                try:
                    status, data = http.request("POST", "/api/cases", body, self.plan["citizen_token"])
                except (OSError, http_exc()):
                    status, data = None, None
                if status is not None and status < 500:
                    break
                self.record.retries += 1
                time.sleep(0.3 * (attempt + 1))
            self.record.count(f"submit_{status}", time.monotonic() - began)
            if status == 201 and data:
                with self.record.lock:
                    self.record.submitted[key] = data["id"]
                self.to_accept.put((data["id"], data.get("version")))

    def _accept(self) -> None:
        http = Http(self.cluster.web_ports, 1)
        while not (self.stop.is_set() and self.to_accept.empty()):
            try:
                case_id, version = self.to_accept.get(timeout=0.5)
            except queue.Empty:
                continue
            if self.stop.is_set():
                continue  # drain without acting: the load is over
            body = {"action": "accept", "opinion": "材料齐全，予以受理", "expected_version": version}
            status, began = None, time.monotonic()
            for attempt in range(4):
                try:
                    status, _data = http.request(
                        "POST", f"/api/cases/{case_id}/transitions", body, self.plan["clerk_token"]
                    )
                except (OSError, http_exc()):
                    status = None
                if status is not None and status < 500:
                    break
                time.sleep(0.3 * (attempt + 1))
            self.record.count(f"accept_{status}", time.monotonic() - began)
            if status == 200:
                with self.record.lock:
                    self.record.accepted.append(case_id)

    def _intake(self, tid: int) -> None:
        http = Http(self.cluster.web_ports, tid)
        while not self.stop.is_set():
            with self.intake_lock:
                body = next(self.intake_bodies, None)
            if body is None:
                return
            began = time.monotonic()
            # No idempotency key on intake: only a refused connection (nothing sent) is retried elsewhere; an
            # answer lost mid-request is not (and not counted).
            status, data = _once(http, "/api/incidents/intake/", body, self.plan["hotline_token"])
            self.record.count(f"intake_{status}", time.monotonic() - began)
            if status is not None and 200 <= status < 300 and data:
                with self.record.lock:
                    self.record.intakes.append(data["number"])
                    self.record.intake_ids.append(data["public_id"])
            time.sleep(0.05)

    def _licences(self) -> None:
        plan = self.plan["licence"]
        http = Http(self.cluster.web_ports, 0)
        while not self.stop.is_set():
            began = time.monotonic()
            status, data = _once(http, "/api/licences/issuer/", plan["body"], plan["token"])
            self.record.count(f"licence_{status}", time.monotonic() - began)
            if status == 201 and data:
                with self.record.lock:
                    self.record.licences.append(data["id"] if "id" in data else data.get("public_id"))
                    self.record.licence_identifiers.append(data.get("identifier", ""))
            time.sleep(0.3)

    def _alarms(self) -> None:
        import paho.mqtt.client as mqtt

        url = urlparse(MQTT_URL)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"chaos-pub-{uuid.uuid4().hex[:8]}")
        client.connect(url.hostname or "127.0.0.1", url.port or 1883, keepalive=30)
        client.loop_start()
        rng = random.Random(5)
        devices = list(self.plan["devices"])
        sent: list[str] = []
        try:
            while not self.stop.is_set() and devices:
                if (
                    sent and rng.random() < 0.3
                ):  # a repeat of an earlier alarm: debounced, never a new incident
                    code, repeat = rng.choice(sent), True
                else:
                    code, repeat = devices.pop(0), False
                topic = f"{self.cluster.mqtt_prefix}/chaos_alarm/{code}"
                info = client.publish(topic, json.dumps({"value": 5.0 + rng.random()}), qos=1)
                info.wait_for_publish(timeout=10)
                if info.is_published():
                    with self.record.lock:
                        if repeat:
                            self.record.alarm_repeats += 1
                        else:
                            self.record.alarmed_devices.append(code)
                            sent.append(code)
                self.stop.wait(1.0 / self.alarms_per_s)
        finally:
            client.disconnect()
            client.loop_stop()

    def warm_up(self) -> None:
        """One application per web node before the clock starts: a fresh process imports the URL and API
        modules on its first request (seconds on a loaded machine). Their keys are not the run's."""
        for port in self.cluster.web_ports:
            body = {**self.plan["application"], "idempotency_key": f"warm-{self.cluster.run}-{port}"}
            try:
                Http([port]).request("POST", "/api/cases", body, self.plan["citizen_token"])
            except (OSError, http_exc()):
                pass

    def start(self) -> None:
        targets = [(self._submit, (i,)) for i in range(self.submitters)]
        targets += [(self._accept, ())]
        targets += [(self._intake, (i,)) for i in range(self.intakers)]
        if self.plan.get("licence"):
            targets.append((self._licences, ()))
        targets.append((self._alarms, ()))
        for target, args in targets:
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self) -> dict:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)
        return self.record.as_dict()


def _once(http: Http, path: str, body: dict, token: str):
    """POST without an idempotency key: retried on the next node only when the connection was refused."""
    for _attempt in range(len(http.ports) + 1):
        try:
            return http.request("POST", path, body, token)
        except ConnectionRefusedError:
            continue
        except (OSError, http_exc()):
            return None, None
    return None, None


def http_exc():
    return http.client.HTTPException


def chaos_schedule(cluster: Cluster, seconds: float, victims: list[str], started: float, log: list) -> None:
    """Kills each victim with SIGKILL at evenly spaced moments in the middle of the run, restarting it two
    seconds later (web nodes: once healthy again). Runs in the calling thread until the last restart."""
    for n, name in enumerate(victims):
        at = started + seconds * (0.2 + 0.5 * n / max(len(victims), 1))
        time.sleep(max(0.0, at - time.monotonic()))
        cluster.kill9(name)
        log.append({"t": round(time.monotonic() - started, 1), "killed": name})
        time.sleep(2.0)
        cluster.start(name)
        log.append({"t": round(time.monotonic() - started, 1), "restarted": name})
