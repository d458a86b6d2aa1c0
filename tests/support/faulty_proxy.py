"""A TCP proxy on loopback between the launcher and the AWS endpoint that breaks the link on purpose.

Each fault is real network behaviour the launcher meets in the field: a connection cut mid-upload, a
link that stalls, a request the service rejects, a response lost after the service acted. The proxy
runs in the test process on threads and forwards everything else untouched.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from urllib.parse import urlparse

_CHUNK = 65536
REJECTION = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n"
    b"Connection: close\r\n\r\n%s"
)


@dataclass
class Faults:
    """What to break. Byte counts are of what the client sent, over all connections."""

    # Close the connection carrying the byte that crosses this count, once.
    cut_after_bytes: int | None = None
    # Hold the client's bytes past this count until ``released`` is set; ``stalled`` is set meanwhile.
    stall_after_bytes: int | None = None
    stalled: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    # Hold the service's answers past this many bytes (over all connections) until ``released`` is set.
    stall_answers_after_bytes: int | None = None
    answered: int = 0
    # Answer a request whose bytes hold this marker with a service error instead of forwarding it.
    reject_marker: bytes | None = None
    # Forward a request holding this marker, then close the connection instead of relaying the answer.
    drop_answer_marker: bytes | None = None
    sent: int = 0
    _cut_done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def faulty_proxy(target_url: str, faults: Faults) -> Iterator[str]:
    """Run the proxy to ``target_url`` and yield its own URL; stops it afterwards."""
    target = urlparse(target_url)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection((target.hostname, target.port))
            threading.Thread(target=_relay_requests, args=(client, upstream, faults), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stopping.set()
        faults.released.set()
        thread.join()
        server.close()


def _relay_requests(client: socket.socket, upstream: socket.socket, faults: Faults) -> None:
    answers = threading.Thread(target=_relay_answers, args=(upstream, client, faults), daemon=True)
    answers.start()
    try:
        while True:
            chunk = client.recv(_CHUNK)
            if not chunk:
                break
            action = _decide(chunk, faults)
            if action == "cut":
                break
            if action == "reject":
                body = b'{"__type":"ValidationException","message":"rejected by the test proxy"}'
                client.sendall(REJECTION % (len(body), body))
                break
            if action == "drop_answer":
                upstream.sendall(chunk)
                _close(client)  # the answer has nowhere to go
                threading.Event().wait(1.0)  # while the service acts on the request
                break
            upstream.sendall(chunk)
    except OSError:
        pass  # the other side went away: the connection ends like a real one
    finally:
        for end in (client, upstream):
            _close(end)


def _relay_answers(upstream: socket.socket, client: socket.socket, faults: Faults) -> None:
    try:
        while True:
            chunk = upstream.recv(_CHUNK)
            if not chunk:
                break
            with faults.lock:
                faults.answered += len(chunk)
                crossed = faults.answered
            if faults.stall_answers_after_bytes is not None and crossed > faults.stall_answers_after_bytes:
                faults.stalled.set()
                faults.released.wait()
            client.sendall(chunk)
    except OSError:
        pass
    finally:
        _close(client)


def _decide(chunk: bytes, faults: Faults) -> str:
    """What to do with the client's next bytes: "forward", "cut", "reject" or "drop_answer"."""
    if faults.reject_marker and faults.reject_marker in chunk:
        return "reject"
    if faults.drop_answer_marker and faults.drop_answer_marker in chunk:
        return "drop_answer"
    with faults.lock:
        faults.sent += len(chunk)
        crossed = faults.sent
        if faults.cut_after_bytes is not None and crossed > faults.cut_after_bytes and not faults._cut_done:
            faults._cut_done = True
            return "cut"
    if faults.stall_after_bytes is not None and crossed > faults.stall_after_bytes:
        faults.stalled.set()
        faults.released.wait()
    return "forward"


def _close(end: socket.socket) -> None:
    with suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    end.close()
