"""Listening sockets: one for a single process, one per worker process sharing a port.

With one socket shared by several worker processes, whichever worker wakes first accepts
every connection waiting (an event loop accepts up to its backlog at once): a client pool
opening 32 connections together often lands all of them on one worker, which then does all
the work while the other idles (measured: 32/0 in 2 of 4 trials, 22/10 in another). So
``serve --workers N`` binds N sockets to the same address with ``SO_REUSEPORT``, one per
worker, and the kernel spreads new connections across them by a hash of the client's address
and port.

``SO_REUSEPORT`` lets any later socket of the same user with the option join the port, so the
port is first checked by an ordinary bind: that fails when anything listens there (a
reuse-port group included), as ``bind`` does for one process. A later ``runnerkit serve`` on
the same port is therefore refused, not let in to take a share of the connections.

Only Linux spreads connections over a reuse-port group; macOS and the BSDs give them all to one
socket. There ``bind_per_worker`` returns one shared socket for every worker, as uvicorn does.
"""

from __future__ import annotations

import socket
import sys

BACKLOG = 2048


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _bound(host: str, port: int, *options: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        for option in options:
            sock.setsockopt(socket.SOL_SOCKET, option, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _listening(host: str, port: int, *options: int) -> socket.socket:
    sock = _bound(host, port, *options)
    try:
        sock.listen(BACKLOG)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port).

    Raises:
        OSError: The address is in use or cannot be bound.
    """
    return _listening(host, port, socket.SO_REUSEADDR)


def bind_per_worker(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one ``host:port``, each to be served by one process.

    Args:
        host: The address to listen on.
        port: The port; 0 picks a free one (all sockets get the same).
        count: How many sockets (worker processes), at least 1.

    Returns:
        The sockets, bound with ``SO_REUSEPORT`` and listening; on other systems than Linux,
        one shared listening socket ``count`` times.

    Raises:
        OSError: The address is in use (by anything, another reuse-port group included) or
            cannot be bound.
    """
    if sys.platform != "linux":
        return [bind(host, port)] * count
    # SO_REUSEADDR (as ``bind``): connections of a previous server still in TIME_WAIT do not
    # block a restart. Without SO_REUSEPORT the bind fails if anything listens on the port.
    with _bound(host, port, socket.SO_REUSEADDR) as probe:
        port = probe.getsockname()[1]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(_listening(host, port, socket.SO_REUSEADDR, socket.SO_REUSEPORT))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets
