"""A DNS relay that delays every answer: the lab's `fault coredns-slow MS` (this kernel has no netem qdisc).

Usage: dns_delay.py PIDFILE PORT UPSTREAM DELAY_MS

Run inside a CoreDNS pod's network namespace, where the fault redirects port 53 (UDP and TCP) to PORT. Each
query goes on to UPSTREAM:53 (the pod's own address, which the redirect does not touch because it only applies
to packets arriving from outside) and its answer goes back DELAY_MS later. PIDFILE is written once both sockets
listen, which tells the fault it may install the redirect.
"""

import os
import queue
import socket
import sys
import threading
import time


def relay_udp(listener: socket.socket, upstream: str, delay: float) -> None:
    def answer(query: bytes, client: tuple[str, int]) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(5)
            up.sendto(query, (upstream, 53))
            try:
                response = up.recv(65535)
            except TimeoutError:
                return
        time.sleep(delay)
        listener.sendto(response, client)

    while True:
        query, client = listener.recvfrom(65535)
        threading.Thread(target=answer, args=(query, client), daemon=True).start()


def relay_tcp_connection(client: socket.socket, upstream: str, delay: float) -> None:
    """Queries pass at once; each chunk of answer is released DELAY after it arrived, without queueing
    behind the previous one (several queries may share one connection)."""
    try:
        up = socket.create_connection((upstream, 53), timeout=5)
    except OSError:
        client.close()
        return
    up.settimeout(None)
    pending: queue.Queue[tuple[float, bytes]] = queue.Queue()

    def forward_queries() -> None:
        try:
            while data := client.recv(65535):
                up.sendall(data)
        except OSError:
            pass
        up.close()

    def read_answers() -> None:
        try:
            while data := up.recv(65535):
                pending.put((time.monotonic() + delay, data))
        except OSError:
            pass
        pending.put((0.0, b""))

    threading.Thread(target=forward_queries, daemon=True).start()
    threading.Thread(target=read_answers, daemon=True).start()
    try:
        while True:
            due, data = pending.get()
            if not data:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            client.sendall(data)
    except OSError:
        pass
    client.close()


def main() -> None:
    pidfile, port, upstream, delay_ms = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    delay = delay_ms / 1000
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", port))
    tcp.listen(128)
    threading.Thread(target=relay_udp, args=(udp, upstream, delay), daemon=True).start()
    with open(pidfile, "w") as f:
        f.write(f"{os.getpid()}\n")
    while True:
        conn, _ = tcp.accept()
        threading.Thread(target=relay_tcp_connection, args=(conn, upstream, delay), daemon=True).start()


if __name__ == "__main__":
    main()
