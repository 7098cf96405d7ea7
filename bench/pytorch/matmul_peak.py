"""matmul_peak.py: the card's measured dense bf16 matrix rate, the denominator of the arithmetic
floor of a training step (model FLOPs per step / this rate). Times square bf16 matmuls
(C = A @ B with f32 accumulation inside cuBLAS) at a few sizes after a warm-up and reports the
best TFLOP/s, and names the kernels cuBLAS ran at each size (from the profiler: the names carry
the tile and the thread block cluster, e.g. ..._tilesize128x256x64_cluster2x1x1_...), which with
the rate bound the L2 bandwidth the kernel report's model assumes (docs/PERFORMANCE.md); --json
writes {device_name, torch_version, sizes: {n: tflops}, kernels: {n: [names]}, best_tflops}.

    python3 bench/pytorch/matmul_peak.py [--sizes 4096,8192] [--iters 50] [--json out.json]
"""
import argparse
import json
import sys
import time

import torch


def rate(n: int, iters: int) -> float:
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    c = torch.empty(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(5):
        torch.matmul(a, b, out=c)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        torch.matmul(a, b, out=c)
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - t0) / iters
    return 2 * n**3 / seconds / 1e12


def kernels(n: int, device: str = "cuda") -> list:
    """The names of the device kernels one n x n x n matmul ran (the profiler's; [] if it has none)."""
    from torch.profiler import ProfilerActivity, profile

    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    torch.matmul(a, b)
    activity = ProfilerActivity.CUDA if device == "cuda" else ProfilerActivity.CPU
    with profile(activities=[activity]) as prof:
        torch.matmul(a, b)
        if device == "cuda":
            torch.cuda.synchronize()
    names = set()
    for e in prof.events():
        on_device = str(getattr(e, "device_type", "")).endswith("CUDA")
        if on_device or device != "cuda":
            names.add(e.name)
    return sorted(names)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="4096,8192")
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--json")
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("matmul_peak.py: no CUDA device is available to this PyTorch", file=sys.stderr)
        return 2
    sizes = [int(s) for s in a.sizes.split(",")]
    rates = {str(n): rate(n, a.iters) for n in sizes}
    names = {}
    for n in sizes:
        try:
            names[str(n)] = kernels(n)
        except Exception as e:  # the rates stand without the names
            names[str(n)] = [f"(profiler failed: {e})"]
    out = {
        "device_name": torch.cuda.get_device_name(0),
        "torch_version": torch.__version__,
        "sizes": rates,
        "kernels": names,
        "best_tflops": max(rates.values()),
    }
    for n, r in rates.items():
        print(f"bf16 matmul {n}x{n}x{n}: {r:.1f} TFLOP/s; kernels: {', '.join(names[n]) or '-'}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
