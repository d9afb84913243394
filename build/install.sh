#!/usr/bin/env bash
# Installs the `sacam` command: a Release publish of src/SaCam.Cli into PREFIX/lib/sacam (about 1 GB: libtorch
# and OpenCV come with it) and a link PREFIX/bin/sacam to it. Run it again after pulling to update.
# Usage: build/install.sh [PREFIX]        default PREFIX: ~/.local
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=${1:-$HOME/.local}
command -v dotnet >/dev/null || { echo "install.sh: the .NET 10 SDK is needed (dotnet on PATH); see the README" >&2; exit 1; }
mkdir -p "$prefix/bin" "$prefix/lib"
prefix=$(cd "$prefix" && pwd)
echo "publishing src/SaCam.Cli (Release) into $prefix/lib/sacam ..."
dotnet publish "$repo/src/SaCam.Cli" -c Release -o "$prefix/lib/sacam" --nologo -v quiet
ln -sfn "$prefix/lib/sacam/sacam" "$prefix/bin/sacam"
echo "installed: $prefix/bin/sacam"
case ":$PATH:" in
  *":$prefix/bin:"*) echo "try: sacam methods" ;;
  *) echo "$prefix/bin is not on your PATH; add it (e.g. to ~/.bashrc): export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
