"""Test helpers built on the standard library only: a QMP client (socket +
json), a timestamped reader for serial output, an HMP client, and the case
runner and report the functional test scripts share.

A QMP reply is a dict; events that arrive while waiting for a reply are kept
in QMP.events, in order, for wait_event().
"""
import json
import os
import re
import socket
import threading
import time
import traceback


class QMPError(Exception):
    def __init__(self, error):
        super().__init__(f"{error.get('class')}: {error.get('desc')}")
        self.error = error


def connect_unix(path, timeout=10):
    """Connect once kestrel listens on path."""
    end = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


def connect_tcp(port, timeout=10):
    end = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except ConnectionRefusedError:
            if time.monotonic() > end:
                raise
            time.sleep(0.02)


def free_tcp_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def recv_more(conn, end, timeout_msg, eof_msg):
    """Append what arrives on conn.sock to conn.buf, waiting until end."""
    left = end - time.monotonic()
    if left <= 0:
        raise TimeoutError(timeout_msg)
    conn.sock.settimeout(left)
    try:
        data = conn.sock.recv(65536)
    except socket.timeout:
        return
    if not data:
        raise EOFError(eof_msg)
    conn.buf += data


class QMP:
    def __init__(self, sock, negotiate=True, timeout=10):
        self.sock = sock
        self.buf = b""
        self.events = []
        self.timeout = timeout
        self.greeting = self.recv()
        if negotiate:
            self.execute("qmp_capabilities")

    @classmethod
    def unix(cls, path, **kw):
        return cls(connect_unix(path), **kw)

    def close(self):
        self.sock.close()

    def send(self, data):
        if not isinstance(data, (bytes, bytearray)):
            data = (json.dumps(data) + "\n").encode()
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def recv(self, timeout=None):
        """The next JSON value; EOFError when kestrel closes the socket."""
        end = time.monotonic() + (timeout or self.timeout)
        dec = json.JSONDecoder()
        while True:
            text = self.buf.decode(errors="replace").lstrip()
            if text:
                try:
                    obj, used = dec.raw_decode(text)
                    rest = text[used:]
                    self.buf = rest.encode()
                    return obj
                except ValueError:
                    pass         # incomplete: read more
            recv_more(self, end, f"no QMP message (have {self.buf[-200:]!r})",
                      "QMP connection closed")

    def reply(self, timeout=None):
        """The next reply, keeping events that come first."""
        while True:
            msg = self.recv(timeout)
            if "event" in msg:
                self.events.append(msg)
                continue
            return msg

    def command(self, name, arguments=None, id=None, timeout=None):
        req = {"execute": name}
        if arguments is not None:
            req["arguments"] = arguments
        if id is not None:
            req["id"] = id
        self.send(req)
        return self.reply(timeout)

    def execute(self, name, **arguments):
        r = self.command(name, arguments or None)
        if "error" in r:
            raise QMPError(r["error"])
        return r["return"]

    def wait_event(self, name, timeout=10):
        end = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev["event"] == name:
                    return self.events.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {name} event (got {self.events})")
            self.events.append(self.recv(left))

    def drain(self, wait=0.2):
        """Events that arrive within wait seconds."""
        try:
            while True:
                self.events.append(self.recv(wait))
        except TimeoutError:
            pass
        return self.events


class OutputReader(threading.Thread):
    """Reads a stream in the background, keeping (monotonic time, bytes)."""

    def __init__(self, fileobj):
        super().__init__(daemon=True)
        self.fd = fileobj.fileno()
        self.chunks = []
        self.lock = threading.Lock()
        self.start()

    def run(self):
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                self.chunks.append((time.monotonic(), data))

    def text(self):
        with self.lock:
            return b"".join(c for _, c in self.chunks).decode(errors="replace")

    def size(self):
        with self.lock:
            return sum(len(c) for _, c in self.chunks)

    def last_time(self):
        with self.lock:
            return self.chunks[-1][0] if self.chunks else None

    def times_after(self, t):
        with self.lock:
            return [ts for ts, _ in self.chunks if ts > t]

    def wait_for(self, pattern, timeout=20, start=0):
        """Wait for a regex in the text from offset start; returns the match."""
        end = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        while True:
            m = rx.search(self.text(), start)
            if m:
                return m
            if time.monotonic() > end:
                raise TimeoutError(f"no {pattern!r} in output: "
                                   f"{self.text()[-300:]!r}")
            time.sleep(0.01)


COUNT_LINE = re.compile(r"^count (\d+) t=(\d+) ms\r?$", re.M)


def counts(text):
    """(n, t) of every whole 'count N t=T ms' line."""
    return [(int(m.group(1)), int(m.group(2)))
            for m in COUNT_LINE.finditer(text)]


class HMP:
    """A client for the human monitor: sends a line, returns its output."""
    PROMPT = b"(qemu) "

    def __init__(self, sock, timeout=10):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.banner = self._until_prompt()

    def _until_prompt(self):
        end = time.monotonic() + self.timeout
        while self.PROMPT not in self.buf:
            recv_more(self, end, f"no prompt: {self.buf[-200:]!r}",
                      f"monitor closed: {self.buf[-200:]!r}")
        out, self.buf = self.buf.split(self.PROMPT, 1)
        return out.decode(errors="replace")

    def cmd(self, line):
        """Output of the command, without the echo of the line itself."""
        self.sock.sendall(line.encode() + b"\r")
        out = self._until_prompt()
        echo = line + "\r\n"
        return out[len(echo):] if out.startswith(echo) else out

    def send_only(self, line):
        self.sock.sendall(line.encode() + b"\r")

    def close(self):
        self.sock.close()


class Skip(Exception):
    """A case that cannot run here: reported as ok, with the reason."""


def run_case(fn, results, procs):
    """Run case fn, append (name, None or error text) to results, and kill
    what it left in procs.  A sanitizer report on a process's stderr
    (p.err, an OutputReader) fails the case."""
    try:
        fn()
        for p in procs:              # sanitizer builds report here
            if p.poll() is not None:
                p.err.join(5)
            err = p.err.text()
            assert "runtime error" not in err and "Sanitizer" not in err, err
        results.append((fn.__name__, None))
    except Skip as e:
        results.append((fn.__name__, f"SKIP {e}"))
    except Exception as e:   # report and go on with the next case
        traceback.print_exc()
        results.append((fn.__name__, f"{type(e).__name__}: {e}"))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        procs.clear()
    return fn


def report(results):
    """Print a line per case and a summary; returns the exit status."""
    failed = 0
    for name, err in results:
        if err and not err.startswith("SKIP"):
            failed += 1
            print(f"not ok - {name}: {err}")
        elif err:
            print(f"ok - {name} # {err}")
        else:
            print(f"ok - {name}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def fresh_path(directory, name):
    """directory/name, with whatever an earlier case left there removed."""
    path = os.path.join(directory, name)
    if os.path.exists(path):
        os.unlink(path)
    return path


def assert_eq(a, b, what):
    assert a == b, f"{what}: {a!r}, expected {b!r}"
