#!/usr/bin/python3
# SMTP sink for the notify tests (Debian's python3-aiosmtpd).
# usage: smtp_sink.py OUTDIR [--tls CERT KEY] [--auth USER PASSWORD_FILE]
# Listens on 127.0.0.1, port chosen by the kernel and written to OUTDIR/port.
# Each message becomes OUTDIR/mail/N.eml with the envelope in X-Envelope-From
# and X-Envelope-To. While OUTDIR/REJECT exists, every recipient is refused
# with 550. With --tls, STARTTLS is offered and required; with --auth, AUTH
# (after STARTTLS) is required.
import asyncio, os, signal, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult

args = sys.argv[1:]
outdir = args.pop(0)
tls = auth = None
while args:
    opt = args.pop(0)
    if opt == "--tls":
        tls = (args.pop(0), args.pop(0))
    elif opt == "--auth":
        user = args.pop(0)
        with open(args.pop(0)) as f:
            auth = (user.encode(), f.read().strip().encode())
    else:
        sys.exit(f"unknown option {opt}")
os.makedirs(os.path.join(outdir, "mail"), exist_ok=True)
count = 0


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.path.exists(os.path.join(outdir, "REJECT")):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        path = os.path.join(outdir, "mail", f"{count}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
            f.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth is not None and (auth_data.login, auth_data.password) == auth
    return AuthResult(success=ok)


async def main():
    kwargs = {}
    if tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*tls)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if auth:
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(tls))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(), **kwargs), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(os.path.join(outdir, "port.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(outdir, "port.tmp"), os.path.join(outdir, "port"))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


asyncio.run(main())
