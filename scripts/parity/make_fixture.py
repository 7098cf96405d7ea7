#!/usr/bin/env python3
"""make_fixture.py: writes a parity fixture folder in the format of
shared/fixtures/mae-parity/README.md from an independent PyTorch implementation of the official
MaskedAutoencoderViT semantics (models_mae.py + timm's Block): bench/pytorch/mae_model.py, the
model the PyTorch benchmark runs, float32 on the CPU.

Written for this project from the paper and the official definitions (no code copied), so that
mae-cuda's model can be checked on configurations the shared fixtures do not cover: other channel
counts, image and patch sizes, depths, widths, heads, MLP ratios, mask ratios, norm_pix_loss off,
step counts, learning rates and weight decays; with --encoder-mask-token, the official model
modified as the paper's Table 1c ablation (mask tokens in the encoder; mae_model.py says how).

usage: python3 make_fixture.py OUT_DIR --img 28 --patch 7 --chans 1 --dim 32 --depth 2 --heads 2 \
         --dec-dim 16 --dec-depth 1 --dec-heads 2 --mlp 2.0 --mask 0.6 [--norm-pix] --steps 2 \
         --lr 2e-3 --wd 0.1 --batch 3 --seed 0 [--encoder-mask-token]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "pytorch"))
import mae_model  # noqa: E402
import parity  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402


def build(a):
    """The model (bench/pytorch/mae_model.py) for the command line's settings."""
    return mae_model.build(dict(img_size=a.img, patch_size=a.patch, in_chans=a.chans, embed_dim=a.dim,
                                depth=a.depth, num_heads=a.heads, decoder_embed_dim=a.dec_dim,
                                decoder_depth=a.dec_depth, decoder_num_heads=a.dec_heads, mlp_ratio=a.mlp,
                                norm_pix_loss=a.norm_pix, encoder_mask_token=a.encoder_mask_token))


def conditioning(a, weights, imgs, noise, after):
    """Worst relative-norm distance, over the parameters after the steps, between this float32
    fixture and the same run in float64. AdamW amplifies rounding in nearly-zero gradient components,
    so some runs are ill-conditioned: their parameters after the steps are uncertain by a sizeable
    part of the 1e-4 tolerance whatever the implementation. The qkv biases are left out: their key
    slice is pure noise (docs/PARITY.md)."""
    m = build(a).double()
    m.load_state_dict({k: v.double() for k, v in weights.items()})
    opt = torch.optim.AdamW(mae_model.param_groups(m, a.wd), lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    for _ in range(a.steps):
        opt.zero_grad()
        m.forward_all(imgs.double(), a.mask, noise)[0].backward()
        opt.step()
    sd = m.state_dict()
    dist = []
    for k in sd:
        if not k.endswith("qkv.bias"):
            ref = after[k].double()
            dist.append((((sd[k] - ref).norm() / ref.norm().clamp_min(1e-30)).item(), k))
    return max(dist)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--max-noise", type=float, default=2e-5,
                   help="refuse a fixture whose float64 run is farther than this from it (relative norm)")
    p.add_argument("out")
    p.add_argument("--check-against", action="store_true",
                   help="OUT is an existing fixture: compare the model with it (bench/pytorch/parity.py)")
    for k, t, d in [("img", int, 32), ("patch", int, 8), ("chans", int, 3), ("dim", int, 64), ("depth", int, 2),
                    ("heads", int, 4), ("dec-dim", int, 32), ("dec-depth", int, 1), ("dec-heads", int, 2),
                    ("mlp", float, 4.0), ("mask", float, 0.75), ("steps", int, 3), ("lr", float, 1e-3),
                    ("wd", float, 0.05), ("batch", int, 4), ("seed", int, 0)]:
        p.add_argument("--" + k, type=t, default=d)
    p.add_argument("--norm-pix", action="store_true")
    p.add_argument("--encoder-mask-token", action="store_true",
                   help="Table 1c's ablation: the encoder on all patches with a learned mask token "
                        "(bench/pytorch/mae_model.py, docs/ABLATIONS.md)")
    a = p.parse_args()
    if a.check_against:
        raise SystemExit(parity.main(a.out))
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    model = build(a)
    L = (a.img // a.patch) ** 2
    imgs = torch.randn(a.batch, a.chans, a.img, a.img)
    noise = torch.rand(a.batch, L)
    os.makedirs(a.out, exist_ok=True)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(a.out, "weights.safetensors"), weights)
    write_safetensors(os.path.join(a.out, "inputs.safetensors"), {"imgs": imgs, "noise": noise})
    loss, pred, mask, ids_restore, latent = model.forward_all(imgs, a.mask, noise)
    loss.backward()
    expected = {"loss": loss, "pred": pred, "mask": mask, "ids_restore": ids_restore, "latent": latent}
    named = [(n, q) for n, q in model.named_parameters() if q.requires_grad]
    for n, q in named:
        expected["grad." + n] = q.grad
    write_safetensors(os.path.join(a.out, "expected.safetensors"), expected)
    opt = torch.optim.AdamW(mae_model.param_groups(model, a.wd), lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    after = {}
    for i in range(a.steps):
        opt.zero_grad()
        loss = model.forward_all(imgs, a.mask, noise)[0]
        loss.backward()
        after["loss.%d" % i] = loss.detach()
        opt.step()
    after.update(dict(model.state_dict()))
    noise_level, worst = conditioning(a, weights, imgs, noise, after)
    print("%s: float64 run within %.1e of the fixture (worst: %s)" % (a.out, noise_level, worst))
    if noise_level > a.max_noise:
        raise SystemExit("%s: ill-conditioned (float64 run %.1e away, over --max-noise %.0e): try another seed"
                         % (a.out, noise_level, a.max_noise))
    write_safetensors(os.path.join(a.out, "after_steps.safetensors"), after)
    config = {"img_size": a.img, "patch_size": a.patch, "in_chans": a.chans, "embed_dim": a.dim, "depth": a.depth,
              "num_heads": a.heads, "decoder_embed_dim": a.dec_dim, "decoder_depth": a.dec_depth,
              "decoder_num_heads": a.dec_heads, "mlp_ratio": a.mlp, "mask_ratio": a.mask, "steps": a.steps,
              "lr": a.lr, "weight_decay": a.wd, "batch": a.batch, "norm_pix_loss": a.norm_pix,
              "layer_norm_eps": 1e-6,
              **({"encoder_mask_token": True} if a.encoder_mask_token else {}),
              "adamw": {"betas": [0.9, 0.95], "eps": 1e-8,
                        "no_weight_decay": "params with ndim == 1 or names ending in .bias"},
              "masking": "ids_shuffle = argsort(noise, dim=1) ascending; the first int(L*(1-mask_ratio)) are kept",
              "source": "scripts/parity/make_fixture.py (an independent PyTorch implementation of "
                        "models_mae.py's semantics), PyTorch %s float32 on CPU, seed %d" % (torch.__version__, a.seed)}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    print("%s: loss %.6f" % (a.out, loss.item()))


if __name__ == "__main__":
    main()
