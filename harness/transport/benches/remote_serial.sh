#!/usr/bin/env bash
# AT → OK round trips to the emulator through each link miplcheck has to a remote modem, and the
# same through pyserial (the peer every Python bench tool uses), in one run on one machine:
#   pty direct · ser2net raw TCP (socket://) · ser2net RFC 2217 (rfc2217://)
# Needs ser2net and pyserial (pip install pyserial). Usage: harness/transport/benches/remote_serial.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../../.."
count=${1:-2000}
cargo build -q --release -p miplcheck
cargo build -q --release -p miplcheck-transport --example at_round_trips
bin=target/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

emulator() {   # a fresh emulator on a pty; its path in $pty (not a subshell: its PID is kept for cleanup)
  "$bin/miplcheck" emulate --dialect bc39 --pty > "$work/pty.$1" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$work/pty.$1" ] && break; sleep 0.05; done
  pty=$(head -1 "$work/pty.$1")
}

ser2net_for() {   # ser2net in front of $1 with accepter $2 on port $3
  cat > "$work/s2n.$3.yaml" <<YAML
connection: &c$3
  accepter: $2,127.0.0.1,$3
  connector: serialdev,$1,115200n81,local
  options:
    kickolduser: true
YAML
  ser2net -n -u -c "$work/s2n.$3.yaml" > "$work/s2n.$3.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q ":$(printf '%04X' "$3") 00000000:0000 0A" /proc/net/tcp && break; sleep 0.05; done
}

pyserial() {   # the peer: pyserial's serial_for_url over the same link
  python3 - "$1" "$count" <<'PY'
import sys, time, serial
link, n = sys.argv[1], int(sys.argv[2])
s = serial.serial_for_url(link, baudrate=115200, timeout=5) if "://" in link else serial.Serial(link, 115200, timeout=5)
def until_ok():
    got = b""
    while b"OK\r\n" not in got:
        b = s.read(s.in_waiting or 1)
        if not b: raise SystemExit(f"no OK; got {got!r}")
        got += b
s.write(b"ATE0\r"); until_ok()
rtt = []
for _ in range(n):
    t = time.perf_counter(); s.write(b"AT\r"); until_ok(); rtt.append(time.perf_counter() - t)
rtt.sort()
q = lambda p: rtt[max(1, min(len(rtt), int(-(-len(rtt) * p // 1)))) - 1] * 1e6
print(f"pyserial  {link}: {n} round trips, median {q(.5):.0f} µs, p95 {q(.95):.0f} µs, max {rtt[-1]*1e6:.0f} µs")
PY
}

emulator direct
"$bin/examples/at_round_trips" "$pty" "$count"
pyserial "$pty"

emulator raw; ser2net_for "$pty" tcp 47101
"$bin/examples/at_round_trips" socket://127.0.0.1:47101 "$count"
pyserial socket://127.0.0.1:47101

emulator rfc2217; ser2net_for "$pty" "telnet(rfc2217),tcp" 47102
"$bin/examples/at_round_trips" "rfc2217://127.0.0.1:47102?ign_set_control" "$count"
pyserial "rfc2217://127.0.0.1:47102?ign_set_control"
