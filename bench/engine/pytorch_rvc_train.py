#!/usr/bin/env python3
"""The official RVC training step in PyTorch for any official configuration, next to
`voiceclone bench rvc train --sr SR --version V` (bench/engine/run.sh, STAGES=train).

  /usr/bin/python3 pytorch_rvc_train.py --rvc-src <RVC-WebUI tree> --version 2 --sr 40000 --out step.json

The hyperparameters and model sizes come from the tree's own configs/v1|v2/<sr>.json, chosen as the
official webui does (v2 at 40k has no v2/40k.json and trains with v1/40k.json), the networks from
infer/module/models.py (v2: SynthesizerTrnMs768NSFsid + MultiPeriodDiscriminatorV2; v1:
SynthesizerTrnMs256NSFsid + MultiPeriodDiscriminator, 256-dim content). One step = G forward,
D step, G step with the official losses and AdamW, random full-size weights, batch 4 x 370 frames,
float32, 2 threads: the same step ../shared/perf/pytorch_rvc.py times for v2 48k. A warm-up
step, then --steps timed ones (median reported). Peak RSS per phase (model build, warm-up step,
timed steps): the kernel's high-water mark is reset before each phase (5 > /proc/self/clear_refs)
where it allows, as our bench does; "rss_peaks" says "per_phase" or "so_far". Timing only: the
shims stand in for imports the step does not use (random mel filters)."""
import argparse
import json
import os
import resource
import sys
import time


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def official_config(rvc_src, version, sr):
    folder = "v2" if version == 2 and sr != 40000 else "v1"
    with open(os.path.join(rvc_src, "configs", folder, "%dk.json" % (sr // 1000))) as f:
        return json.load(f), "%s/%dk.json" % (folder, sr // 1000)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rvc-src", default=os.environ.get("RVC_SRC"), required=os.environ.get("RVC_SRC") is None)
    ap.add_argument("--perf", default=os.environ.get("PERF", os.path.join(os.path.dirname(__file__), "../../../shared/perf")))
    ap.add_argument("--version", type=int, choices=(1, 2), default=2)
    ap.add_argument("--sr", type=int, choices=(32000, 40000, 48000), default=48000)
    ap.add_argument("--steps", type=int, default=3, help="timed steps after the warm-up")
    ap.add_argument("--tiny", action="store_true", help="a few channels and a short segment: checks the harness, times nothing")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(os.path.abspath(a.perf), "shims", "rvc"))
    sys.path.insert(0, os.path.abspath(a.rvc_src))
    import torch
    from infer.module import commons
    from infer.module import models
    from train import losses as L
    from train.mel_processing import mel_spectrogram_torch, spec_to_mel_torch, spectrogram_torch
    torch.set_num_threads(2)
    torch.manual_seed(0)
    hps, cfg_name = official_config(a.rvc_src, a.version, a.sr)
    d, t = hps["data"], hps["train"]
    if a.tiny:
        hps["model"].update(inter_channels=8, hidden_channels=16, filter_channels=32, n_layers=1,
                            upsample_initial_channel=32, spk_embed_dim=1, gin_channels=8)
        t["segment_size"] = 8 * d["hop_length"]
    G = models.SynthesizerTrnMs768NSFsid if a.version == 2 else models.SynthesizerTrnMs256NSFsid
    D = models.MultiPeriodDiscriminatorV2 if a.version == 2 else models.MultiPeriodDiscriminator
    B, T, hop, seg, n_fft, dim = 4, 370, d["hop_length"], t["segment_size"], d["filter_length"], 768 if a.version == 2 else 256

    per_phase = reset_peak()
    net_g = G(n_fft // 2 + 1, seg // hop, **hps["model"], is_half=False, sr=a.sr).train()
    net_d = D(hps["model"]["use_spectral_norm"]).train()
    og = torch.optim.AdamW(net_g.parameters(), t["learning_rate"], betas=tuple(t["betas"]), eps=t["eps"])
    od = torch.optim.AdamW(net_d.parameters(), t["learning_rate"], betas=tuple(t["betas"]), eps=t["eps"])
    wave = torch.randn(B, 1, T * hop) * 0.1
    spec = spectrogram_torch(wave[:, 0], n_fft, a.sr, hop, d["win_length"], center=False)
    phone = torch.randn(B, T, dim)
    lens = torch.tensor([T] * B)
    pitch = torch.randint(1, 255, (B, T))
    pitchf = torch.rand(B, T) * 300 + 100
    sid = torch.zeros(B, dtype=torch.long)
    build_mib = peak_mib()

    def step():
        y_hat, ids, x_mask, z_mask, (z, z_p, m_p, logs_p, m_q, logs_q) = net_g(phone, lens, pitch, pitchf, spec, lens, sid)
        mel = spec_to_mel_torch(spec, n_fft, d["n_mel_channels"], a.sr, d["mel_fmin"], d["mel_fmax"])
        y_mel = commons.slice_segments(mel, ids, seg // hop)
        y_hat_mel = mel_spectrogram_torch(y_hat.squeeze(1), n_fft, d["n_mel_channels"], a.sr, hop, d["win_length"],
                                          d["mel_fmin"], d["mel_fmax"])
        w = commons.slice_segments(wave, ids * hop, seg)
        r, g_, _, _ = net_d(w, y_hat.detach())
        ld, _, _ = L.discriminator_loss(r, g_)
        od.zero_grad(); ld.backward(); od.step()
        r, g_, fr, fg = net_d(w, y_hat)
        lg = (L.generator_loss(g_)[0] + L.feature_loss(fr, fg)
              + torch.nn.functional.l1_loss(y_mel, y_hat_mel) * t["c_mel"]
              + L.kl_loss(z_p, logs_q, m_p, logs_p, z_mask) * t["c_kl"])
        og.zero_grad(); lg.backward(); og.step()

    per_phase = reset_peak() and per_phase
    t0 = time.perf_counter()
    step()                                  # warm-up
    first = time.perf_counter() - t0
    first_mib = peak_mib()
    per_phase = reset_peak() and per_phase
    ts = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    steps_mib = peak_mib()
    ts.sort()
    info = {"config": "v%d_%dk%s" % (a.version, a.sr // 1000, "_tiny" if a.tiny else ""), "official_config": cfg_name, "threads": 2,
            "dtype": "float32", "torch": torch.__version__,
            "params_g": sum(p.numel() for p in net_g.parameters()), "params_d": sum(p.numel() for p in net_d.parameters()),
            "batch": B, "frames_per_item": T, "segment_size": seg, "hop": hop, "content_dim": dim,
            "first_step_s": first, "times_s": ts, "median_s": ts[len(ts) // 2],
            "peak_rss_mib": max(build_mib, first_mib, steps_mib), "peak_rss_mib_build": build_mib,
            "peak_rss_mib_first_step": first_mib, "peak_rss_mib_steps": steps_mib,
            "rss_peaks": "per_phase" if per_phase else "so_far"}
    with open(a.out, "w") as f:
        json.dump(info, f)  # one line: run.sh prints one JSON object per line
    print(json.dumps(info))


if __name__ == "__main__":
    main()
