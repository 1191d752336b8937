#!/usr/bin/env bash
# One node on loopback, in one run: the plain registry (docker-registry) next to our Origin and Agent for one blob.
#   docker-registry   curl GET of the blob (the baseline of every row)
#   origin            curl GET of the same blob from the Origin's registry API
#   agent, cold       a fresh Agent (empty cache), the blob on the Origin: through the swarm from the Origin's seeder
#   agent, warm       the same Agent again (its cache)
#   agent, from a peer  a fresh second Agent whose only source is a first Agent holding the blob (the Origin stopped;
#                     the Tracker still knows the blob's MetaInfo and hands out the first Agent)
#   tail Range        the last 1 MiB of the blob from a fresh Agent (cold), against the full cold pull
#   pull-through      `skopeo copy … dir:` of an image (busybox-free: one random layer + config) through a fresh Agent
#                     whose Origin pulls it through from docker-registry, against skopeo straight from docker-registry
#   agent RSS         the Agent's peak resident memory (VmHWM) after its cold pull (largest over the runs)
#   agent footprint   perf/agent-footprint.sh on the same Agent: start to ready, idle RSS, peak RSS of a cold pull and
#                     while seeding a second Agent (skipped with --no-footprint)
# One node has no other host to fall back to: the Agents wait up to 30 s for a source (MissTimeout, SourceTimeout)
# instead of answering a fast 404. "Cold" means the same for every system: no process has served the bytes before (a fresh Agent, an image the Origin
# never pulled through), the source files as just written (in the page cache). --drop-cache also drops the page
# cache of every source file (posix_fadvise DONTNEED) before each cold pull: then cold figures measure the disk.
# Each row is the median of --runs runs, interleaved with its baseline run by run, so load changes hit both.
# Usage: perf/single-node.sh [--size-mib 1024] [--image-mib 200] [--runs 3] [--drop-cache] [--record DIR] [--bin DIR] [--no-footprint]
# --record DIR writes the table with date, commit and load average to DIR/README.md (perf/results/single-node).
# --bin DIR runs the builds in DIR/Origin, DIR/Tracker, DIR/Agent (copies of bin/Release/net10.0, e.g. of an older
# commit, or deploy/docker/publish.sh's output with its lower-case folders and the Native AOT agent executable)
# instead of building the tree.
# Everything binds to 127.0.0.1 and is stopped (by PID) on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=1024; image_mib=200; runs=3; drop_cache=0; record=""; bin=""; footprint=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) size_mib=$2; shift 2 ;;
    --image-mib) image_mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --drop-cache) drop_cache=1; shift ;;
    --record) record=$2; shift 2 ;;
    --no-footprint) footprint=0; shift ;;
    --bin) bin=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: $0 [--size-mib M] [--image-mib M] [--runs N] [--drop-cache] [--record DIR] [--bin DIR]" >&2; exit 2 ;;
  esac
done
for v in "$size_mib" "$image_mib" "$runs"; do
  case "$v" in ''|*[!0-9]*) echo "--size-mib, --image-mib and --runs take positive integers; got '$v'" >&2; exit 2 ;; esac
done
[ "$size_mib" -ge 2 ] && [ "$size_mib" -le 16384 ] || { echo "--size-mib must be 2..16384" >&2; exit 2; }
[ "$image_mib" -ge 1 ] && [ "$image_mib" -le 4096 ] || { echo "--image-mib must be 1..4096" >&2; exit 2; }
[ "$runs" -ge 1 ] && [ "$runs" -le 15 ] || { echo "--runs must be 1..15" >&2; exit 2; }
for tool in docker-registry skopeo curl python3 sha256sum; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (./test.sh installs it)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/p2preg-single-node.XXXXXX)
pids=()
source perf/lib.sh
started=$(date -u '+%Y-%m-%d %H:%M UTC'); commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# component NAME: the program of NAME (Origin, Tracker, Agent). With --bin: under DIR/NAME or DIR/name (publish.sh's
# layout), its .dll, else its native executable (a Native AOT publish has no .dll).
component() {
  if [ -z "$bin" ]; then echo "src/$1/bin/Release/net10.0/P2PRegistry.$1.dll"; return; fi
  local d f
  for d in "$bin/$1" "$bin/${1,,}"; do
    for f in "$d/P2PRegistry.$1.dll" "$d/P2PRegistry.$1"; do
      [ -f "$f" ] && { echo "$f"; return; }
    done
  done
  echo "--bin $bin: no $1/P2PRegistry.$1(.dll)" >&2; return 1
}
if [ -z "$bin" ]; then
  for project in Origin Tracker Agent; do
    dotnet build "src/$project/P2PRegistry.$project.csproj" -c Release -v q -nologo >/dev/null
  done
else
  commit="$commit (--bin $bin)"
fi
# <name>_cmd: the command line that runs each component (dotnet <assembly>, or the executable itself).
for project in Origin Tracker Agent; do
  path=$(component "$project") || exit 2
  case "$path" in *.dll) cmd=(dotnet "$path") ;; *) cmd=("$path") ;; esac
  case "$project" in Origin) origin_cmd=("${cmd[@]}") ;; Tracker) tracker_cmd=("${cmd[@]}") ;; Agent) agent_cmd=("${cmd[@]}") ;; esac
done
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# drop_page_cache FILE…: with --drop-cache, evict the files from the page cache (written back first).
drop_page_cache() {
  [ "$drop_cache" = 1 ] || return 0
  python3 - "$@" <<'PY'
import os, sys
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
PY
}
# source_files DIGEST: the files docker-registry and the Origin serve that blob from.
source_files() {
  local hex=${1#sha256:}
  find "$work/registry" "$work/origin" -type f \( -path "*/$hex/data" -o -name "$hex" -o -name "$hex.*" \) 2>/dev/null
}
# timed_get URL [curl args…]: seconds in all, after checking the body hashes to $expect (unset: not checked).
timed_get() {
  local url=$1; shift
  local seconds
  seconds=$(curl -fsS -o "$work/pulled" -w '%{time_total}\n' "$@" "$url")
  if [ -n "${expect:-}" ] && [ "sha256:$(sha256sum "$work/pulled" | cut -d' ' -f1)" != "$expect" ]; then
    echo "$url: the body does not hash to $expect" >&2; exit 1
  fi
  rm -f "$work/pulled"
  echo "$seconds"
}

blob="$work/blob"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$blob"
digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
blob_bytes=$((size_mib * 1024 * 1024))
tail_bytes=1048576
tail_digest="sha256:$(tail -c "$tail_bytes" "$blob" | sha256sum | cut -d' ' -f1)"

start_registry
wait_ready "http://127.0.0.1:$registry_port/v2/"
registry="http://127.0.0.1:$registry_port"
upstream_name="upstream.perf:5000"
origin_port=$(free_port); origin_peer_port=$(free_port)
"${origin_cmd[@]}" --urls "http://127.0.0.1:$origin_port" --Origin:StoragePath="$work/origin" \
  --Origin:Push:AllowAnonymous=true --Origin:Peer:Port="$origin_peer_port" \
  --Origin:Upstreams:0:Name="$upstream_name" --Origin:Upstreams:0:Url="$registry" --Origin:Upstreams:0:AllowHttp=true \
  --Logging:LogLevel:Default=Warning > "$work/origin.log" 2>&1 &
origin_pid=$!; pids+=("$origin_pid")
tracker_http=$(free_port); tracker_grpc=$(free_port)
"${tracker_cmd[@]}" --Tracker:HttpUrl="http://127.0.0.1:$tracker_http" --Tracker:GrpcUrl="http://127.0.0.1:$tracker_grpc" \
  --Tracker:OriginUrl="http://127.0.0.1:$origin_port" --Logging:LogLevel:Default=Warning > "$work/tracker.log" 2>&1 &
pids+=("$!")
origin="http://127.0.0.1:$origin_port"
wait_ready "$origin/v2/"
wait_ready "http://127.0.0.1:$tracker_http/healthz"
push_blob "$origin" perf/blob
push_blob "$registry" perf/blob

# start_agent NAME [args…]: a fresh Agent with its data under $work/NAME; sets agent_pid and agent_url.
start_agent() {
  local name=$1; shift
  local port; port=$(free_port)
  "${agent_cmd[@]}" --Agent:RegistryUrl="http://127.0.0.1:$port" --Agent:PeerPort=0 \
    --Agent:TrackerUrl="http://127.0.0.1:$tracker_grpc" --Agent:OriginUrl="$origin" --Agent:DataPath="$work/$name" \
    --Agent:MissTimeout=00:00:30 --Agent:SourceTimeout=00:00:30 --Logging:LogLevel:Default=Warning "$@" > "$work/$name.log" 2>&1 &
  agent_pid=$!; pids+=("$agent_pid")
  agent_url="http://127.0.0.1:$port"
  wait_ready "$agent_url/readyz" 60 || { tail -20 "$work/$name.log" >&2; exit 1; }
}
stop_agent() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; rm -rf "${work:?}/$2"; }
hwm_kib() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }

# The image for run r (pull-through): one random layer of --image-mib (a tar), a config, an OCI manifest, pushed to
# docker-registry only, as perf/app-r:v1 (a new image per run: the Origin has never pulled it through).
push_image() {
  local repo=$1 dir="$work/image-$1"
  mkdir -p "$dir/rootfs"
  head -c "$((image_mib * 1024 * 1024))" /dev/urandom > "$dir/rootfs/data"
  tar -cf "$dir/layer.tar" -C "$dir/rootfs" data; rm -rf "$dir/rootfs"
  local layer_digest layer_size config_digest config_size
  layer_digest="sha256:$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)"; layer_size=$(stat -c %s "$dir/layer.tar")
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s"]}}' "$layer_digest" > "$dir/config.json"
  config_digest="sha256:$(sha256sum "$dir/config.json" | cut -d' ' -f1)"; config_size=$(stat -c %s "$dir/config.json")
  blob="$dir/layer.tar" digest="$layer_digest" push_blob "$registry" "$repo"
  blob="$dir/config.json" digest="$config_digest" push_blob "$registry" "$repo"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$config_digest" "$config_size" "$layer_digest" "$layer_size" > "$dir/manifest.json"
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@$dir/manifest.json" "$registry/v2/$repo/manifests/v1"
  rm -f "$dir/layer.tar"
  echo "$layer_digest" > "$dir/layer-digest"
}
# skopeo_copy HOST:PORT REPO: seconds for `skopeo copy docker://… dir:`, after checking the layer arrived whole.
skopeo_copy() {
  local target="$work/copy" start end
  rm -rf "$target"
  start=$(date +%s.%N)
  skopeo copy --quiet --src-tls-verify=false "docker://$1/$2:v1" "dir:$target" >/dev/null
  end=$(date +%s.%N)
  local layer; layer=$(cat "$work/image-$2/layer-digest")
  [ "sha256:$(sha256sum "$target/${layer#sha256:}" | cut -d' ' -f1)" = "$layer" ] || { echo "skopeo $1/$2: wrong layer bytes" >&2; exit 1; }
  rm -rf "$target"
  awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f\n", b - a}'
}

declare -A t   # t[row]="s1 s2 …"
# CPU time (user + system, clock ticks) the processes in $servers have used so far: the servers' work for a pull,
# which unlike seconds stays comparable when other programs load the machine.
cpu_ticks() { local sum=0 pid; for pid in ${servers:-}; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$sum"; }
hz=$(getconf CLK_TCK)
declare -A failed cpu
# add ROW COMMAND…: run the command (it prints seconds) and append its result to the row, and the CPU seconds of
# $servers meanwhile to cpu[ROW]; stop on any failure. try_add: a failure is counted (failed[ROW]) and the run goes on.
add() { record_run 0 "$@"; }
try_add() { record_run 1 "$@"; }
record_run() {
  local tolerate=$1 row=$2 v c0 c1; shift 2
  c0=$(cpu_ticks)
  if v=$("$@"); then
    c1=$(cpu_ticks)
    t[$row]="${t[$row]:-} $(printf '%.3f' "$v")"
    cpu[$row]="${cpu[$row]:-} $(awk -v d="$((c1 - c0))" -v hz="$hz" 'BEGIN{printf "%.2f", d / hz}')"
  elif [ "$tolerate" = 1 ]; then
    failed[$row]=$(( ${failed[$row]:-0} + 1 )); echo "$row: failed (counted)" >&2
  else
    echo "$row: '$*' failed" >&2; exit 1
  fi
}
hwm=()
expect=$digest
log "blob: $size_mib MiB, $runs runs; phase 1: docker-registry, origin, agent cold / warm, tail Range"
for run in $(seq 1 "$runs"); do
  drop_page_cache $(source_files "$digest"); servers=$registry_pid add registry timed_get "$registry/v2/perf/blob/blobs/$digest"
  servers=$registry_pid add registry_warm timed_get "$registry/v2/perf/blob/blobs/$digest"
  drop_page_cache $(source_files "$digest"); servers=$origin_pid add origin timed_get "$origin/v2/perf/blob/blobs/$digest"
  drop_page_cache $(source_files "$digest")
  start_agent "agent-$run"; a_pid=$agent_pid; a_url=$agent_url
  servers="$a_pid $origin_pid" add cold timed_get "$a_url/v2/perf/blob/blobs/$digest"
  hwm+=("$(hwm_kib "$a_pid")")
  servers=$a_pid add warm timed_get "$a_url/v2/perf/blob/blobs/$digest"
  # The last run's Agent stays: the seeder of the from-a-peer phase.
  [ "$run" = "$runs" ] && { seeder_pid=$a_pid; } || stop_agent "$a_pid" "agent-$run"
  drop_page_cache $(source_files "$digest")
  start_agent "tail-$run"
  servers="$agent_pid $origin_pid" expect=$tail_digest try_add tail timed_get "$agent_url/v2/perf/blob/blobs/$digest" -r "$((blob_bytes - tail_bytes))-$((blob_bytes - 1))"
  stop_agent "$agent_pid" "tail-$run"
  log "run $run: registry ${t[registry]##* } s, agent cold ${t[cold]##* } s, warm ${t[warm]##* } s, tail ${t[tail]:-(failed)} s"
done

log "phase 2: pull-through (images of $image_mib MiB, pushed to docker-registry)"
for run in $(seq 1 "$runs"); do push_image "perf/app-$run"; done
expect=""
for run in $(seq 1 "$runs"); do
  servers=$registry_pid add skopeo_direct skopeo_copy "127.0.0.1:$registry_port" "perf/app-$run"
  start_agent "pt-$run" --Agent:DefaultRegistry="$upstream_name"
  servers="$agent_pid $origin_pid $registry_pid" add skopeo_agent skopeo_copy "${agent_url#http://}" "perf/app-$run"
  stop_agent "$agent_pid" "pt-$run"
  log "run $run: skopeo direct ${t[skopeo_direct]##* } s, through a cold agent ${t[skopeo_agent]##* } s"
done

log "phase 3: from a peer (the Origin stopped; the Tracker hands out the seeding Agent)"
kill "$origin_pid"; wait "$origin_pid" 2>/dev/null || true
expect=$digest
for run in $(seq 1 "$runs"); do
  servers=$registry_pid add registry_peer timed_get "$registry/v2/perf/blob/blobs/$digest"
  start_agent "peer-$run"
  servers="$agent_pid $seeder_pid" add peer timed_get "$agent_url/v2/perf/blob/blobs/$digest"
  stop_agent "$agent_pid" "peer-$run"
  log "run $run: registry ${t[registry_peer]##* } s, from a peer ${t[peer]##* } s"
done
kill -0 "$seeder_pid"

m() { printf '%s\n' ${t[$1]} | median; }
mc() { printf '%s\n' ${cpu[$1]} | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "—" }'; }
rate() { awk -v s="$1" -v mib="$2" 'BEGIN{printf "%.0f", mib/s}'; }
# row LABEL KEY BASEKEY BASELABEL MIB: one line of the table; the ratios are KEY's medians over BASEKEY's.
row() {
  local label=$1 key=$2 base=$3 base_label=$4 mib=$5
  if [ -z "${t[$key]:-}" ]; then
    echo "| $label | all $runs failed | — | — | $base_label $(m "$base") s | — | — |"; return
  fi
  local s c; s=$(m "$key"); c=$(mc "$key")
  [ -n "${failed[$key]:-}" ] && label="$label (${failed[$key]} of $runs failed)"
  echo "| $label | $s | $([ "$mib" = - ] && echo — || rate "$s" "$mib") | $c | $base_label $(m "$base") s, CPU $(mc "$base") s | $(ratio "$s" "$(m "$base")") | $(ratio "$c" "$(mc "$base")") |"
}
footprint_line=""
if [ "$footprint" = 1 ]; then
  log "footprint: perf/agent-footprint.sh --size $size_mib"
  fp_args=(--size "$size_mib" --starts 3)
  [ -n "$bin" ] && fp_args+=(--agent "$(component Agent)")
  fp=$("$(dirname "$0")/agent-footprint.sh" "${fp_args[@]}" | grep '^footprint:' || true)
  if [ -n "$fp" ]; then
    kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" ${fp#footprint:}"; }
    footprint_line="Agent footprint (perf/agent-footprint.sh): start to ready $(kv ready_s) s (median of 3), idle RSS $(kv idle_mib) MiB, peak RSS (VmHWM) of a cold pull $(kv cold_hwm_mib) MiB, while seeding a second agent $(kv seed_hwm_mib) MiB."
  else
    footprint_line="Agent footprint: perf/agent-footprint.sh failed (see its output above)."
  fi
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
cold_def=$([ "$drop_cache" = 1 ] && echo "source files dropped from the page cache" || echo "source files in the page cache")
table=$(
  echo "| ${size_mib} MiB blob, loopback, median of $runs (interleaved) | seconds | MiB/s | server CPU s | baseline (same runs) | time ratio | CPU ratio |"
  echo "|---|---|---|---|---|---|---|"
  row "docker-registry, curl (cold: $cold_def)" registry registry docker-registry "$size_mib"
  row "docker-registry, curl, warm (again)" registry_warm registry docker-registry "$size_mib"
  row "origin, curl" origin registry docker-registry "$size_mib"
  row "agent, cold (swarm from the origin's seeder; CPU: agent + origin)" cold registry docker-registry "$size_mib"
  row "agent, warm (its cache)" warm registry docker-registry "$size_mib"
  row "agent, from a peer (a second agent, the origin stopped; CPU: both agents)" peer registry_peer docker-registry "$size_mib"
  row "agent, last 1 MiB by \`Range\`, cold (CPU: agent + origin)" tail cold "agent cold, full:" -
  row "pull-through: \`skopeo copy\` of a ${image_mib} MiB image through a cold agent (CPU: agent + origin + upstream)" skopeo_agent skopeo_direct "skopeo from docker-registry" "$image_mib"
  echo
  echo "Agent peak RSS (VmHWM) after a cold pull: $(printf '%s\n' "${hwm[@]}" | sort -n | tail -1 | awk '{printf "%.0f MiB", $1/1024}') (largest of $runs agents)."
  [ -n "$footprint_line" ] && echo "$footprint_line"
  echo "Per-run seconds: registry${t[registry]}; origin${t[origin]}; agent cold${t[cold]}; warm${t[warm]}; tail${t[tail]:-} (failed: ${failed[tail]:-0});"
  echo "registry (phase 3)${t[registry_peer]}; from a peer${t[peer]}; skopeo direct${t[skopeo_direct]}; through the agent${t[skopeo_agent]}."
  echo "Per-run server CPU seconds: registry${cpu[registry]}; agent cold${cpu[cold]}; from a peer${cpu[peer]}; through the agent${cpu[skopeo_agent]}."
  echo "Load average: $load_start at the start, $load_end at the end (2 cores; above ~6 the figures are indicative only)."
)
echo "$table"
if [ -n "$record" ]; then
  mkdir -p "$record"
  {
    echo "# One node: perf/single-node.sh"
    echo
    echo "Command: \`perf/single-node.sh --size-mib $size_mib --image-mib $image_mib --runs $runs$([ "$drop_cache" = 1 ] && echo " --drop-cache")\`"
    echo "Date: $started; commit \`$commit\`; $(nproc) cores."
    echo
    echo "$table"
  } > "$record/README.md"
  log "wrote $record/README.md"
fi
