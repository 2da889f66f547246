"""A small language-server client over stdio (Content-Length framing), single-threaded, for
timing. Standard library only. Round trips are measured on the client: they bound the server's
own time from above (they add the pipe, the JSON encoding on both sides and this client)."""
from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path


class LspError(Exception):
    pass


class Client:
    def __init__(self, argv: list[str], env: dict | None = None, stderr=subprocess.DEVNULL):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=stderr, env=env, bufsize=0)
        self.fd = self.proc.stdout.fileno()
        self.buf = bytearray()
        self.next_id = 0
        # (arrival time, message) of every notification the server sent, in order.
        self.notifications: list[tuple[float, dict]] = []

    # ---- framing
    def send(self, message: dict) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise LspError("timed out waiting for the server")
        ready, _, _ = select.select([self.fd], [], [], remaining)
        if not ready:
            raise LspError("timed out waiting for the server")
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise LspError(f"the server closed its output (exit code {self.proc.poll()})")
        self.buf += chunk

    def read(self, timeout: float = 60.0) -> tuple[float, dict]:
        deadline = time.perf_counter() + timeout
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                length = None
                for line in bytes(self.buf[:end]).split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length is None:
                    raise LspError("a message without Content-Length")
                if len(self.buf) >= end + 4 + length:
                    body = bytes(self.buf[end + 4 : end + 4 + length])
                    del self.buf[: end + 4 + length]
                    return time.perf_counter(), json.loads(body)
            self._fill(deadline)

    # ---- messages
    def handle(self, at: float, message: dict) -> None:
        """A notification is recorded; a request from the server is answered with null."""
        if "id" in message and "method" in message:
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
        elif "method" in message:
            self.notifications.append((at, message))

    def request(self, method: str, params, timeout: float = 60.0) -> tuple[float, dict]:
        """Send a request; returns (round trip seconds, response)."""
        self.next_id += 1
        rid = self.next_id
        start = time.perf_counter()
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            at, message = self.read(timeout)
            if message.get("id") == rid and "method" not in message:
                return at - start, message
            self.handle(at, message)

    def notify(self, method: str, params) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(self, predicate, timeout: float = 120.0) -> tuple[float, dict]:
        """Read until a notification satisfies `predicate`; returns its arrival time and itself."""
        deadline = time.perf_counter() + timeout
        while True:
            at, message = self.read(max(0.001, deadline - time.perf_counter()))
            self.handle(at, message)
            if "id" not in message and predicate(message):
                return at, message

    def drain_until_quiet(self, quiet: float, timeout: float = 600.0) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                at, message = self.read(quiet)
            except LspError as e:
                if "timed out" in str(e):
                    return
                raise
            self.handle(at, message)

    def memory(self) -> dict:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        out = {}
        for key in ("VmRSS", "VmHWM"):
            for line in status.splitlines():
                if line.startswith(key + ":"):
                    out[key] = int(line.split()[1]) / 1024  # MB
        return out

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def uri(path: Path) -> str:
    return Path(path).resolve().as_uri()


def initialize(client: Client, root: Path, options: dict) -> tuple[float, dict]:
    root_uri = uri(root)
    return client.request("initialize", {
        "processId": os.getpid(),
        "rootUri": root_uri,
        "workspaceFolders": [{"uri": root_uri, "name": root.name}],
        "capabilities": {"general": {"positionEncodings": ["utf-16"]},
                         "window": {"workDoneProgress": True},
                         "textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]},
                                          "publishDiagnostics": {"versionSupport": True}}},
        "initializationOptions": options,
    })
