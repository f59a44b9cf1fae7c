/*
 * The cancel hook of long engine calls that are not on a tape (the tape has its own, ag_cancel):
 * asked between chunks of work; non-zero stops the call with VC_ERR_CANCELLED. It is asked often,
 * so it must be cheap (an atomic load). The models' hooks (rmvpe_cancel_fn, hubert_cancel_fn) have
 * the same type and are passed through.
 */
#ifndef VC_NN_CANCEL_H
#define VC_NN_CANCEL_H

#include "base/error.h"

typedef int (*nn_cancel_fn)(void *ctx);

/* -1 with VC_ERR_CANCELLED in err when cancelled (may be NULL) asks for a stop, else 0. */
static inline int nn_poll_cancel(nn_cancel_fn cancelled, void *ctx, vc_error *err)
{
    return cancelled && cancelled(ctx) ? vc_fail(err, VC_ERR_CANCELLED, "cancelled") : 0;
}

#endif
