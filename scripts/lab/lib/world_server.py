"""The lab's outside world services (run by scripts/lab/lib/world.sh in the world namespace).

Usage: world_server.py WWW_DIR ADDRESS...

- HTTP on :80 serving WWW_DIR; GET /ip answers with the client's address as the world sees it (a pod's
  traffic arrives masqueraded to its node's address, as cluster egress does).
- An echo service on :8080, TCP and UDP: what a client sends comes back. UDP listens on each ADDRESS apart:
  a socket on 0.0.0.0 would answer from the namespace's first address, which the client does not expect.
Only the standard library: it runs on the host's Debian python3.
"""

import functools
import http.server
import socketserver
import sys
import threading


class WorldHandler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/ip":
            body = f"{self.client_address[0]}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        # One line per request in the daemon's log (stderr), without the reverse lookup the default does.
        sys.stderr.write(f"{self.client_address[0]} {format % args}\n")


class TcpEcho(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class UdpEcho(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(data, self.client_address)


class ThreadingTcp(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main() -> None:
    www_dir, addresses = sys.argv[1], sys.argv[2:]
    handler = functools.partial(WorldHandler, directory=www_dir)
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    servers: list[socketserver.BaseServer] = [
        http.server.ThreadingHTTPServer(("0.0.0.0", 80), handler),
        ThreadingTcp(("0.0.0.0", 8080), TcpEcho),
        *(socketserver.ThreadingUDPServer((address, 8080), UdpEcho) for address in addresses),
    ]
    for server in servers[:-1]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[-1].serve_forever()


if __name__ == "__main__":
    main()
