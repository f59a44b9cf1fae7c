#!/usr/bin/python3
"""Reference values for the engine's ops, computed by PyTorch 1.13 (offline, never at runtime).

Writes tests/nn/fixtures/ops.safetensors, read by tests/nn/test_ops_torch.c. Every case is a
group of float32 tensors named "<op>.<case>.<role>": inputs, torch's output (role "y"), and for
ops with integer settings a "cfg" vector of them, so the C test is driven by this file alone.
Layouts are the engine's: sequences time-major [T, C] (torch's [1, C, T] transposed), 2-D maps
channel-major [C, H, W], weights in PyTorch's own layouts.

Ops that have no torch primitive (rotary as F5-TTS applies it, VITS relative-position attention,
the torchaudio HTK mel filterbank) are written here in torch from their published definitions;
nothing is imported from the projects that define them.

    /usr/bin/python3 tools/golden/make_op_fixtures.py   # rewrites the fixture deterministically
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "nn", "fixtures", "ops.safetensors")

tensors = {}


def put(name, t):
    tensors[name] = t.detach().to(torch.float32).contiguous()


def rand(*shape, scale=1.0):
    return torch.randn(*shape, dtype=torch.float64).to(torch.float32) * scale


def tm(x):
    """[1, C, T] → time-major [T, C]"""
    return x[0].transpose(0, 1)


# ---- dense layers -------------------------------------------------------------------------

def linear_cases():
    x, w, b = rand(5, 7), rand(3, 7), rand(3)
    put("linear.x", x); put("linear.w", w); put("linear.b", b)
    put("linear.y", F.linear(x, w, b)); put("linear.y_nobias", F.linear(x, w))


def weight_norm_cases():
    """torch.nn.utils.weight_norm(dim=0): w = g·v/‖v‖ over all dims but the first (Conv1d's c_out,
    ConvTranspose1d's c_in)."""
    for i, shape in enumerate([(6, 4, 5), (4, 3, 8)]):
        v, g = rand(*shape), rand(shape[0], 1, 1)
        put(f"weight_norm.{i}.v", v); put(f"weight_norm.{i}.g", g)
        put(f"weight_norm.{i}.w", torch._weight_norm(v, g, 0))


def cumsum_cases():
    """torch.cumsum of float32 on the CPU accumulates in double: the NSF phase of a long signal."""
    x = torch.rand(20000) * 0.7
    put("cumsum.x", x); put("cumsum.y", torch.cumsum(x, 0))


# ---- convolutions -------------------------------------------------------------------------

def conv1d_cases():
    # c_in, c_out, k, stride, dilation, pad_left, pad_right, groups, T
    cases = [(4, 6, 3, 1, 1, 1, 1, 1, 13),       # narrow: im2col path
             (4, 6, 3, 2, 2, 2, 1, 2, 11),       # stride, dilation, asymmetric pad, groups
             (32, 24, 7, 1, 3, 9, 9, 1, 40),     # HiFi-GAN resblock: by-tap path, dilation 3
             (32, 16, 5, 3, 2, 4, 1, 1, 37),     # by tap with stride
             (64, 32, 3, 2, 1, 1, 2, 2, 25),     # by tap, two groups
             (1, 8, 10, 5, 1, 0, 0, 1, 61),      # HuBERT's first conv shape (mono, strided)
             (1, 8, 8, 4, 1, 2, 2, 1, 40),       # RVC noise conv (k = 2·stride, pad = stride/2)
             (16, 16, 6, 1, 1, 3, 3, 4, 12)]     # HuBERT positional conv (even k, T+1 frames)
    for i, (ci, co, k, s, d, pl, pr, g, T) in enumerate(cases):
        x, w, b = rand(1, ci, T), rand(co, ci // g, k, scale=0.5), rand(co)
        y = F.conv1d(F.pad(x, (pl, pr)), w, b, stride=s, dilation=d, groups=g)
        p = f"conv1d.{i}."
        put(p + "cfg", torch.tensor([ci, co, k, s, d, pl, pr, g]))
        put(p + "x", tm(x)); put(p + "w", w); put(p + "b", b); put(p + "y", tm(y))


def conv1d_tm_cases():
    # the stride-1 symmetric-padding variant F5-TTS and Vocos use: c, c_out, k, pad, groups, T
    cases = [(8, 8, 7, 3, 8, 15),                # ConvNeXt depthwise k7
             (32, 32, 31, 15, 16, 20),           # F5-TTS conv position embedding (grouped k31)
             (6, 10, 7, 3, 1, 9)]                # Vocos embed conv (dense)
    for i, (ci, co, k, pad, g, T) in enumerate(cases):
        x, w, b = rand(1, ci, T), rand(co, ci // g, k, scale=0.5), rand(co)
        y = F.conv1d(x, w, b, padding=pad, groups=g)
        p = f"conv1d_tm.{i}."
        put(p + "cfg", torch.tensor([ci, co, k, pad, g]))
        put(p + "x", tm(x)); put(p + "w", w); put(p + "b", b); put(p + "y", tm(y))


def conv_transpose1d_cases():
    # HiFi-GAN upsamplers: padding (k − stride)/2, T_out = T·stride. c_in, c_out, k, stride, T
    cases = [(8, 4, 16, 8, 5), (6, 3, 4, 2, 7), (4, 2, 20, 10, 3), (16, 8, 24, 12, 4)]
    for i, (ci, co, k, s, T) in enumerate(cases):
        pad = (k - s) // 2
        x, w, b = rand(1, ci, T), rand(ci, co, k, scale=0.5), rand(co)
        y = F.conv_transpose1d(x, w, b, stride=s, padding=pad)
        p = f"conv_transpose1d.{i}."
        put(p + "cfg", torch.tensor([ci, co, k, s, pad]))
        put(p + "x", tm(x)); put(p + "w", w); put(p + "b", b); put(p + "y", tm(y))


def conv2d_cases():
    # 3×3, pad 1: ci, H, W, co (the last one takes the padded-taps strategy)
    for i, (ci, H, W, co) in enumerate([(3, 5, 7, 4), (16, 8, 6, 8), (1, 4, 33, 2)]):
        x, w, b = rand(ci, H, W), rand(co, ci, 3, 3, scale=0.5), rand(co)
        p = f"conv2d_3x3.{i}."
        put(p + "x", x); put(p + "w", w); put(p + "b", b)
        put(p + "y", F.conv2d(x[None], w, b, padding=1)[0])


def conv_transpose2d_cases():
    # RMVPE decoder: k 3, stride 2, padding 1, output_padding 1, no bias → [co, 2H, 2W]
    for i, (ci, H, W, co) in enumerate([(4, 3, 5, 2), (8, 4, 4, 4)]):
        x, w = rand(ci, H, W), rand(ci, co, 3, 3, scale=0.5)
        p = f"conv_transpose2d.{i}."
        put(p + "x", x); put(p + "w", w)
        put(p + "y", F.conv_transpose2d(x[None], w, None, stride=2, padding=1, output_padding=1)[0])


# ---- norms, activations, pooling, resampling ---------------------------------------------

def norm_cases():
    x = rand(6, 20, scale=3.0) + 1.5
    g, b = rand(20), rand(20)
    for i, eps in enumerate([1e-5, 1e-6]):
        put(f"layer_norm.{i}.cfg", torch.tensor([eps]))
        put(f"layer_norm.{i}.x", x); put(f"layer_norm.{i}.gamma", g); put(f"layer_norm.{i}.beta", b)
        put(f"layer_norm.{i}.y", F.layer_norm(x, (20,), g, b, eps))
    # GroupNorm with one group per channel over time (HuBERT's first conv layer), eps 1e-5
    x, g, b = rand(1, 6, 50, scale=2.0) + 0.7, rand(6), rand(6)
    put("group_norm.0.x", tm(x)); put("group_norm.0.gamma", g); put("group_norm.0.beta", b)
    put("group_norm.0.y", tm(F.group_norm(x, 6, g, b, 1e-5)))
    # BatchNorm2d in eval mode on [C, H, W], with and without the ReLU RMVPE fuses after it
    x, g, b, mean, var = rand(5, 3, 4), rand(5), rand(5), rand(5), torch.rand(5) + 0.1
    y = F.batch_norm(x[None], mean, var, g, b, training=False, eps=1e-5)[0]
    put("batch_norm.0.x", x); put("batch_norm.0.gamma", g); put("batch_norm.0.beta", b)
    put("batch_norm.0.mean", mean); put("batch_norm.0.var", var)
    put("batch_norm.0.y", y); put("batch_norm.0.y_relu", F.relu(y))


def activation_cases():
    # both the 8-lane bodies and the scalar tails (37 values), tails of the curves included
    x = torch.cat([torch.linspace(-30, 30, 37), rand(40, scale=3.0)])
    put("act.x", x)
    put("act.gelu_erf", F.gelu(x))
    put("act.gelu_tanh", F.gelu(x, approximate="tanh"))
    put("act.silu", F.silu(x))
    put("act.mish", F.mish(x))
    put("act.leaky_relu_0.1", F.leaky_relu(x, 0.1))
    put("act.leaky_relu_0.01", F.leaky_relu(x, 0.01))
    put("act.tanh", torch.tanh(x))
    put("act.sigmoid", torch.sigmoid(x))
    s = torch.cat([rand(3, 37, scale=4.0), torch.tensor([[1000.0, 1001.0, 999.0] + [-5.0] * 34])])
    put("softmax.x", s); put("softmax.y", torch.softmax(s, dim=-1))


def pool_interp_cases():
    x = rand(3, 6, 9)  # odd width: the last column is dropped, as floor mode does
    put("avg_pool2d.x", x); put("avg_pool2d.y", F.avg_pool2d(x[None], 2)[0])
    x = rand(1, 5, 7)  # nearest ×2 on [T, C]: RVC's feature upsampling
    put("interp_nearest.x", tm(x)); put("interp_nearest.y", tm(F.interpolate(x, scale_factor=2, mode="nearest")))
    for i, (m, n) in enumerate([(7, 30), (13, 5), (9, 9), (1, 4)]):  # up, down, same, single point
        x = rand(1, 1, m)
        put(f"interp_linear.{i}.x", x[0, 0])
        put(f"interp_linear.{i}.y", F.interpolate(x, size=n, mode="linear", align_corners=False)[0, 0])
    for i, (m, n) in enumerate([(7, 30), (5, 480), (9, 9), (1, 4)]):  # 480: one frame → RVC's 48 kHz samples
        x = rand(1, 1, m) * 100  # the running phase reaches many cycles
        put(f"interp_linear_ac.{i}.x", x[0, 0])
        put(f"interp_linear_ac.{i}.y", F.interpolate(x, size=n, mode="linear", align_corners=True)[0, 0])


# ---- attention ----------------------------------------------------------------------------

def attention_cases():
    T, heads, dh = 11, 3, 8
    q, k, v = rand(heads, T, dh), rand(heads, T, dh), rand(heads, T, dh)
    scale = 1 / math.sqrt(dh)
    y = torch.softmax(q @ k.transpose(1, 2) * scale, dim=-1) @ v  # [heads, T, dh]

    def flat(t):  # [heads, T, dh] → [T, heads·dh], head h in columns h·dh..
        return t.transpose(0, 1).reshape(T, heads * dh)

    put("attention.q", flat(q)); put("attention.k", flat(k)); put("attention.v", flat(v))
    put("attention.cfg", torch.tensor([heads, dh, scale])); put("attention.y", flat(y))


def rotary_cases():
    """F5-TTS (x-transformers) rotary: angles θ[n][2j] = θ[n][2j+1] = n / 10000^(2j/d), applied
    to interleaved pairs: out = x·cos θ + rotate_half(x)·sin θ, rotate_half(x)[2j] = −x[2j+1],
    rotate_half(x)[2j+1] = x[2j]."""
    N, heads, d = 9, 2, 64
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d))
    theta = torch.outer(torch.arange(N).float(), inv).repeat_interleave(2, dim=-1)  # [N, d]
    x = rand(N, heads, d)
    pairs = x.reshape(N, heads, d // 2, 2)
    rot = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).reshape(N, heads, d)
    y = x * theta.cos()[:, None] + rot * theta.sin()[:, None]
    put("rotary.theta", theta); put("rotary.x", x.reshape(N, heads * d)); put("rotary.y", y.reshape(N, heads * d))


def relative_embeddings(emb, length, window):
    """VITS: the 2·length − 1 relative embeddings for offsets −(length−1)..length−1, zero beyond
    the window (emb [1, 2w+1, kc])."""
    pad = max(length - (window + 1), 0)
    start = max(window + 1 - length, 0)
    padded = F.pad(emb, (0, 0, pad, pad, 0, 0)) if pad > 0 else emb
    return padded[:, start:start + 2 * length - 1]


def rel_to_abs(x):
    """[b, h, l, 2l−1] logits by relative offset → [b, h, l, l] by absolute key position."""
    b, h, l, _ = x.shape
    x = F.pad(x, (0, 1)).reshape(b, h, 2 * l * l)
    x = F.pad(x, (0, l - 1))
    return x.reshape(b, h, l + 1, 2 * l - 1)[:, :, :l, l - 1:]


def abs_to_rel(x):
    """[b, h, l, l] weights by absolute key position → [b, h, l, 2l−1] by relative offset."""
    b, h, l, _ = x.shape
    x = F.pad(x, (0, l - 1)).reshape(b, h, l * l + l * (l - 1))
    x = F.pad(x, (l, 0))
    return x.reshape(b, h, l, 2 * l)[:, :, :, 1:]


def relative_attention_cases():
    """VITS multi-head attention with shared relative embeddings (window 10), no mask."""
    window = 10
    for i, (T, heads, kc) in enumerate([(14, 2, 8), (25, 2, 4), (6, 1, 8)]):  # longer and shorter than the window
        q, k, v = rand(1, heads, T, kc), rand(1, heads, T, kc), rand(1, heads, T, kc)
        rel_k, rel_v = rand(1, 2 * window + 1, kc, scale=kc ** -0.5), rand(1, 2 * window + 1, kc, scale=kc ** -0.5)
        qs = q / math.sqrt(kc)
        scores = qs @ k.transpose(-2, -1)
        scores = scores + rel_to_abs(qs @ relative_embeddings(rel_k, T, window).unsqueeze(0).transpose(-2, -1))
        p_attn = torch.softmax(scores, dim=-1)
        y = p_attn @ v + abs_to_rel(p_attn) @ relative_embeddings(rel_v, T, window).unsqueeze(0)

        def flat(t):
            return t[0].transpose(0, 1).reshape(T, heads * kc)

        p = f"relative_attention.{i}."
        put(p + "cfg", torch.tensor([heads, kc, window]))
        put(p + "q", flat(q)); put(p + "k", flat(k)); put(p + "v", flat(v))
        put(p + "rel_k", rel_k); put(p + "rel_v", rel_v); put(p + "y", flat(y))


def gru_cases():
    """torch.nn.GRU(batch_first, bidirectional), one layer: out [T, 2H] = forward | backward."""
    T, n_in, H = 12, 10, 6
    gru = torch.nn.GRU(n_in, H, batch_first=True, bidirectional=True)
    x = rand(1, T, n_in)
    with torch.no_grad():
        y, _ = gru(x)
    put("gru.x", x[0]); put("gru.y", y[0])
    for d, suffix in enumerate(["", "_reverse"]):
        for part in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]:
            put(f"gru.{part}.{d}", getattr(gru, f"{part}_l0{suffix}"))


# ---- spectral -----------------------------------------------------------------------------

def spectral_cases():
    n_fft, hop = 64, 16
    window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
    x = rand(300).double()
    spec = torch.stft(x, n_fft, hop, window=window, center=True, pad_mode="reflect", return_complex=True)
    put("stft.x", x); put("stft.cfg", torch.tensor([n_fft, hop])); put("stft.mag", spec.abs().T)
    # ISTFT of an arbitrary one-sided spectrum (not a consistent STFT) as Vocos' head makes one
    frames, bins = 12, n_fft // 2 + 1
    mag, phase = torch.rand(bins, frames, dtype=torch.float64) * 2, rand(bins, frames).double() * 3
    re, im = (mag * phase.cos()).float(), (mag * phase.sin()).float()
    y = torch.istft(torch.complex(re.double(), im.double()), n_fft, hop, window=window, center=True)
    put("istft.cfg", torch.tensor([n_fft, hop])); put("istft.re", re.T); put("istft.im", im.T); put("istft.y", y)
    # log(clamp(mag·fb)): a silent frame reaches the clamp
    mag, fb = torch.rand(4, 33) * 3, torch.rand(33, 6) * (torch.rand(33, 6) > 0.5)
    mag[1] = 1e-7
    put("log_mel.mag", mag); put("log_mel.fb", fb); put("log_mel.cfg", torch.tensor([1e-5]))
    put("log_mel.y", torch.log(torch.clamp(mag @ fb, min=1e-5)))
    put("mel_fb.cfg", torch.tensor([513, 100, 0, 12000, 24000]))
    put("mel_fb.y", melscale_fbanks_htk(513, 0.0, 12000.0, 100, 24000))


def melscale_fbanks_htk(n_freqs, f_min, f_max, n_mels, sample_rate):
    """torchaudio.functional.melscale_fbanks(mel_scale="htk", norm=None), float32 → [n_freqs, n_mels]."""
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_min, m_max = 2595.0 * math.log10(1.0 + f_min / 700.0), 2595.0 * math.log10(1.0 + f_max / 700.0)
    m_pts = torch.linspace(m_min, m_max, n_mels + 2)
    f_pts = 700.0 * (10 ** (m_pts / 2595.0) - 1.0)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)
    down = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return torch.max(torch.zeros(1), torch.min(down, up))


# ---- output -------------------------------------------------------------------------------

def write_safetensors(path, named):
    header, offset, blobs = {}, 0, []
    for name in sorted(named):
        data = named[name].numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(named[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(20261125)
    for make in [linear_cases, weight_norm_cases, cumsum_cases, conv1d_cases, conv1d_tm_cases, conv_transpose1d_cases, conv2d_cases, conv_transpose2d_cases,
                 norm_cases, activation_cases, pool_interp_cases, attention_cases, rotary_cases,
                 relative_attention_cases, gru_cases, spectral_cases]:
        make()
    write_safetensors(OUT, tensors)
    print(f"{OUT}: {len(tensors)} tensors, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
