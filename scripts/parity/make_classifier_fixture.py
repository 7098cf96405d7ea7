#!/usr/bin/env python3
"""make_classifier_fixture.py: writes a fixture of the official fine-tuning classifier
(facebookresearch/mae models_vit.VisionTransformer on timm 0.3.2's VisionTransformer, transcribed
here since timm is not installed: Conv2d patch embedding, cls token and position embedding added,
pre-norm blocks with qkv bias, scale head_dim**-0.5, exact GELU, LayerNorm eps 1e-6, DropPath;
global pool = mean of the patch tokens through fc_norm, else norm then the cls token; a Linear head)
with timm's SoftTargetCrossEntropy on given soft targets, float32 on the CPU, for
packages/mae/test/model/classifier.test.ts.

DropPath is timm's drop_path with the per-sample uniforms given: random_tensor = floor(keep_prob + u),
x.div(keep_prob) * random_tensor, u[2 i] for block i's attention branch and u[2 i + 1] for its MLP
branch; the rates are torch.linspace(0, drop_path, depth) as timm sets them.

Then `steps` AdamW steps (betas 0.9, 0.999) with the official param_groups_lrd (util/lr_decay.py:
no weight decay for 1-D parameters, pos_embed and cls_token; lr_scale layer_decay ** (num_layers -
layer_id)), the lr of each group lr * lr_scale as util/lr_sched.py sets it.

With --pos-embed FILE it writes only FILE instead: official interpolate_pos_embed (F.interpolate bicubic,
align_corners=False on the patch rows, the cls row kept) from grid 3 to 5 and from 4 to 2.

usage: /usr/bin/python3 make_classifier_fixture.py OUT_DIR [--global-pool] --drop-path 0.2 --seed 0
       /usr/bin/python3 make_classifier_fixture.py --pos-embed FILE
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "pytorch"))
from safetensors_io import write_safetensors  # noqa: E402


class DropPath(nn.Module):
    """timm's DropPath on the given uniforms (one per sample, consumed in call order)."""

    def __init__(self, prob, uniforms):
        super().__init__()
        self.prob, self.uniforms = prob, uniforms

    def forward(self, x):
        u = self.uniforms.pop(0)
        if self.prob == 0.0 or not self.training:
            return x
        keep = 1 - self.prob
        random_tensor = (keep + u.to(x.dtype)).reshape(-1, 1, 1).floor_()
        return x.div(keep) * random_tensor


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, drop_path):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.drop_path = drop_path
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    def __init__(self, patch, chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(chans, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """models_vit.VisionTransformer: forward_features then the head."""

    def __init__(self, c, uniforms):
        super().__init__()
        D, L = c["embed_dim"], (c["img_size"] // c["patch_size"]) ** 2
        self.global_pool = c["global_pool"]
        self.patch_embed = PatchEmbed(c["patch_size"], c["in_chans"], D)
        self.cls_token = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, L + 1, D) * 0.02)
        dpr = [x.item() for x in torch.linspace(0, c["drop_path"], c["depth"])]
        self.blocks = nn.ModuleList(
            [Block(D, c["num_heads"], c["mlp_ratio"], DropPath(dpr[i], uniforms)) for i in range(c["depth"])])
        if self.global_pool:
            self.fc_norm = nn.LayerNorm(D, eps=1e-6)
        else:
            self.norm = nn.LayerNorm(D, eps=1e-6)
        self.head = nn.Linear(D, c["classes"])

    def forward(self, x):
        B = x.shape[0]
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        if self.global_pool:
            outcome = self.fc_norm(x[:, 1:, :].mean(dim=1))
        else:
            outcome = self.norm(x)[:, 0]
        return self.head(outcome)


def layer_id(name, num_layers):
    """util/lr_decay.py get_layer_id_for_vit."""
    if name in ("cls_token", "pos_embed") or name.startswith("patch_embed"):
        return 0
    if name.startswith("blocks"):
        return int(name.split(".")[1]) + 1
    return num_layers


def param_groups_lrd(model, weight_decay, layer_decay):
    """util/lr_decay.py param_groups_lrd with no_weight_decay_list = model.no_weight_decay()."""
    num_layers = len(model.blocks) + 1
    scales = [layer_decay ** (num_layers - i) for i in range(num_layers + 1)]
    groups = {}
    for n, p in model.named_parameters():
        no_decay = p.ndim == 1 or n in ("pos_embed", "cls_token")
        lid = layer_id(n, num_layers)
        key = f"layer_{lid}_{'no_decay' if no_decay else 'decay'}"
        g = groups.setdefault(key, {"lr_scale": scales[lid], "weight_decay": 0.0 if no_decay else weight_decay,
                                    "params": []})
        g["params"].append(p)
    return list(groups.values())


def soft_target_ce(logits, targets):
    return torch.sum(-targets * F.log_softmax(logits, dim=-1), dim=-1).mean()


def pos_embed_cases():
    """interpolate_pos_embed's resize of the patch rows (cls row kept) between grids."""
    g = torch.Generator().manual_seed(7)
    out = {}
    for src, dst, D in ((3, 5, 8), (4, 2, 6)):
        pos = torch.randn(1, 1 + src * src, D, generator=g)
        tokens = pos[:, 1:].reshape(-1, src, src, D).permute(0, 3, 1, 2)
        tokens = F.interpolate(tokens, size=(dst, dst), mode="bicubic", align_corners=False)
        tokens = tokens.permute(0, 2, 3, 1).flatten(1, 2)
        out[f"in.{src}_{dst}"] = pos
        out[f"out.{src}_{dst}"] = torch.cat((pos[:, :1], tokens), dim=1)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="?")
    p.add_argument("--pos-embed")
    p.add_argument("--img", type=int, default=16)
    p.add_argument("--patch", type=int, default=4)
    p.add_argument("--chans", type=int, default=3)
    p.add_argument("--dim", type=int, default=24)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--heads", type=int, default=3)
    p.add_argument("--mlp", type=float, default=2.0)
    p.add_argument("--classes", type=int, default=5)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--global-pool", action="store_true")
    p.add_argument("--drop-path", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--wd", type=float, default=0.05)
    p.add_argument("--layer-decay", type=float, default=0.75)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.pos_embed:
        write_safetensors(a.pos_embed, pos_embed_cases())
        return
    torch.manual_seed(a.seed)
    cfg = dict(img_size=a.img, patch_size=a.patch, in_chans=a.chans, embed_dim=a.dim, depth=a.depth,
               num_heads=a.heads, mlp_ratio=a.mlp, classes=a.classes, global_pool=a.global_pool,
               drop_path=a.drop_path, batch=a.batch, steps=a.steps, lr=a.lr, weight_decay=a.wd,
               layer_decay=a.layer_decay, betas=[0.9, 0.999], eps=1e-8)
    uniforms = []
    model = VisionTransformer(cfg, uniforms)
    with torch.no_grad():  # non-trivial norms and head (torch's defaults are 1 / 0 and tiny)
        for n, t in model.named_parameters():
            if "norm" in n:
                t.add_(torch.randn_like(t) * 0.1)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    imgs = torch.randn(a.batch, a.chans, a.img, a.img)
    targets = torch.rand(a.batch, a.classes)
    targets /= targets.sum(dim=1, keepdim=True)
    u = torch.rand(2 * a.depth, a.batch)

    def run():
        uniforms[:] = list(u)
        return soft_target_ce(model(imgs), targets)

    model.train()
    uniforms[:] = list(u)
    logits = model(imgs)
    loss = soft_target_ce(logits, targets)
    loss.backward()
    expected = {"loss": loss.detach().reshape([]), "logits": logits.detach()}
    expected.update({f"grad.{n}": t.grad.detach().clone() for n, t in model.named_parameters()})
    opt = torch.optim.AdamW(param_groups_lrd(model, a.wd, a.layer_decay), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    for g in opt.param_groups:  # util/lr_sched.py: lr * lr_scale per group
        g["lr"] = a.lr * g["lr_scale"]
    after = {}
    for s in range(a.steps):
        opt.zero_grad()
        loss = run()
        loss.backward()
        opt.step()
        after[f"loss.{s}"] = loss.detach().reshape([])
    after.update({k: v.detach().clone() for k, v in model.state_dict().items()})
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(a.out, "weights.safetensors"), weights)
    write_safetensors(os.path.join(a.out, "inputs.safetensors"), {"imgs": imgs, "targets": targets, "u": u})
    write_safetensors(os.path.join(a.out, "expected.safetensors"), expected)
    write_safetensors(os.path.join(a.out, "after_steps.safetensors"), after)
    print(f"wrote {a.out}: loss {expected['loss'].item():.6f}")


if __name__ == "__main__":
    main()
