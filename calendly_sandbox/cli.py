"""`calendly-sandbox` / `python -m calendly_sandbox`: serve until SIGINT/SIGTERM.

Prints exactly one line to stdout when ready: the base URL. Everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from calendly_sandbox.faults import ANSWER_LOSS_KINDS, FAULT_KINDS, parse_answer_loss
from calendly_sandbox.sandbox import PLANS, REALISMS, Sandbox, log_line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calendly-sandbox",
        description="A local, stateful Calendly API v2 on loopback.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks any free port")
    parser.add_argument("--token", default="sandbox-token", help="the org owner's bearer token")
    parser.add_argument("--seed", type=int, default=1, help="seed for deterministic data")
    parser.add_argument(
        "--events", type=int, default=200, help="scheduled events; other resources scale with it"
    )
    parser.add_argument(
        "--plan", choices=PLANS, default="enterprise", help="the organization's Calendly plan"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        metavar="PER_MINUTE",
        help="requests per user per minute; 0 = off, -1 = the plan's documented limit",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every API call")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of API calls that fail, 0..1"
    )
    parser.add_argument(
        "--fault-kinds",
        default=",".join(FAULT_KINDS),
        help=f"comma-separated subset of {','.join(FAULT_KINDS)}",
    )
    parser.add_argument("--stall-seconds", type=float, default=35.0, help="length of a stall")
    parser.add_argument(
        "--access-token-ttl", type=float, default=7200, help="OAuth access token lifetime (s)"
    )
    parser.add_argument(
        "--lose-answer",
        action="append",
        default=[],
        metavar="KIND[:METHOD[:PATH_REGEX[:TIMES]]]",
        help="perform matching writes, then lose their answer; KIND one of "
        f"{','.join(ANSWER_LOSS_KINDS)} (METHOD default POST, TIMES default 1); repeatable",
    )
    parser.add_argument(
        "--webhook-time-scale",
        type=float,
        default=1.0,
        help="webhook retry clock speed: 3600 makes Calendly's 24 h of retries last 24 s",
    )
    parser.add_argument(
        "--realism",
        choices=REALISMS,
        default="hard",
        help="hard: what real accounts show; lenient: the older, kinder sandbox",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be at least 1")
    if args.webhook_time_scale < 0:
        parser.error("--webhook-time-scale must be >= 0")
    if not 0.0 <= args.fault_rate <= 1.0:
        parser.error("--fault-rate must be within 0..1")
    kinds = tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip())
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown or not kinds:
        parser.error(f"--fault-kinds: unknown {', '.join(unknown) or '(empty)'}")
    args.fault_kinds = kinds
    try:
        args.lose_answer = [parse_answer_loss(spec) for spec in args.lose_answer]
    except ValueError:
        parser.error("--lose-answer: TIMES must be a whole number")
    for kind, *_ in args.lose_answer:
        if kind not in ANSWER_LOSS_KINDS:
            parser.error(f"--lose-answer: unknown kind {kind!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sandbox = Sandbox(
        seed=args.seed,
        events=args.events,
        plan=args.plan,
        token=args.token,
        rate_limit=None if args.rate_limit < 0 else args.rate_limit,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        fault_kinds=args.fault_kinds,
        stall_seconds=args.stall_seconds,
        access_token_ttl=args.access_token_ttl,
        host=args.host,
        port=args.port,
        webhook_time_scale=args.webhook_time_scale,
        verbose=args.verbose,
        realism=args.realism,
    )
    for kind, method, path, times in args.lose_answer:
        sandbox.lose_answers(kind, method=method, path=path, times=times)
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log_line(f"received signal {signum}, stopping")
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        sandbox.start()
    except OSError as exc:
        log_line(f"cannot listen on {args.host}:{args.port}: {exc}")
        return 1
    store = sandbox.store
    log_line(
        f"{len(store.scheduled_events)} events, {len(store.invitees)} invitees, "
        f"{len(store.users)} users, plan {args.plan}, realism {args.realism}; generated in "
        f"{sandbox.generation_seconds:.2f}s"
    )
    sys.stdout.write(sandbox.base_url + "\n")
    sys.stdout.flush()
    while not done.wait(0.5):
        pass
    sandbox.stop()
    return 0
