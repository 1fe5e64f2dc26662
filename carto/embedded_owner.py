"""Who stops the embedded cluster: the process that started it, or adopted it.

`carto demo` and `carto serve` start the cluster when it is not running and stop it
when they exit. One that finds it running leaves it running: somebody else (a
`carto db start`, another `carto demo`) relies on it. But a cluster whose recorded
owner was killed (kill -9, a crash) has nobody left to stop it: the next process
adopts it and stops it on exit. The owner is recorded in `cluster-owner.json`
next to `cluster.json` as a pid and that process's start time (so that a recycled
pid is not mistaken for the owner), under the cluster's file lock.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from carto.embedded import EmbeddedCluster

OWNER_FILE = "cluster-owner.json"


class Ownership(StrEnum):
    """How this process came to use the cluster."""

    STARTED = "started"  # we started it: we stop it
    ADOPTED = "adopted"  # its owner is dead: we stop it
    SHARED = "shared"  # somebody alive (or a person) runs it: we leave it

    @property
    def owned(self) -> bool:
        return self is not Ownership.SHARED


@dataclass(frozen=True)
class Owner:
    pid: int
    start: str | None  # /proc/<pid>/stat start time, None where /proc is missing

    @classmethod
    def me(cls) -> Owner:
        return cls(os.getpid(), process_start(os.getpid()))

    def alive(self) -> bool:
        """True while the recorded process runs (the same one, not a recycled pid)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # exists, another user's
        return self.start is None or process_start(self.pid) == self.start


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after "(comm)"


def _path(cluster: EmbeddedCluster) -> Path:
    return cluster.root / OWNER_FILE


def read_owner(cluster: EmbeddedCluster) -> Owner | None:
    try:
        data = json.loads(_path(cluster).read_text())
        return Owner(int(data["pid"]), data.get("start"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _record(cluster: EmbeddedCluster, owner: Owner) -> None:
    tmp = _path(cluster).with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": owner.pid, "start": owner.start}))
    tmp.replace(_path(cluster))


def disown(cluster: EmbeddedCluster) -> None:
    """Forget the owner: the cluster is now the operator's (`carto db start`)."""
    with cluster.lock:
        _path(cluster).unlink(missing_ok=True)


def start_owned(cluster: EmbeddedCluster) -> tuple[Ownership, Owner | None]:
    """Start the cluster, or join or adopt a running one; returns how, and the previous
    owner when it was adopted from a dead one (for the message)."""
    cluster.root.mkdir(parents=True, exist_ok=True)
    with cluster.lock:  # reentrant: ensure_started takes it again
        previous = read_owner(cluster)
        if cluster.ensure_started():
            _record(cluster, Owner.me())
            return Ownership.STARTED, None
        if previous is not None and not previous.alive():
            _record(cluster, Owner.me())
            return Ownership.ADOPTED, previous
        return Ownership.SHARED, previous


def stop_owned(cluster: EmbeddedCluster) -> bool:
    """Stop the cluster if this process still owns it; True when it was stopped."""
    with cluster.lock:
        if read_owner(cluster) != Owner.me():
            return False
        stopped = cluster.stop()
        _path(cluster).unlink(missing_ok=True)
        return stopped


def join(cluster: EmbeddedCluster, say: Callable[[str], object]) -> bool:
    """Start, join or adopt the cluster and say which; True when this process must stop
    it on exit (it started it, or its previous owner is dead)."""
    how, previous = start_owned(cluster)
    if how is Ownership.ADOPTED and previous is not None:
        say(
            f"Cluster PostGIS laissé en marche par un processus arrêté (pid {previous.pid}) : "
            "repris, il sera arrêté à la sortie."
        )
    elif how is Ownership.SHARED:
        say(
            "Cluster PostGIS déjà en marche (démarré par ailleurs) : il restera en marche "
            "à la sortie ; `carto db stop` l'arrête."
        )
    return how.owned


def leave(cluster: EmbeddedCluster | None, owned: bool, say: Callable[[str], object]) -> None:
    """On exit: stop the cluster when this process owns it."""
    if cluster is not None and owned:
        say("Arrêt du cluster PostGIS…")
        stop_owned(cluster)
