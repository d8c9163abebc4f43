#!/usr/bin/env bash
# The learner step's GPU reference figures, for a machine with an NVIDIA GPU and PyTorch (CUDA) on it.
# Writes one JSON line per configuration to ${OUT:-.}/pearl-step-gpu.jsonl and says what it found of the
# pieces the ND4J CUDA backend (-Pgpu, nd4j-cuda-11.6) would need there: a JVM and the CUDA 11 runtime.
# Usage: bash bench/learner/gpu_check.sh
set -u
out="${OUT:-.}/pearl-step-gpu.jsonl"
: > "$out"
here="$(cd "$(dirname "$0")" && pwd)"
echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: none"
nproc
echo "== what the ND4J CUDA backend would need"
command -v java >/dev/null && java -version 2>&1 | head -1 || echo "java: not installed"
found=$( (ldconfig -p 2>/dev/null; ls /usr/local/cuda*/lib64 /usr/local/cuda*/targets/*/lib 2>/dev/null) \
    | grep -o 'libcudart\.so\.[0-9.]*\|libcublas\.so\.[0-9.]*\|libcusolver\.so\.[0-9.]*' | sort -u | tr '\n' ' ')
echo "CUDA runtime libraries found: ${found:-none} (nd4j-cuda-11.6 links libcudart.so.11.0, libcublas.so.11, libcusolver.so.11)"
echo "== PyTorch reference step (3x300 nets, encoder 3x200, batch 256, context 100, meta-batch 16)"
run() { python3 "$here/pearl_step.py" "$@" | tee -a "$out"; }
run --device cuda --dtype float32 --steps 100 --warmup 10 --repetitions 5
run --device cuda --dtype float64 --steps 100 --warmup 10 --repetitions 5
run --device cuda --dtype float32 --steps 100 --warmup 10 --repetitions 5 --no-guard
run --device cpu --dtype float64 --threads "$(nproc)" --steps 10 --warmup 2 --repetitions 3
run --device cpu --dtype float32 --threads "$(nproc)" --steps 10 --warmup 2 --repetitions 3
