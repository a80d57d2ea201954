"""Measure the sandbox itself: `python -m calendly_sandbox.measure [--events N] [--count C]`.

Prints one JSON object: data generation time, the time to page through every scheduled event
at `count` per page (following pagination.next_page, one keep-alive connection), and the
rate of per-event invitee requests over a sample, as the tap's sync makes them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import requests

from calendly_sandbox.sandbox import Sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calendly_sandbox.measure")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--invitee-sample", type=int, default=2_000)
    args = parser.parse_args(argv)
    with Sandbox(seed=1, events=args.events) as sb, requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {sb.token}"
        url: str | None = sb.base_url + "/scheduled_events"
        params: dict[str, str | int] | None = {
            "organization": sb.store.organization["uri"],
            "count": args.count,
        }
        pages = events = 0
        began = time.perf_counter()
        while url:
            response = http.get(url, params=params, timeout=60)
            response.raise_for_status()
            body = response.json()
            pages += 1
            events += len(body["collection"])
            url, params = body["pagination"]["next_page"], None
        paging = time.perf_counter() - began
        sample = list(sb.store.scheduled_events)[: args.invitee_sample]
        began = time.perf_counter()
        for uuid in sample:
            http.get(f"{sb.base_url}/scheduled_events/{uuid}/invitees", timeout=60)
        invitees = time.perf_counter() - began
        result = {
            "events": events,
            "invitees": len(sb.store.invitees),
            "generation_seconds": round(sb.generation_seconds, 2),
            "pages": pages,
            "paging_seconds": round(paging, 2),
            "pages_per_second": round(pages / paging, 1),
            "invitee_requests": len(sample),
            "invitee_requests_per_second": round(len(sample) / invitees, 1),
        }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
