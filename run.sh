#!/usr/bin/env bash
# Starts a working P2PRegistry cluster on this machine, on 127.0.0.1 only: an origin (the registry you push
# to), a tracker, and two agents (registry mirrors for containerd). Data lives under .data/. Ctrl-C stops
# everything this script started (by PID).
#
# Ports can be moved with environment variables, e.g. ORIGIN_PORT=5100 ./run.sh
#
# This is a local demo: the origin allows ANONYMOUS PUSH (--Origin:Push:AllowAnonymous=true) so the skopeo
# command below works without credentials. A real deployment leaves that off and configures push users
# (Origin:Push:HtpasswdFile + Origin:Push:Users, see docs/operations.md#security).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
DATA=${DATA:-$ROOT/.data}
ORIGIN_PORT=${ORIGIN_PORT:-5000}
ORIGIN_PEER_PORT=${ORIGIN_PEER_PORT:-6881}
TRACKER_HTTP_PORT=${TRACKER_HTTP_PORT:-7000}
TRACKER_GRPC_PORT=${TRACKER_GRPC_PORT:-7001}
AGENT_A_PORT=${AGENT_A_PORT:-5050}
AGENT_A_PEER_PORT=${AGENT_A_PEER_PORT:-6882}
AGENT_B_PORT=${AGENT_B_PORT:-5051}
AGENT_B_PEER_PORT=${AGENT_B_PEER_PORT:-6883}

pids=()
stop() {
    local status=${1:-0}
    trap - INT TERM EXIT
    if ((${#pids[@]})); then
        echo "stopping ${pids[*]}"
        kill "${pids[@]}" 2>/dev/null || true
        for pid in "${pids[@]}"; do
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        done
    fi
    exit "$status"
}
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

mkdir -p "$DATA/logs"
echo "building (Release)…"
for project in Origin Tracker Agent; do
    dotnet build "src/$project/P2PRegistry.$project.csproj" -c Release --nologo -v quiet -clp:ErrorsOnly >"$DATA/logs/build.log" || { cat "$DATA/logs/build.log"; exit 1; }
done

dll() { echo "$ROOT/src/$1/bin/Release/net10.0/P2PRegistry.$1.dll"; }

start() { # name, arguments…
    local name=$1; shift
    dotnet "$@" >"$DATA/logs/$name.log" 2>&1 &
    pids+=($!)
    echo "started $name (pid $!), log $DATA/logs/$name.log"
}

wait_ready() { # name, url
    for _ in $(seq 1 120); do
        if curl -fsS -o /dev/null "$2" 2>/dev/null; then echo "$1 ready ($2)"; return 0; fi
        sleep 0.5
    done
    echo "$1 did not become ready; see $DATA/logs/$1.log" >&2
    tail -n 20 "$DATA/logs/$1.log" >&2
    exit 1
}

start origin "$(dll Origin)" --urls "http://127.0.0.1:$ORIGIN_PORT" \
    --Origin:StoragePath="$DATA/origin" --Origin:Peer:Port="$ORIGIN_PEER_PORT" --Origin:Push:AllowAnonymous=true
start tracker "$(dll Tracker)" --Tracker:HttpUrl="http://127.0.0.1:$TRACKER_HTTP_PORT" \
    --Tracker:GrpcUrl="http://127.0.0.1:$TRACKER_GRPC_PORT" --Tracker:OriginUrl="http://127.0.0.1:$ORIGIN_PORT"
start agent-a "$(dll Agent)" --Agent:RegistryUrl="http://127.0.0.1:$AGENT_A_PORT" --Agent:PeerPort="$AGENT_A_PEER_PORT" \
    --Agent:TrackerUrl="http://127.0.0.1:$TRACKER_GRPC_PORT" --Agent:OriginUrl="http://127.0.0.1:$ORIGIN_PORT" --Agent:DataPath="$DATA/agent-a"
start agent-b "$(dll Agent)" --Agent:RegistryUrl="http://127.0.0.1:$AGENT_B_PORT" --Agent:PeerPort="$AGENT_B_PEER_PORT" \
    --Agent:TrackerUrl="http://127.0.0.1:$TRACKER_GRPC_PORT" --Agent:OriginUrl="http://127.0.0.1:$ORIGIN_PORT" --Agent:DataPath="$DATA/agent-b"

wait_ready origin "http://127.0.0.1:$ORIGIN_PORT/readyz"
wait_ready tracker "http://127.0.0.1:$TRACKER_HTTP_PORT/readyz"
wait_ready agent-a "http://127.0.0.1:$AGENT_A_PORT/readyz"
wait_ready agent-b "http://127.0.0.1:$AGENT_B_PORT/readyz"

cat <<INFO

P2PRegistry is running.
  origin (push here):  http://127.0.0.1:$ORIGIN_PORT   (demo: anonymous push allowed, Origin:Push:AllowAnonymous=true)
      skopeo copy --dest-tls-verify=false oci:./image:latest docker://127.0.0.1:$ORIGIN_PORT/test/img:v1
  tracker:             gRPC http://127.0.0.1:$TRACKER_GRPC_PORT, BEP 3 http://127.0.0.1:$TRACKER_HTTP_PORT/announce
  agent A mirror:      http://127.0.0.1:$AGENT_A_PORT   (metrics http://127.0.0.1:$AGENT_A_PORT/metrics)
  agent B mirror:      http://127.0.0.1:$AGENT_B_PORT   (metrics http://127.0.0.1:$AGENT_B_PORT/metrics)

containerd: save this as <hosts dir>/127.0.0.1:$ORIGIN_PORT/hosts.toml (or _default/hosts.toml for every registry)
------------------------------------------------------------------------
server = "http://127.0.0.1:$ORIGIN_PORT"

[host."http://127.0.0.1:$AGENT_A_PORT"]
  capabilities = ["pull", "resolve"]
------------------------------------------------------------------------
  then: ctr images pull --plain-http --hosts-dir <hosts dir> 127.0.0.1:$ORIGIN_PORT/test/img:v1

Ctrl-C stops everything.
INFO

# Stop as soon as any component exits (a crash should not leave the rest running unnoticed).
wait -n "${pids[@]}" || true
echo "a component exited; see $DATA/logs" >&2
exit 1
