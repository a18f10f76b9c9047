"""A PostgreSQL cluster from Debian's packages, with its data under .data/postgres.

The server runs as the ``postgres`` system user (PostgreSQL refuses root), listens on
127.0.0.1:5432 only and keeps its socket in .data/postgres/run, so it never meets the
Debian default cluster's files; it only competes with it for the port.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Final

import asyncpg
import click

from deploy.local import procs
from deploy.local.paths import DATA_DIR, relative
from deploy.local.procs import StackError

HOST: Final = "127.0.0.1"
PORT: Final = 5432
ROLE: Final = "bilan"
# A development-only credential on a loopback-only server, known to every test.
PASSWORD: Final = "bilan"  # noqa: S105
DATABASES: Final = (
    "bilan_dossier",
    "bilan_scheduling",
    "bilan_survey",
    "bilan_reporting",
    "bilan_console",
)

PG_DIR: Final = DATA_DIR / "postgres"
PGDATA: Final = PG_DIR / "data"
SOCKET_DIR: Final = PG_DIR / "run"
LOG: Final = PG_DIR / "postgres.log"
SETTINGS_FILE: Final = "bilan.conf"
SYSTEM_USER: Final = "postgres"

# A development and test box, but benchmarks run on it: durability stays as in production.
SETTINGS: Final = {
    "listen_addresses": f"'{HOST}'",
    "port": str(PORT),
    "unix_socket_directories": f"'{SOCKET_DIR}'",
    "max_connections": "300",
    "shared_buffers": "256MB",
    "synchronous_commit": "on",
    "fsync": "on",
    "password_encryption": "'scram-sha-256'",
}


def _version_key(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


def find_bindir() -> Path | None:
    """The newest installed server's bin directory (Debian's /usr/lib/postgresql/N/bin)."""
    candidates = [
        bindir
        for bindir in Path("/usr/lib/postgresql").glob("*/bin")
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres", "psql"))
    ]
    return max(candidates, key=_version_key, default=None)


def install() -> Path:
    """Install Debian's PostgreSQL server without its default cluster."""
    if os.geteuid() != 0:
        raise StackError("postgresql: not installed; run `apt-get install -y postgresql` as root")
    apt = {"DEBIAN_FRONTEND": "noninteractive"}
    click.echo("postgresql: installing Debian's postgresql package...")
    procs.run(["apt-get", "update"], "apt-get update", env=apt, timeout=600)
    procs.run(
        ["apt-get", "install", "-y", "postgresql-common"], "apt-get install", env=apt, timeout=900
    )
    # As the official postgres image does: the package would otherwise create (and on some
    # machines start) a "main" cluster on port 5432, the port this stack needs.
    conf = Path("/etc/postgresql-common/createcluster.conf")
    conf.write_text(
        re.sub(
            r"(?m)^#?\s*create_main_cluster\s*=.*$", "create_main_cluster = false", conf.read_text()
        )
    )
    procs.run(["apt-get", "install", "-y", "postgresql"], "apt-get install", env=apt, timeout=900)
    bindir = find_bindir()
    if bindir is None:
        raise StackError("postgresql: installed, but no /usr/lib/postgresql/*/bin/pg_ctl found")
    return bindir


def _as_postgres(command: list[str | Path]) -> list[str | Path]:
    """Run as the postgres system user when we are root; otherwise as ourselves."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SYSTEM_USER, "--", *command]
    return command


def _check_reachable() -> None:
    """Fail clearly when a parent folder of the repo cannot be traversed by postgres."""
    if os.geteuid() != 0:
        return
    probe = subprocess.run(_as_postgres(["test", "-x", PG_DIR]), check=False)  # noqa: S603
    if probe.returncode == 0:
        return
    closed = [folder for folder in PG_DIR.parents if not folder.stat().st_mode & stat.S_IXOTH]
    culprit = closed[-1] if closed else PG_DIR.parent
    raise StackError(
        f"postgresql: the {SYSTEM_USER} user cannot reach {relative(PG_DIR)}: {culprit} is "
        f"mode {stat.filemode(culprit.stat().st_mode)}; run `chmod o+x {culprit}` "
        "or move the repository somewhere it can reach"
    )


def prepare_dirs() -> None:
    """Create .data/postgres, owned by the postgres user, reachable through .data."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATA_DIR.chmod(DATA_DIR.stat().st_mode | stat.S_IXOTH)
    for folder in (PG_DIR, SOCKET_DIR):
        folder.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, SYSTEM_USER, SYSTEM_USER)
    _check_reachable()


def _settings_text() -> str:
    header = "# Written by deploy/local/postgres.py at every `bilan stack up`; edit it there.\n"
    return header + "".join(f"{key} = {value}\n" for key, value in SETTINGS.items())


def initialise(bindir: Path) -> bool:
    """Run initdb once and hook our settings file in; True if it ran now."""
    if (PGDATA / "PG_VERSION").is_file():
        return False
    procs.run(
        _as_postgres(
            [
                bindir / "initdb",
                "-D",
                PGDATA,
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
            ]
        ),
        "initdb",
        cwd=PG_DIR,
        timeout=300,
    )
    with (PGDATA / "postgresql.conf").open("a") as conf:
        conf.write(f"\n# Bilan's local stack settings.\ninclude '{SETTINGS_FILE}'\n")
    return True


def _write_settings() -> None:
    path = PGDATA / SETTINGS_FILE
    path.write_text(_settings_text())
    if os.geteuid() == 0:
        shutil.chown(path, SYSTEM_USER, SYSTEM_USER)


def running_pid() -> int | None:
    """The postmaster's pid when our cluster runs."""
    pid = procs.read_pid(PGDATA / "postmaster.pid")
    if pid is None or not procs.alive(pid):
        return None
    return pid if str(PGDATA) in procs.cmdline(pid) else None


def _pg_ctl(bindir: Path, *args: str | Path) -> str:
    return procs.run(
        _as_postgres([bindir / "pg_ctl", "-D", PGDATA, *args]),
        f"pg_ctl {args[-1]}",
        cwd=PG_DIR,
        timeout=180,
    )


def start(bindir: Path) -> int:
    """Start the cluster and wait until it accepts connections."""
    if procs.port_open(HOST, PORT):
        raise StackError(
            f"postgresql: {HOST}:{PORT} is already taken by {procs.port_holder(PORT)}. "
            "Stop that server first (for Debian's default cluster: "
            "`pg_ctlcluster <version> main stop`); this stack will not touch it."
        )
    procs.rotate_log(LOG)
    log_offset = procs.size(LOG)
    try:
        _pg_ctl(bindir, "-l", LOG, "-w", "-t", "120", "start")
    except StackError as error:
        raise StackError(
            f"{error.message}\nsee {relative(LOG)}:\n{procs.log_excerpt(LOG, log_offset)}"
        ) from error
    pid = running_pid()
    if pid is None:
        raise StackError(f"postgresql: pg_ctl said started but no server runs; see {relative(LOG)}")
    return pid


def psql(bindir: Path, sql: str, database: str = "postgres") -> str:
    """Run SQL as the postgres superuser over our Unix socket (peer authentication).

    The SQL sees the psql variables ``role``, ``password`` and ``databases`` (comma-separated),
    so values reach it quoted by psql rather than pasted into the text.
    """
    variables = {"role": ROLE, "password": PASSWORD, "databases": ",".join(DATABASES)}
    return procs.run(
        _as_postgres(
            [
                bindir / "psql",
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                *(arg for name, value in variables.items() for arg in ("-v", f"{name}={value}")),
                "-h",
                SOCKET_DIR,
                "-p",
                str(PORT),
                "-d",
                database,
                "-f",
                "-",
            ]
        ),
        "psql",
        cwd=PG_DIR,
        input_text=sql,
        timeout=120,
    )


_PROVISION_SQL: Final = r"""
SELECT format('CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L', :'role', :'password')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', name, :'role')
  FROM unnest(string_to_array(:'databases', ',')) AS name
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name)
\gexec
"""

_EXISTING_SQL: Final = r"""
SELECT datname FROM pg_database WHERE datname = ANY (string_to_array(:'databases', ','));
"""


def provision(bindir: Path) -> None:
    """Create the bilan login role and the databases, leaving existing ones alone."""
    psql(bindir, _PROVISION_SQL)


def existing_databases(bindir: Path) -> list[str]:
    """Which of our databases exist."""
    found = psql(bindir, _EXISTING_SQL).split()
    return [name for name in DATABASES if name in found]


def version(bindir: Path) -> str:
    """The server's major version, from its bin directory."""
    return bindir.parent.name


def up() -> None:
    """Install, initialise, start and provision the cluster; a no-op when it runs."""
    bindir = find_bindir() or install()
    pid = running_pid()
    if pid is not None:
        provision(bindir)
        click.echo(f"postgresql: already running (pid {pid}, {HOST}:{PORT})")
        return
    prepare_dirs()
    if initialise(bindir):
        click.echo(f"postgresql: initialised a {version(bindir)} cluster in {relative(PGDATA)}")
    _write_settings()
    pid = start(bindir)
    provision(bindir)
    click.echo(f"postgresql: {version(bindir)} started (pid {pid}, {HOST}:{PORT})")


def down() -> None:
    """Stop the cluster with a fast shutdown (clients are disconnected, data is safe)."""
    bindir = find_bindir()
    pid = running_pid()
    if pid is None or bindir is None:
        click.echo("postgresql: not running")
        return
    _pg_ctl(bindir, "-m", "fast", "-w", "-t", "120", "stop")
    click.echo(f"postgresql: stopped (pid {pid})")


def accepts_bilan_login() -> bool:
    """Whether the server on HOST:PORT lets the `bilan` role into the service databases."""

    async def check() -> bool:
        try:
            conn = await asyncpg.connect(
                host=HOST,
                port=PORT,
                user=ROLE,
                password=PASSWORD,
                database=DATABASES[0],
                timeout=3,
            )
        except (OSError, asyncpg.PostgresError):
            return False
        await conn.close()
        return True

    return asyncio.run(check())


def create_missing_over_tcp() -> list[str]:
    """Create the databases missing on a server run by another checkout (the `bilan` role,
    a superuser there, may): a new service's database appears in every shared work tree."""

    async def create() -> list[str]:
        conn = await asyncpg.connect(
            host=HOST, port=PORT, user=ROLE, password=PASSWORD, database="postgres", timeout=5
        )
        try:
            found = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
            missing = [name for name in DATABASES if name not in found]
            for name in missing:
                # The names are this module's constants, never input.
                await conn.execute(f'CREATE DATABASE "{name}" OWNER "{ROLE}"')
            return missing
        finally:
            await conn.close()

    return asyncio.run(create())
