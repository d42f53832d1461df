"""One-way burst throughput of the Python binding, comparable with the C API's (bench/bindings.md).

    PYTHONPATH=bindings/python OFFREC_LIB=$PWD/target/release/liboffrec.so \
        python3 bindings/python/bench_burst.py [--burst N] [--window W] [--runs R] [--profile FILE]

The scenario of bench/bench.c's sc_burst: two clients in one process (alice and bob on network
bench, policy MANUAL), an in-memory FIFO as the transport; alice starts the session and the
queue is pumped until both are encrypted (not timed); one warm-up message bob -> alice; then,
timed, alice sends N messages (8-digit sequence number + the letter pattern of make_msg, 100 B
and 4 KiB) and bob receives them all, every delivered plaintext compared with what was sent.
A run measures the steady state, as `bench --capi W` does for the C API: one untimed warm-up
burst per size, then W timed bursts per size (100 B and 4 KiB alternating, new clients each),
each size's rate its W*N messages over their summed time. Each figure is the median over R runs.
Prints one line, the rates in wall time and in thread CPU time:

    PY burst_100B_msgs_per_s=<n> burst_4KiB_msgs_per_s=<n> burst_100B_cpu_msgs_per_s=<n>
       burst_4KiB_cpu_msgs_per_s=<n> runs=<r> burst=<n>

Only the public API (Client.send / Client.receive and the on_send / on_deliver callbacks) is
used, as an application would. --profile writes a cProfile of one extra 100 B run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import deque
from typing import Dict, List, Tuple

import offrec
from offrec import EventCode, Policy, Security, SessionState

# Messages per chunk: bob receives each chunk as it arrives (BURST_CHUNK in bench/bench.c).
CHUNK = 64
PATTERN = "".join(chr(ord("a") + (i * 7 + i // 26) % 26) for i in range(8192))
BAD_EVENTS = {
    EventCode.MESSAGE_NOT_SENT, EventCode.UNREADABLE, EventCode.MALFORMED,
    EventCode.NOT_IN_PRIVATE, EventCode.HANDSHAKE_FAILED, EventCode.PEER_ERROR,
    EventCode.SMP_FAILED, EventCode.SMP_ABORTED, EventCode.SMP_CHEATED,
}
ENCRYPTED = (SessionState.ENCRYPTED_UNVERIFIED, SessionState.ENCRYPTED_VERIFIED)
# Looked up once: reading an enum member off its class costs ~0.1 us, per delivered message.
PLAINTEXT = Security.PLAINTEXT


class BenchError(Exception):
    pass


class Pair:
    """alice and bob, the FIFO between them, and what bob must receive next."""

    def __init__(self, size: int) -> None:
        self.queue: deque = deque()  # (receiving client, sender name, wire text)
        self.size = size
        self.tail = PATTERN[8:size]
        self.next_seq = 0
        self.delivered = 0
        self.encrypted = {"alice": False, "bob": False}
        self.alice = self._client("alice")
        self.bob = self._client("bob")
        self.peer_of = {"alice": self.bob, "bob": self.alice}

    def _client(self, name: str) -> offrec.Client:
        q = self.queue
        # The receiver of everything `name` sends; looked up when the first message goes out.
        def on_send(peer: str, text: str) -> None:
            q.append((self.peer_of[name], name, text))

        def on_deliver(peer: str, text: str, security: Security, instance: int) -> None:
            if security == PLAINTEXT:
                raise BenchError(f"{name}: plaintext delivered")
            if name == "bob":
                expected = f"{self.next_seq % 100000000:08d}{self.tail}"
                if text != expected:
                    raise BenchError(f"bob: plaintext #{self.next_seq} differs from what was sent")
                self.next_seq += 1
                self.delivered += 1

        def on_state_changed(peer: str, state: SessionState, instance: int) -> None:
            self.encrypted[name] = state in ENCRYPTED

        def on_event(ev: offrec.Event) -> None:
            if ev.code in BAD_EVENTS:
                raise BenchError(f"{name}: unexpected event {ev.code!r}")

        return offrec.Client(
            name, "bench", Policy.MANUAL, on_send=on_send, on_deliver=on_deliver,
            on_state_changed=on_state_changed, on_event=on_event,
        )

    def pump(self) -> None:
        q = self.queue
        popleft = q.popleft
        while q:
            client, sender, text = popleft()
            client.receive(sender, text)

    def close(self) -> None:
        self.alice.close()
        self.bob.close()


def burst(n: int, size: int) -> Tuple[float, float]:
    """The wall and thread CPU seconds of one burst: alice sends n, bob receiving each chunk as
    it arrives."""
    p = Pair(size)
    try:
        p.alice.start_session("bob")
        p.pump()
        if not (p.encrypted["alice"] and p.encrypted["bob"]):
            raise BenchError("handshake did not reach encrypted on both sides")
        # warm up with one reply so the sender is past its first ratchet step
        p.bob.send("alice", f"{0:08d}{p.tail}")
        p.pump()
        send, tail = p.alice.send, p.tail
        t0, c0 = time.perf_counter(), time.thread_time()
        # received as they go, in chunks of CHUNK like the C bench (equal memory effects)
        for start in range(0, n, CHUNK):
            for i in range(start, min(n, start + CHUNK)):
                send("bob", f"{i % 100000000:08d}{tail}")
            p.pump()
        t, c = time.perf_counter() - t0, time.thread_time() - c0
        if p.delivered != n:
            raise BenchError(f"burst: delivered {p.delivered} of {n}")
        return t, c
    finally:
        p.close()


def run(n: int, window: int) -> Dict[int, Tuple[float, float]]:
    """Per size, messages per second in wall and in thread CPU time of one run: one untimed
    warm-up burst per size, then `window` timed bursts per size, alternating."""
    sizes = (100, 4096)
    for size in sizes:
        burst(n, size)
    spent = {size: [0.0, 0.0] for size in sizes}
    for _ in range(window):
        for size in sizes:
            t, c = burst(n, size)
            spent[size][0] += t
            spent[size][1] += c
    return {size: (n * window / t, n * window / c) for size, (t, c) in spent.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--burst", type=int, default=5000)
    ap.add_argument("--window", type=int, default=8,
                    help="timed bursts per size in a run, after one warm-up burst per size")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--profile", metavar="FILE", help="also write a cProfile of one 100 B run")
    a = ap.parse_args()
    if a.burst < 1 or a.runs < 1 or a.window < 1:
        ap.error("--burst, --window and --runs must be >= 1")
    rates: Dict[int, List[float]] = {100: [], 4096: []}
    cpu_rates: Dict[int, List[float]] = {100: [], 4096: []}
    for _ in range(a.runs):
        for size, (wall, cpu) in run(a.burst, a.window).items():
            rates[size].append(wall)
            cpu_rates[size].append(cpu)
    if a.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(burst, a.burst, 100)
        prof.dump_stats(a.profile)
        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(15)
    print(
        f"PY burst_100B_msgs_per_s={statistics.median(rates[100]):.0f} "
        f"burst_4KiB_msgs_per_s={statistics.median(rates[4096]):.0f} "
        f"burst_100B_cpu_msgs_per_s={statistics.median(cpu_rates[100]):.0f} "
        f"burst_4KiB_cpu_msgs_per_s={statistics.median(cpu_rates[4096]):.0f} runs={a.runs} burst={a.burst}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
