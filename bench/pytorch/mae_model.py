"""mae_model.py: the Masked Autoencoder (He et al. 2021) in PyTorch, written from the paper's and
the official code's definitions (facebookresearch/mae, models_mae.py): the reference that
`mae-cuda bench --pytorch` times and that parity.py checks against the official outputs.

Parameter names and shapes equal the official state_dict (so official weights load): pre-norm ViT
blocks (qkv with bias, scale head_dim**-0.5, exact GELU, LayerNorm eps 1e-6), fixed 2-D sin-cos
position embeddings, per-sample random masking by argsort of uniform noise, a decoder that appends
mask tokens and un-shuffles, and the MSE over the removed patches (optionally of per-patch
normalised pixels, with the unbiased variance). Attention uses scaled_dot_product_attention where
PyTorch has it (2.0+), else the explicit softmax(q k^T * scale) v.

With encoder_mask_token=True it is the paper's Table 1c ablation, the official code modified
minimally (docs/ABLATIONS.md): forward_encoder drops nothing, it replaces each removed patch's
embedding by a learned encoder_mask_token [1, 1, D] (init normal std .02, like mask_token) before
the position embedding is added, and the encoder runs on all 1 + L tokens; forward_decoder embeds
all of them and adds decoder_pos_embed, with no mask_token insertion or un-shuffle (the model has no
decoder mask_token: it would get no gradient).

The presets and the FLOP count equal packages/mae/src/config/presets.ts and src/bench/flops.ts.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

_OFFICIAL_DECODER = dict(img_size=224, in_chans=3, decoder_embed_dim=512, decoder_depth=8,
                         decoder_num_heads=16, mlp_ratio=4, norm_pix_loss=False, mask_ratio=0.75,
                         layer_norm_eps=1e-6)
_TINY = dict(patch_size=4, embed_dim=64, depth=4, num_heads=4, decoder_embed_dim=32,
             decoder_depth=2, decoder_num_heads=4, mlp_ratio=4, norm_pix_loss=False,
             mask_ratio=0.75, layer_norm_eps=1e-6)

PRESETS = {
    "mae_vit_base_patch16": dict(_OFFICIAL_DECODER, patch_size=16, embed_dim=768, depth=12, num_heads=12),
    "mae_vit_large_patch16": dict(_OFFICIAL_DECODER, patch_size=16, embed_dim=1024, depth=24, num_heads=16),
    "mae_vit_huge_patch14": dict(_OFFICIAL_DECODER, patch_size=14, embed_dim=1280, depth=32, num_heads=16),
    "mae_tiny_28": dict(_TINY, img_size=28, in_chans=1),
    "mae_tiny_32": dict(_TINY, img_size=32, in_chans=3),
    "mae_tiny_32_h64": dict(_TINY, img_size=32, in_chans=3, embed_dim=128, depth=2, num_heads=2,
                            decoder_embed_dim=128, decoder_depth=1, decoder_num_heads=2),
}

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def step_flops(c: dict) -> int:
    """Model FLOPs of one training step per image: 3x the forward (as src/bench/flops.ts)."""
    L = (c["img_size"] // c["patch_size"]) ** 2
    P = c["patch_size"] ** 2 * c["in_chans"]
    Te = 1 + (L if c.get("encoder_mask_token") else int(L * (1 - c["mask_ratio"])))
    Td = 1 + L
    D, Dd = c["embed_dim"], c["decoder_embed_dim"]

    def block(T, W, H):
        return 2 * T * W * (3 * W + W + 2 * H) + 2 * 2 * T * T * W

    forward = (2 * L * P * D
               + c["depth"] * block(Te, D, int(D * c["mlp_ratio"]))
               + 2 * Te * D * Dd
               + c["decoder_depth"] * block(Td, Dd, int(Dd * c["mlp_ratio"]))
               + 2 * Td * Dd * P)
    return 3 * forward


def sincos_pos_embed(dim: int, grid: int, cls_token: bool) -> torch.Tensor:
    """[grid*grid (+1), dim]: half the channels encode the row, half the column (float64 math)."""
    def one_axis(d, pos):
        omega = 1.0 / 10000 ** (torch.arange(d // 2, dtype=torch.float64) / (d / 2.0))
        out = pos.reshape(-1, 1).double() * omega.reshape(1, -1)
        return torch.cat([torch.sin(out), torch.cos(out)], dim=1)

    coords = torch.arange(grid, dtype=torch.float64)
    gw, gh = torch.meshgrid(coords, coords, indexing="xy")  # official: meshgrid(w, h), w first
    emb = torch.cat([one_axis(dim // 2, gw), one_axis(dim // 2, gh)], dim=1)
    if cls_token:
        emb = torch.cat([torch.zeros(1, dim, dtype=torch.float64), emb], dim=0)
    return emb.float()


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, dim):
        super().__init__()
        self.grid = img_size // patch_size
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        N, T, D = x.shape
        qkv = self.qkv(x).reshape(N, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if HAS_SDPA:
            o = F.scaled_dot_product_attention(q, k, v)
        else:
            o = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1) @ v
        return self.proj(o.transpose(1, 2).reshape(N, T, D))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class MaskedAutoencoderViT(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim, depth, num_heads,
                 decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio=4.0,
                 norm_pix_loss=False, layer_norm_eps=1e-6, encoder_mask_token=False, **_unused):
        super().__init__()
        self.patch_size, self.in_chans, self.norm_pix_loss = patch_size, in_chans, norm_pix_loss
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        grid = self.patch_embed.grid
        L = grid * grid
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, L + 1, embed_dim), requires_grad=False)
        self.tokens_in_encoder = encoder_mask_token
        if encoder_mask_token:
            self.encoder_mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.blocks = nn.ModuleList(
            [Block(embed_dim, num_heads, mlp_ratio, layer_norm_eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=layer_norm_eps)
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim, bias=True)
        if not encoder_mask_token:
            self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, L + 1, decoder_embed_dim),
                                              requires_grad=False)
        self.decoder_blocks = nn.ModuleList(
            [Block(decoder_embed_dim, decoder_num_heads, mlp_ratio, layer_norm_eps)
             for _ in range(decoder_depth)])
        self.decoder_norm = nn.LayerNorm(decoder_embed_dim, eps=layer_norm_eps)
        self.decoder_pred = nn.Linear(decoder_embed_dim, patch_size ** 2 * in_chans, bias=True)
        self._init(grid)

    def _init(self, grid):
        with torch.no_grad():
            self.pos_embed.copy_(sincos_pos_embed(self.pos_embed.shape[-1], grid, True)[None])
            self.decoder_pos_embed.copy_(
                sincos_pos_embed(self.decoder_pos_embed.shape[-1], grid, True)[None])
            w = self.patch_embed.proj.weight
            nn.init.xavier_uniform_(w.view(w.shape[0], -1))
            nn.init.normal_(self.cls_token, std=0.02)
            nn.init.normal_(self.encoder_mask_token if self.tokens_in_encoder else self.mask_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def patchify(self, imgs):
        p, c = self.patch_size, self.in_chans
        n, _, H, W = imgs.shape
        h, w = H // p, W // p
        x = imgs.reshape(n, c, h, p, w, p)
        return torch.einsum("nchpwq->nhwpqc", x).reshape(n, h * w, p * p * c)

    @staticmethod
    def random_masking(x, mask_ratio, noise):
        N, L, D = x.shape
        keep = int(L * (1 - mask_ratio))
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :keep]
        x_kept = torch.gather(x, 1, ids_keep.unsqueeze(-1).expand(-1, -1, D))
        mask = torch.ones(N, L, device=x.device)
        mask[:, :keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        return x_kept, mask, ids_restore

    def forward_encoder(self, imgs, mask_ratio, noise):
        if self.tokens_in_encoder:
            return self.forward_encoder_with_mask_tokens(imgs, mask_ratio, noise)
        x = self.patch_embed(imgs) + self.pos_embed[:, 1:, :]
        x, mask, ids_restore = self.random_masking(x, mask_ratio, noise)
        return self.encode(x), mask, ids_restore

    def forward_encoder_with_mask_tokens(self, imgs, mask_ratio, noise):
        """Table 1c: the removed patches' embeddings replaced by encoder_mask_token, then the
        position embedding added to all L; nothing is dropped."""
        x = self.patch_embed(imgs)
        _, mask, ids_restore = self.random_masking(x, mask_ratio, noise)
        x = torch.where(mask.bool().unsqueeze(-1), self.encoder_mask_token.to(x.dtype), x)
        return self.encode(x + self.pos_embed[:, 1:, :]), mask, ids_restore

    def encode(self, x):
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)
        for b in self.blocks:
            x = b(x)
        return self.norm(x)

    def forward_decoder(self, x, ids_restore):
        x = self.decoder_embed(x)
        if self.tokens_in_encoder:  # every position came through the encoder
            return self.decode(x + self.decoder_pos_embed)
        N, T, D = x.shape
        L = ids_restore.shape[1]
        tokens = torch.cat([x[:, 1:, :], self.mask_token.expand(N, L + 1 - T, -1)], dim=1)
        tokens = torch.gather(tokens, 1, ids_restore.unsqueeze(-1).expand(-1, -1, D))
        return self.decode(torch.cat([x[:, :1, :], tokens], dim=1) + self.decoder_pos_embed)

    def decode(self, x):
        for b in self.decoder_blocks:
            x = b(x)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:, :]

    def forward_loss(self, imgs, pred, mask):
        target = self.patchify(imgs)
        if self.norm_pix_loss:
            mean = target.mean(dim=-1, keepdim=True)
            var = target.var(dim=-1, keepdim=True)  # unbiased, as the official code
            target = (target - mean) / (var + 1e-6) ** 0.5
        per_patch = ((pred - target) ** 2).mean(dim=-1)
        return (per_patch * mask).sum() / mask.sum()

    def forward_all(self, imgs, mask_ratio=0.75, noise=None):
        """loss, pred [N, L, p*p*C], mask [N, L] (1 = removed), ids_restore [N, L] and latent
        [N, 1+keep, D] ([N, 1+L, D] with encoder_mask_token: the encoder's output after its norm,
        cls first), for parity.py."""
        if noise is None:
            noise = torch.rand(imgs.shape[0], self.patch_embed.grid ** 2, device=imgs.device)
        latent, mask, ids_restore = self.forward_encoder(imgs, mask_ratio, noise)
        pred = self.forward_decoder(latent, ids_restore)
        return self.forward_loss(imgs, pred.float(), mask), pred, mask, ids_restore, latent

    def forward(self, imgs, mask_ratio=0.75, noise=None):
        """loss, pred, mask as the official forward. No state is kept on the module, so that
        torch.compile sees a pure function (no attribute writes, no graph break)."""
        loss, pred, mask, _, _ = self.forward_all(imgs, mask_ratio, noise)
        return loss, pred, mask


def build(config: dict) -> MaskedAutoencoderViT:
    return MaskedAutoencoderViT(**config)


def param_groups(model: nn.Module, weight_decay: float):
    """The official recipe's groups: no decay for 1-D parameters and biases; cls/mask tokens decay."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]
