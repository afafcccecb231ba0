"""The sandbox's socket, bound before anything else of the sandbox is loaded (standard library only).

:func:`bind_socket` is what :class:`~bonjoro_tui.sandbox.server.SandboxServer` listens on;
:class:`~bonjoro_tui.sandbox.deferred.DeferredSandbox` binds it at once (so the URL is known and connections queue in the
kernel's backlog) and loads and serves the sandbox — uvicorn, the state file, the signing key —
only when :meth:`DeferredSandbox.start_serving` is called, in a background thread. The dashboard starts
it after its first frame (docs/PERFORMANCE.md, issue 16): a request sent before that simply waits
in the backlog until the server accepts it.
"""

from __future__ import annotations

import socket


class SandboxServerError(RuntimeError):
    """The sandbox could not start (address in use, unknown host...)."""


def bind_socket(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICSERV)
    except socket.gaierror as exc:
        raise SandboxServerError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
    family, _, _, _, address = infos[0]
    # proto=IPPROTO_TCP: asyncio disables Nagle (TCP_NODELAY) only on sockets that say they are
    # TCP; with proto 0 every response on a kept-alive connection waited ~40 ms for a delayed ACK
    # (uvicorn writes the head and the body separately).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SandboxServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
