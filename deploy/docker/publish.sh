#!/usr/bin/env bash
# Publishes origin, tracker and agent self-contained for Linux into <dir>/<component>/ (default
# artifacts/publish), which is what deploy/docker/Dockerfile copies into the images.
# Usage: deploy/docker/publish.sh [dir]    RID=linux-arm64 deploy/docker/publish.sh   (default: this machine's)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-artifacts/publish}
case "${RID:-$(uname -m)}" in
  x86_64 | amd64 | linux-x64) rid=linux-x64 ;;
  aarch64 | arm64 | linux-arm64) rid=linux-arm64 ;;
  *) rid=${RID:-linux-$(uname -m)} ;;
esac
for component in origin tracker agent; do
  project="src/${component^}/P2PRegistry.${component^}.csproj"
  rm -rf "${out:?}/$component"
  echo "==> $component ($rid) -> $out/$component"
  dotnet publish "$project" -c Release -r "$rid" --self-contained -p:DebugType=none -o "$out/$component" --nologo -v quiet
done
