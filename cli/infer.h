/* Windowed inference: a network over many fixed windows, on several threads,
 * to probabilities (validation, `stride eval`, `stride predict`). */
#ifndef STRIDE_INFER_H
#define STRIDE_INFER_H

#include "stride.h"

/* Probabilities for a set of windows: nets[t] is thread t's network (same
 * weights), in inference mode; window i starts at x + i * step; outputs become
 * probabilities by the one rule (stride_probs_from_outputs: averaged over
 * multi-step outputs). gain multiplies the input. probs: n x k. */
int cli_infer_windows(StrideNet **nets, int threads, const float *x, long long n,
                      long long step, int window, float gain, float *probs, int k,
                      char err[STRIDE_ERR_LEN]);

/* The same for one network: threads clones of net are made for it and freed
 * (a command scoring a model once). Returns 0 or -1. */
int cli_infer_net_windows(const StrideNet *net, int threads, const float *x, long long n,
                          long long step, int window, float gain, float *probs, int k,
                          char err[STRIDE_ERR_LEN]);

#endif /* STRIDE_INFER_H */
