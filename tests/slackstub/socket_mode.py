"""FakeSocketMode: a minimal RFC 6455 WebSocket server that speaks Slack's Socket Mode.

slack-sdk's built-in ``SocketModeClient`` (what Bolt's ``SocketModeHandler`` uses) gets
its ``ws://`` URL from ``apps.connections.open`` on FakeSlack, connects here, receives
``hello``, then envelopes pushed with ``send_envelope``, and acks each with
``{"envelope_id": ..., "payload": ...}``, which ``wait_for_ack`` returns.
Only what Slack needs is implemented: no extensions, no subprotocols, no TLS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import socketserver
import struct
import sys
import threading
import time
import uuid
from typing import Any

from .payloads import API_APP_ID

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """A single unmasked (server-to-client) frame with FIN set."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


class _Connection:
    """One connected client; ``send`` is safe to call from any thread."""

    def __init__(self, sock: socket.socket, path: str) -> None:
        self.sock = sock
        self.path = path
        self.lock = threading.Lock()
        self.closing = False

    def send(self, opcode: int, payload: bytes) -> None:
        with self.lock:
            self.sock.sendall(_frame(opcode, payload))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once) and stop reading; the reader thread then exits."""
        with self.lock:
            if self.closing:
                return
            self.closing = True
            try:
                self.sock.sendall(_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()))
            except OSError:
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FakeSocketMode:
    """Socket Mode server on 127.0.0.1 (OS-chosen port), one daemon thread per client.

    Like Slack it pings clients, here every ``ping_interval`` seconds: the builtin
    client's ``close()`` waits for its reader's ``recv`` (3 s timeout on plain sockets),
    so frequent pings make test teardown quick.

    Attach it to FakeSlack with ``slack.attach_socket_mode(fake_ws)``. Stop clients
    before stopping this server: a client with auto-reconnect treats the close frame
    sent by ``stop()`` as a reason to reconnect.
    """

    def __init__(self, app_id: str = API_APP_ID, ping_interval: float = 0.1) -> None:
        self.app_id = app_id
        self.ping_interval = ping_interval
        self._messages: list[Any] = []
        self._last_ping = 0.0
        self._acks: dict[str, dict[str, Any]] = {}
        self._connections: list[_Connection] = []
        self._connection_count = 0
        self._threads: list[threading.Thread] = []
        self._cond = threading.Condition()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeSocketMode:
        self._server = _Server(("127.0.0.1", 0), _make_handler(self))
        self._server.owner = self
        self._last_ping = time.monotonic()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeSocketMode", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection (close code 1001), stop accepting, join all threads."""
        if self._server is None:
            return
        self._server.shutdown()
        with self._cond:
            connections, threads = list(self._connections), list(self._threads)
        for connection in connections:
            connection.close(1001, "going away")
        for thread in threads:
            thread.join(timeout=2)
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=2)
        self._server = self._thread = None

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSocketMode is not started"
        return self._server.server_address[1]

    def issue_url(self) -> str:
        """A fresh ws:// URL shaped like Slack's, as apps.connections.open returns it."""
        return f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"

    # -- talking to clients ------------------------------------------------------------

    @property
    def connected(self) -> int:
        """How many clients are connected right now."""
        with self._cond:
            return len(self._connections)

    def wait_for_connection(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until ``count`` clients have connected since start (hello already sent)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._connection_count >= count, timeout=timeout):
                raise AssertionError(f"waited {timeout}s for {count} Socket Mode connection(s), got {self._connection_count}")

    def send(self, message: dict[str, Any]) -> None:
        """Push any JSON message, e.g. ``{"type": "disconnect", "reason": "refresh_requested"}``.

        Goes to the newest connection: Slack delivers each envelope over one connection.
        """
        with self._cond:
            if not self._connections:
                raise AssertionError("no Socket Mode client is connected")
            connection = self._connections[-1]
        connection.send(OP_TEXT, json.dumps(message).encode("utf-8"))

    def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        envelope_id: str | None = None,
        accepts_response_payload: bool | None = None,
    ) -> str:
        """Push an ``events_api`` / ``slash_commands`` / ``interactive`` envelope; returns its id.

        ``accepts_response_payload`` defaults as Slack sets it: true for slash commands
        and for interactive payloads that take a body in the ack (view_submission,
        block_suggestion), false otherwise.
        """
        envelope_id = envelope_id or str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = type == "slash_commands" or (
                type == "interactive" and payload.get("type") in ("view_submission", "block_suggestion")
            )
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        self.send(envelope)
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Block until the client acks ``envelope_id``; returns the ack (with any ``payload``)."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise AssertionError(
                    f"waited {timeout}s for the ack of envelope {envelope_id}; "
                    f"connected clients: {len(self._connections)}; received: {self._messages!r}"[:2000]
                )
            return self._acks[envelope_id]

    @property
    def acks(self) -> dict[str, dict[str, Any]]:
        """All acks so far, by envelope id."""
        with self._cond:
            return dict(self._acks)

    @property
    def messages(self) -> list[Any]:
        """Every JSON text frame clients sent (acks included), oldest first."""
        with self._cond:
            return list(self._messages)

    # -- server side (handler threads) -------------------------------------------------

    def _ping_all(self) -> None:
        """Called by serve_forever between polls (every 0.05 s)."""
        now = time.monotonic()
        if now - self._last_ping < self.ping_interval:
            return
        self._last_ping = now
        with self._cond:
            connections = [c for c in self._connections if not c.closing]
        for connection in connections:
            try:
                connection.send(OP_PING, b"fake-slack")
            except OSError:
                pass

    def _on_text(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = {"text": text}
        with self._cond:
            self._messages.append(message)
            if isinstance(message, dict) and "envelope_id" in message:
                self._acks[message["envelope_id"]] = message
            self._cond.notify_all()

    def _serve(self, rfile: Any, connection: _Connection) -> None:
        """Read frames until close/EOF: answer pings, echo close, reassemble fragments."""
        fragments: list[bytes] = []
        while (frame := _read_frame(rfile)) is not None:  # None: EOF, how the builtin client leaves
            fin, opcode, masked, data = frame
            if not masked:
                connection.close(1002, "client frames must be masked")  # RFC 6455 section 5.1
                return
            if opcode == OP_PING:
                try:
                    connection.send(OP_PONG, data)
                except OSError:
                    return
            elif opcode == OP_CLOSE:
                connection.close(struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1000)
                return
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                fragments.append(data)
                if fin:
                    self._on_text(b"".join(fragments).decode("utf-8", errors="replace"))
                    fragments = []
            # pongs need no answer


def _read_frame(rfile: Any) -> tuple[bool, int, bool, bytes] | None:
    """(fin, opcode, masked, unmasked payload) of the next frame, or None on EOF."""
    try:
        head = rfile.read(2)
        if len(head) < 2:
            return None
        fin, opcode = bool(head[0] & 0x80), head[0] & 0x0F
        masked, length = bool(head[1] & 0x80), head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", rfile.read(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", rfile.read(8))
        mask = rfile.read(4) if masked else b""
        data = rfile.read(length)
    except (OSError, struct.error):
        return None
    if len(data) < length:
        return None
    if masked:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return fin, opcode, masked, data


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    owner: FakeSocketMode

    def service_actions(self) -> None:
        self.owner._ping_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients vanishing mid-frame are normal here; don't print tracebacks for them."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _make_handler(server: FakeSocketMode) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request_line = self.rfile.readline().decode("latin-1").strip()
            headers: dict[str, str] = {}
            while (line := self.rfile.readline().decode("latin-1").strip()) != "":
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            key = headers.get("sec-websocket-key")
            if not request_line.startswith("GET ") or headers.get("upgrade", "").lower() != "websocket" or not key:
                self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            accept = base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()
            connection = _Connection(self.request, request_line.split(" ")[1])
            with server._cond:
                server._threads.append(threading.current_thread())
            # Register, answer 101 and say hello under the send lock, so an envelope pushed
            # as soon as the client's connect() returns cannot overtake the hello.
            with connection.lock:
                with server._cond:
                    server._connections.append(connection)
                    server._connection_count += 1
                    hello = {
                        "type": "hello",
                        "num_connections": len(server._connections),
                        "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
                        "connection_info": {"app_id": server.app_id},
                    }
                    server._cond.notify_all()
                self.request.sendall(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Accept: " + accept.encode() + b"\r\n\r\n" + _frame(OP_TEXT, json.dumps(hello).encode())
                )
            try:
                server._serve(self.rfile, connection)
            finally:
                with server._cond:
                    server._connections.remove(connection)
                    server._cond.notify_all()

    return Handler
