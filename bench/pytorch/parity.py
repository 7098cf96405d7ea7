"""parity.py: checks that the benchmark's model (mae_model.py) is the official MAE: loads a parity
fixture made with facebookresearch/mae (shared/fixtures/mae-parity/<case>: config, weights, images
and noise, the expected loss, predictions, mask, ids_restore, latent and gradients, and the losses
and parameters after a few AdamW steps), checks that our fixed 2-D sin-cos position embeddings
equal the fixture's, runs the same computation and compares with the fixture's tolerances. One
line per check; exit code 1 when any fails, 2 when the fixture cannot be read.

    python3 bench/pytorch/parity.py ../shared/fixtures/mae-parity/rgb32-p8-normpix
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mae_model  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402

class Report:
    def __init__(self):
        self.failed = 0

    def check(self, what, err, tol):
        ok = err <= tol
        self.failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {err:.3g} (tolerance {tol:g})")


def rel_norm(x, ref):
    return ((x.double() - ref.double()).norm() / ref.double().norm().clamp_min(1e-30)).item()


def max_abs(x, ref):
    return (x.double() - ref.double()).abs().max().item()


def max_abs_scaled(x, ref):
    return ((x.double() - ref.double()).abs().max() / ref.double().abs().max().clamp_min(1e-30)).item()


def main(folder):
    try:
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        weights = read_safetensors(os.path.join(folder, "weights.safetensors"))
        inputs = read_safetensors(os.path.join(folder, "inputs.safetensors"))
        expected = read_safetensors(os.path.join(folder, "expected.safetensors"))
        after = read_safetensors(os.path.join(folder, "after_steps.safetensors"))
    except (OSError, ValueError, KeyError) as e:
        print(f"parity.py: cannot read the fixture in {folder}: {e}", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    model = mae_model.build(cfg)
    # the fixed sin-cos position embeddings are ours until the fixture's weights are loaded
    ours_pos = {k: getattr(model, k).detach().clone() for k in ("pos_embed", "decoder_pos_embed")}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        print(f"parity.py: the state_dict names differ: missing {missing}, unexpected {unexpected}",
              file=sys.stderr)
        return 1
    r = Report()
    for k, ours in ours_pos.items():
        r.check(f"{k}, 2-D sin-cos (max abs error)", max_abs(ours, weights[k]), 1e-6)
    imgs, noise = inputs["imgs"], inputs["noise"]
    loss, pred, mask, ids_restore, latent = model.forward_all(imgs, cfg["mask_ratio"], noise)
    loss.backward()
    ref_loss = expected["loss"].item()
    r.check("loss (relative error)", abs(loss.item() - ref_loss) / abs(ref_loss), 1e-5)
    r.check("pred (max abs error / max abs)", max_abs_scaled(pred.detach(), expected["pred"]), 1e-4)
    r.check("latent (max abs error / max abs)", max_abs_scaled(latent.detach(), expected["latent"]), 1e-4)
    r.check("mask (mismatches)", float((mask != expected["mask"]).sum()), 0)
    r.check("ids_restore (mismatches)", float((ids_restore != expected["ids_restore"]).sum()), 0)
    worst, at = 0.0, ""
    grads = 0
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        ref = expected.get(f"grad.{name}")
        if ref is None:
            r.check(f"grad.{name} (absent from the fixture)", 1, 0)
            continue
        e = rel_norm(p.grad, ref)
        grads += 1
        if e >= worst:
            worst, at = e, name
    r.check(f"{grads} gradients (worst relative norm error, {at})", worst, 1e-4)

    # AdamW steps from the initial weights, the same images and noise every step
    model.load_state_dict(weights, strict=False)
    opt = torch.optim.AdamW(mae_model.param_groups(model, cfg["weight_decay"]), lr=cfg["lr"],
                            betas=tuple(cfg["adamw"]["betas"]), eps=cfg["adamw"]["eps"])
    for i in range(cfg["steps"]):
        opt.zero_grad(set_to_none=True)
        loss, _, _ = model(imgs, cfg["mask_ratio"], noise)
        loss.backward()
        opt.step()
        ref = after[f"loss.{i}"].item()
        r.check(f"step {i} loss (relative error)", abs(loss.item() - ref) / abs(ref), 1e-5)
    # The key slice of a qkv bias has an exactly zero gradient (softmax ignores a per-row
    # constant): it receives float32 rounding noise that AdamW turns into steps of ~lr*|g|/eps
    # which no two implementations share. So the query and value slices get the relative-norm
    # test and the key slice an absolute bound (a real gradient would move it by ~lr a step).
    worst, at, key_worst = 0.0, "", 0.0
    for name, p in model.named_parameters():
        if name not in after:
            continue
        got, ref = p.detach().flatten(), after[name].flatten()
        if name.endswith("attn.qkv.bias"):
            d = ref.numel() // 3
            key_worst = max(key_worst, (got[d:2 * d] - ref[d:2 * d]).abs().max().item())
            got, ref = torch.cat([got[:d], got[2 * d:]]), torch.cat([ref[:d], ref[2 * d:]])
        e = rel_norm(got, ref)
        if e >= worst:
            worst, at = e, name
    r.check(f"parameters after {cfg['steps']} steps (worst relative norm error, {at})", worst, 1e-4)
    r.check("qkv bias key slices after the steps (max abs error)", key_worst, 0.5 * cfg["lr"] * cfg["steps"])
    print(f"{'all checks passed' if r.failed == 0 else f'{r.failed} checks failed'} ({folder})")
    return 1 if r.failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
