/*
 * The trained voice as the official small model (train/process_ckpt.py savee): what the RVC
 * WebUI, every RVC tool and our rvc_engine open. An OrderedDict
 *   "weight":  {G state_dict without enc_q.*, fp16}   (the posterior encoder only trains)
 *   "config":  the synthesizer constructor list [spec_channels, 32, inter, hidden, filter,
 *              n_heads, n_layers, kernel, p_dropout, "1", resblock kernels, dilations,
 *              upsample rates, upsample_initial, upsample kernels, spk_embed_dim, gin, sr]
 *              (the 32 is a segment size savee hard-codes; inference ignores it)
 *   "info":    free text ("<epoch>epoch" officially), "sr": "48k", "f0": 1 (0 without pitch),
 *              "version": "v2" or "v1"
 * written by nn/pth_write (atomic: temp file, fsync, rename).
 */
#include <stdio.h>
#include <string.h>

#include "models/rvc/rvc_trainer_internal.h"
#include "nn/pth_write.h"

static void int_list(nn_pth *p, const int *v, int n)
{
    nn_pth_list(p);
    for (int i = 0; i < n; i++) nn_pth_int(p, v[i]);
    nn_pth_end(p);
}

static void config_list(nn_pth *p, const rvc_train_config *c)
{
    const rvc_synth_config *g = &c->g;
    nn_pth_list(p);
    const int head[9] = {c->spec_channels, 32, g->inter, g->hidden, g->filter, g->n_heads, g->n_layers, g->kernel, 0};
    for (int i = 0; i < 9; i++) nn_pth_int(p, head[i]);
    nn_pth_str(p, "1");
    int_list(p, g->resblock_kernels, g->n_kernels);
    nn_pth_list(p);
    for (int i = 0; i < g->n_kernels; i++) int_list(p, g->resblock_dilations[i], 3);
    nn_pth_end(p);
    int_list(p, g->upsample_rates, g->n_ups);
    nn_pth_int(p, g->upsample_initial);
    int_list(p, g->upsample_kernels, g->n_ups);
    nn_pth_int(p, g->spk_embed_dim);
    nn_pth_int(p, g->gin);
    nn_pth_int(p, g->sr);
    nn_pth_end(p);
}

static void weights(nn_pth *p, const rvc_paramset *G)
{
    nn_pth_dict(p, 0);
    for (int i = 0; i < G->count; i++) {
        const rvc_param *w = &G->p[i];
        if (strstr(w->name, "enc_q")) continue;
        nn_pth_str(p, w->name);
        nn_pth_tensor(p, w->val, w->ndim, w->shape, 1);
    }
    nn_pth_end(p);
}

int rvc_trainer_export(const rvc_trainer *t, const char *pth_path, const char *info, vc_error *err)
{
    char sr[16], default_info[32];
    snprintf(sr, sizeof sr, "%dk", t->cfg.g.sr / 1000);
    snprintf(default_info, sizeof default_info, "%depoch", t->epoch > t->epochs ? t->epochs : t->epoch);
    nn_pth *p = nn_pth_new();
    if (!p) return vc_fail(err, VC_ERR_NOMEM, "out of memory");
    nn_pth_dict(p, 1);
    nn_pth_str(p, "weight");
    weights(p, &t->G);
    nn_pth_str(p, "config");
    config_list(p, &t->cfg);
    nn_pth_str(p, "info");
    nn_pth_str(p, info ? info : default_info);
    nn_pth_str(p, "sr");
    nn_pth_str(p, sr);
    nn_pth_str(p, "f0");
    nn_pth_int(p, t->cfg.g.f0 ? 1 : 0);
    nn_pth_str(p, "version");
    nn_pth_str(p, t->set->version == 1 ? "v1" : "v2");
    nn_pth_end(p);
    int rc = nn_pth_save(p, pth_path, "archive", err);
    nn_pth_free(p);
    return rc ? vc_error_wrap(err, "exporting the voice model") : 0;
}
