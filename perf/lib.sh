# Shared by the perf scripts: source after setting `work` (a temp folder) and `pids=()`.
# Everything started is stopped by PID and the folder removed on exit, Ctrl-C or TERM.
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# wait_ready URL [seconds]: poll until URL answers 2xx, at most that long (default 10 s).
wait_ready() { for _ in $(seq 1 $((${2:-10} * 10))); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not ready: $1" >&2; return 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# start_registry: a docker-registry on a free port with its storage in $work; sets registry_port and registry_pid.
start_registry() {
  registry_port=$(free_port)
  cat > "$work/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$registry_port}
YML
  docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
  registry_pid=$!; pids+=("$registry_pid")
}
# push_blob <base url> <repo>: $blob as $digest, POST an upload then one streamed monolithic PUT.
push_blob() {
  local base=$1 repo=$2 loc sep
  loc=$(curl -fsS -X POST -D - -o /dev/null "$base/v2/$repo/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  case "$loc" in http*) ;; *) loc="$base$loc" ;; esac
  case "$loc" in *\?*) sep='&' ;; *) sep='?' ;; esac
  curl -fsS -o /dev/null -T "$blob" -H 'Content-Type: application/octet-stream' "$loc${sep}digest=$digest"
}
