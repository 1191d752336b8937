#!/usr/bin/env bash
# Measures 1 GiB blob push and pull through the Origin with curl, next to docker-registry serving the
# same blob in the same run, and the Origin's peak resident memory. Usage: perf/origin-throughput.sh [MiB] [runs]
# Prints a Markdown table. Everything binds to 127.0.0.1 and is stopped (by PID) on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
work=$(mktemp -d /tmp/p2preg-perf.XXXXXX)
pids=()
source perf/lib.sh

dotnet build src/Origin/P2PRegistry.Origin.csproj -c Release -v q -nologo >/dev/null
blob="$work/blob"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$blob"
digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"

origin_port=$(free_port)
dotnet src/Origin/bin/Release/net10.0/P2PRegistry.Origin.dll --urls "http://127.0.0.1:$origin_port" \
  --Origin:StoragePath="$work/origin" --Origin:Push:AllowAnonymous=true --Origin:Peer:Port=0 --Logging:LogLevel:Default=Warning > "$work/origin.log" 2>&1 &
origin_pid=$!; pids+=("$origin_pid")

start_registry
wait_ready "http://127.0.0.1:$origin_port/v2/"
wait_ready "http://127.0.0.1:$registry_port/v2/"

# push <base> <repo>: POST an upload, then a streamed monolithic PUT of the file; prints MiB/s.
push() {
  local base=$1 repo=$2 loc sep
  loc=$(curl -fsS -X POST -D - -o /dev/null "$base/v2/$repo/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  case "$loc" in http*) ;; *) loc="$base$loc" ;; esac
  case "$loc" in *\?*) sep='&' ;; *) sep='?' ;; esac
  curl -fsS -o /dev/null -T "$blob" -H 'Content-Type: application/octet-stream' \
    -w '%{speed_upload}\n' "$loc${sep}digest=$digest" | awk '{printf "%.0f\n", $1/1048576}'
}
# CPU time (user+system, in clock ticks) a server process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pull() { curl -fsS -o /dev/null -w '%{speed_download}\n' "$1/v2/$2/blobs/$digest" | awk '{printf "%.0f\n", $1/1048576}'; }

# Interleave the two systems run by run, so a change in machine load between halves cannot bias the ratio.
origin_base="http://127.0.0.1:$origin_port"; registry_base="http://127.0.0.1:$registry_port"
origin_push=(); origin_pull=(); registry_push=(); registry_pull=()
origin_pull_ticks=0; registry_pull_ticks=0; pulls=0
for run in $(seq 1 "$runs"); do
  repo="perf/run$run"
  origin_push+=("$(push "$origin_base" "$repo")"); registry_push+=("$(push "$registry_base" "$repo")")
  for _ in 1 2; do
    t0=$(cpu_ticks "$origin_pid"); origin_pull+=("$(pull "$origin_base" "$repo")"); t1=$(cpu_ticks "$origin_pid")
    origin_pull_ticks=$((origin_pull_ticks + t1 - t0))
    t0=$(cpu_ticks "$registry_pid"); registry_pull+=("$(pull "$registry_base" "$repo")"); t1=$(cpu_ticks "$registry_pid")
    registry_pull_ticks=$((registry_pull_ticks + t1 - t0))
    pulls=$((pulls + 1))
  done
done
declare -A results
results[origin-push]=$(printf '%s\n' "${origin_push[@]}" | median)
results[origin-pull]=$(printf '%s\n' "${origin_pull[@]}" | median)
results[registry-push]=$(printf '%s\n' "${registry_push[@]}" | median)
results[registry-pull]=$(printf '%s\n' "${registry_pull[@]}" | median)
peak_kib=$(awk '/VmHWM/{print $2}' "/proc/$origin_pid/status")

echo "| ${size_mib} MiB blob, curl, loopback | origin MiB/s | docker-registry MiB/s | origin / registry |"
echo "|---|---|---|---|"
for op in push pull; do
  o=${results[origin-$op]}; r=${results[registry-$op]}
  echo "| $op (median of $runs$( [ $op = pull ] && echo "×2")) | $o | $r | $(awk -v o="$o" -v r="$r" 'BEGIN{printf "%.2f", o/r}') |"
done
hz=$(getconf CLK_TCK)
per_gib() { awk -v t="$1" -v n="$pulls" -v hz="$hz" -v mib="$size_mib" 'BEGIN{printf "%.2f", t / hz / n / (mib / 1024)}'; }
echo "| server CPU per GiB pulled (s; lower is better, steady under load) | $(per_gib $origin_pull_ticks) | $(per_gib $registry_pull_ticks) | |"
echo
echo "Load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Origin peak RSS (VmHWM) over all pushes and pulls: $((peak_kib / 1024)) MiB"
