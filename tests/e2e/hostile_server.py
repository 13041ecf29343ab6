#!/usr/bin/python3
# Misbehaving TLS servers for the probe tests, all on 127.0.0.1 in one process.
# usage: hostile_server.py OUTDIR CERT KEY BIGCHAIN
# Writes "MODE PORT" lines to OUTDIR/ports, then OUTDIR/port (for start_server):
#   silent   accepts and never answers
#   garbage  answers anything with bytes that are not TLS
#   close    reads the ClientHello and closes the connection
#   reset    reads the ClientHello and resets the connection
#   trickle  sends a TLS record header one byte a second, forever
#   bigchain completes a real handshake whose certificate chain is BIGCHAIN (megabytes)
#   flood_*  reads the ClientHello, then sends one record over and over as fast
#            as the client reads, until it goes away:
#            flood_hello_request  handshake records holding a HelloRequest
#                                 (OpenSSL skips those in a loop while it waits
#                                 for the ServerHello)
#            flood_empty          empty handshake records
#            flood_alert          warning alerts (user_canceled)
#            flood_ccs            change_cipher_spec records
#            flood_appdata        application_data records
#            flood_unknown        records of an unknown content type (0x42)
#   drip_hello_request  one HelloRequest record every 10 ms, forever
#   dns      (UDP) answers every DNS query with NXDOMAIN
import os, socket, ssl, struct, sys, threading, time

outdir, cert, key, bigchain = sys.argv[1:5]


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def serve(sock, handler):
    def loop():
        while True:
            conn, _ = sock.accept()
            threading.Thread(target=handler, args=(conn,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


held = []


def silent(conn):
    held.append(conn)  # never read, never closed


def garbage(conn):
    try:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nthis is not TLS\r\n" * 4)
        time.sleep(1)
    finally:
        conn.close()


def close(conn):
    conn.recv(4096)
    conn.close()


def reset(conn):
    conn.recv(4096)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # linger 0: an RST instead of a FIN


def trickle(conn):
    record = b"\x16\x03\x03\x40\x00" + b"\x02" * 100
    try:
        for b in record:
            conn.sendall(bytes([b]))
            time.sleep(1)
    except OSError:
        pass
    conn.close()


FLOODS = {
    "flood_hello_request": b"\x16\x03\x03\x00\x04\x00\x00\x00\x00",
    "flood_empty": b"\x16\x03\x03\x00\x00",
    "flood_alert": b"\x15\x03\x03\x00\x02\x01\x5a",
    "flood_ccs": b"\x14\x03\x03\x00\x01\x01",
    "flood_appdata": b"\x17\x03\x03\x00\x10" + b"\x00" * 16,
    "flood_unknown": b"\x42\x03\x03\x00\x04" + b"\x00" * 4,
}


def flood(record):
    chunk = record * (65536 // len(record))

    def handler(conn):
        try:
            conn.recv(4096)
            while True:
                conn.sendall(chunk)
        except OSError:
            pass
        conn.close()
    return handler


def drip_hello_request(conn):
    try:
        conn.recv(4096)
        while True:
            conn.sendall(FLOODS["flood_hello_request"])
            time.sleep(0.01)
    except OSError:
        pass
    conn.close()


big_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
big_ctx.load_cert_chain(bigchain, key)


def big(conn):
    try:
        with big_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)
    except (OSError, ssl.SSLError):
        pass


ports = []
for mode, handler in (("silent", silent), ("garbage", garbage), ("close", close), ("reset", reset),
                      ("trickle", trickle), ("bigchain", big), ("drip_hello_request", drip_hello_request)) + \
        tuple((mode, flood(record)) for mode, record in FLOODS.items()):
    s = listener()
    serve(s, handler)
    ports.append(f"{mode} {s.getsockname()[1]}")

dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dns.bind(("127.0.0.1", 0))


def nxdomain():
    while True:
        query, peer = dns.recvfrom(512)
        if len(query) < 12:
            continue
        # Same id and question; QR=1, RD copied, RA=1, RCODE=3 (NXDOMAIN).
        flags = bytes([0x80 | (query[2] & 0x01), 0x83])
        dns.sendto(query[:2] + flags + query[4:6] + b"\0\0\0\0\0\0" + query[12:], peer)


threading.Thread(target=nxdomain, daemon=True).start()
ports.append(f"dns {dns.getsockname()[1]}")
with open(os.path.join(outdir, "ports"), "w") as f:
    f.write("\n".join(ports) + "\n")
with open(os.path.join(outdir, "port"), "w") as f:
    f.write(ports[0].split()[1])
while True:
    time.sleep(3600)
