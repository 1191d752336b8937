#!/usr/bin/env bash
# The Agent's footprint: start to ready (process start → /readyz 200, median of several starts), resident memory when
# idle (after ready, and after a pull has settled), and its peak resident memory (VmHWM) during a cold pull of a blob
# pushed to the Origin, then again (peak reset) while a second Agent pulls the whole blob from it — the Origin is
# stopped first, so every byte comes from the first Agent's seed.
# A generous MissTimeout/SourceTimeout (30 s) keeps a loaded machine from turning the first pull into a fast 404.
# Usage: perf/agent-footprint.sh [--size MiB] [--starts N] [--settle S] [--agent PATH] [--record]
#   --agent PATH  the agent to run: a P2PRegistry.Agent.dll (run with `dotnet`) or a native/apphost executable, e.g.
#                 the output of deploy/docker/publish.sh (artifacts/publish/agent/P2PRegistry.Agent). Default: the
#                 Release build output (built here).
#   --record      also writes perf/results/agent-footprint/README.md.
# Prints one Markdown table; the last line, `footprint: key=value …`, is for other scripts (perf/single-node.sh).
# Everything binds to 127.0.0.1 and is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=1024; starts=5; settle=10; agent=""; record=false
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size_mib=$2; shift 2 ;;
    --starts) starts=$2; shift 2 ;;
    --settle) settle=$2; shift 2 ;;
    --agent) agent=$2; shift 2 ;;
    --record) record=true; shift ;;
    *) echo "unknown argument: $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /tmp/p2preg-footprint.XXXXXX)
pids=()
source perf/lib.sh

projects=(Origin Tracker)
[ -n "$agent" ] || projects+=(Agent)
for project in "${projects[@]}"; do
  dotnet build "src/$project/P2PRegistry.$project.csproj" -c Release -v q -nologo >/dev/null
done
agent_arg=$agent
agent=${agent:-src/Agent/bin/Release/net10.0/P2PRegistry.Agent.dll}
case "$agent" in
  *.dll) agent_cmd=(dotnet "$agent") ;;
  *) agent_cmd=("$agent") ;;
esac
[ -e "$agent" ] || { echo "no agent at $agent" >&2; exit 2; }

blob="$work/blob"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$blob"
digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"

origin_port=$(free_port)
dotnet src/Origin/bin/Release/net10.0/P2PRegistry.Origin.dll --urls "http://127.0.0.1:$origin_port" \
  --Origin:StoragePath="$work/origin" --Origin:Push:AllowAnonymous=true --Origin:Peer:Port=0 --Logging:LogLevel:Default=Warning > "$work/origin.log" 2>&1 &
origin_pid=$!; pids+=("$origin_pid")
tracker_http=$(free_port); tracker_grpc=$(free_port)
dotnet src/Tracker/bin/Release/net10.0/P2PRegistry.Tracker.dll --Tracker:HttpUrl="http://127.0.0.1:$tracker_http" \
  --Tracker:GrpcUrl="http://127.0.0.1:$tracker_grpc" --Tracker:OriginUrl="http://127.0.0.1:$origin_port" \
  --Logging:LogLevel:Default=Warning > "$work/tracker.log" 2>&1 &
pids+=("$!")
wait_ready "http://127.0.0.1:$origin_port/v2/"
wait_ready "http://127.0.0.1:$tracker_http/healthz"
push_blob "http://127.0.0.1:$origin_port" perf/blob
rm -f "$blob"

# start_agent <name>: starts an agent with its data under $work/<name>; sets agent_pid, agent_port.
start_agent() {
  agent_port=$(free_port)
  "${agent_cmd[@]}" --Agent:RegistryUrl="http://127.0.0.1:$agent_port" --Agent:PeerPort=0 \
    --Agent:TrackerUrl="http://127.0.0.1:$tracker_grpc" --Agent:OriginUrl="http://127.0.0.1:$origin_port" \
    --Agent:DataPath="$work/$1" --Agent:MissTimeout=00:00:30 --Agent:SourceTimeout=00:00:30 --Logging:LogLevel:Default=Warning > "$work/$1.log" 2>&1 &
  agent_pid=$!; pids+=("$agent_pid")
}
stop_agent() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# ready_seconds <port>: polls /readyz every 10 ms (at most 60 s); prints the seconds since $t0.
ready_seconds() {
  local deadline=$((SECONDS + 60))
  until curl -fs -o /dev/null "http://127.0.0.1:$1/readyz"; do
    [ $SECONDS -lt $deadline ] || { echo "agent not ready within 60 s" >&2; return 1; }
    sleep 0.01
  done
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f\n", b-a}'
}
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.0f", k/1024}'; }
# pull <port>: the whole blob through that agent, checked against the digest; prints the seconds.
pull() {
  local t sum
  t=$(date +%s.%N)
  sum=$(curl -fsS "http://127.0.0.1:$1/v2/perf/blob/blobs/$digest" | sha256sum | cut -d' ' -f1)
  [ "sha256:$sum" = "$digest" ] || { echo "pull through port $1: the bytes do not hash to $digest; logs:" >&2; tail -n 20 "$work"/*.log >&2; return 1; }
  awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f\n", b-a}'
}

ready=()
for run in $(seq 1 "$starts"); do
  t0=$(date +%s.%N); start_agent "start$run"
  ready+=("$(ready_seconds "$agent_port")")
  stop_agent "$agent_pid"; rm -rf "$work/start$run"
done
ready_median=$(printf '%s\n' "${ready[@]}" | median)

t0=$(date +%s.%N); start_agent first; first_pid=$agent_pid; first_port=$agent_port
ready_seconds "$first_port" > /dev/null
sleep "$settle"
idle_ready=$(kib "$first_pid" VmRSS)
cold_seconds=$(pull "$first_port")
cold_hwm=$(kib "$first_pid" VmHWM)
sleep "$settle"
idle_after=$(kib "$first_pid" VmRSS)

# Seeding: the Origin stops (the tracker keeps the MetaInfo), the first agent's peak is reset (clear_refs 5), and a
# second agent pulls the blob from it.
kill "$origin_pid"; wait "$origin_pid" 2>/dev/null || true
echo 5 > "/proc/$first_pid/clear_refs"
t0=$(date +%s.%N); start_agent second; second_pid=$agent_pid
ready_seconds "$agent_port" > /dev/null
seed_seconds=$(pull "$agent_port")
seed_hwm=$(kib "$first_pid" VmHWM)
second_hwm=$(kib "$second_pid" VmHWM)
sleep "$settle"
idle_seeded=$(kib "$first_pid" VmRSS)
stop_agent "$second_pid"; stop_agent "$first_pid"

load=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(cat <<EOF
| agent footprint, ${size_mib} MiB blob | value | target |
|---|---|---|
| start → /readyz 200, median of $starts (s) | $ready_median | ≤ 1 |
| RSS idle after ready (+${settle} s) | $(mib "$idle_ready") MiB | ≤ 60 MB |
| peak RSS (VmHWM), cold pull from the origin | $(mib "$cold_hwm") MiB | ≤ 128 MB |
| RSS ${settle} s after the cold pull | $(mib "$idle_after") MiB | ≤ 60 MB |
| peak RSS (VmHWM) of the first agent while a second pulls all from it | $(mib "$seed_hwm") MiB | ≤ 128 MB |
| RSS of the first agent ${settle} s after that | $(mib "$idle_seeded") MiB | |
| peak RSS (VmHWM) of the second agent (cold, from a peer) | $(mib "$second_hwm") MiB | ≤ 128 MB |
| cold pull / pull from the peer (s) | $cold_seconds / $seed_seconds | |
EOF
)
echo "$table"
echo
echo "Agent: $agent. Starts (s): ${ready[*]}. Load average: $load."
echo "footprint: ready_s=$ready_median idle_mib=$(mib "$idle_ready") cold_hwm_mib=$(mib "$cold_hwm") settled_mib=$(mib "$idle_after") seed_hwm_mib=$(mib "$seed_hwm") peer_hwm_mib=$(mib "$second_hwm") cold_s=$cold_seconds peer_s=$seed_seconds"
if $record; then
  mkdir -p perf/results/agent-footprint
  cat > perf/results/agent-footprint/README.md <<EOF
# Agent footprint

\`perf/agent-footprint.sh --size $size_mib --starts $starts --settle $settle${agent_arg:+ --agent $agent_arg}\` on $(date -u +%Y-%m-%d) at commit
$(git rev-parse --short HEAD), load average $load (2 cores, shared).

$table

Starts (s): ${ready[*]}.
EOF
  echo "wrote perf/results/agent-footprint/README.md"
fi
