"""Crash: Open311 load while the app and the notification worker are killed with SIGKILL.

`carto serve` takes reports from N clients; `carto worker` delivers the outbox to a
local SMTP sink (aiosmtpd on loopback). Mid-load the app's process group is killed
with SIGKILL and restarted on the same port, then the worker is killed the same way
while it delivers, and restarted. The load goes on throughout (clients reconnect).
Afterwards:
- every id acknowledged with a 201 (before or after a kill) is in the database;
- every e-mail in the outbox is delivered: the sink holds each one (its
  `X-Carto-Delivery` header is the outbox event key), none missing. A worker killed
  between the SMTP server's acceptance and its own "sent" mark sends that message
  again after the lease: delivery is at least once, and duplicates carry the same
  Message-ID (receivers dedupe on it). Duplicates are counted and printed.

    python -m bench.crash [--seconds 30] [--clients 8] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

import psycopg
from aiosmtpd.controller import Controller

from bench.common import Figure, Result, bench_database
from bench.intake import body_maker, lost_ids, sample_points
from bench.loadgen import LoadResult, run_load
from bench.servers import ROOT, carto_env, start_carto, stop
from carto.embedded import free_port

LEASE_S = 3  # the worker's lease: a killed worker's claims come back after this long


class Sink:
    """aiosmtpd handler counting deliveries per outbox event key."""

    def __init__(self) -> None:
        self.keys: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        for line in content.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("x-carto-delivery:"):
                with self.lock:
                    self.keys[line.split(":", 1)[1].strip()] += 1
                break
        return "250 OK"


def start_worker(db_url: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "carto", "worker"], env=carto_env(db_url, **env), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def outbox_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM notification_outbox WHERE channel = 'email' GROUP BY 1"
        ).fetchall()
    return {str(k): int(v) for k, v in rows}


def email_keys(url: str, since_id: int) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT event_key FROM notification_outbox WHERE channel = 'email' AND id > %s",
            (since_id,),
        ).fetchall()
    return {str(r[0]) for r in rows}


def max_outbox_id(url: str) -> int:
    with psycopg.connect(url) as conn:
        return int(
            conn.execute("SELECT coalesce(max(id), 0) FROM notification_outbox").fetchone()[0]
        )


def wait_drained(url: str, timeout: float) -> float:
    """Seconds until no e-mail is pending, failed or being sent (or the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        counts = outbox_counts(url)
        if not any(counts.get(s) for s in ("pending", "sending", "failed")):
            break
        time.sleep(0.5)
    return time.monotonic() - started


class Chaos:
    """Kills the app with SIGKILL at a third of the load and restarts it; a third later,
    kills the worker while it holds claimed rows (status `sending`) and restarts it; a
    third later stops the load. Each phase lasts `seconds / 3` of load actually served."""

    def __init__(self, url: str, port: int, env: dict[str, str], seconds: float) -> None:
        self.url, self.port, self.env, self.phase = url, port, env, seconds / 3
        self.app = start_carto(url, port, 1, **env)
        self.worker = start_worker(url, env)
        self.events: list[str] = []
        self.restart_s: list[float] = []
        self.stop = threading.Event()

    def _kill_app(self) -> None:
        os.killpg(self.app.pid, signal.SIGKILL)
        self.app.wait()
        started = time.monotonic()
        self.app = start_carto(self.url, self.port, 1, **self.env)
        self.restart_s.append(time.monotonic() - started)
        self.events.append(f"app SIGKILL, serving again after {self.restart_s[-1]:.1f} s")

    def _kill_worker(self) -> None:
        deadline = time.monotonic() + self.phase
        counts = outbox_counts(self.url)
        while not counts.get("sending") and time.monotonic() < deadline:
            time.sleep(0.01)
            counts = outbox_counts(self.url)
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()
        self.worker = start_worker(self.url, self.env)
        self.events.append(f"worker SIGKILL with e-mails in flight: {counts}")

    def run(self) -> None:
        try:
            time.sleep(self.phase)
            self._kill_app()
            time.sleep(self.phase)
            self._kill_worker()
            time.sleep(self.phase)
        finally:
            self.stop.set()

    def close(self) -> None:
        stop(self.app)
        stop(self.worker)


def one_run(
    url: str, make: Any, args: argparse.Namespace, sink: Sink, smtp_port: int
) -> dict[str, float]:
    env = {
        "CARTO_NOTIFICATIONS_WORKER": "false", "CARTO_SMTP_HOST": "127.0.0.1",
        "CARTO_SMTP_PORT": str(smtp_port), "CARTO_SMTP_STARTTLS": "false",
        "CARTO_NOTIFICATIONS_LEASE_S": str(LEASE_S), "CARTO_NOTIFICATIONS_POLL_S": "0.5",
        "CARTO_NOTIFICATIONS_BACKOFF_S": "1",
    }  # fmt: skip
    first_outbox = max_outbox_id(url)
    with sink.lock:
        sink.keys.clear()
    port = free_port()
    chaos = Chaos(url, port, env, args.seconds)
    try:
        killer = threading.Thread(target=chaos.run)
        killer.start()
        load: LoadResult = asyncio.run(
            run_load(f"http://127.0.0.1:{port}/open311/v2/requests.json", make,
                     clients=args.clients, seconds=args.seconds * 5 + 120, stop=chaos.stop)
        )  # fmt: skip
        killer.join()
        drain_s = wait_drained(url, args.drain_timeout)
    finally:
        chaos.close()
    expected = email_keys(url, first_outbox)
    with sink.lock:
        got = Counter({k: v for k, v in sink.keys.items() if k in expected})
    for event in chaos.events:
        print(f"    {event}")
    return {
        "acknowledged": len(load.ids),
        "lost": lost_ids(url, load.ids, "signalement"),
        "errors": load.errors + sum(v for k, v in load.statuses.items() if k >= 400),
        "emails": len(expected),
        "missing": len(expected - set(got)),
        "duplicates": sum(v - 1 for v in got.values()),
        "drain_s": drain_s,
        "restart_s": chaos.restart_s[0] if chaos.restart_s else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drain-timeout", type=float, default=180)
    parser.add_argument("--name", default="crash")
    args = parser.parse_args()

    result = Result(args.name, params=vars(args))
    result.notes.append(
        "Delivery is at least once: a worker killed after the SMTP server accepted a message "
        "and before it marked the row sent sends it again once its lease expires, with the "
        "same Message-ID and X-Carto-Delivery key (receivers dedupe on them)."
    )
    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with bench_database("crash") as url:
            from carto.demo.loader import load_demo

            load_demo(url)
            make = body_maker(sample_points(url))
            runs = []
            for i in range(args.runs):
                print(f"\nrun {i + 1}/{args.runs}: {args.clients} clients, {args.seconds:.0f} s")
                runs.append(one_run(url, make, args, sink, smtp_port))
                print("    " + ", ".join(f"{k} {v:.4g}" for k, v in runs[-1].items()))
    finally:
        controller.stop()
    total = {k: sum(r[k] for r in runs) for k in ("acknowledged", "lost", "emails", "missing")}
    dups = [float(r["duplicates"]) for r in runs]
    print(f"\n{args.runs} runs, load average {os.getloadavg()[0]:.1f}")
    result.notes.append(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    result.add(Figure("acknowledged reports (all runs)", total["acknowledged"], "reports"))
    result.add(Figure("acknowledged but lost", total["lost"], "reports", goal="0",
                      met=total["lost"] == 0))  # fmt: skip
    result.add(Figure("e-mails queued (all runs)", total["emails"], "messages"))
    result.add(Figure("e-mails never delivered", total["missing"], "messages", goal="0",
                      met=total["missing"] == 0))  # fmt: skip
    result.add(Figure("e-mails delivered twice (same Message-ID)", statistics.median(dups),
                      "messages", runs=dups))  # fmt: skip
    for name, key in (
        ("app restart after SIGKILL", "restart_s"),
        ("outbox drained after the load", "drain_s"),
    ):
        values = [r[key] for r in runs]
        result.add(Figure(name, statistics.median(values), "s", runs=values))  # fmt: skip
    print(f"\nsaved {result.save()}")


if __name__ == "__main__":
    main()
