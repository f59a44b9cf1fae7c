/*
 * Writing PyTorch checkpoints (what torch.save produces, readable by torch.load and by our
 * restricted unpickler in ptzip.c) without Python: RVC voice models must be .pth files that
 * the official WebUI and every RVC tool open.
 *
 * The object is built as a stream, like a pickle is: open a container, add values, close it.
 * Inside a dict every value is preceded by its key (nn_pth_str). Values become pickle
 * protocol 2 opcodes; tensors become torch._utils._rebuild_tensor_v2 calls whose storages
 * ('storage', torch.HalfStorage | torch.FloatStorage, key, 'cpu', numel) are written as
 * separate archive records. The archive is a stored (uncompressed) zip:
 *   <name>/data.pkl, <name>/data/0 … <name>/data/N (64-byte aligned, as torch aligns them),
 *   <name>/version ("3\n")
 * written to a temp file, fsynced and renamed into place.
 * A failed allocation while building is remembered and reported by nn_pth_save.
 */
#ifndef VC_NN_PTH_WRITE_H
#define VC_NN_PTH_WRITE_H

#include <stdint.h>

#include "base/error.h"

typedef struct nn_pth nn_pth;

nn_pth *nn_pth_new(void); /* NULL when out of memory */
void nn_pth_free(nn_pth *p);

/* Containers: ordered = 1 makes a collections.OrderedDict. Closed by nn_pth_end. */
void nn_pth_dict(nn_pth *p, int ordered);
void nn_pth_list(nn_pth *p);
void nn_pth_end(nn_pth *p);

void nn_pth_str(nn_pth *p, const char *s);
void nn_pth_int(nn_pth *p, int64_t v);
void nn_pth_float(nn_pth *p, double v);
/* A contiguous tensor of ndim (≤ 6) dims from float32 data, stored as fp16 (half = 1,
 * round to nearest even as Tensor.half()) or float32. The data is copied. */
void nn_pth_tensor(nn_pth *p, const float *data, int ndim, const int64_t *shape, int half);

/* Writes the archive (root folder name, e.g. "archive"). Unbalanced containers are an error. */
int nn_pth_save(nn_pth *p, const char *path, const char *root, vc_error *err);

#endif
