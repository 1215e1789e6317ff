"""A PostgreSQL 15 server of padang112's own on this machine (Debian's ``postgresql-15``): the local cluster's store
(``padang112 cluster up``) and the tests' throwaway one (``tests/fixtures/postgres.py``).

``initdb`` into a directory of its own, the server run as the ``postgres`` OS user (``runuser``: we are root, and
PostgreSQL refuses to run as root), listening on 127.0.0.1 only, its socket in that directory (0700): the
superuser reaches it over the socket without a password, everyone else over TCP with one (scram-sha-256).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# Not safe against power loss, but a commit survives a crash of the server (``Server.crash``): with
# synchronous_commit=off the last ~0.2 s of acknowledged commits were still in the WAL buffers a crash throws away
# (the crash test's migrated tables were gone after the restart). With fsync=off a synchronous commit costs a write().
NOT_DURABLE = ("fsync=off", "full_page_writes=off")


class PostgresMissing(RuntimeError):
    pass


def run(command: list[str], *, as_postgres: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
    if as_postgres:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
    return done


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Server:
    """One PostgreSQL server in ``root`` (data, socket, log), reachable at ``127.0.0.1:port``."""

    root: Path
    port: int
    durable: bool = True

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def initdb_options(self) -> list[str]:
        """``initdb``'s options but the data directory (docker-compose.yml's server is made with the same)."""
        return [
            "--username=postgres",
            "--auth-local=trust",  # the socket in root (0700): only postgres and root reach it
            "--auth-host=scram-sha-256",  # TCP: passwords, as in a real installation
            "--encoding=UTF8",
            "--locale=C.UTF-8",  # text sorts by code point, as SQLite's BINARY collation does (README)
            *(() if self.durable else ("--no-sync",)),
        ]

    def options(self) -> list[str]:
        """The server's settings (``postgres -c <each>``): 127.0.0.1 only, its socket in ``root``."""
        return [
            "listen_addresses=127.0.0.1",
            f"port={self.port}",
            f"unix_socket_directories={self.root}",
            "shared_buffers=64MB",
            "max_connections=200",
            *(() if self.durable else NOT_DURABLE),
        ]

    def running(self) -> bool:
        done = run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status"], as_postgres=True, check=False)
        return done.returncode == 0

    def initialise(self) -> None:
        """A new, empty data directory (``root`` must not hold one)."""
        if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
            raise PostgresMissing(
                f"PostgreSQL 15 not found in {PG_BIN}: run `bash scripts/setup.sh` (apt-get install postgresql-15)"
            )
        self.root.mkdir(mode=0o700, parents=True)
        shutil.chown(self.root, "postgres", "postgres")
        run(
            [
                str(PG_BIN / "initdb"),
                "--pgdata",
                str(self.data),
                *self.initdb_options(),
            ],
            as_postgres=True,
        )

    def start(self) -> None:
        """Start the server on the existing data directory; returns once it accepts connections (``pg_ctl -w``)."""
        opts = " ".join(f"-c {o}" for o in self.options())
        run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o", opts, "start"],
            as_postgres=True,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server if it runs (``immediate``: as a crash does, no checkpoint; the next start recovers from
        the WAL), keeping the data directory."""
        if (self.data / "postmaster.pid").exists():
            run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"], as_postgres=True, check=False)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement as the superuser over the server's own socket; its output (tuples only)."""
        command = [str(PG_BIN / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"]
        command += ["-h", str(self.root), "-p", str(self.port), "-U", "postgres", "-d", database, "-c", statement]
        return run(command, as_postgres=True).stdout

    def ensure_role(self, role: str, password: str) -> None:
        """A login role with this password (set again if it exists: the secrets file is the truth)."""
        exists = self.sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").strip() == "1"
        self.sql(f"{'ALTER' if exists else 'CREATE'} ROLE {role} LOGIN PASSWORD '{password}'")

    def ensure_database(self, name: str, owner: str) -> None:
        if self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'").strip() != "1":
            self.sql(f"CREATE DATABASE {name} OWNER {owner} TEMPLATE template0")
