#!/usr/bin/env bash
# Lazy reads: the last MiB of a cold blob (`Range: bytes=-1048576`) through one Agent from one Origin, next to the
# full cold pull of the same blob, interleaved run by run (A B A B …), each through a fresh Agent (an empty data folder,
# so the blob is cold every time). Also the tail with Agent:RangeContinuesDownload=true (the range served as its pieces
# verify while the rest of the blob downloads behind it). Each tail is checked against the blob's last MiB, each full
# pull against the digest.
# Usage: perf/tail-range.sh [MiB] [runs]. Prints a Markdown table. Everything binds to 127.0.0.1 and is stopped (by PID)
# on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
tail_bytes=1048576
work=$(mktemp -d /tmp/p2preg-tail-range.XXXXXX)
pids=()
source perf/lib.sh

# SKIP_BUILD=1: use the Release binaries as they are (built already, e.g. by `dotnet build P2PRegistry.sln -c Release`).
if [ "${SKIP_BUILD:-}" != 1 ]; then
  for project in Origin Tracker Agent; do
    dotnet build "src/$project/P2PRegistry.$project.csproj" -c Release -v q -nologo >/dev/null
  done
fi
blob="$work/blob"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$blob"
digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
tail_sha=$(tail -c "$tail_bytes" "$blob" | sha256sum | cut -d' ' -f1)

origin_port=$(free_port)
dotnet src/Origin/bin/Release/net10.0/P2PRegistry.Origin.dll --urls "http://127.0.0.1:$origin_port" \
  --Origin:StoragePath="$work/origin" --Origin:Push:AllowAnonymous=true --Origin:Peer:Port=0 --Logging:LogLevel:Default=Warning > "$work/origin.log" 2>&1 &
pids+=("$!")
tracker_http=$(free_port); tracker_grpc=$(free_port)
dotnet src/Tracker/bin/Release/net10.0/P2PRegistry.Tracker.dll --Tracker:HttpUrl="http://127.0.0.1:$tracker_http" \
  --Tracker:GrpcUrl="http://127.0.0.1:$tracker_grpc" --Tracker:OriginUrl="http://127.0.0.1:$origin_port" \
  --Logging:LogLevel:Default=Warning > "$work/tracker.log" 2>&1 &
pids+=("$!")
wait_ready "http://127.0.0.1:$origin_port/v2/"
wait_ready "http://127.0.0.1:$tracker_http/healthz"
push_blob "http://127.0.0.1:$origin_port" perf/blob

# fetch <name> <extra agent settings> <curl range or ""> <expected sha256>: seconds in all, through a fresh agent. The
# miss timeout is long so that the first request (the tracker asks the origin for the MetaInfo, which hashes the blob
# once) is not a fast 404 on a busy machine; no measured request waits on it.
fetch() {
  local name=$1 extra=$2 range=$3 expected=$4 agent_port agent_pid out
  agent_port=$(free_port)
  # shellcheck disable=SC2086
  dotnet src/Agent/bin/Release/net10.0/P2PRegistry.Agent.dll --Agent:RegistryUrl="http://127.0.0.1:$agent_port" \
    --Agent:PeerPort=0 --Agent:TrackerUrl="http://127.0.0.1:$tracker_grpc" --Agent:OriginUrl="http://127.0.0.1:$origin_port" \
    --Agent:DataPath="$work/$name" --Agent:MissTimeout=00:00:30 --Logging:LogLevel:Default=Warning $extra > "$work/$name.log" 2>&1 &
  agent_pid=$!; pids+=("$agent_pid")
  wait_ready "http://127.0.0.1:$agent_port/readyz"
  out=$(curl -fsS ${range:+-r "$range"} -o "$work/pulled" -w '%{time_total}\n' "http://127.0.0.1:$agent_port/v2/perf/blob/blobs/$digest")
  [ "$(sha256sum "$work/pulled" | cut -d' ' -f1)" = "$expected" ] || { echo "$name: the bytes are not the expected ones" >&2; exit 1; }
  rm -f "$work/pulled"
  kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
  rm -rf "${work:?}/$name"
  echo "$out"
}

# Not counted: the tracker fetches the blob's MetaInfo from the origin once, and the origin starts seeding it; every
# measured run finds both done, the first one too.
fetch warmup "" "-$tail_bytes" "$tail_sha" > /dev/null

full=(); tail_only=(); tail_continues=()
for run in $(seq 1 "$runs"); do
  full+=("$(fetch "full$run" "" "" "${digest#sha256:}")")
  tail_only+=("$(fetch "tail$run" "" "-$tail_bytes" "$tail_sha")")
  tail_continues+=("$(fetch "tailc$run" "--Agent:RangeContinuesDownload=true" "-$tail_bytes" "$tail_sha")")
done

m() { printf '%s\n' "$@" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f%%", 100*a/b}'; }
echo "| ${size_mib} MiB blob, cold, one agent with the origin, $runs runs | runs (s) | median (s) | of the full cold pull |"
echo "|---|---|---|---|"
echo "| full cold pull (baseline) | ${full[*]} | $(m "${full[@]}") | 100% |"
echo "| last MiB (\`Range: bytes=-$tail_bytes\`) | ${tail_only[*]} | $(m "${tail_only[@]}") | $(ratio "$(m "${tail_only[@]}")" "$(m "${full[@]}")") |"
echo "| last MiB, RangeContinuesDownload=true | ${tail_continues[*]} | $(m "${tail_continues[@]}") | $(ratio "$(m "${tail_continues[@]}")" "$(m "${full[@]}")") |"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
