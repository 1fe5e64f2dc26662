"""The private PostgreSQL + PostGIS cluster that gives Carto zero configuration.

The CLI owns one cluster per data dir: `initdb` once, `pg_ctl start` on
127.0.0.1 on a free port with password (SCRAM) authentication, the `postgis`
extension in the `carto` database, `pg_ctl stop` on the way out. A file lock
serialises every start and stop, so concurrent `carto` commands on one data dir
neither corrupt nor double-start it. PostgreSQL refuses to run as root, so when
we are root the server runs as the unprivileged `postgres` system user.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import secrets
import shutil
import socket
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from filelock import FileLock

from carto.errors import EmbeddedClusterError
from carto.roles import LOGINS, ensure_login_roles

log = logging.getLogger(__name__)

DB_NAME = "carto"
DB_USER = "carto"
SERVER_USER = "postgres"
LOCK_TIMEOUT_S = 180
# Clusters this process started or read, by port: how an app given the owner's URL
# finds the app and reader logins of the same cluster (`role_url_for`).
_KNOWN_CLUSTERS: dict[int, Path] = {}


def find_pg_bin_dir(preferred: Path | None = None) -> Path:
    """The newest installed PostgreSQL bin dir that has a PostGIS extension."""
    if preferred is not None:
        if (preferred / "pg_ctl").exists():
            return preferred
        raise EmbeddedClusterError(f"pg_ctl introuvable dans {preferred}")
    candidates: list[tuple[int, Path]] = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bindir.parent.name
        if not version.isdigit() or not (bindir / "pg_ctl").exists():
            continue
        has_postgis = any(
            Path(f"/usr/share/postgresql/{version}/extension").glob("postgis.control")
        )
        candidates.append((int(version) + (1000 if has_postgis else 0), bindir))
    if candidates:
        return max(candidates)[1]
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise EmbeddedClusterError(
        "PostgreSQL est introuvable : lancez `make install` (paquets postgresql et postgis)."
    )


def free_port(preferred: int | None = None) -> int:
    """`preferred` when it can be bound on 127.0.0.1, else a port the kernel picks."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise EmbeddedClusterError("aucun port libre sur 127.0.0.1")


@dataclass
class ClusterState:
    """What we remember about the cluster between commands (kept in cluster.json, mode 0600)."""

    port: int
    password: str
    user: str = DB_USER
    database: str = DB_NAME
    roles: dict[str, str] = field(default_factory=dict)  # app/reader login passwords

    def url(self, driver: str | None = None) -> str:
        scheme = "postgresql" if driver is None else f"postgresql+{driver}"
        return (
            f"{scheme}://{self.user}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{self.port}/{self.database}"
        )

    def role_url(self, role: str, driver: str | None = None) -> str:
        """The URL of the `owner` (the admin login), `app` or `reader` login."""
        if role == "owner":
            return self.url(driver)
        if role not in self.roles:
            raise EmbeddedClusterError(f"rôle {role} absent du cluster : lancez `carto db start`")
        login = ClusterState(self.port, self.roles[role], LOGINS[role], self.database)
        return login.url(driver)


class EmbeddedCluster:
    """One private cluster under `data_dir` (`pg/` holds PostgreSQL's files)."""

    def __init__(self, data_dir: Path, bin_dir: Path | None = None, *, fast: bool = False):
        self.root = Path(data_dir).resolve()
        self.pgdata = self.root / "pg"
        self.logdir = self.root / "pg-log"
        self.state_file = self.root / "cluster.json"
        self.lock = FileLock(str(self.root / "cluster.lock"), timeout=LOCK_TIMEOUT_S)
        self._bin_dir = bin_dir
        self.fast = fast  # tests: fsync off, durability traded for speed

    # -- helpers -------------------------------------------------------------
    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = find_pg_bin_dir()
        return self._bin_dir

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if self._as_root:
            kwargs = {"user": SERVER_USER, "group": SERVER_USER, "extra_groups": []}
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, cwd="/", env={**self._env(), **(env or {})},
            check=False, **kwargs,
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise EmbeddedClusterError(
                f"{args[0]} a échoué ({proc.returncode}) : {proc.stderr.strip() or proc.stdout}"
            )
        return proc

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        if self._as_root:
            env["HOME"] = pwd.getpwnam(SERVER_USER).pw_dir
        return env

    def _chown_to_server(self, path: Path) -> None:
        if self._as_root:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _check_traversable(self) -> None:
        """The server user must reach the data dir; say which directory blocks it."""
        if not self._as_root:
            return
        server_uid = pwd.getpwnam(SERVER_USER).pw_uid
        for parent in [self.root, *self.root.parents]:
            st = parent.stat()
            if st.st_uid != server_uid and not st.st_mode & stat.S_IXOTH:
                raise EmbeddedClusterError(
                    f"l'utilisateur {SERVER_USER} ne peut pas traverser {parent} "
                    f"(droits {oct(st.st_mode & 0o777)}) ; choisissez un autre --data-dir "
                    f"ou `chmod o+x {parent}`"
                )

    def read_state(self) -> ClusterState | None:
        if not self.state_file.exists():
            return None
        state = ClusterState(**json.loads(self.state_file.read_text()))
        _KNOWN_CLUSTERS[state.port] = self.root
        return state

    def _write_state(self, state: ClusterState) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(state.__dict__, fh)
        tmp.replace(self.state_file)

    # -- lifecycle -----------------------------------------------------------
    def is_initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists() and self.state_file.exists()

    def is_running(self) -> bool:
        if not (self.pgdata / "PG_VERSION").exists():
            return False
        return self._run("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode == 0

    def _initdb(self) -> ClusterState:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            self.root.chmod(self.root.stat().st_mode | stat.S_IXOTH)
        self._check_traversable()
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)  # a half-done initdb: nothing of value in it
        for path in (self.pgdata, self.logdir):
            path.mkdir(mode=0o700, exist_ok=True)
            self._chown_to_server(path)
        state = ClusterState(port=free_port(), password=secrets.token_urlsafe(24))
        pwfile = self.logdir / "initdb.pw"
        pwfile.write_text(state.password + "\n")
        self._chown_to_server(pwfile)
        try:
            self._run(
                "initdb", "-D", str(self.pgdata), "-U", DB_USER, "-A", "scram-sha-256",
                f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            "shared_buffers": "'256MB'",
            "max_connections": "200",
            "work_mem": "'16MB'",
            "maintenance_work_mem": "'256MB'",
            "wal_level": "replica",
            "max_wal_senders": "5",
        }
        conf = "".join(f"{key} = {value}\n" for key, value in settings.items())
        with (self.pgdata / "postgresql.conf").open("a") as fh:
            fh.write("\n# carto embedded cluster\n" + conf)
        self._write_state(state)
        return state

    def ensure_started(self) -> bool:
        """Initialise and start the cluster if needed. True when this call started it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.lock:
            state = self.read_state() if self.is_initialized() else None
            if state is None:
                log.info("initdb in %s", self.pgdata)
                state = self._initdb()
            if self.is_running():
                self._ensure_roles(state)
                return False
            port = free_port(state.port)
            if port != state.port:
                state.port = port
                self._write_state(state)
            options = f"-p {port}"
            if self.fast:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            self._run(
                "pg_ctl", "-D", str(self.pgdata), "-l", str(self.logdir / "server.log"),
                "-w", "-t", "120", "-o", options, "start",
            )  # fmt: skip
            self._ensure_database(state)
            self._ensure_roles(state)
            return True

    def _ensure_database(self, state: ClusterState) -> None:
        admin = ClusterState(state.port, state.password, state.user, "postgres").url()
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (state.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{state.database}"')
        with psycopg.connect(state.url(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def _ensure_roles(self, state: ClusterState) -> None:
        """The app and reader LOGIN roles, with passwords kept in cluster.json (0600):
        made on a new cluster, added to an older one at its next start."""
        missing = {role for role in LOGINS if role not in state.roles}
        if missing:
            state.roles.update({role: secrets.token_urlsafe(24) for role in missing})
            self._write_state(state)
        admin = ClusterState(state.port, state.password, state.user, "postgres").url()
        with psycopg.connect(admin, autocommit=True) as conn:
            ensure_login_roles(conn, {role: state.roles[role] for role in LOGINS})
        _KNOWN_CLUSTERS[state.port] = self.root

    def stop(self) -> bool:
        """Stop the server if it runs. True when it was running."""
        if not self.root.exists():
            return False
        with self.lock:
            if not self.is_running():
                return False
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "120", "stop")
            return True

    def create_replica(self, data_dir: Path) -> EmbeddedCluster:
        """A streaming replica of this (running) cluster in `data_dir`, started on its own
        loopback port: `pg_basebackup -R` then `pg_ctl start`. For read-scaling tests."""
        state = self.read_state()
        if state is None or not self.is_running():
            raise EmbeddedClusterError("le cluster primaire doit tourner pour créer un réplica")
        replica = EmbeddedCluster(data_dir, self._bin_dir, fast=self.fast)
        replica.root.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            replica.root.chmod(replica.root.stat().st_mode | stat.S_IXOTH)
        for path in (replica.pgdata, replica.logdir):
            path.mkdir(mode=0o700, exist_ok=True)
            replica._chown_to_server(path)
        self._run(
            "pg_basebackup", "-D", str(replica.pgdata), "-h", "127.0.0.1", "-p", str(state.port),
            "-U", state.user, "-R", "-X", "stream", "-c", "fast",
            env={"PGPASSWORD": state.password},
        )  # fmt: skip
        replica._write_state(
            ClusterState(free_port(), state.password, state.user, state.database, state.roles)
        )
        with replica.lock:
            replica_state = replica.read_state()
            assert replica_state is not None
            replica._run(
                "pg_ctl", "-D", str(replica.pgdata), "-l", str(replica.logdir / "server.log"),
                "-w", "-t", "120", "-o", f"-p {replica_state.port}", "start",
            )  # fmt: skip
        return replica

    def url(self, driver: str | None = None) -> str:
        state = self.read_state()
        if state is None:
            raise EmbeddedClusterError(
                f"aucun cluster dans {self.root} : lancez `carto db start` d'abord"
            )
        return state.url(driver)

    def role_url(self, role: str, driver: str | None = None) -> str:
        """`url()` for one of the roles: `owner` (the same), `app` or `reader`."""
        state = self.read_state()
        if state is None:
            raise EmbeddedClusterError(
                f"aucun cluster dans {self.root} : lancez `carto db start` d'abord"
            )
        return state.role_url(role, driver)

    def status(self) -> dict[str, Any]:
        state = self.read_state()
        return {
            "data_dir": str(self.root),
            "initialized": self.is_initialized(),
            "running": self.is_running(),
            "port": state.port if state else None,
            "bin_dir": str(self.bin_dir),
        }


def role_url_for(owner_url: str, role: str) -> str | None:
    """`role`'s URL on the same embedded cluster and database as `owner_url` (the admin
    login's URL, as tests and `carto demo` pass it), or None when `owner_url` is not the
    admin login of a cluster this process knows."""
    from sqlalchemy.engine import make_url

    url = make_url(owner_url)
    root = _KNOWN_CLUSTERS.get(url.port or 0) if url.host == "127.0.0.1" else None
    state = EmbeddedCluster(root).read_state() if root is not None else None
    if state is None or state.user != url.username or role not in state.roles:
        return None
    login = ClusterState(state.port, state.roles[role], LOGINS[role], url.database or DB_NAME)
    return login.url()
