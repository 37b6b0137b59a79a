#!/usr/bin/env bash
# Per-step cost on a pty, miplcheck against the Python peers, on one emulator in one run:
#   raw       a Python loop of os.write / os.read on the pty (no pyserial): the floor
#   pexpect   pexpect's fdspawn on the same pty
#   transport miplcheck's port alone (examples/at_round_trips.rs: write, read chunks to OK)
#   engine    `miplcheck run` of a generated case of COUNT `send: AT` steps over a serial rig on
#             the same pty: the whole step (lexing, classifying, judging, the transcript), its
#             mean taken from run.json (the first AT written to the last OK read, over COUNT)
# Each round runs them in turn, ROUNDS rounds, echo off throughout (ATE0 first); with several
# BIN_DIRs, each build's transport and engine in every round, on the one emulator (the first
# build's). Every line is "peer COUNT steps, mean X µs[, median, p95]"; the last lines are the
# median over the rounds of each peer's mean (the transport's median), against raw's.
# Needs pexpect (pip install pexpect).
# Usage: harness/transport/benches/at_loop.sh [COUNT] [ROUNDS] [BIN_DIR...]
#   BIN_DIR: a folder with `miplcheck` and `at_round_trips` (or `examples/at_round_trips`) to
#   measure instead of building; give an older build and target/release for a before/after.
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=harness/transport/benches
count=${1:-2000}
rounds=${2:-3}
bins=("${@:3}")
if [ ${#bins[@]} -eq 0 ]; then
  cargo build -q --release -p miplcheck
  cargo build -q --release -p miplcheck-transport --example at_round_trips
  bins=(target/release)
fi
example() { if [ -x "$1/at_round_trips" ]; then echo "$1/at_round_trips"; else echo "$1/examples/at_round_trips"; fi; }
label() { if [ ${#bins[@]} -gt 1 ]; then echo "$1[$2]"; else echo "$1"; fi; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"${bins[0]}/miplcheck" emulate --dialect bc39 --pty > "$work/pty" 2>/dev/null &
pids+=($!)
for _ in $(seq 200); do [ -s "$work/pty" ] && break; sleep 0.05; done
pty=$(head -1 "$work/pty")

mkdir -p "$work/suites" "$work/golden"
{
  echo "suite: loop"
  echo "title: AT round trips"
  echo "spec: ITU-T V.250"
  echo "cases:"
  echo "  - id: loop"
  echo "    spec: ITU-T V.250 §5.2"
  echo "    steps:"
  echo "      - send: ATE0"
  for _ in $(seq "$count"); do echo "      - send: AT"; done
} > "$work/suites/loop.yaml"
cat > "$work/rig.toml" <<TOML
name = "loop"
kind = "serial"
dialect = "bc39"
[serial]
port = "$pty"
baud = 115200
TOML

engine() {   # $1: the build's folder, $2: its label
  rm -rf "$work/out"
  # No golden snapshot: the case reports a new one, which does not change its timing.
  "$1/miplcheck" run --rig "$work/rig.toml" --suites "$work/suites" --golden "$work/golden" \
    --out "$work/out" > /dev/null 2>&1 || true
  python3 - "$(find "$work/out" -name run.json | head -1)" "$count" "$2" <<'PY'
import json, sys
record, n, label = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
lines = [l for l in record["cases"][0]["transcript"] if l.get("at_ms") is not None]
sent = [l for l in lines if l["dir"] == "TE→UE"]
oks = [l for l in lines if l["dir"] == "UE→TE" and l["text"].strip().endswith("OK\\r\\n")]
assert len(sent) == n + 1 and len(oks) >= n + 1, (len(sent), len(oks))
first, last = sent[1]["at_ms"], oks[-1]["at_ms"]
print(f"{label:<13} {n} steps, mean {(last - first) / n * 1e3:.1f} µs")
PY
}

for r in $(seq "$rounds"); do
  echo "round $r"
  python3 "$here/at_loop.py" raw "$pty" "$count"
  python3 "$here/at_loop.py" pexpect "$pty" "$count"
  for b in "${!bins[@]}"; do
    "$(example "${bins[$b]}")" "$pty" "$count" |
      sed "s|^miplcheck $pty: \([0-9]*\) round trips,|$(label transport "$b") \1 steps,|"
    engine "${bins[$b]}" "$(label engine "$b")"
  done
done | tee "$work/lines"
echo "medians over $rounds rounds (${bins[*]}):"
python3 - "$work/lines" <<'PY'
import re, statistics, sys
by = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+)\s+\d+ steps, (?:mean|median) ([0-9.]+) µs", line)
    if m:
        by.setdefault(m[1], []).append(float(m[2]))
raw = statistics.median(by["raw"])
for peer, xs in by.items():
    x = statistics.median(xs)
    print(f"  {peer:<13} {x:8.1f} µs  {x / raw:5.2f}× raw")
PY
