#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: installs the third-party programs the tests drive,
# restores, checks formatting, builds and tests. Usage: ./test.sh [--fast] [extra dotnet test args]
#   (no args)  the full run, as CI does it.
#   --fast     the unit tests alone: no test of category Integration or Slow (tests/Testing/README.md), only the
#              tools unit tests use, no format check.
set -euo pipefail
cd "$(dirname "$0")"

fast=0
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
fi

# util-linux-extra (fincore) is the one tool a unit test uses (DirectIoStoreTests reads the page cache with it).
tools=(util-linux-extra)
if ((!fast)); then
  # clang and zlib1g-dev: the Native AOT link of the agent (deploy/docker/publish.sh, which the container image tests
  # run); clang brings binutils (ld, objcopy) and libc6-dev.
  tools+=(skopeo containerd umoci pigz busybox-static docker-registry aria2 mktorrent opentracker redis-server iproute2 curl
    apache2-utils nodejs buildah debootstrap docker-compose clang zlib1g-dev)
fi
missing=()
for pkg in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ((!fast)); then
  # The Kubernetes manifest tests render deploy/kubernetes with kubectl kustomize (Debian 12's kubernetes-client is
  # 1.20, whose kustomize cannot render it) and validate the objects with the pinned npm packages of
  # deploy/kubernetes/validate.
  if ! command -v kubectl >/dev/null; then
    # No package of the registries test.sh installs from works: Debian 12's kubernetes-client is 1.20.
    echo "test.sh: kubectl 1.27 or newer is not installed ('kubectl kustomize' renders deploy/kubernetes; Debian 12's" >&2
    echo "  kubernetes-client 1.20 is too old). Install the 'kubectl' package from the Kubernetes apt repository" >&2
    echo "  (https://pkgs.k8s.io/core:/stable:/v1.32/deb/, steps: https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/)," >&2
    echo "  then run ./test.sh again." >&2
    exit 1
  fi
  # Debian's nodejs comes without npm (a separate package); other builds of nodejs bring their own.
  if ! command -v npm >/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends npm
  fi
  if [ ! -d deploy/kubernetes/validate/node_modules/kubernetes-models ]; then
    echo "==> npm ci (deploy/kubernetes/validate)"
    npm ci --prefix deploy/kubernetes/validate --no-audit --no-fund
  fi
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# The components turn inline socket completions on at start (ComponentHost); in-process tests run that way too.
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS="${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}"

echo "==> restore"
dotnet restore P2PRegistry.sln
if ((!fast)); then
  echo "==> format check"
  dotnet format P2PRegistry.sln --verify-no-changes --no-restore
fi
echo "==> build"
dotnet build P2PRegistry.sln --no-restore -c Release
echo "==> test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
filter=()
((fast)) && filter=(--filter "Category!=Integration&Category!=Slow")
set +e
dotnet test P2PRegistry.sln --no-build -c Release "${filter[@]}" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test assembly, from dotnet test's per-assembly summaries.
grep -E '^(Passed|Failed)! +- Failed: ' "$log" | awk -F'[:,]' '
  { failed += $2; passed += $4; skipped += $6 }
  END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }'
exit "$status"
