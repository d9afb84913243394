#!/usr/bin/env bash
# The GPU measurement of issue 11, as one script (under 5 minutes on a machine with one CUDA GPU): full SA-CAM time
# per image, sacam-rt's fidelity at budgets of 10-40 ms on lane_dashcam.mp4, and the plain-forward rate; the section
# "On a GPU" of docs/benchmarks.md is replaced with the figures and the device's name.
# Needs: an NVIDIA driver, CUDA 12 and cuDNN 9 on the library path (ONNX Runtime's CUDA provider), network for the
# first restore of the GPU packages (TorchSharp-cuda-linux, Microsoft.ML.OnnxRuntime.Gpu.Linux), and ../shared.
# Usage: build/gpu-benchmark.sh [cuda:N]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
device=${1:-cuda:0}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi not found"
cd "$repo"
dotnet build tests/SaCam.Benchmarks -c Release -p:SaCamTorchBackend=cuda --nologo -v quiet
time dotnet run --no-build -c Release -p:SaCamTorchBackend=cuda --project tests/SaCam.Benchmarks -- --suite gpu --device "$device"
