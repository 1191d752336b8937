#!/usr/bin/env bash
# Tracker capacity: starts a Tracker (and, for --store redis, a redis-server) on 127.0.0.1, then drives it with
# perf/TrackerLoad: gRPC announces from many callers over a few HTTP/2 connections, 1,000 swarms of Zipf sizes
# (10,000 peers in the largest, 10 in the smallest), after a warm-up in which the tracker fetches every swarm's
# metainfo from the load generator (which serves the origin's metainfo endpoint). Reports announces/s, p50/p99/p99.9
# latency, and the CPU of the tracker (and redis) and of the load generator over the measured window.
# Usage: perf/tracker-capacity.sh [--store memory|redis] [--name NAME] [--duration-seconds 20] [--callers 64]
#   [--connections 4] [--swarms 1000] [--max-peers 10000] [--min-peers 10] [--tracker-arg --Tracker:X=Y]...
#   [--tracker-dir DIR]   (a tracker already built there, e.g. another commit's for a baseline in the same session)
# Writes report.md, report.json and console.log to perf/results/tracker-capacity/<NAME>/ (default: the store).
# Binds 127.0.0.1 only; everything started is stopped by PID on exit.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

store=memory; name=""; load_args=(); tracker_args=(); tracker_dir=""
usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=${2:-}; shift 2 ;;
    --name) name=${2:-}; shift 2 ;;
    --duration-seconds|--callers|--connections|--swarms|--max-peers|--min-peers) load_args+=("$1" "${2:-}"); shift 2 ;;
    --tracker-arg) tracker_args+=("${2:-}"); shift 2 ;;
    --tracker-dir) tracker_dir=${2:-}; shift 2 ;;
    *) usage ;;
  esac
done
case "$store" in memory|redis) ;; *) echo "--store must be memory or redis" >&2; exit 2 ;; esac
[[ "${name:-$store}" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "--name: letters, digits, . _ - only" >&2; exit 2; }
out="perf/results/tracker-capacity/${name:-$store}"

if [ "$store" = redis ]; then
  command -v redis-server >/dev/null || { echo "redis-server is not installed (./test.sh installs it: apt-get install redis-server)" >&2; exit 1; }
  # The Redis store (Tracker:PeerStore=Redis) comes with the trackers work of issue 20; without it the tracker would
  # silently keep its peers in memory and the figures would be the memory store's.
  if [ -z "$tracker_dir" ] && ! grep -rqs 'RedisPeerStore' src/Tracker --include='*.cs'; then
    echo "This tracker has no Redis peer store (no RedisPeerStore in src/Tracker): Tracker:PeerStore=Redis is not" >&2
    echo "supported by this build, so --store redis cannot be measured. Merge the Redis store first." >&2
    exit 1
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [ -n "$tracker_dir" ]; then
  [ -f "$tracker_dir/P2PRegistry.Tracker.dll" ] || { echo "--tracker-dir: no P2PRegistry.Tracker.dll in $tracker_dir" >&2; exit 2; }
  tracker_dll=$tracker_dir/P2PRegistry.Tracker.dll
else
  dotnet build src/Tracker/P2PRegistry.Tracker.csproj -c Release -v q -nologo >/dev/null
  tracker_dll=src/Tracker/bin/Release/net10.0/P2PRegistry.Tracker.dll
fi
dotnet build perf/TrackerLoad/P2PRegistry.TrackerLoad.csproj -c Release -v q -nologo >/dev/null

work=$(mktemp -d /tmp/p2preg-tracker-capacity.XXXXXX)
pids=()
source perf/lib.sh

store_args=(); pid_args=()
if [ "$store" = redis ]; then
  redis_port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
  redis_pid=$!; pids+=("$redis_pid")
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  redis-cli -p "$redis_port" ping | grep -q PONG || { echo "redis-server did not start: $(tail -5 "$work/redis.log")" >&2; exit 1; }
  store_args=(--Tracker:PeerStore=Redis "--Tracker:Redis:Configuration=127.0.0.1:$redis_port")
  pid_args=(--pid "redis=$redis_pid")
fi

grpc_port=$(free_port); http_port=$(free_port); metainfo_port=$(free_port)
# TrustedProxyNetworks: the load generator names each peer's address (10.x.y.z) in `ip`, as a proxy would.
dotnet "$tracker_dll" --Tracker:GrpcUrl="http://127.0.0.1:$grpc_port" \
  --Tracker:HttpUrl="http://127.0.0.1:$http_port" --Tracker:OriginUrl="http://127.0.0.1:$metainfo_port" \
  --Tracker:TrustedProxyNetworks:0=127.0.0.0/8 --Logging:LogLevel:Default=Warning \
  "${store_args[@]}" "${tracker_args[@]}" > "$work/tracker.log" 2>&1 &
tracker_pid=$!; pids+=("$tracker_pid")
wait_ready "http://127.0.0.1:$http_port/healthz"

mkdir -p "$out"
status=0
dotnet perf/TrackerLoad/bin/Release/net10.0/P2PRegistry.TrackerLoad.dll --tracker "http://127.0.0.1:$grpc_port" \
  --metainfo-port "$metainfo_port" --store "$store" --pid "tracker=$tracker_pid" "${pid_args[@]}" "${load_args[@]}" \
  --json "$out/report.json" > "$work/console.log" 2>&1 || status=$?
cat "$work/console.log"

if [ "$store" = redis ] && [ "$status" = 0 ]; then
  keys=$(redis-cli -p "$redis_port" dbsize)
  if [ "${keys:-0}" = 0 ]; then
    echo "redis holds no keys after the run: the tracker did not use the Redis store (Tracker:PeerStore=Redis ignored?)" >&2
    status=1
  fi
fi
if [ "$status" != 0 ]; then
  echo "--- tracker log (last 30 lines)"; tail -30 "$work/tracker.log"
  rm -f "$out/report.json"
  exit "$status"
fi

{
  echo "Tracker capacity, store: $store, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src perf || echo '+changes')${tracker_dir:+, tracker from $tracker_dir}"
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores."
  echo
  sed -n '/^| store/,$p' "$work/console.log"
} > "$out/report.md"
cp "$work/console.log" "$out/console.log"
echo "results: $out/"
