"""PyTorch checkpoints (torch.save .pt files) for the checkpoint tests: random reference weights
in timm's and ml-cvnets' layouts, and malicious pickles.

    /usr/bin/python3 tools/make_checkpoint.py MODEL.yaml OUT_DIR [--dtype F32[,F16,BF16]]
        [--seed 1] [--resolution N] [--variants timm,cvnets,...]
    /usr/bin/python3 tools/make_checkpoint.py --malicious OUT_DIR --marker PATH
    /usr/bin/python3 tools/make_checkpoint.py --fixtures tests/data/weights

Model checkpoints: OUT_DIR/<variant>.pt for each variant (list below), input.f32 (one NHWC
image) and logits.f32 (PyTorch's logits in float64, stored as float32). The weights are
mobilevit_ref's random ones, rounded to --dtype; the reference runs on the rounded values.
With several dtypes (--dtype F32,F16) each gets its own OUT_DIR/<dtype>/.

The cvnets names are not produced by a renaming table: CvnetsMobileViT below rebuilds
ml-cvnets' module tree (cvnets/models/classification/mobilevit.py, cvnets/modules/
mobilevit_block.py, mobilenetv2.py, transformer.py, cvnets/layers/conv_layer.py,
multi_head_attention.py) with its own forward pass, and the state dicts are paired by
registration order and shape. The cvnets model must load the renamed dict strictly and give the
timm reference's logits, so a wrong pairing cannot go unnoticed.

Malicious checkpoints (--malicious): torch.save-format zip archives whose pickle, if it were
executed (torch.load without weights_only), creates the file --marker through os.system,
builtins.eval, a protocol-4 STACK_GLOBAL, the state dict's _metadata or the INST opcode. A
reader that executes nothing leaves the marker absent.
"""
import argparse
import collections
import os
import struct
import sys
import zipfile

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mobilevit_ref as ref  # noqa: E402

# ---- ml-cvnets' module tree (names and forward pass as in apple/ml-cvnets)


class ConvLayer2d(nn.Module):
    """cvnets.layers.ConvLayer2d: block = Sequential(conv, [norm], [act]); bias-free conv."""

    def __init__(self, cin, cout, k, stride=1, groups=1, use_norm=True, use_act=True, bn_eps=1e-5,
                 bias=False):
        super().__init__()
        self.block = nn.Sequential()
        self.block.add_module("conv", nn.Conv2d(cin, cout, k, stride, padding=(k - 1) // 2,
                                                groups=groups, bias=bias))
        if use_norm:
            self.block.add_module("norm", nn.BatchNorm2d(cout, eps=bn_eps))
        if use_act:
            self.block.add_module("act", nn.SiLU())

    def forward(self, x):
        return self.block(x)


class InvertedResidual(nn.Module):
    """cvnets.modules.InvertedResidual (MobileNetV2 block): exp_1x1, conv_3x3, red_1x1."""

    def __init__(self, cin, cout, stride, expand_ratio, bn_eps):
        super().__init__()
        assert expand_ratio != 1, "cvnets has no exp_1x1 for expand_ratio 1 (timm always does)"
        hidden = ref.make_divisible(int(round(cin * expand_ratio)), 8)
        self.block = nn.Sequential()
        self.block.add_module("exp_1x1", ConvLayer2d(cin, hidden, 1, bn_eps=bn_eps))
        self.block.add_module("conv_3x3", ConvLayer2d(hidden, hidden, 3, stride, groups=hidden,
                                                      bn_eps=bn_eps))
        self.block.add_module("red_1x1", ConvLayer2d(hidden, cout, 1, use_act=False,
                                                     bn_eps=bn_eps))
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.use_res_connect else self.block(x)


class MultiHeadAttention(nn.Module):
    """cvnets.layers.MultiHeadAttention, forward_default (self-attention)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.qkv_proj = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)
        self.num_heads = heads
        self.scaling = (dim // heads) ** -0.5

    def forward(self, x):
        b, s, _ = x.shape
        qkv = self.qkv_proj(x).reshape(b, s, 3, self.num_heads, -1)
        qkv = qkv.transpose(1, 3).contiguous()  # [N, h, 3, S, c]
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        attn = torch.matmul(q * self.scaling, k.transpose(-1, -2)).softmax(dim=-1)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(b, s, -1)
        return self.out_proj(out)


class TransformerEncoder(nn.Module):
    """cvnets.modules.TransformerEncoder: pre_norm_mha = [LN, MHA, Dropout],
    pre_norm_ffn = [LN, Linear, act, Dropout, Linear, Dropout]."""

    def __init__(self, dim, ffn, heads, ln_eps):
        super().__init__()
        self.pre_norm_mha = nn.Sequential(nn.LayerNorm(dim, eps=ln_eps),
                                          MultiHeadAttention(dim, heads), nn.Dropout(0.0))
        self.pre_norm_ffn = nn.Sequential(nn.LayerNorm(dim, eps=ln_eps), nn.Linear(dim, ffn),
                                          nn.SiLU(), nn.Dropout(0.0), nn.Linear(ffn, dim),
                                          nn.Dropout(0.0))

    def forward(self, x):
        x = x + self.pre_norm_mha(x)
        return x + self.pre_norm_ffn(x)


class MobileViTBlock(nn.Module):
    """cvnets.modules.MobileViTBlock: local_rep (conv_3x3, conv_1x1), global_rep (transformer
    layers then a LayerNorm), conv_proj, fusion. cvnets has out == in; the description may not.
    v3: MobileViTv3's MobileViTv3Block (MobileViTv3-v1/cvnets/modules/mobilevit_block.py):
    depthwise conv_3x3, a 1x1 fusion over cat(local_rep output, conv_proj output), + x."""

    def __init__(self, cin, cout, dim, ffn, depth, heads, patch, kernel, bn_eps, ln_eps, v3=False):
        super().__init__()
        self.local_rep = nn.Sequential()
        self.local_rep.add_module("conv_3x3", ConvLayer2d(cin, cin, kernel, groups=cin if v3 else 1,
                                                          bn_eps=bn_eps))
        self.local_rep.add_module("conv_1x1", ConvLayer2d(cin, dim, 1, use_norm=False,
                                                          use_act=False))
        self.global_rep = nn.Sequential(
            *[TransformerEncoder(dim, ffn, heads, ln_eps) for _ in range(depth)],
            nn.LayerNorm(dim, eps=ln_eps))
        self.conv_proj = ConvLayer2d(dim, cout, 1, bn_eps=bn_eps)
        self.fusion = ConvLayer2d((dim if v3 else cin) + cout, cout, 1 if v3 else kernel,
                                  bn_eps=bn_eps)
        self.patch_h, self.patch_w = patch
        self.v3 = v3

    def forward(self, x):
        res = x
        fm = fm_conv = self.local_rep(x)
        b, c, h, w = fm.shape
        ph, pw = self.patch_h, self.patch_w
        nh, nw = h // ph, w // pw
        assert nh * ph == h and nw * pw == w
        # unfolding: [B, C, H, W] -> [B*P, N, C]
        p = fm.reshape(b * c * nh, ph, nw, pw).transpose(1, 2)
        p = p.reshape(b, c, nh * nw, ph * pw).transpose(1, 3).reshape(b * ph * pw, nh * nw, -1)
        p = self.global_rep(p)
        # folding
        p = p.contiguous().view(b, ph * pw, nh * nw, -1).transpose(1, 3)
        fm = p.reshape(b * c * nh, nw, ph, pw).transpose(1, 2).reshape(b, c, nh * ph, nw * pw)
        fm = self.conv_proj(fm)
        if self.v3:
            return self.fusion(torch.cat((fm_conv, fm), dim=1)) + res
        return self.fusion(torch.cat((res, fm), dim=1))


class LinearSelfAttention(nn.Module):
    """cvnets.layers.LinearSelfAttention on [B, d, P, N]: qkv_proj and out_proj ConvLayer2d."""

    def __init__(self, dim):
        super().__init__()
        self.qkv_proj = ConvLayer2d(dim, 1 + 2 * dim, 1, use_norm=False, use_act=False, bias=True)
        self.out_proj = ConvLayer2d(dim, dim, 1, use_norm=False, use_act=False, bias=True)
        self.embed_dim = dim

    def forward(self, x):
        qkv = self.qkv_proj(x)
        query, key, value = torch.split(qkv, [1, self.embed_dim, self.embed_dim], dim=1)
        context_scores = torch.softmax(query, dim=-1)
        context_vector = (key * context_scores).sum(dim=-1, keepdim=True)
        return self.out_proj(torch.relu(value) * context_vector.expand_as(value))


class LinearAttnFFN(nn.Module):
    """cvnets.modules.LinearAttnFFN: pre_norm_attn = [GroupNorm(1), attention, Dropout],
    pre_norm_ffn = [GroupNorm(1), ConvLayer2d (SiLU), Dropout, ConvLayer2d, Dropout]."""

    def __init__(self, dim, ffn, gn_eps):
        super().__init__()
        self.pre_norm_attn = nn.Sequential(nn.GroupNorm(1, dim, eps=gn_eps),
                                           LinearSelfAttention(dim), nn.Dropout(0.0))
        self.pre_norm_ffn = nn.Sequential(
            nn.GroupNorm(1, dim, eps=gn_eps),
            ConvLayer2d(dim, ffn, 1, use_norm=False, use_act=True, bias=True), nn.Dropout(0.0),
            ConvLayer2d(ffn, dim, 1, use_norm=False, use_act=False, bias=True), nn.Dropout(0.0))

    def forward(self, x):
        x = x + self.pre_norm_attn(x)
        return x + self.pre_norm_ffn(x)


class MobileViTBlockv2(nn.Module):
    """cvnets.modules.MobileViTBlockv2: local_rep = [depthwise ConvLayer2d, 1x1 ConvLayer2d],
    global_rep = [LinearAttnFFN..., GroupNorm], conv_proj; unfold/fold with F.unfold/F.fold;
    the input resized up to whole patches (align_corners=True) and left so. v3: MobileViTv3's
    MobileViTBlockv3 (MobileViTv3-v2): conv_proj over cat(global, local) and the input added."""

    def __init__(self, cin, cout, dim, ffn, depth, patch, kernel, bn_eps, gn_eps, v3=False):
        super().__init__()
        self.local_rep = nn.Sequential(
            ConvLayer2d(cin, cin, kernel, groups=cin, bn_eps=bn_eps),
            ConvLayer2d(cin, dim, 1, use_norm=False, use_act=False))
        self.global_rep = nn.Sequential(*[LinearAttnFFN(dim, ffn, gn_eps) for _ in range(depth)],
                                        nn.GroupNorm(1, dim, eps=gn_eps))
        self.conv_proj = ConvLayer2d(2 * dim if v3 else dim, cout, 1, use_act=False, bn_eps=bn_eps)
        self.patch_h, self.patch_w = patch
        self.v3 = v3

    def forward(self, x):
        ph, pw = self.patch_h, self.patch_w
        b, c, h, w = x.shape
        if h % ph or w % pw:
            x = torch.nn.functional.interpolate(
                x, size=(-(-h // ph) * ph, -(-w // pw) * pw), mode="bilinear", align_corners=True)
        fm_conv = self.local_rep(x)
        b, d, h, w = fm_conv.shape
        patches = torch.nn.functional.unfold(fm_conv, kernel_size=(ph, pw), stride=(ph, pw))
        patches = patches.reshape(b, d, ph * pw, -1)
        patches = self.global_rep(patches)
        patches = patches.reshape(b, d * ph * pw, -1)
        fm = torch.nn.functional.fold(patches, output_size=(h, w), kernel_size=(ph, pw),
                                      stride=(ph, pw))
        if self.v3:
            return self.conv_proj(torch.cat((fm, fm_conv), dim=1)) + x
        return self.conv_proj(fm)


class GlobalPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(-2, -1))


class CvnetsMobileViT(nn.Module):
    """cvnets.models.classification.MobileViT: conv_1, layer_1..layer_5, conv_1x1_exp,
    classifier = [global_pool, fc]."""

    def __init__(self, desc):
        super().__init__()
        bn_eps = float(desc.get("batchnorm_eps", 1e-5))
        ln_eps = float(desc.get("layernorm_eps", 1e-5))
        stem = desc["stem"]
        self.conv_1 = ConvLayer2d(desc["input"]["channels"], stem["out_channels"],
                                  stem.get("kernel", 3), stem.get("stride", 2), bn_eps=bn_eps)
        c = stem["out_channels"]
        for i, st in enumerate(desc["stages"]):
            blocks = []
            for b in st["blocks"]:
                if b["type"] == "inverted_residual":
                    blocks.append(InvertedResidual(c, b["out_channels"], b.get("stride", 1),
                                                   b["expansion"], bn_eps))
                elif b["type"] in ("mobilevit_v2", "mobilevit_v3_v2"):
                    blocks.append(MobileViTBlockv2(
                        c, b["out_channels"], b["transformer_dim"], b["ffn_dim"], b["depth"],
                        tuple(b.get("patch_size", [2, 2])), b.get("kernel", 3), bn_eps,
                        float(desc.get("groupnorm_eps", 1e-5)), v3=b["type"] == "mobilevit_v3_v2"))
                else:
                    blocks.append(MobileViTBlock(
                        c, b["out_channels"], b["transformer_dim"], b["ffn_dim"], b["depth"],
                        b.get("heads", 4), tuple(b.get("patch_size", [2, 2])),
                        b.get("kernel", 3), bn_eps, ln_eps, v3=b["type"] == "mobilevit_v3"))
                c = b["out_channels"]
            setattr(self, f"layer_{i + 1}", nn.Sequential(*blocks))
        classes = desc["classifier"]["num_classes"]
        if desc.get("final_conv"):
            cout = desc["final_conv"]["out_channels"]
            self.conv_1x1_exp = ConvLayer2d(c, cout, 1, bn_eps=bn_eps)
            self.classifier = nn.Sequential()
            self.classifier.add_module("global_pool", GlobalPool())
            self.classifier.add_module("fc", nn.Linear(cout, classes))
        else:  # MobileViT v2: conv_1x1_exp is an Identity, classifier = [GlobalPool, LinearLayer]
            self.conv_1x1_exp = nn.Identity()
            self.classifier = nn.Sequential(GlobalPool(), nn.Linear(c, classes))

    def forward(self, x):
        x = self.conv_1(x)
        for i in range(1, 6):
            x = getattr(self, f"layer_{i}")(x)
        return self.classifier(self.conv_1x1_exp(x))


def timm_to_cvnets(cvnets_model, timm_state):
    """Pairs the two models' state dict entries by registration order (both trees register
    their parameters in the same order) and checks every pair's shape."""
    cv_keys = list(cvnets_model.state_dict().items())
    tm = list(timm_state.items())
    assert len(cv_keys) == len(tm), (len(cv_keys), len(tm))
    out = collections.OrderedDict()
    for (ck, cv), (tk, tv) in zip(cv_keys, tm):
        assert cv.shape == tv.shape, (ck, tk, cv.shape, tv.shape)
        assert ck.rsplit(".", 1)[1] == tk.rsplit(".", 1)[1], (ck, tk)
        out[ck] = tv
    return out


# ---- variants

def non_contiguous(v):
    """The same values as a view that is not contiguous: permuted strides (2-D and up), a
    stride-2 slice at an offset (1-D), an offset into a larger storage (0-D)."""
    if v.dim() >= 2:
        return v.transpose(0, 1).contiguous().transpose(0, 1)
    if v.dim() == 1:
        big = torch.zeros(2 * v.numel() + 3, dtype=v.dtype)
        big[3::2] = v
        return big[3::2]
    big = torch.zeros(5, dtype=v.dtype)
    big[4] = v
    return big[4]


def views(state):
    """Every float tensor a non-contiguous view; BatchNorm's running_mean and running_var
    two halves of one shared storage."""
    out = collections.OrderedDict((k, non_contiguous(v) if v.is_floating_point() else v)
                                  for k, v in state.items())
    for k in state:
        if k.endswith(".running_mean"):
            kv = k[:-len("running_mean")] + "running_var"
            both = torch.cat([state[k], state[kv]])
            out[k], out[kv] = both[:state[k].numel()], both[state[k].numel():]
    return out


def prefixed(state):
    return collections.OrderedDict(("module." + k, v) for k, v in state.items())


def variants(timm_sd, cvnets_sd):
    """name -> object to torch.save. Wrappers as training scripts write them: timm's train.py
    ({"state_dict", "epoch", "arch", ...}), ml-cvnets' ({"model_state_dict", "optim_state_dict",
    ...}), others {"model": ...}; "module." from DataParallel."""
    optim = {"state": {0: {"momentum_buffer": torch.ones(3)}},
             "param_groups": [{"lr": 0.1, "momentum": 0.9, "nesterov": False, "params": [0]}]}
    return {
        "timm": timm_sd,
        "cvnets": cvnets_sd,
        "timm_views": views(timm_sd),
        "cvnets_views": views(cvnets_sd),
        "timm_state_dict": {"epoch": 7, "arch": "mobilevit", "state_dict": timm_sd,
                            "metric": 71.5, "version": 2},
        "cvnets_model_state_dict": {"iterations": 1000, "epoch": 3,
                                    "model_state_dict": cvnets_sd, "optim_state_dict": optim,
                                    "best_metric": 0.25},
        "cvnets_model_module": {"model": prefixed(cvnets_sd), "epoch": 1},
        "timm_module": prefixed(timm_sd),
    }


def save_model_checkpoints(args):
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    desc = ref.load_desc(args.desc, args.resolution or None)
    timm_model = ref.MobileViT(desc).eval()
    ref.randomize(timm_model, args.seed)
    random_state = collections.OrderedDict(
        (k, v.clone()) for k, v in timm_model.state_dict().items())
    cvnets_model = CvnetsMobileViT(desc).eval()
    dtypes = args.dtype.split(",")
    for dtype in dtypes:
        out = os.path.join(args.out, dtype) if len(dtypes) > 1 else args.out
        save_dtype(args, desc, dtype, out, random_state, timm_model, cvnets_model)


def save_dtype(args, desc, dtype, out, random_state, timm_model, cvnets_model):
    conv = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    state = collections.OrderedDict((k, v.to(conv) if v.is_floating_point() else v)
                                    for k, v in random_state.items())
    # both references run on exactly the values the files hold
    rounded = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    timm_model.float().load_state_dict(rounded)
    cvnets_state = timm_to_cvnets(cvnets_model, state)
    cvnets_model.float().load_state_dict(timm_to_cvnets(cvnets_model, rounded), strict=True)

    inp = desc["input"]
    g = torch.Generator().manual_seed(args.seed + 1000)
    x = torch.rand(1, inp["channels"], inp["height"], inp["width"], generator=g) * 2 - 1
    with torch.no_grad():
        logits = timm_model.double()(x.double())
        logits_cv = cvnets_model.double()(x.double())
    diff = (logits - logits_cv).abs().max().item()
    scale = logits.abs().max().item()
    if not diff <= 1e-9 * max(scale, 1.0):
        sys.exit(f"cvnets reference differs from timm's by {diff} (max|logit| {scale})")

    os.makedirs(out, exist_ok=True)
    all_variants = variants(state, cvnets_state)
    chosen = args.variants.split(",") if args.variants else list(all_variants)
    for name in chosen:
        torch.save(all_variants[name], os.path.join(out, name + ".pt"))
    x.permute(0, 2, 3, 1).contiguous().numpy().tofile(os.path.join(out, "input.f32"))
    logits.float().numpy().tofile(os.path.join(out, "logits.f32"))
    print(f"{args.desc} ({dtype}): {len(state)} tensors, variants {','.join(chosen)}, "
          f"max|logit| {scale:.4f}, timm vs cvnets reference {diff:.2e}")


# ---- malicious pickles


class Call:
    """Pickles as REDUCE(fn, args): unpickling calls fn(*args)."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def write_archive(path, pickle_bytes, records=None):
    """A zip laid out as torch.save lays it out: archive/data.pkl, archive/data/<key>,
    archive/version."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        for key, raw in (records or {}).items():
            z.writestr("archive/data/" + key, raw)
        z.writestr("archive/version", "3\n")


def binunicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def save_malicious(out, marker):
    os.makedirs(out, exist_ok=True)
    touch = "touch " + marker
    create = f"open({marker!r}, 'w').close()"
    weight = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    # 1. GLOBAL os.system + REDUCE, the classic, written by hand so the name is 'os.system'
    write_archive(os.path.join(out, "evil_os_system.pt"),
                  b"\x80\x02cos\nsystem\n" + binunicode(touch) + b"\x85R.")
    # 2. builtins.eval as the value of one entry of an otherwise valid state dict
    sd = collections.OrderedDict([("stem.conv.weight", weight),
                                  ("stem.bn.weight", Call(eval, create))])
    torch.save(sd, os.path.join(out, "evil_eval_in_state_dict.pt"))
    # 3. protocol 4: FRAME, MEMOIZE, STACK_GLOBAL('posix', 'system')
    torch.save({"a": weight, "b": Call(os.system, touch)},
               os.path.join(out, "evil_stack_global.pt"), pickle_protocol=4)
    # 4. in the state dict's _metadata, which BUILD applies after all tensors
    sd = collections.OrderedDict([("stem.conv.weight", weight)])
    sd._metadata = {"": Call(eval, create)}
    torch.save(sd, os.path.join(out, "evil_metadata.pt"))
    # 5. INST: protocol 0's call opcode, MARK args 'i' module name
    write_archive(os.path.join(out, "evil_inst.pt"),
                  b"\x80\x02(" + binunicode(touch) + b"ios\nsystem\n.")
    # 6. wrapped in {"state_dict": ...}, the callable reached through the wrapper
    torch.save({"state_dict": {"stem.conv.weight": Call(os.system, touch)}},
               os.path.join(out, "evil_wrapped.pt"))
    print(f"{out}: 6 malicious checkpoints, marker {marker}")


# ---- unit-test fixtures (tests/data/weights)


def save_fixtures(out):
    """Small checkpoints written by torch.save for tests/test_weights.c."""
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(5)
    m = nn.Sequential(nn.Conv2d(2, 3, 1, bias=False), nn.BatchNorm2d(3), nn.LayerNorm(3))
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
        m[1].running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
        m[1].running_var.copy_(torch.tensor([1.5, 0.25, 4.0]))
        m[1].num_batches_tracked.fill_(7)
    sd = m.state_dict()
    sd["half"] = torch.tensor([1.0, -0.0, 65504.0, 2.0 ** -24], dtype=torch.float16)
    sd["brain"] = torch.tensor([1.0, -2.5, float("inf")], dtype=torch.bfloat16)
    sd["double"] = torch.tensor([0.1, -1e300], dtype=torch.float64)
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    grid = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    sd["transposed"] = grid.permute(2, 0, 1)  # shape [4, 2, 3], strides (1, 12, 4)
    sd["strided"] = torch.arange(10, dtype=torch.float32)[1::3]  # [1, 4, 7]: offset 1 stride 3
    sd["expanded"] = torch.tensor([2.5]).expand(3, 2)  # stride 0
    sd["caf\u00e9"] = torch.tensor([0.5])
    torch.save(sd, os.path.join(out, "ref_small.pt"))
    torch.save({"epoch": 3, "state_dict": prefixed(m.state_dict())},
               os.path.join(out, "ref_wrapped.pt"))
    torch.save(m.state_dict(), os.path.join(out, "ref_proto4.pt"), pickle_protocol=4)
    # a parameter kept as nn.Parameter (keep_vars=True): _rebuild_parameter
    torch.save(m.state_dict(keep_vars=True), os.path.join(out, "ref_params.pt"))
    torch.save(m.state_dict(), os.path.join(out, "ref_legacy.pt"),
               _use_new_zipfile_serialization=False)
    print(f"{out}: ref_small.pt ref_wrapped.pt ref_proto4.pt ref_params.pt ref_legacy.pt")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("desc", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resolution", default="", help="R or HxW (default: the description's)")
    ap.add_argument("--dtype", default="F32", help="F32, F16 or BF16, or a comma list")
    ap.add_argument("--variants", default="", help="comma-separated subset (default: all)")
    ap.add_argument("--malicious", metavar="DIR")
    ap.add_argument("--marker", help="with --malicious: the file executing them would create")
    ap.add_argument("--fixtures", metavar="DIR")
    args = ap.parse_args()
    if args.malicious:
        if not args.marker:
            ap.error("--malicious needs --marker")
        save_malicious(args.malicious, os.path.abspath(args.marker))
    elif args.fixtures:
        save_fixtures(args.fixtures)
    elif args.desc and args.out:
        if any(t not in ("F32", "F16", "BF16") for t in args.dtype.split(",")):
            ap.error("--dtype takes F32, F16 and BF16")
        save_model_checkpoints(args)
    else:
        ap.error("give MODEL.yaml OUT_DIR, --malicious DIR --marker PATH or --fixtures DIR")


if __name__ == "__main__":
    main()
