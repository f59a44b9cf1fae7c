"""Replay the golden RVC training step (train_step_v2_48k_small) with the OFFICIAL code of the RVC
repository in float32 on this machine, and count how many elements of each recorded gradient fall
outside the case's own tolerance. This measures how reproducible the reference is across machines
and summation orders (docs/RVC.md, "Gradient tolerance"). Offline analysis only: never at runtime
or in tests.

  /usr/bin/python3 tools/golden/replay_rvc_train_step.py RVC_SOURCE_DIR CASE_DIR

RVC_SOURCE_DIR holds infer/module/*.py and train/{losses,mel_processing}.py of the official
repository. Needs torch and numpy (Debian python3-torch); librosa and scipy are stubbed (the mel
basis comes from the case's expected mel_basis, which is what librosa returns).
"""
import json, math, struct, sys, types
import numpy as np
import torch

SRC, CASE = sys.argv[1], sys.argv[2]
sys.path.insert(0, SRC)
sys.modules.setdefault("scipy", types.ModuleType("scipy"))
lib=types.ModuleType('librosa'); lib.filters=types.ModuleType('librosa.filters'); sys.modules['librosa']=lib; sys.modules['librosa.filters']=lib.filters
lib.filters.mel=lambda **k: MELB
from infer.module import models, commons  # noqa: E402  (official code)
from train import losses, mel_processing  # noqa: E402

def load(p):
    b=open(p,'rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n]); d={}
    for k,v in h.items():
        if k=='__metadata__': continue
        s,e=v['data_offsets']; dt={'F32':np.float32,'F64':np.float64,'I64':np.int64}[v['dtype']]
        d[k]=torch.from_numpy(np.frombuffer(b[8+n+s:8+n+e],dtype=dt).reshape(v['shape']).copy())
    return d
cfg=json.load(open(CASE+'/config.json')); I=load(CASE+'/inputs.safetensors'); E=load(CASE+'/expected.safetensors')
MELB=E['mel_basis'].numpy()
GW=load(CASE+'/generator.safetensors'); DW=load(CASE+'/discriminator.safetensors')

def run(dtype):
    torch.set_default_dtype(dtype)
    g=cfg['generator']; div=cfg['discriminator']['channel_divisor']
    net_g=models.SynthesizerTrnMs768NSFsid(g['spec_channels'], g['segment_size'], g['inter_channels'], g['hidden_channels'], g['filter_channels'], g['n_heads'], g['n_layers'], g['kernel_size'], g['p_dropout'], g['resblock'], g['resblock_kernel_sizes'], g['resblock_dilation_sizes'], g['upsample_rates'], g['upsample_initial_channel'], g['upsample_kernel_sizes'], g['spk_embed_dim'], g['gin_channels'], g['sr'], is_half=False)
    C1,C2=models.Conv1d,models.Conv2d
    red=lambda c: c if c==1 else max(2,c//div)
    def mk(base):
        def f(ci,co,k,s=1,padding=0,groups=1,**kw):
            ci2,co2=red(ci),red(co); return base(ci2,co2,k,s,padding=padding,groups=math.gcd(groups,math.gcd(ci2,co2)),**kw)
        return f
    models.Conv1d,models.Conv2d=mk(C1),mk(C2)
    net_d=models.MultiPeriodDiscriminatorV2(); models.Conv1d,models.Conv2d=C1,C2
    net_g.load_state_dict({k:v.to(dtype) for k,v in GW.items()}); net_d.load_state_dict({k:v.to(dtype) for k,v in DW.items()})
    net_g.train(); net_d.train()
    noise=[I['noise.00.models.forward.randn_like'],I['noise.01.models.forward.rand'],I['noise.02.models.forward.randn_like']]
    q=list(noise); rl,rr=torch.randn_like,torch.rand
    def fake_randn_like(x,*a,**k): t=q.pop(0); assert t.shape==x.shape,(t.shape,x.shape); return t.to(x.dtype)
    def fake_rand(*shape,**k): t=q.pop(0); return t.to(k.get('dtype') or dtype)
    torch.randn_like=fake_randn_like; torch.rand=fake_rand
    ids=I['ids_slice']
    orig=commons.rand_slice_segments
    models.commons.rand_slice_segments=lambda x,l,s: (commons.slice_segments(x,ids,s),ids)
    t=cfg['train']; d=cfg['data']
    og=torch.optim.AdamW(net_g.parameters(),t['learning_rate'],betas=t['betas'],eps=t['eps'])
    od=torch.optim.AdamW(net_d.parameters(),t['learning_rate'],betas=t['betas'],eps=t['eps'])
    f=lambda k: I[k].to(dtype) if I[k].dtype!=torch.int64 else I[k]
    y_hat,ids_slice,x_mask,z_mask,(z,z_p,m_p,logs_p,m_q,logs_q)=net_g(f('phone'),I['phone_lengths'],I['pitch'],f('pitchf'),f('spec'),I['spec_lengths'],I['sid'])
    torch.randn_like,torch.rand=rl,rr; models.commons.rand_slice_segments=orig
    mel=mel_processing.spec_to_mel_torch(f('spec'),d['filter_length'],d['n_mel_channels'],d['sampling_rate'],d['mel_fmin'],d['mel_fmax'])
    seg=t['segment_size']//d['hop_length']
    y_mel=commons.slice_segments(mel,ids_slice,seg)
    y_hat_mel=mel_processing.mel_spectrogram_torch(y_hat.squeeze(1),d['filter_length'],d['n_mel_channels'],d['sampling_rate'],d['hop_length'],d['win_length'],d['mel_fmin'],d['mel_fmax'])
    wave=commons.slice_segments(f('wave'),ids_slice*d['hop_length'],t['segment_size'])
    r,gg,_,_=net_d(wave,y_hat.detach()); ld,_,_=losses.discriminator_loss(r,gg)
    od.zero_grad(); ld.backward(); gd={'grad.D.'+n:p.grad.detach().clone() for n,p in net_d.named_parameters()}; od.step()
    r,gg,fr,fg=net_d(wave,y_hat)
    lm=torch.nn.functional.l1_loss(y_mel,y_hat_mel)*t['c_mel']; lk=losses.kl_loss(z_p,logs_q,m_p,logs_p,z_mask)*t['c_kl']
    lf=losses.feature_loss(fr,fg); lg,_=losses.generator_loss(gg); la=lg+lf+lm+lk
    og.zero_grad(); la.backward()
    out={'grad.G.'+n:p.grad.detach().clone() for n,p in net_g.named_parameters()}; out.update(gd)
    out.update({'loss_disc':ld.detach(),'loss_mel':lm.detach(),'loss_gen_all':la.detach(),'y_hat':y_hat.detach()})
    return out

r32 = run(torch.float32)
tol = cfg['tolerance']['grads']
for k in E:
    if not k.startswith('grad.') or k not in r32:
        continue
    e = E[k].double().ravel(); a = r32[k].double().ravel()
    n = int(((a - e).abs() > tol['atol'] + tol['rtol'] * e.abs()).sum())
    scale = e.abs().max().item()
    print('%-50s official float32 outside %d of %d, max |diff| %.2g (%.2g of max|expected|)'
          % (k, n, e.numel(), (a - e).abs().max().item(), (a - e).abs().max().item() / max(scale, 1e-30)))
