#!/usr/bin/env python3
"""AT -> OK round trips on a pty, the peers miplcheck's per-step cost is compared with.

  at_loop.py raw PTY COUNT      os.write / os.read on the pty, nothing else (the floor a
                                Python host driver can reach)
  at_loop.py pexpect PTY COUNT  pexpect's fdspawn on the same pty, expect_exact("OK\\r\\n")

Echo is switched off first (ATE0), as at_round_trips does, so every peer reads the same bytes.
Prints one line: the peer, the count, the mean step (the loop's wall over COUNT), the median
and p95 round trip in µs. Run by harness/transport/benches/at_loop.sh.
"""
import os
import sys
import termios
import time
import tty


def quantile(xs, q):
    # nearest rank, as miplcheck_record::stats and at_round_trips do
    k = max(1, min(len(xs), -(-len(xs) * q // 1)))
    return xs[int(k) - 1]


def report(peer, n, wall, rtt):
    rtt.sort()
    print(
        f"{peer:<10} {n} steps, mean {wall / n * 1e6:.1f} µs, "
        f"median {quantile(rtt, .5) * 1e6:.1f} µs, p95 {quantile(rtt, .95) * 1e6:.1f} µs"
    )


def raw(path, n):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)

    def until_ok():
        got = b""
        while not got.endswith(b"OK\r\n"):
            b = os.read(fd, 4096)
            if not b:
                raise SystemExit(f"end of stream; got {got!r}")
            got += b

    os.write(fd, b"ATE0\r")
    until_ok()
    rtt = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        os.write(fd, b"AT\r")
        until_ok()
        rtt.append(time.perf_counter() - t)
    report("raw", n, time.perf_counter() - t0, rtt)


def with_pexpect(path, n):
    from pexpect import fdpexpect

    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd, termios.TCSANOW)
    p = fdpexpect.fdspawn(fd, timeout=5)
    p.send(b"ATE0\r")
    p.expect_exact(b"OK\r\n")
    rtt = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        p.send(b"AT\r")
        p.expect_exact(b"OK\r\n")
        rtt.append(time.perf_counter() - t)
    report("pexpect", n, time.perf_counter() - t0, rtt)


if __name__ == "__main__":
    mode, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"raw": raw, "pexpect": with_pexpect}[mode](path, count)
