#!/usr/bin/env bash
# The swarm under attack, against baselines measured in the same run, with real processes on 127.0.0.1:
#  1. an undisturbed cold pull: one Agent pulls blob A (pushed to the Origin, never pulled before) with curl;
#  2. the same pull under attack: the Agent pulls blob B (same size, also never pulled) while N hostile sessions
#     (perf/Attack keepalive) hold the Origin's peer port, each handshaken for B's info hash and sending nothing but
#     keep-alives. Reported: HTTP status, sha256 check, seconds, and the ratio to pull 1;
#  3. a cancel flood: one session (perf/Attack cancel-flood) sends random cancel messages to the Origin's peer port as
#     fast as it can; the Origin's VmRSS before, at the end and 10 s after.
# Pulls 1 and 2 are both cold (a blob no Agent has, whose seed the Origin has not opened yet) through the same warm
# Agent (it first pulls a small warm-up blob, as a long-running node agent would have), so they differ only in the
# attack. With --runs N, pulls 1 and 2 repeat N times (new blobs each run, interleaved) and medians are reported.
# Usage: perf/hostile-peers.sh [--size-mib 256] [--sessions 200] [--flood-seconds 60] [--runs 1] [--out DIR]
# Prints a Markdown table and writes it, with the attack tool's output and the tails of the logs, to
# artifacts/hostile-peers/<UTC time>/ (git-ignored). Binds 127.0.0.1 only; everything started is stopped by PID.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

size_mib=256; sessions=200; flood_seconds=60; runs=1; out=""
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) size_mib=${2:-}; shift 2 ;;
    --sessions) sessions=${2:-}; shift 2 ;;
    --flood-seconds) flood_seconds=${2:-}; shift 2 ;;
    --runs) runs=${2:-}; shift 2 ;;
    --out) out=${2:-}; shift 2 ;;
    *) usage ;;
  esac
done
in_range() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
in_range "$size_mib" 1 4096 && in_range "$sessions" 1 2000 && in_range "$flood_seconds" 1 600 && in_range "$runs" 1 9 || usage

stamp=$(date -u +%Y%m%d-%H%M%S)
results=${out:-artifacts/hostile-peers/$stamp}
mkdir -p "$results"
results=$(cd "$results" && pwd)
work=$(mktemp -d /tmp/p2preg-hostile.XXXXXX)
pids=()
source perf/lib.sh

untrack() { local keep=() p; for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; pids=("${keep[@]}"); }
# stop_pid <pid>: TERM, up to 15 s to exit, then KILL; bounded even for a process that hangs under attack.
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  untrack "$pid"
}
# waited <command…>: runs it as a tracked child and waits for it, so that a TERM to this script (handled only
# between foreground commands) is handled at once, and the child is stopped with the rest.
waited() { local pid rc=0; "$@" & pid=$!; pids+=("$pid"); wait "$pid" || rc=$?; untrack "$pid"; return "$rc"; }
# Replaces lib.sh's cleanup: bounded stops, and the logs' tails kept in the results folder before $work goes.
cleanup() {
  trap - EXIT INT TERM
  local i log
  # Newest first: the Agent and the attack tool before the Tracker and Origin they talk to.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  for log in "$work"/*.log "$work"/*.out; do [ -f "$log" ] && tail -c 1000000 "$log" > "$results/$(basename "$log")"; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap 'echo "hostile-peers.sh: failed at line $LINENO" >&2' ERR

# wait_up <url>: lib.sh's wait_ready gives 10 s; a loaded machine needs more to start a .NET server.
wait_up() { for _ in $(seq 1 600); do curl -fs --max-time 2 -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }
rss_mib() { awk '/^VmRSS/{printf "%.0f", $2/1024}' "/proc/$1/status"; }
hwm_mib() { awk '/^VmHWM/{printf "%.0f", $2/1024}' "/proc/$1/status"; }
# kv <file> <line prefix> <key>: a key=value from the tool's output line that starts with the prefix.
kv() { { grep "^$2 " "$1" | tail -1 | grep -o "$3=[^ ]*" | head -1 | cut -d= -f2- | tr -d '"'; } || echo "?"; }
# wait_line <file> <prefix> <seconds>
wait_line() { for _ in $(seq 1 $(($3 * 10))); do grep -q "^$2 " "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "no '$2' line in $1 after $3 s" >&2; return 1; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# The code under test: the last commit that changed src/ (perf/ changes do not change the figures).
commit=$(git log -1 --format=%h -- src)$(git diff --quiet HEAD -- src || echo "+changes")
for p in src/Origin/P2PRegistry.Origin.csproj src/Tracker/P2PRegistry.Tracker.csproj src/Agent/P2PRegistry.Agent.csproj perf/Attack/P2PRegistry.Attack.csproj; do
  waited timeout 600 dotnet build "$p" -c Release -v q -nologo >/dev/null
done
# Called straight under `timeout` (no function or subshell between), so $! is a PID whose TERM reaches the tool.
attack=(dotnet perf/Attack/bin/Release/net10.0/P2PRegistry.Attack.dll)

# Blobs a1, b1, a2, b2, …: a<k> for run k's undisturbed pull, b<k> for its attacked pull; w warms the Agent up.
declare -A digests
for key in w $(for run in $(seq 1 "$runs"); do echo "a$run b$run"; done); do
  mib=$size_mib; [ "$key" = w ] && mib=$((size_mib < 16 ? size_mib : 16))
  head -c "$((mib * 1024 * 1024))" /dev/urandom > "$work/blob-$key"
  digests[$key]="sha256:$(sha256sum "$work/blob-$key" | cut -d' ' -f1)"
done

origin_port=$(free_port); origin_peer_port=$(free_port)
dotnet src/Origin/bin/Release/net10.0/P2PRegistry.Origin.dll --urls "http://127.0.0.1:$origin_port" \
  --Origin:StoragePath="$work/origin" --Origin:Push:AllowAnonymous=true --Origin:Peer:Port="$origin_peer_port" --Logging:LogLevel:Default=Warning > "$work/origin.log" 2>&1 &
origin_pid=$!; pids+=("$origin_pid")
tracker_http=$(free_port); tracker_grpc=$(free_port)
dotnet src/Tracker/bin/Release/net10.0/P2PRegistry.Tracker.dll --Tracker:HttpUrl="http://127.0.0.1:$tracker_http" \
  --Tracker:GrpcUrl="http://127.0.0.1:$tracker_grpc" --Tracker:OriginUrl="http://127.0.0.1:$origin_port" \
  --Logging:LogLevel:Default=Warning > "$work/tracker.log" 2>&1 &
pids+=("$!")
origin="http://127.0.0.1:$origin_port"
wait_up "$origin/readyz"
wait_up "http://127.0.0.1:$tracker_http/healthz"
for key in "${!digests[@]}"; do
  blob="$work/blob-$key"; digest=${digests[$key]}; push_blob "$origin" perf/hostile
  rm -f "$work/blob-$key"
done
rss_after_push=$(rss_mib "$origin_pid")

# One Agent for every pull, on an empty data folder: a cold pull is a blob it has never seen.
agent_port=$(free_port)
dotnet src/Agent/bin/Release/net10.0/P2PRegistry.Agent.dll --Agent:RegistryUrl="http://127.0.0.1:$agent_port" \
  --Agent:PeerPort=0 --Agent:TrackerUrl="http://127.0.0.1:$tracker_grpc" --Agent:OriginUrl="$origin" \
  --Agent:DataPath="$work/agent" --Logging:LogLevel:Default=Warning > "$work/agent.log" 2>&1 &
agent_pid=$!; pids+=("$agent_pid")
wait_up "http://127.0.0.1:$agent_port/readyz"
# pull <digest>: curl through the Agent, bounded; sets pull_status, pull_seconds, pull_ok (bytes hash to the digest)
# and pull_result (all three in words).
pull() {
  local rc=0
  echo "000 0" > "$work/pull.out"
  waited curl -sS --max-time 300 -o "$work/pulled" -w '%{http_code} %{time_total}\n' \
    "http://127.0.0.1:$agent_port/v2/perf/hostile/blobs/$1" > "$work/pull.out" 2>>"$work/curl.log" || rc=$?
  read -r pull_status pull_seconds < "$work/pull.out" || true
  pull_ok=no
  if [ "$pull_status" = 200 ] && [ "sha256:$(sha256sum "$work/pulled" | cut -d' ' -f1)" = "$1" ]; then pull_ok=yes; fi
  rm -f "$work/pulled"
  pull_result="HTTP $pull_status, sha256 $pull_ok, $(printf '%.2f' "$pull_seconds") s"
  if [ "$rc" = 28 ]; then pull_result+=" (curl timed out)"; elif [ "$rc" != 0 ]; then pull_result+=" (curl exit $rc)"; fi
}

# Warm-up: the first request of each process compiles its path; on a loaded machine that alone can outlast the
# Agent's 1 s MissTimeout (a 404), which would be charged to whichever pull came first.
warmup=()
for attempt in 1 2 3; do
  pull "${digests[w]}"; warmup+=("HTTP $pull_status")
  [ "$pull_ok" = yes ] && break
  sleep 2
done

base_seconds=(); base_results=(); hostile_seconds=(); hostile_results=(); held=(); hostile_failed=0
for run in $(seq 1 "$runs"); do
  pull "${digests[a$run]}"
  base_results+=("$pull_result")
  if [ "$pull_ok" = yes ]; then base_seconds+=("$pull_seconds"); fi

  f="$work/attack-keepalive$run.out"
  timeout 900 "${attack[@]}" keepalive "$origin" "${digests[b$run]}" --sessions "$sessions" > "$f" 2> "$work/attack-keepalive$run.log" &
  attack_pid=$!; pids+=("$attack_pid")
  wait_line "$f" ready 120
  pull "${digests[b$run]}"
  hostile_results+=("$pull_result")
  hostile_seconds+=("$pull_seconds")
  if [ "$pull_ok" != yes ]; then hostile_failed=$((hostile_failed + 1)); fi
  stop_pid "$attack_pid"
  held+=("$(kv "$f" ready open) of $sessions handshaken at the start, $(kv "$f" done open) open when the pull ended; origin closed $(kv "$f" done closed_by_origin), refused $(kv "$f" done refused) of $(kv "$f" done connects) dials")
done

# The cancel flood, on blob a1's info hash (its seed is open from pull 1; the flood needs no new seed).
flood_rss_before=$(rss_mib "$origin_pid")
waited timeout $((flood_seconds + 60)) "${attack[@]}" cancel-flood "$origin" "${digests[a1]}" --seconds "$flood_seconds" > "$work/attack-flood.out" 2> "$work/attack-flood.log" || true
flood_alive=yes; kill -0 "$origin_pid" 2>/dev/null || flood_alive=no
flood_rss_end=0; flood_hwm=0; flood_rss_after=0
if [ "$flood_alive" = yes ]; then
  flood_rss_end=$(rss_mib "$origin_pid"); flood_hwm=$(hwm_mib "$origin_pid")
  waited sleep 10
  kill -0 "$origin_pid" 2>/dev/null && flood_rss_after=$(rss_mib "$origin_pid") || flood_alive="died within 10 s"
fi
origin_ready=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$origin/readyz" || true)
f="$work/attack-flood.out"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

m() { if [ $# -eq 0 ]; then echo ""; else printf '%s\n' "$@" | median; fi; }
base=$(m "${base_seconds[@]}"); hostile=$(m "${hostile_seconds[@]}")
# The time of a failed pull still counts (a 404 after 5 s is 5 s a client waited), flagged next to the ratio.
if [ -n "$base" ]; then
  ratio=$(awk -v a="$hostile" -v b="$base" 'BEGIN{printf "%.2f×", a/b}')
else
  ratio="— (no undisturbed pull succeeded)"
fi
if [ "$hostile_failed" -gt 0 ]; then ratio+=", failed $hostile_failed of $runs"; fi
joined() { local out="" x; for x in "$@"; do out+="${out:+; }$x"; done; echo "$out"; }
growth() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%+d", a-b}'; }
{
  echo "Hostile peers (\`perf/hostile-peers.sh --size-mib $size_mib --sessions $sessions --flood-seconds $flood_seconds --runs $runs\`), src at commit $commit, $(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $load_start → $load_end"
  echo
  echo "| ${size_mib} MiB blob, cold pull through the Agent | result | × undisturbed |"
  echo "|---|---|---|"
  echo "| undisturbed | $(joined "${base_results[@]}") | 1.00× |"
  echo "| $sessions keep-alive sessions on the Origin's peer port, handshaken for the pulled blob | $(joined "${hostile_results[@]}") | $ratio |"
  echo
  echo "| cancel flood, one session, ${flood_seconds} s | Origin VmRSS MiB | growth MiB |"
  echo "|---|---|---|"
  echo "| before | $flood_rss_before | |"
  echo "| at the end | $flood_rss_end (peak $flood_hwm) | $(growth "$flood_rss_end" "$flood_rss_before") |"
  echo "| 10 s after | $flood_rss_after | $(growth "$flood_rss_after" "$flood_rss_before") |"
  echo
  echo "Hostile sessions: $(joined "${held[@]}"). Warm-up pull (${digests[w]:7:12}…): $(joined "${warmup[@]}")."
  echo "Flood: $(kv "$f" done messages) cancel messages ($(kv "$f" done mib) MiB, $(kv "$f" done messages_per_second)/s) over $(kv "$f" done connects) session(s), closed by the Origin $(kv "$f" done closed_by_origin) time(s), refused $(kv "$f" done refused); Origin alive after: $flood_alive, /readyz $origin_ready. Origin VmRSS after the pushes: $rss_after_push MiB."
} | tee "$results/report.md"
echo "results: $results"
