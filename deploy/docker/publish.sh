#!/usr/bin/env bash
# Publishes origin, tracker and agent self-contained for Linux into <dir>/<component>/ (default
# artifacts/publish), which is what deploy/docker/Dockerfile copies into the images: the agent as a Native AOT
# executable (artifacts/publish/agent/P2PRegistry.Agent, no .dll), origin and tracker as assemblies with an apphost.
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
  form=()
  # The agent, which runs on every node, is Native AOT: one native executable, no JIT and no framework files, so it
  # idles at about half the memory of the ReadyToRun form and is ready in under a second (docs/operations.md, "Agent
  # footprint"). The link needs clang and zlib1g-dev (./test.sh installs them); it takes minutes, not seconds.
  [ "$component" = agent ] && form=(-p:PublishAot=true)
  rm -rf "${out:?}/$component"
  echo "==> $component ($rid${form:+, Native AOT}) -> $out/$component"
  dotnet publish "$project" -c Release -r "$rid" --self-contained "${form[@]}" -p:DebugType=none -o "$out/$component" --nologo -v quiet
done
