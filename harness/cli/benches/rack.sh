#!/usr/bin/env bash
# The rack benchmark (issue 11 item 8): 64 emulator rigs in one `miplcheck run` process against
# one rig alone and against 64 processes of one rig each, all on the config suite.
#
# What it measures, per round:
#   a. one rig alone:           miplcheck run --rig R01 --suite config --out …
#   b. 64 rigs in one process:  miplcheck run --rig 'DIR/*.toml' --suite config --status-level fail --out …
#   c. 64 processes at once, one rig each, all started in the background and waited for.
# For a and b: wall time, peak RSS and CPU time of the process, read by GNU time
# (`/usr/bin/time -f '%e %M %U %S'`; %M is the maximum resident set size in KiB). For c: wall from
# before the first start to after the last end (`date +%s.%N`), and each process's peak RSS and CPU
# from its own GNU time; the tables show the RSS sum and the largest, and the CPU sum. Each round
# also notes how busy the rest of the machine was while each mode ran: the CPU time /proc/stat
# counts as busy (user, nice, system, irq, softirq, steal) minus the mode's own, per second of
# wall, in cores (other builds share this machine). For b it also samples the process's thread count (/proc/PID/task)
# every 0.1 s and reports the highest seen.
#
# The 64 rig files are copies of rigs/emulator-bc39.toml, each with its own `name = "bench-NN"`
# (everything else as is, the IMEI too). Every run must exit 0 (every config case passes on an
# emulator); a run that does not fails the script with the end of its output.
#
# Run from anywhere (it works in the repository root, where `suites/` and `golden/` are):
#   cargo build --release -p miplcheck
#   harness/cli/benches/rack.sh [BINARY] [ROUNDS]     # defaults: target/release/miplcheck, 3
# Environment: RIGS=N for another rack size (default 64), KEEP=1 to keep the temp dir.
# Needs GNU time at /usr/bin/time (installs nothing); outputs go to a temp dir removed at the end.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
bin=${1:-target/release/miplcheck}
rounds=${2:-3}
rigs=${RIGS:-64}
cd "$root"
bin=$(realpath "$bin")
template=rigs/emulator-bc39.toml

[[ -x $bin ]] || { echo "rack.sh: no binary at $bin (cargo build --release -p miplcheck)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "rack.sh: needs GNU time at /usr/bin/time" >&2; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "rack.sh: rounds must be a positive number, not $rounds" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/miplcheck-rack.XXXXXX")
cleanup() { if [[ ${KEEP:-0} == 1 ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT

# The rig files: the template with its name line replaced, nothing else changed.
mkdir -p "$tmp/rigs"
grep -q '^name = "emulator-bc39"$' "$template" || { echo "rack.sh: $template has no name line to replace" >&2; exit 2; }
for n in $(seq 1 "$rigs"); do
    i=$(printf %02d "$n")
    sed "s/^name = \"emulator-bc39\"$/name = \"bench-$i\"/" "$template" >"$tmp/rigs/R$i.toml"
done
first=$(ls "$tmp/rigs"/*.toml | head -n1)

now() { date +%s.%N; }
fmt='%e %M %U %S'

# fail LOG WHAT STATUS: say which run failed, show its output's end, stop.
fail() {
    echo "rack.sh: FAILED: $2 exited $3 (expected 0); the end of its output:" >&2
    tail -n 30 "$1" >&2
    exit 1
}

# timed TAG ARGS…: run miplcheck under GNU time; "$tmp/TAG.time" gets "wall_s maxrss_kib user_s sys_s".
timed() {
    local tag=$1; shift
    local st=0
    /usr/bin/time -f "$fmt" -o "$tmp/$tag.time" "$bin" "$@" >"$tmp/$tag.log" 2>&1 || st=$?
    [[ $st == 0 ]] || fail "$tmp/$tag.log" "$tag ($bin $*)" "$st"
}

# One line per round in results.tsv: the round, the load at its start, then per mode
# "wall rss_kib cpu_s" (the rack also its threads; 64 processes: wall, RSS sum, CPU sum, largest
# RSS), then the rest of the machine's load during each of the three modes.
: >"$tmp/results.tsv"
cpu() { awk '{ printf "%.2f", $3 + $4 }' "$1"; }
hz=$(getconf CLK_TCK)
# busy: the seconds of CPU the whole machine has been busy since boot.
busy() { awk -v hz="$hz" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat; }
# others BUSY0 BUSY1 OWN_CPU WALL: the rest of the machine's load during a mode, in cores.
others() { awk -v a="$1" -v b="$2" -v c="$3" -v w="$4" 'BEGIN { o = (b - a - c) / w; printf "%.2f", o < 0 ? 0 : o }'; }

for round in $(seq 1 "$rounds"); do
    echo "round $round/$rounds: one rig" >&2
    b0=$(busy)
    timed "one-$round" run --rig "$first" --suite config --out "$tmp/out/one-$round"
    b1=$(busy)
    read -r one_wall one_rss _ <"$tmp/one-$round.time"
    one_cpu=$(cpu "$tmp/one-$round.time")
    one_others=$(others "$b0" "$b1" "$one_cpu" "$one_wall")

    echo "round $round/$rounds: $rigs rigs in one process" >&2
    tag="rack-$round"
    b0=$(busy)
    /usr/bin/time -f "$fmt" -o "$tmp/$tag.time" "$bin" run --rig "$tmp/rigs/*.toml" --suite config \
        --status-level fail --out "$tmp/out/$tag" >"$tmp/$tag.log" 2>&1 &
    tpid=$!
    threads=0
    while kill -0 "$tpid" 2>/dev/null; do
        child=$(cat "/proc/$tpid/task/$tpid/children" 2>/dev/null || true)
        if [[ -n $child ]]; then
            n=$(ls "/proc/${child%% *}/task" 2>/dev/null | wc -l || true)
            ((n > threads)) && threads=$n
        fi
        sleep 0.1
    done
    st=0; wait "$tpid" || st=$?
    b1=$(busy)
    [[ $st == 0 ]] || fail "$tmp/$tag.log" "$tag ($rigs rigs in one process)" "$st"
    read -r rack_wall rack_rss _ <"$tmp/$tag.time"
    rack_cpu=$(cpu "$tmp/$tag.time")
    rack_others=$(others "$b0" "$b1" "$rack_cpu" "$rack_wall")

    echo "round $round/$rounds: $rigs processes" >&2
    pids=()
    b0=$(busy)
    start=$(now)
    for r in "$tmp/rigs"/*.toml; do
        n=$(basename "$r" .toml)
        /usr/bin/time -f "$fmt" -o "$tmp/procs-$round-$n.time" "$bin" run --rig "$r" --suite config \
            --out "$tmp/out/procs-$round/$n" >"$tmp/procs-$round-$n.log" 2>&1 &
        pids+=("$!:$n")
    done
    bad=()
    for p in "${pids[@]}"; do
        st=0; wait "${p%%:*}" || st=$?
        [[ $st == 0 ]] || bad+=("${p#*:}:$st")
    done
    end=$(now)
    b1=$(busy)
    if ((${#bad[@]})); then
        echo "rack.sh: ${#bad[@]} of $rigs processes failed: ${bad[*]}" >&2
        b=${bad[0]}
        fail "$tmp/procs-$round-${b%%:*}.log" "process ${b%%:*} of round $round" "${b#*:}"
    fi
    procs_wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
    read -r procs_sum procs_max procs_cpu < <(cat "$tmp"/procs-"$round"-*.time |
        awk '{ s += $2; if ($2 > m) m = $2; c += $3 + $4 } END { printf "%d %d %.2f\n", s, m, c }')
    procs_others=$(others "$b0" "$b1" "$procs_cpu" "$procs_wall")

    echo "$round $one_wall $one_rss $one_cpu $rack_wall $rack_rss $rack_cpu $threads" \
        "$procs_wall $procs_sum $procs_cpu $procs_max $one_others $rack_others $procs_others" >>"$tmp/results.tsv"
done

# The tables, in Markdown, on stdout.
echo
echo "$rigs emulator rigs (copies of $template), config suite, $rounds round(s), $(nproc) cores"
echo
echo "| round | one rig: wall (s), CPU (s) | $rigs in one process: wall, CPU | ratio to one rig | $rigs processes: wall, CPU (sum) | ratio to one rig | rest of the machine, cores busy (one rig / $rigs in one / $rigs processes) |"
echo "|---|---|---|---|---|---|---|"
awk '{ printf "| %d | %.2f, %.2f | %.2f, %.2f | %.2f× | %.2f, %.2f | %.2f× | %.2f / %.2f / %.2f |\n",
       $1, $2, $4, $5, $7, $5 / $2, $9, $11, $9 / $2, $13, $14, $15 }' "$tmp/results.tsv"
echo
echo "| round | one rig peak RSS (MiB) | $rigs in one process peak RSS (MiB) | per rig beyond the first (MiB) | threads in the one process (peak seen) | $rigs processes: RSS sum (MiB) | per process, largest (MiB) |"
echo "|---|---|---|---|---|---|---|"
awk -v n="$rigs" '{
       inc = n > 1 ? ($6 - $3) / (n - 1) : 0
       printf "| %d | %.1f | %.1f | %.2f (%.2f MB) | %d | %.0f | %.1f |\n",
       $1, $3 / 1024, $6 / 1024, inc / 1024, inc * 1024 / 1e6, $8, $10 / 1024, $12 / 1024 }' "$tmp/results.tsv"
