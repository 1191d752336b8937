#!/usr/bin/env bash
# A blob pulled with curl through one Agent from one Origin: cold (a fresh Agent each run, so the blob comes
# through the swarm from the Origin's seeder) and warm (the same Agent again, from its cache), next to curl from a
# docker-registry serving the same blob, in the same run and interleaved run by run. Also the time to first byte of
# the cold pull and the Agent's peak resident memory (VmHWM) during it.
# Usage: perf/agent-throughput.sh [MiB] [runs]. Prints a Markdown table. Everything binds to 127.0.0.1 and is
# stopped (by PID) on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
work=$(mktemp -d /tmp/p2preg-agent-perf.XXXXXX)
pids=()
source perf/lib.sh

for project in Origin Tracker Agent; do
  dotnet build "src/$project/P2PRegistry.$project.csproj" -c Release -v q -nologo >/dev/null
done
blob="$work/blob"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$blob"
digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"

origin_port=$(free_port)
dotnet src/Origin/bin/Release/net10.0/P2PRegistry.Origin.dll --urls "http://127.0.0.1:$origin_port" \
  --Origin:StoragePath="$work/origin" --Origin:Push:AllowAnonymous=true --Origin:Peer:Port=0 --Logging:LogLevel:Default=Warning > "$work/origin.log" 2>&1 &
pids+=("$!")
tracker_http=$(free_port); tracker_grpc=$(free_port)
dotnet src/Tracker/bin/Release/net10.0/P2PRegistry.Tracker.dll --Tracker:HttpUrl="http://127.0.0.1:$tracker_http" \
  --Tracker:GrpcUrl="http://127.0.0.1:$tracker_grpc" --Tracker:OriginUrl="http://127.0.0.1:$origin_port" \
  --Logging:LogLevel:Default=Warning > "$work/tracker.log" 2>&1 &
pids+=("$!")
start_registry
wait_ready "http://127.0.0.1:$origin_port/v2/"
wait_ready "http://127.0.0.1:$tracker_http/healthz"
wait_ready "http://127.0.0.1:$registry_port/v2/"

push_blob "http://127.0.0.1:$origin_port" perf/blob
push_blob "http://127.0.0.1:$registry_port" perf/blob

# pull <url>: "<seconds to first byte> <seconds in all> <MiB/s>", after checking the bytes hash to the digest.
pull() {
  local out
  out=$(curl -fsS -o "$work/pulled" -w '%{time_starttransfer} %{time_total} %{speed_download}\n' "$1")
  [ "sha256:$(sha256sum "$work/pulled" | cut -d' ' -f1)" = "$digest" ] || { echo "pulled bytes do not hash to $digest" >&2; exit 1; }
  rm -f "$work/pulled"
  echo "$out" | awk '{printf "%.3f %.3f %.0f\n", $1, $2, $3/1048576}'
}

cold=(); cold_ttfb=(); warm=(); registry=(); hwm=()
for run in $(seq 1 "$runs"); do
  agent_port=$(free_port)
  dotnet src/Agent/bin/Release/net10.0/P2PRegistry.Agent.dll --Agent:RegistryUrl="http://127.0.0.1:$agent_port" \
    --Agent:PeerPort=0 --Agent:TrackerUrl="http://127.0.0.1:$tracker_grpc" --Agent:OriginUrl="http://127.0.0.1:$origin_port" \
    --Agent:DataPath="$work/agent$run" --Logging:LogLevel:Default=Warning > "$work/agent$run.log" 2>&1 &
  agent_pid=$!; pids+=("$agent_pid")
  wait_ready "http://127.0.0.1:$agent_port/readyz"
  url="http://127.0.0.1:$agent_port/v2/perf/blob/blobs/$digest"
  read -r ttfb total speed < <(pull "$url")
  cold+=("$total"); cold_ttfb+=("$ttfb")
  hwm+=("$(awk '/VmHWM/{print $2}' "/proc/$agent_pid/status")")
  read -r _ total _ < <(pull "$url"); warm+=("$total")
  read -r _ total _ < <(pull "http://127.0.0.1:$registry_port/v2/perf/blob/blobs/$digest"); registry+=("$total")
  kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
  rm -rf "$work/agent$run"
done

m() { printf '%s\n' "$@" | median; }
echo "| ${size_mib} MiB, $runs runs, median | seconds | MiB/s |"
echo "|---|---|---|"
for row in "agent, cold (swarm from the origin)|$(m "${cold[@]}")" "agent, warm (cache)|$(m "${warm[@]}")" "docker-registry|$(m "${registry[@]}")"; do
  name=${row%%|*}; secs=${row##*|}
  echo "| $name | $secs | $(awk -v s="$secs" -v m="$size_mib" 'BEGIN{printf "%.0f", m/s}') |"
done
echo
echo "cold time to first byte (median): $(m "${cold_ttfb[@]}") s; agent peak RSS during the cold pull (max VmHWM): $(printf '%s\n' "${hwm[@]}" | sort -n | tail -1 | awk '{printf "%.0f MiB", $1/1024}')"
echo "cold / docker-registry: $(awk -v a="$(m "${cold[@]}")" -v b="$(m "${registry[@]}")" 'BEGIN{printf "%.2f", a/b}')x the time; warm / docker-registry: $(awk -v a="$(m "${warm[@]}")" -v b="$(m "${registry[@]}")" 'BEGIN{printf "%.2f", a/b}')x"
