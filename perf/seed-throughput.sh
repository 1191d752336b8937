#!/usr/bin/env bash
# One seeding Origin → one peer over loopback, next to curl pulling the same blob from docker-registry (and from
# the Origin's HTTP API) in the same run. The peer is our swarm engine (perf/SeedPeer): it asks the Tracker for
# the metainfo (the Tracker fetches it from the Origin and learns the Origin's peer endpoint from
# X-P2P-Origin-Peer), announces over gRPC, gets the Origin handed out, and downloads every piece from it.
# Usage: perf/seed-throughput.sh [MiB] [runs]. Prints a Markdown table. Binds 127.0.0.1 only; stops by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
work=$(mktemp -d /tmp/p2preg-seed-perf.XXXXXX)
pids=()
source perf/lib.sh

for p in src/Origin/P2PRegistry.Origin.csproj src/Tracker/P2PRegistry.Tracker.csproj perf/SeedPeer/P2PRegistry.SeedPeer.csproj; do
  dotnet build "$p" -c Release -v q -nologo >/dev/null
done
blob="$work/blob"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$blob"
digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"

origin_port=$(free_port); peer_port=$(free_port)
dotnet src/Origin/bin/Release/net10.0/P2PRegistry.Origin.dll --urls "http://127.0.0.1:$origin_port" \
  --Origin:StoragePath="$work/origin" --Origin:Push:AllowAnonymous=true --Origin:Peer:Port="$peer_port" --Logging:LogLevel:Default=Warning > "$work/origin.log" 2>&1 &
pids+=("$!")
grpc_port=$(free_port); http_port=$(free_port)
dotnet src/Tracker/bin/Release/net10.0/P2PRegistry.Tracker.dll --Tracker:GrpcUrl="http://127.0.0.1:$grpc_port" \
  --Tracker:HttpUrl="http://127.0.0.1:$http_port" --Tracker:OriginUrl="http://127.0.0.1:$origin_port" \
  --Logging:LogLevel:Default=Warning > "$work/tracker.log" 2>&1 &
pids+=("$!")
start_registry
wait_ready "http://127.0.0.1:$origin_port/v2/"
wait_ready "http://127.0.0.1:$http_port/healthz"
wait_ready "http://127.0.0.1:$registry_port/v2/"

push_blob "http://127.0.0.1:$origin_port" perf/seed
push_blob "http://127.0.0.1:$registry_port" perf/seed
curl_pull() { curl -fsS -o /dev/null -w '%{speed_download}\n' "$1/v2/perf/seed/blobs/$digest" | awk '{printf "%.0f\n", $1/1048576}'; }

peer=(); registry=(); origin_http=()
for run in $(seq 1 "$runs"); do
  registry+=("$(curl_pull "http://127.0.0.1:$registry_port")")
  origin_http+=("$(curl_pull "http://127.0.0.1:$origin_port")")
  out="$work/peer$run"
  read -r seconds rate from_origins total < <(dotnet perf/SeedPeer/bin/Release/net10.0/P2PRegistry.SeedPeer.dll "http://127.0.0.1:$grpc_port" "$digest" "$out")
  [ "sha256:$(sha256sum "$out" | cut -d' ' -f1)" = "$digest" ] || { echo "peer $run: wrong bytes" >&2; exit 1; }
  [ "$from_origins" = "$total" ] || { echo "peer $run: only $from_origins of $total bytes from the origin" >&2; exit 1; }
  peer+=("$rate"); rm -f "$out"
done

p=$(printf '%s\n' "${peer[@]}" | median); r=$(printf '%s\n' "${registry[@]}" | median); o=$(printf '%s\n' "${origin_http[@]}" | median)
echo "| ${size_mib} MiB blob, loopback, median of $runs | MiB/s | vs docker-registry |"
echo "|---|---|---|"
echo "| seeding Origin → one peer (swarm engine, BEP 3, SHA-1 per piece + sha256 of the blob) | $p | $(awk -v a="$p" -v b="$r" 'BEGIN{printf "%.2f", a/b}') |"
echo "| curl ← docker-registry (HTTP GET) | $r | 1.00 |"
echo "| curl ← Origin (HTTP GET) | $o | $(awk -v a="$o" -v b="$r" 'BEGIN{printf "%.2f", a/b}') |"
echo
echo "Per-run peer MiB/s: ${peer[*]}; docker-registry: ${registry[*]}; Origin HTTP: ${origin_http[*]}. Load: $(cut -d' ' -f1-3 /proc/loadavg)"
