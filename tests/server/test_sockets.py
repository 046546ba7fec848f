"""Listening sockets: ``bind_per_worker`` shares one port between sockets, spreads connections
over them, and refuses a port anything else listens on (another reuse-port group included)."""

from __future__ import annotations

import contextlib
import socket
import sys
import time

import pytest

from runnerkit.server.sockets import bind, bind_per_worker


def _accept_all(sock: socket.socket) -> int:
    """How many connections are waiting on ``sock`` (accepted and closed)."""
    sock.setblocking(False)
    accepted = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return accepted
        conn.close()
        accepted += 1


def test_sockets_share_one_port_and_the_kernel_spreads_connections():
    group = bind_per_worker("127.0.0.1", 0, 2)
    try:
        ports = {sock.getsockname()[1] for sock in group}
        assert len(ports) == 1
        port = ports.pop()
        assert port != 0
        for sock in group:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
            assert sock.get_inheritable()
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
        try:
            time.sleep(0.1)  # the handshakes complete in the kernel
            counts = [_accept_all(sock) for sock in group]
        finally:
            for client in clients:
                client.close()
        assert sum(counts) == 64
        assert all(count > 0 for count in counts), counts  # all on one: p = 2**-63
    finally:
        for sock in group:
            sock.close()


@pytest.mark.parametrize("holder", ["plain listener", "another reuse-port group"])
def test_a_port_in_use_is_refused_and_nothing_is_left_bound(holder):
    with contextlib.ExitStack() as stack:
        if holder == "plain listener":
            held = [stack.enter_context(bind("127.0.0.1", 0))]
        else:
            held = bind_per_worker("127.0.0.1", 0, 2)
            for sock in held:
                stack.enter_context(sock)
        port = held[0].getsockname()[1]
        with pytest.raises(OSError, match="in use"):
            bind_per_worker("127.0.0.1", port, 2)
    # Once the holder is gone the port is free: nothing of the refused attempt stayed bound.
    again = bind_per_worker("127.0.0.1", port, 3)
    for sock in again:
        sock.close()


def test_one_process_socket_is_a_plain_listener():
    with bind("127.0.0.1", 0) as sock:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
        with pytest.raises(OSError, match="in use"):
            bind_per_worker("127.0.0.1", sock.getsockname()[1], 2)


def test_elsewhere_than_linux_every_worker_shares_one_plain_socket(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")  # no load-balancing reuse-port groups there
    group = bind_per_worker("127.0.0.1", 0, 3)
    try:
        assert len(group) == 3
        assert group[0] is group[1] is group[2]
        assert group[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
        assert group[0].getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    finally:
        group[0].close()


def test_a_restart_is_not_blocked_by_the_previous_servers_closed_connections():
    # The server closing a connection first leaves it in TIME_WAIT on the server's port for a
    # minute; binding the port again must still work (SO_REUSEADDR, as for one process).
    group = bind_per_worker("127.0.0.1", 0, 2)
    port = group[0].getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    time.sleep(0.1)
    for sock in group:
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            conn, _ = sock.accept()
            conn.close()  # the server side closes first
    time.sleep(0.1)
    client.close()
    for sock in group:
        sock.close()
    again = bind_per_worker("127.0.0.1", port, 2)
    for sock in again:
        sock.close()
