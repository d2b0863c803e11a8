"""Several real `funnelplan serve` processes sharing one PostgreSQL state (a private cluster),
for the shared-state tests and the benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from conftest import require
from pg import PrivateCluster, pg_bin_dir


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    """A throwaway cluster (skipped without PostgreSQL, failed under CI)."""
    bin_dir = pg_bin_dir()
    require("PostgreSQL", bin_dir is not None, "apt-get install postgresql")
    assert bin_dir is not None
    cluster = PrivateCluster(bin_dir)
    try:
        yield cluster
    finally:
        cluster.stop()


def fresh_database(cluster: PrivateCluster, name: str) -> str:
    """A new empty database in `cluster`; its URL."""
    with psycopg.connect(cluster.url, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"'.encode())
        con.execute(f'CREATE DATABASE "{name}"'.encode())
    return cluster.url.rsplit("/", 1)[0] + "/" + name


class Host:
    """One `funnelplan serve` process on `port`."""

    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.port, self.process, self.log = port, process, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """kill -9: no clean-up of any kind (no lease released, no connection closed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_host(
    port: int,
    folder: Path,
    state: str | None,
    extra_env: dict[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
    wait: bool = True,
) -> Host:
    """`funnelplan serve --port PORT [--state STATE]` with its keys folder in `folder`, its log
    in `folder/serve-PORT.log`; waits until ``/health`` answers (120 s at most: a busy machine)."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"serve-{port}.log"
    args = [sys.executable, "-m", "addin.cli", "serve", "--port", str(port)]
    args += ["--keys-dir", str(folder / "keys"), *extra_args]
    if state:
        args += ["--state", state]
    env = {**os.environ, **(extra_env or {})}
    env.pop("FUNNELPLAN_STATE", None)
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    host = Host(port, process, log)
    if wait:
        wait_healthy(host)
    return host


def wait_healthy(host: Host, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            raise RuntimeError(f"serve exited: {host.log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(host.url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    host.stop()
    raise RuntimeError(f"serve did not start: {host.log.read_text(errors='replace')[-2000:]}")


@contextmanager
def hosts(
    ports: list[int], folder: Path, state: str | None, extra_env: dict[str, str] | None = None
) -> Iterator[list[Host]]:
    """Several hosts on `ports` sharing `state`, each with its own keys folder; stopped after."""
    started: list[Host] = []
    try:
        for i, port in enumerate(ports):
            started.append(start_host(port, folder / f"host{i}", state, extra_env))
        yield started
    finally:
        for host in started:
            host.stop()
