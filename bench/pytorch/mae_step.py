"""mae_step.py: the PyTorch reference benchmark of an MAE training step, timed the way
`mae-cuda bench` times ours: a preset (mae_model.PRESETS), a batch of synthetic images (fixed seed),
fresh uniform masking noise every step, the official AdamW (lr 1.5e-4, betas (0.9, 0.95), weight
decay 0.05 except 1-D parameters and biases); each whole step (zero_grad, forward, loss, backward,
optimizer.step, loss read back) timed on its own after a warm-up. On CUDA: bf16 autocast with
scaled_dot_product_attention and the fused AdamW where this PyTorch has them, optionally
torch.compile; on the CPU: fp32 with --threads threads.

    python3 bench/pytorch/mae_step.py --model mae_tiny_28 --batch 64 --device cpu --threads 2 \
        [--steps 20] [--warmup 3] [--precision fp32|bf16] [--compile] [--json out.json]
    python3 bench/pytorch/mae_step.py --list-presets

Bad arguments or an unavailable device: one line on stderr, exit code 2.
"""
import argparse
import json
import math
import os
import platform
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mae_model  # noqa: E402


def fail(msg: str) -> None:
    print(f"mae_step.py: {msg}", file=sys.stderr)
    sys.exit(2)


def spread(xs):
    """Median, min, max and quartiles with linear interpolation (as run.ts's spread)."""
    s = sorted(xs)

    def q(p):
        i = p * (len(s) - 1)
        lo = int(i)
        hi = min(lo + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (i - lo)

    return {"median": q(0.5), "min": s[0], "max": s[-1], "p25": q(0.25), "p75": q(0.75)}


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info():
    """The BLAS library this process loaded (and OpenBLAS's kernel), from /proc/self/maps."""
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "blas" in line.lower() and "/" in line})
    except OSError:
        return None
    if not libs:
        return None
    info = ", ".join(libs)
    for lib in libs:
        if "openblas" in lib:
            try:
                import ctypes
                core = ctypes.CDLL(lib).openblas_get_corename
                core.restype = ctypes.c_char_p
                info += f" (OpenBLAS kernel {core().decode()})"
            except (OSError, AttributeError):
                pass
            break
    return info


class Parser(argparse.ArgumentParser):
    """argparse with its errors as one line on stderr and exit code 2, like ours."""

    def error(self, message):
        fail(message)


def parse_args():
    p = Parser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="mae_tiny_28")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--threads", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json")
    p.add_argument("--list-presets", action="store_true")
    return p.parse_args()


def check(a):
    if a.model not in mae_model.PRESETS:
        fail(f"unknown preset {a.model} (known: {', '.join(mae_model.PRESETS)})")
    if a.batch < 1 or a.steps < 1 or a.warmup < 0:
        fail(f"--batch and --steps must be >= 1 and --warmup >= 0 (got {a.batch}, {a.steps}, {a.warmup})")
    if a.device != "cpu" and not (a.device == "cuda" or a.device.startswith("cuda:")):
        fail(f"--device must be cpu, cuda or cuda:N, got {a.device}")
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        fail(f"--device {a.device}: this PyTorch ({torch.__version__}) sees no CUDA device")
    if a.precision == "bf16" and not hasattr(torch, "autocast"):
        fail(f"--precision bf16: this PyTorch ({torch.__version__}) has no torch.autocast")
    if a.compile and not hasattr(torch, "compile"):
        fail(f"--compile: torch.compile needs PyTorch 2.0 or later, this is {torch.__version__}")
    if a.threads is not None and a.threads < 1:
        fail(f"--threads must be >= 1, got {a.threads}")


def make_optimizer(model, device):
    groups = mae_model.param_groups(model, 0.05)
    kw = dict(lr=1.5e-4, betas=(0.9, 0.95))
    if device.type == "cuda":
        for extra in ({"fused": True}, {"foreach": True}):
            try:
                return torch.optim.AdamW(groups, **kw, **extra)
            except (TypeError, RuntimeError, ValueError):
                pass
    return torch.optim.AdamW(groups, **kw)


def main() -> int:
    a = parse_args()
    if a.list_presets:
        print(json.dumps({n: dict(c, flops_per_image=mae_model.step_flops(c))
                          for n, c in mae_model.PRESETS.items()}, indent=2))
        return 0
    check(a)
    if a.threads is not None:
        torch.set_num_threads(a.threads)
        try:
            torch.set_num_interop_threads(a.threads)
        except RuntimeError:
            pass
    device = torch.device(a.device)
    config = mae_model.PRESETS[a.model]
    torch.manual_seed(a.seed)
    model = mae_model.build(config).to(device)
    opt = make_optimizer(model, device)
    run = torch.compile(model) if a.compile else model
    g = torch.Generator().manual_seed(a.seed + 1)
    C, H = config["in_chans"], config["img_size"]
    imgs = torch.randn(a.batch, C, H, H, generator=g).to(device)
    L = (H // config["patch_size"]) ** 2
    cuda = device.type == "cuda"
    autocast = (torch.autocast(device_type=device.type, dtype=torch.bfloat16)
                if a.precision == "bf16" else None)

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        noise = torch.rand(a.batch, L, device=device)
        if autocast is not None:
            with autocast:
                loss, _, _ = run(imgs, config["mask_ratio"], noise)
        else:
            loss, _, _ = run(imgs, config["mask_ratio"], noise)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    if cuda:
        torch.cuda.synchronize(device)
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        if cuda:
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - t0) * 1000)
    if not math.isfinite(loss):
        fail(f"the loss is not finite ({loss})")
    ms = spread(times)
    flops = mae_model.step_flops(config)
    ips = 1000 * a.batch / ms["median"]
    out = {
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "device": device.type,
        "device_name": torch.cuda.get_device_name(device) if cuda else cpu_name(),
        "model": a.model,
        "batch": a.batch,
        "precision": a.precision,
        "compile": a.compile,
        "attention": "scaled_dot_product_attention" if mae_model.HAS_SDPA else "explicit softmax",
        "threads": torch.get_num_threads(),
        "steps": a.steps,
        "warmup": a.warmup,
        "step_ms": ms,
        "images_per_s": ips,
        "flops_per_image": flops,
        "achieved_tflops": ips * flops / 1e12,
        "peak_memory_bytes": (torch.cuda.max_memory_allocated(device) if cuda
                              else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024),
        "peak_memory_kind": "cuda_max_allocated" if cuda else "process_max_rss",
        "blas": None if cuda else blas_info(),
        "last_loss": loss,
    }
    print(f"pytorch {torch.__version__} {a.model} batch {a.batch} {out['device_name']} {a.precision}"
          f"{' compile' if a.compile else ''}: {ms['median']:.2f} ms/step median"
          f" ({ms['p25']:.2f}-{ms['p75']:.2f}), {ips:.1f} img/s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
