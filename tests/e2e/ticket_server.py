#!/usr/bin/python3
# Stand-in ticket system for the notify tests: Phabricator Conduit
# (POST /api/maniphest.edit, form fields) and a webhook (POST /hook, JSON).
# usage: ticket_server.py OUTDIR — port written to OUTDIR/port; every request
# appended to OUTDIR/requests.jsonl; while OUTDIR/FAIL exists, answers 500
# (echoing the start of the request, token included).
# Task ids count up from 100.
import json, os, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

outdir = sys.argv[1]
os.makedirs(outdir, exist_ok=True)
next_id = [100]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        record = {"path": self.path, "content_type": self.headers.get("Content-Type"),
                  "authorization": self.headers.get("Authorization")}
        if os.path.exists(os.path.join(outdir, "FAIL")):
            record["answer"] = 500
            self.log(record)
            # Like a broken proxy, echo the start of the request (with its token):
            # certkeeper must not repeat it in its error message.
            return self.reply(500, {"echo": raw[:60], "error": "ticket system down"})
        if self.path == "/api/maniphest.edit":
            record["form"] = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
            if record["form"].get("api.token") != os.environ.get("TICKET_TOKEN"):
                record["answer"] = "ERR-INVALID-AUTH"
                self.log(record)
                return self.reply(200, {"result": None, "error_code": "ERR-INVALID-AUTH",
                                        "error_info": "API token is not valid."})
            task = next_id[0]
            next_id[0] += 1
            record["answer"] = task
            self.log(record)
            return self.reply(200, {"result": {"object": {"id": task, "phid": f"PHID-TASK-{task}"},
                                               "transactions": []},
                                    "error_code": None, "error_info": None})
        if self.path == "/hook":
            record["json"] = json.loads(raw)
            task = next_id[0]
            next_id[0] += 1
            record["answer"] = task
            self.log(record)
            return self.reply(201, {"id": f"INC-{task}"})
        self.reply(404, {"error": "no such endpoint"})

    def log(self, record):
        with open(os.path.join(outdir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(outdir, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(outdir, "port.tmp"), os.path.join(outdir, "port"))
server.serve_forever()
