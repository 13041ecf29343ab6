#!/usr/bin/python3
# Stand-in for PagerDuty's maintenance-window API (REST v2), for the runbook
# test: POST /maintenance_windows opens one (ids PW1, PW2, ...), PUT and
# DELETE /maintenance_windows/ID update and end it; an unknown id is 404, a
# request without "Authorization: Token token=..." is 401.
# usage: pagerduty_api.py OUTDIR — port written to OUTDIR/port; every request
# appended to OUTDIR/calls.jsonl as {"at", "method", "path", "body"}.
import json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

outdir = sys.argv[1]
os.makedirs(outdir, exist_ok=True)
windows = {}
opened = [0]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        body = json.loads(raw) if raw else None
        with open(os.path.join(outdir, "calls.jsonl"), "a") as f:
            f.write(json.dumps({"at": time.time(), "method": self.command, "path": self.path,
                                "body": body}) + "\n")
        if not self.headers.get("Authorization", "").startswith("Token token="):
            return self.reply(401, {"error": {"message": "Unauthorized"}})
        parts = self.path.strip("/").split("/")
        if parts[0] != "maintenance_windows":
            return self.reply(404, {"error": {"message": "Not Found"}})
        if self.command == "POST" and len(parts) == 1:
            opened[0] += 1
            wid = f"PW{opened[0]}"
            windows[wid] = body["maintenance_window"]
            return self.reply(201, {"maintenance_window": dict(windows[wid], id=wid)})
        if len(parts) != 2 or parts[1] not in windows:
            return self.reply(404, {"error": {"message": "Not Found"}})
        if self.command == "PUT":
            windows[parts[1]].update(body["maintenance_window"])
            return self.reply(200, {"maintenance_window": dict(windows[parts[1]], id=parts[1])})
        if self.command == "DELETE":
            del windows[parts[1]]
            return self.reply(204)
        return self.reply(405, {"error": {"message": "Method Not Allowed"}})

    do_POST = do_PUT = do_DELETE = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(outdir, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(outdir, "port.tmp"), os.path.join(outdir, "port"))
server.serve_forever()
