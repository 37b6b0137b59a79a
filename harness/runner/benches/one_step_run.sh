#!/usr/bin/env bash
# The fixed cost of a run: `miplcheck run` of one one-step case (basics/attention: `AT` → `OK`)
# on the pty emulator rig, start to exit, RUNS times; prints each run's wall and CPU (user +
# system), then the medians. Timed with bash's `time` (TIMEFORMAT %3R: milliseconds), since
# /usr/bin/time prints wall in 10 ms steps, too coarse for a figure of tens of milliseconds.
# Usage: harness/runner/benches/one_step_run.sh [RUNS] [BIN_DIR] [RIG]
#   BIN_DIR: a folder with `miplcheck` to measure instead of building (an older build).
#   RIG: the rig to run on, rigs/emulator-bc39.toml (the pty emulator) unless given;
#        rigs/virtual-bc39.toml is the same modem in virtual time.
set -euo pipefail
cd "$(dirname "$0")/../../.."
runs=${1:-9}
bin=${2:-}
rig=${3:-rigs/emulator-bc39.toml}
if [ -z "$bin" ]; then
  cargo build -q --release -p miplcheck
  bin=target/release
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
TIMEFORMAT='%3R %3U %3S'
for i in $(seq "$runs"); do
  { time "$bin/miplcheck" run --rig "$rig" --suite basics --case attention \
      --out "$work/out" > /dev/null 2> "$work/err.$i" || { cat "$work/err.$i" >&2; exit 1; }; } 2> "$work/time.$i"
  read -r wall user sys < "$work/time.$i"
  echo "run $i: wall ${wall} s, cpu $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }') s"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
wall=$(cat "$work"/time.* | awk '{ print $1 }' | median)
cpu=$(cat "$work"/time.* | awk '{ printf "%.3f\n", $2 + $3 }' | median)
echo "median of $runs: wall $wall s, cpu $cpu s"
