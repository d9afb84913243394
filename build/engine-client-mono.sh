#!/usr/bin/env bash
# Builds samples/EngineClient for Mono as Unity compiles a game's scripts: the .NET SDK's own C# compiler (Roslyn),
# C# 9, against Mono's mscorlib, System and System.Core, from the engine client's sources in the Unity package
# (plugins/com.sacam.realtime/Runtime/Client) and samples/EngineClient/Program.cs. Needs the .NET 10 SDK and Debian's
# mono-runtime; no Mono compiler. The tests under Mono build their EngineClient.exe with this script.
# Usage: build/engine-client-mono.sh [OUTPUT]      default OUTPUT: artifacts/mono/EngineClient.exe
# Then: mono OUTPUT --server ~/.local/bin/sacam --model default --source media/street_clip.mp4 --frames 30 --jsonl out.jsonl
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -le 1 ] || { echo "engine-client-mono.sh: one argument at most, the output file (usage: build/engine-client-mono.sh [OUTPUT])" >&2; exit 2; }
output=${1:-$repo/artifacts/mono/EngineClient.exe}
mono_lib=/usr/lib/mono/4.5
for assembly in mscorlib System System.Core; do
  [ -f "$mono_lib/$assembly.dll" ] || { echo "engine-client-mono.sh: $mono_lib/$assembly.dll is missing: apt-get install mono-runtime" >&2; exit 1; }
done
# DOTNET lets a caller (the tests) name the dotnet it runs under; otherwise the one on PATH.
dotnet=${DOTNET:-$(command -v dotnet || true)}
[ -n "$dotnet" ] && [ -x "$dotnet" ] || { echo "engine-client-mono.sh: the .NET 10 SDK is needed (dotnet on PATH); see the README" >&2; exit 1; }
dotnet=$(readlink -f "$dotnet")
# The newest SDK beside that dotnet that carries Roslyn's csc.dll (the one global.json would roll forward to).
csc=""
for sdk in $(ls -d "$(dirname "$dotnet")"/sdk/*/ 2>/dev/null | sort -V); do
  [ -f "$sdk/Roslyn/bincore/csc.dll" ] && csc="$sdk/Roslyn/bincore/csc.dll"
done
[ -n "$csc" ] || { echo "engine-client-mono.sh: no SDK with Roslyn/bincore/csc.dll beside $dotnet" >&2; exit 1; }
mkdir -p "$(dirname "$output")"
# Unity's compiler settings for the package: C# 9, nullable, unsafe (the client maps shared memory), warnings as errors.
"$dotnet" "$csc" -nologo -nostdlib -noconfig -langversion:9 -nullable:enable -unsafe -warnaserror -optimize -target:exe \
  "-out:$output" "-r:$mono_lib/mscorlib.dll" "-r:$mono_lib/System.dll" "-r:$mono_lib/System.Core.dll" \
  "$repo"/plugins/com.sacam.realtime/Runtime/Client/*.cs "$repo/samples/EngineClient/Program.cs" \
  || { echo "engine-client-mono.sh: the engine client does not compile as C# 9 against Mono's assemblies (above)" >&2; exit 1; }
echo "built $output (run it with: mono $output --server PATH_TO_SACAM --source VIDEO --frames N --jsonl OUT)"
