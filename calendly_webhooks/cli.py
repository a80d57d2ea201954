"""`calendly-webhooks`: serve the receiver with uvicorn until SIGINT/SIGTERM.

The first stdout line is the base URL (deliveries go to {base}/webhooks); logs go to stderr.
The socket is bound and listening before that line is printed, so a client that reads it can
connect at once; on SIGTERM uvicorn finishes the requests in flight before exiting. Deadlines and
the connection cap that keep slow or numerous clients from blocking deliveries: server.py.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import threading
from datetime import datetime, timedelta, timezone

try:
    from calendly_webhooks.app import MAX_BODY_BYTES, WEBHOOK_PATH, create_app
    from calendly_webhooks.server import Limits, Tally, serve
except ModuleNotFoundError as missing:  # the web stack is an extra, not needed by tap or target
    raise SystemExit(
        f"calendly-webhooks needs {missing.name}: pip install 'calendly-connectors[webhooks]'"
    ) from None
from calendly_webhooks.inbox import Heartbeat, InboxBackend, InboxError, open_inbox
from calendly_webhooks.signature import KEY_ENV, TOLERANCE_SECONDS, KeyRing

log = logging.getLogger("calendly_webhooks")
# Calendly retries a delivery for 24 hours: an older row is what recognises a late redelivery.
MIN_KEEP_DAYS = 2.0
PRUNE_EVERY_SECONDS = 3600.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="calendly-webhooks",
        description="Receive Calendly webhooks: verify each signature, store it in the inbox.",
    )
    add_receiving_options(parser)
    add_connection_limits(parser)
    args = parser.parse_args(argv)
    if args.keep_days is not None and not args.keep_days >= MIN_KEEP_DAYS:
        parser.error(
            f"--keep-days must be at least {MIN_KEEP_DAYS:g} (Calendly redelivers for 24 hours, "
            "and a redelivery is recognised by the row it repeats)"
        )
    if not 0 <= args.port <= 65535:
        parser.error("--port must be within 0..65535")
    positive = ("max_body_bytes", "header_timeout", "body_timeout", "keep_alive_timeout")
    for name in (*positive, "max_connections"):
        if not getattr(args, name) > 0:  # also refuses nan
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def add_receiving_options(parser: argparse.ArgumentParser) -> None:
    """Where the receiver listens, what it accepts and where it stores it."""
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks any free port")
    parser.add_argument(
        "--inbox",
        required=True,
        help="path of a SQLite inbox, or a postgresql://user@host:port/db URL that several "
        "receivers share (created)",
    )
    parser.add_argument(
        "--public-url",
        help="the URL Calendly delivers to (the subscription's callback URL, e.g. the load "
        "balancer's https://hooks.example.com/webhooks), recorded with this receiver's uptime "
        "so the tap can prove coverage; default: the served {base}/webhooks",
    )
    parser.add_argument(
        "--signing-key-file",
        help="file of active signing keys, one per line (re-read when it changes); "
        f"without it, {KEY_ENV} holds the key(s), comma-separated",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=MAX_BODY_BYTES,
        help="larger bodies get 413 (default %(default)d)",
    )
    parser.add_argument(
        "--tolerance-seconds",
        type=float,
        default=TOLERANCE_SECONDS,
        help="accepted distance between the signature's t and now (default 180)",
    )
    parser.add_argument(
        "--keep-days",
        type=float,
        help="delete deliveries received more than this many days ago (at start, then hourly); "
        f"at least {MIN_KEEP_DAYS:g}, and longer than the longest gap between tap runs: the tap "
        "never reads a pruned delivery. Default: keep everything",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )


def add_connection_limits(parser: argparse.ArgumentParser) -> None:
    """What keeps slow or numerous clients from holding the receiver (docs/receiver.md)."""
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=Limits.header_timeout,
        help="seconds a client has to send a request's headers, from connecting or from the "
        "previous response; then it is disconnected (default %(default)g)",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=Limits.body_timeout,
        help="seconds a client has to send a request's body once its headers are in "
        "(default %(default)g)",
    )
    parser.add_argument(
        "--keep-alive-timeout",
        type=int,
        default=Limits.keep_alive_timeout,
        help="seconds an idle keep-alive connection stays open (uvicorn's; default %(default)d)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=Limits.max_connections,
        help="open connections at most (lowered to fit the open-files limit); a new one "
        "displaces the one waiting longest for a client (default %(default)d)",
    )


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level.upper(),
        format="calendly-webhooks: %(levelname)s %(message)s",
    )
    keyring = KeyRing.from_settings(args.signing_key_file)
    if args.signing_key_file is None and not keyring.keys():
        log.error("no signing key: give --signing-key-file PATH or set %s", KEY_ENV)
        return 2
    if not keyring.keys():
        log.warning(
            "%s holds no key yet; deliveries are refused until it does", args.signing_key_file
        )
    try:
        inbox = open_inbox(args.inbox)
    except InboxError as exc:
        log.error("%s", exc)
        return 2
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
        return 1
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    try:
        heartbeat = Heartbeat(inbox, args.public_url or f"http://{host}:{port}{WEBHOOK_PATH}")
    except InboxError as exc:
        log.error("%s", exc)
        return 2
    stopping = threading.Event()
    if args.keep_days is not None:
        keep = timedelta(days=args.keep_days)
        threading.Thread(
            target=prune_forever, args=(inbox, keep, stopping), daemon=True, name="prune"
        ).start()
    beating = threading.Thread(target=heartbeat.run, args=(stopping,), name="heartbeat")
    beating.start()

    def stop_beating() -> None:
        stopping.set()
        beating.join()  # its last write marks the receiver stopped

    tally = Tally()
    app = create_app(
        inbox,
        keyring,
        max_body_bytes=args.max_body_bytes,
        tolerance_seconds=args.tolerance_seconds,
        report=tally.add,
    )
    limits = Limits(
        header_timeout=args.header_timeout,
        body_timeout=args.body_timeout,
        keep_alive_timeout=args.keep_alive_timeout,
        max_connections=args.max_connections,
    )
    sys.stdout.write(f"http://{host}:{port}\n")
    sys.stdout.flush()
    try:
        serve(app, sock, limits, tally, args.log_level, on_shutdown=stop_beating)
    finally:
        stop_beating()
        inbox.close()
    return 0


def prune_forever(inbox: InboxBackend, keep: timedelta, stop: threading.Event) -> None:
    while not stop.is_set():
        before = datetime.now(timezone.utc) - keep
        try:
            pruned = inbox.prune(before)
        except InboxError as exc:  # a locked or unreachable inbox must not stop the receiver
            log.warning("pruning the inbox failed: %s", exc)
        else:
            if pruned:
                log.info("pruned %d deliveries received before %s", pruned, before.isoformat())
        stop.wait(PRUNE_EVERY_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
