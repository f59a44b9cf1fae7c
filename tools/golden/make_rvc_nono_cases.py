"""Golden cases for RVC synthesizers WITHOUT pitch (SynthesizerTrnMs768NSFsid_nono v2,
SynthesizerTrnMs256NSFsid_nono v1): small random weights run through the OFFICIAL
infer/module/models.py (RVC-Project/Retrieval-based-Voice-Conversion-WebUI), float32 CPU.
The shared golden set has only pitch models; these follow its file format (config.json,
synthesizer.safetensors, inputs.safetensors, expected.safetensors) and its noise naming.

  /usr/bin/python3 tools/golden/make_rvc_nono_cases.py RVC_SOURCE_DIR OUT_DIR

RVC_SOURCE_DIR holds infer/module/*.py of the official repository (offline; fixtures only,
never at runtime). Needs torch (Debian python3-torch); scipy is stubbed (unused here).
"""
import json
import os
import struct
import sys
import types

import numpy as np
import torch

sys.modules.setdefault("scipy", types.ModuleType("scipy"))
sys.path.insert(0, sys.argv[1])
from infer.module import models  # noqa: E402  (official code)

CASES = {
    "synth_v2_40k_nono_small": dict(cls="SynthesizerTrnMs768NSFsid_nono", phone_dim=768, sr=40000,
                                    ups=[10, 10, 2, 2], kernels=[16, 16, 4, 4], seed=700),
    "synth_v1_32k_nono_small": dict(cls="SynthesizerTrnMs256NSFsid_nono", phone_dim=256, sr=32000,
                                    ups=[10, 4, 2, 2, 2], kernels=[16, 16, 4, 4, 4], seed=701),
}
T = 60


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[arr.dtype]
        raw = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def fp16_exact(model):
    """Round every float to fp16 (released .pth files are fp16), keep float32 storage."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())


def make_case(out_dir, name, spec):
    torch.manual_seed(spec["seed"])
    config = [1025, 36, 32, 32, 64, 2, 2, 3, 0, "1", [3, 7, 11], [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
              spec["ups"], 64, spec["kernels"], 4, 16, spec["sr"]]
    net = getattr(models, spec["cls"])(*config, is_half=False)
    with torch.no_grad():
        for p in net.parameters():  # default inits are tiny for some layers: widen so every stage matters
            p.add_(torch.randn_like(p) * 0.05)
    fp16_exact(net)
    del net.enc_q  # as in released inference checkpoints
    net.eval()
    phone = torch.randn(1, T, spec["phone_dim"])
    lengths = torch.tensor([T])
    sid = torch.tensor([1])
    recorded = []
    real = torch.randn_like

    def recording_randn_like(x, *a, **k):
        r = real(x, *a, **k)
        recorded.append(r.clone())
        return r

    taps = {}
    enc_forward = net.enc_p.forward

    def enc_tap(*a, **k):
        m, logs, mask = enc_forward(*a, **k)
        taps.update({"enc_p.m_p": m, "enc_p.logs_p": logs, "enc_p.x_mask": mask})
        return m, logs, mask

    flow_forward = net.flow.forward

    def flow_tap(x, x_mask, g=None, reverse=False):
        taps["z_p"] = x.clone()
        z = flow_forward(x, x_mask, g=g, reverse=reverse)
        taps["flow_reverse.z"] = z
        return z

    net.enc_p.forward, net.flow.forward = enc_tap, flow_tap
    torch.randn_like = recording_randn_like
    try:
        with torch.no_grad():
            audio, _, _ = net.infer(phone, lengths, sid)
    finally:
        torch.randn_like = real
    assert len(recorded) == 1, "nono infer draws exactly one noise tensor"
    taps["g"] = net.emb_g(sid).unsqueeze(-1).detach()
    taps["audio"] = audio
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    state = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    write_safetensors(os.path.join(d, "synthesizer.safetensors"), state)
    write_safetensors(os.path.join(d, "inputs.safetensors"), {
        "phone": phone.numpy(), "phone_lengths": lengths.numpy(), "sid": sid.numpy(),
        "noise.00.models.infer.randn_like": recorded[0].numpy()})
    write_safetensors(os.path.join(d, "expected.safetensors"),
                      {k: v.detach().numpy().astype(np.float32) for k, v in taps.items()})
    keys = ["spec_channels", "segment_size", "inter_channels", "hidden_channels", "filter_channels", "n_heads",
            "n_layers", "kernel_size", "p_dropout", "resblock", "resblock_kernel_sizes", "resblock_dilation_sizes",
            "upsample_rates", "upsample_initial_channel", "upsample_kernel_sizes", "spk_embed_dim", "gin_channels", "sr"]
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"stage": "synthesizer_infer", "model": spec["cls"] + " (no f0), official infer/module/models.py",
                   "synthesizer": dict(zip(keys, config)), "seed": spec["seed"], "T_frames": T,
                   "noise_inputs_in_call_order": ["noise.00.models.infer.randn_like"],
                   "generator": "tools/golden/make_rvc_nono_cases.py (torch %s)" % torch.__version__,
                   "tolerance": {"enc_p": {"atol": 1e-4, "rtol": 1e-4}, "flow": {"atol": 1e-4, "rtol": 1e-4},
                                 "audio": {"atol": 2e-5, "rtol": 1e-3}}}, f, indent=1)


if __name__ == "__main__":
    for name, spec in CASES.items():
        make_case(sys.argv[2], name, spec)
        print("wrote", name)
