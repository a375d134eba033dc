/* Internal: a network's layers prepared for the streaming engine, and a chain
 * of them run over a block of fixed length without allocating.
 *
 * Every tensor here is frame-major, (t, c) with frame t at x[t * c] (see
 * rt_kernels.h); the batch library's (c, t) order only matters for dense,
 * whose weights are reordered once so it reads a frame-major block directly. */
#ifndef STRIDE_STREAM_LAYERS_H
#define STRIDE_STREAM_LAYERS_H

#include <stdbool.h>

#include "layer_table.h"

/* One layer, ready to run: StrideRtOp (layer_table.h), its hooks from the
 * layer's row of the table. */

/* Prepares layer `i` of `net` (inference: a batchnorm1d becomes a per-channel
 * scale and shift) for inputs of c_in channels and t_in frames (t_in matters
 * to dense only), giving c_out channels. Returns 0, or -1 with err set. */
int stride_rt_op_init(StrideRtOp *op, StrideNet *net, int i, int c_in, int t_in, int c_out,
                      StrideRtIsa isa, char err[STRIDE_ERR_LEN]);
void stride_rt_op_free(StrideRtOp *op);

/* Layers that map each frame to one frame on their own (activations,
 * batchnorm1d, softmax over channels). */
bool stride_rt_op_is_per_frame(const StrideRtOp *op);

/* Conv1d and pools: input frames one output frame looks at. */
int stride_rt_op_span(const StrideRtOp *op);

/* A per-frame layer over n frames; y may be x. */
void stride_rt_op_per_frame(const StrideRtOp *op, const float *x, float *y, int n);

/* n output frames of a conv1d or pool without padding, from frames x[0..]
 * (which hold at least (n - 1) * stride + span frames). */
void stride_rt_op_frames(const StrideRtOp *op, const float *x, float *y, int n);

/* The layer's cost (stride_layer_flops) for an input of t_in and an output
 * of t_out frames. */
double stride_rt_op_flops(const StrideRtOp *op, int t_in, int t_out);

/* A run of layers over inputs of a fixed length. */
typedef struct {
	const StrideRtOp *ops; /* borrowed */
	int n_ops;
	int c_in, t_in;
	int *t;                /* t[i]: input frames of op i; t[n_ops]: output frames */
	int c_out, t_out;
	float *buf[2];         /* ping-pong activations */
	float *pad;            /* the layers' scratch (a padded copy of a conv1d's input) */
} StrideRtChain;

/* Works out the shapes and reserves the buffers. Returns 0, or -1 with err set. */
int stride_rt_chain_init(StrideRtChain *ch, const StrideRtOp *ops, int n_ops, int c_in, int t_in,
                         char err[STRIDE_ERR_LEN]);
void stride_rt_chain_free(StrideRtChain *ch);

/* Runs the chain on x (t_in frames of c_in channels). Returns the output
 * (t_out frames of c_out channels): a chain buffer, or x itself when there are
 * no layers. Never allocates. */
const float *stride_rt_chain_run(StrideRtChain *ch, const float *x);

/* The chain's cost for one run. */
double stride_rt_chain_flops(const StrideRtChain *ch);

#endif /* STRIDE_STREAM_LAYERS_H */
