"""PyTorch reference MobileViT v1 with timm's parameter names, built from an mvitc YAML file.

This is the independent reference every mvitc output is checked against. It follows timm's
`mobilevit.py`/`byobnet.py` structure (module names, make_divisible, padding, shortcut rules)
so that its state_dict keys are exactly timm's. Also holds a minimal safetensors writer/reader
so no extra Python package is needed.
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml


def make_divisible(v, divisor=8, min_value=None, round_limit=0.9):
    # timm.layers.helpers.make_divisible
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < round_limit * v:
        new_v += divisor
    return new_v


class ConvNormAct(nn.Module):
    def __init__(self, cin, cout, k, stride=1, groups=1, act=True, bn_eps=1e-5):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding=((stride - 1) + (k - 1)) // 2,
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=bn_eps)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class BottleneckBlock(nn.Module):
    """timm byobnet BottleneckBlock as used by MobileViT: bottle_in=True, linear_out=True."""

    def __init__(self, cin, cout, stride, expansion, bn_eps):
        super().__init__()
        mid = make_divisible(cin * expansion)
        self.conv1_1x1 = ConvNormAct(cin, mid, 1, bn_eps=bn_eps)
        self.conv2_kxk = ConvNormAct(mid, mid, 3, stride, groups=mid, bn_eps=bn_eps)
        self.conv3_1x1 = ConvNormAct(mid, cout, 1, act=False, bn_eps=bn_eps)
        # MobileViT uses downsample='' : no projection shortcut, identity only when shapes agree
        self.has_shortcut = cin == cout and stride == 1

    def forward(self, x):
        y = self.conv3_1x1(self.conv2_kxk(self.conv1_1x1(x)))
        return y + x if self.has_shortcut else y


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.SiLU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TransformerBlock(nn.Module):
    def __init__(self, dim, ffn, heads, ln_eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=ln_eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=ln_eps)
        self.mlp = Mlp(dim, ffn)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class MobileVitBlock(nn.Module):
    """timm MobileVitBlock; v3: MobileViTv3's v1-based block (MobileViTv3Block of its reference
    code): depthwise local conv, 1x1 fusion over cat(local features, conv_proj's output), and
    the block input added."""

    def __init__(self, cin, cout, dim, ffn, depth, heads, patch, kernel, bn_eps, ln_eps, v3=False):
        super().__init__()
        self.conv_kxk = ConvNormAct(cin, cin, kernel, groups=cin if v3 else 1, bn_eps=bn_eps)
        self.conv_1x1 = nn.Conv2d(cin, dim, 1, bias=False)
        self.transformer = nn.Sequential(
            *[TransformerBlock(dim, ffn, heads, ln_eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=ln_eps)
        self.conv_proj = ConvNormAct(dim, cout, 1, bn_eps=bn_eps)
        self.conv_fusion = ConvNormAct((dim if v3 else cin) + cout, cout, 1 if v3 else kernel,
                                       bn_eps=bn_eps)
        self.patch = patch
        self.v3 = v3

    def forward(self, x):
        shortcut = x
        x = local = self.conv_1x1(self.conv_kxk(x))
        ph, pw = self.patch
        B, C, H, W = x.shape
        nh, nw = math.ceil(H / ph), math.ceil(W / pw)
        # timm MobileVitBlock.forward / ml-cvnets unfolding(): a map that does not split into
        # whole patches is resized up to them, and back after the fold
        resized = nh * ph != H or nw * pw != W
        if resized:
            x = F.interpolate(x, size=(nh * ph, nw * pw), mode="bilinear", align_corners=False)
        n, p = nh * nw, ph * pw
        # [B, C, H, W] -> [B*P, N, C], token n = (h//ph)*nw + w//pw, patch position p = (h%ph)*pw + w%pw
        x = x.reshape(B * C * nh, ph, nw, pw).transpose(1, 2)
        x = x.reshape(B, C, n, p).transpose(1, 3).reshape(B * p, n, -1)
        x = self.norm(self.transformer(x))
        x = x.contiguous().view(B, p, n, -1)
        x = x.transpose(1, 3).reshape(B * C * nh, nw, ph, pw)
        x = x.transpose(1, 2).reshape(B, C, nh * ph, nw * pw)
        if resized:
            x = F.interpolate(x, size=(H, W), mode="bilinear", align_corners=False)
        x = self.conv_proj(x)
        if self.v3:
            return self.conv_fusion(torch.cat((local, x), dim=1)) + shortcut
        return self.conv_fusion(torch.cat((shortcut, x), dim=1))


class LinearSelfAttention(nn.Module):
    """timm LinearSelfAttention (MobileViT v2, arXiv 2206.02680) on [B, d, P, N]."""

    def __init__(self, dim):
        super().__init__()
        self.embed_dim = dim
        self.qkv_proj = nn.Conv2d(dim, 1 + 2 * dim, 1, bias=True)
        self.out_proj = nn.Conv2d(dim, dim, 1, bias=True)

    def forward(self, x):
        query, key, value = self.qkv_proj(x).split([1, self.embed_dim, self.embed_dim], dim=1)
        scores = F.softmax(query, dim=-1)  # over N, the patches, for each pixel p of a patch
        context = (key * scores).sum(dim=-1, keepdim=True)
        return self.out_proj(F.relu(value) * context.expand_as(value))


class ConvMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1, bias=True)
        self.act = nn.SiLU()
        self.fc2 = nn.Conv2d(hidden, dim, 1, bias=True)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class LinearTransformerBlock(nn.Module):
    """timm LinearTransformerBlock: pre-norm with GroupNorm1 (one group over [d, P, N])."""

    def __init__(self, dim, ffn, gn_eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(1, dim, eps=gn_eps)
        self.attn = LinearSelfAttention(dim)
        self.norm2 = nn.GroupNorm(1, dim, eps=gn_eps)
        self.mlp = ConvMlp(dim, ffn)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class MobileVitV2Block(nn.Module):
    """timm MobileVitV2Block; fusion="v3" is MobileViTv3's v2-based block (MobileViTBlockv3 of
    its reference code): conv_proj over cat(global, local) and the block input added."""

    def __init__(self, cin, cout, dim, ffn, depth, patch, kernel, bn_eps, gn_eps, v3=False):
        super().__init__()
        self.conv_kxk = ConvNormAct(cin, cin, kernel, groups=cin, bn_eps=bn_eps)
        self.conv_1x1 = nn.Conv2d(cin, dim, 1, bias=False)
        self.transformer = nn.Sequential(
            *[LinearTransformerBlock(dim, ffn, gn_eps) for _ in range(depth)])
        self.norm = nn.GroupNorm(1, dim, eps=gn_eps)
        self.conv_proj = ConvNormAct(2 * dim if v3 else dim, cout, 1, act=False, bn_eps=bn_eps)
        self.patch = patch
        self.v3 = v3

    def forward(self, x):
        ph, pw = self.patch
        B, C, H, W = x.shape
        nh, nw = math.ceil(H / ph), math.ceil(W / pw)
        if nh * ph != H or nw * pw != W:  # resized up to whole patches, and left so
            x = F.interpolate(x, size=(nh * ph, nw * pw), mode="bilinear", align_corners=True)
        local = self.conv_1x1(self.conv_kxk(x))
        d = local.shape[1]
        # [B, d, H, W] -> [B, d, P, N]: p = (h % ph) * pw + w % pw, n = (h // ph) * nw + w // pw
        y = local.reshape(B, d, nh, ph, nw, pw).permute(0, 1, 3, 5, 2, 4).reshape(B, d, -1, nh * nw)
        y = self.norm(self.transformer(y))
        y = y.reshape(B, d, ph, pw, nh, nw).permute(0, 1, 4, 2, 5, 3).reshape(B, d, nh * ph, nw * pw)
        if self.v3:
            return self.conv_proj(torch.cat((y, local), dim=1)) + x
        return self.conv_proj(y)


class ClassifierHead(nn.Module):
    def __init__(self, cin, classes):
        super().__init__()
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        return self.fc(x.mean(dim=(2, 3)))


class MobileViT(nn.Module):
    def __init__(self, desc):
        super().__init__()
        self.desc = desc
        bn_eps = float(desc.get("batchnorm_eps", 1e-5))
        ln_eps = float(desc.get("layernorm_eps", 1e-5))
        inp = desc["input"]
        stem = desc["stem"]
        self.stem = ConvNormAct(inp["channels"], stem["out_channels"], stem.get("kernel", 3),
                                stem.get("stride", 2), bn_eps=bn_eps)
        c = stem["out_channels"]
        stages = []
        for st in desc["stages"]:
            blocks = []
            for b in st["blocks"]:
                if b["type"] == "inverted_residual":
                    blocks.append(BottleneckBlock(c, b["out_channels"], b.get("stride", 1),
                                                  b["expansion"], bn_eps))
                elif b["type"] in ("mobilevit_v2", "mobilevit_v3_v2"):
                    blocks.append(MobileVitV2Block(
                        c, b["out_channels"], b["transformer_dim"], b["ffn_dim"], b["depth"],
                        tuple(b.get("patch_size", [2, 2])), b.get("kernel", 3), bn_eps,
                        float(desc.get("groupnorm_eps", 1e-5)), v3=b["type"] == "mobilevit_v3_v2"))
                else:
                    ps = b.get("patch_size", [2, 2])
                    blocks.append(MobileVitBlock(c, b["out_channels"], b["transformer_dim"],
                                                 b["ffn_dim"], b["depth"], b.get("heads", 4),
                                                 tuple(ps), b.get("kernel", 3), bn_eps, ln_eps,
                                                 v3=b["type"] == "mobilevit_v3"))
                c = b["out_channels"]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        if desc.get("final_conv"):
            self.final_conv = ConvNormAct(c, desc["final_conv"]["out_channels"], 1, bn_eps=bn_eps)
            c = desc["final_conv"]["out_channels"]
        else:  # MobileViT v2: timm's final_conv is an Identity
            self.final_conv = nn.Identity()
        self.head = ClassifierHead(c, desc["classifier"]["num_classes"])

    def forward(self, x):
        return self.head(self.final_conv(self.stages(self.stem(x))))


def parse_size(resolution):
    """A --resolution entry: 224 or "224" (square) or "192x256" (height x width)."""
    if isinstance(resolution, int):
        return resolution, resolution
    h, _, w = str(resolution).partition("x")
    return int(h), int(w or h)


def load_desc(path, resolution=None):
    with open(path) as f:
        desc = yaml.safe_load(f)
    if resolution:
        desc["input"]["height"], desc["input"]["width"] = parse_size(resolution)
    return desc


def randomize(model, seed):
    """Random but non-trivial weights: BN stats far from 0/1, activations kept O(1)."""
    g = torch.Generator().manual_seed(seed)

    def u(shape, lo, hi):
        return torch.rand(shape, generator=g) * (hi - lo) + lo

    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (1.5 / fan_in) ** 0.5)
                if m.bias is not None:  # v2's attention and MLP convs (v1 convs have none)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(u(m.weight.shape, 0.6, 1.4))
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.3)
                m.running_var.copy_(u(m.running_var.shape, 0.4, 2.0))
                m.num_batches_tracked.fill_(1234)
            elif isinstance(m, nn.Linear):
                fan_in = m.weight.shape[1]
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (1.0 / fan_in) ** 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, (nn.LayerNorm, nn.GroupNorm)):
                m.weight.copy_(u(m.weight.shape, 0.7, 1.3))
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


# ---- safetensors (https://github.com/huggingface/safetensors format: u64 header len, JSON, data)

_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
_TORCH = {v: k for k, v in _DTYPES.items()}


def save_safetensors(tensors, path, metadata=None):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = bytearray(data[8 + n + a:8 + n + b])
        dt = _TORCH[info["dtype"]]
        if dt == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=dt)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def build(desc_path, weights=None, resolution=None):
    desc = load_desc(desc_path, resolution)
    model = MobileViT(desc)
    if weights:
        model.load_state_dict(load_safetensors(weights))
    return model.eval(), desc
