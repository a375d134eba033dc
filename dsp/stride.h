/* Stride: a small conv1D network library for real-time audio. PUBLIC API.
 *
 * The public headers are this one and the DSP objects built on it: gate.h (the
 * learned gate), classifier.h (the genre classifier), detector.h (a model at the
 * host's rate, under both) and param_info.h (their controls' ranges). Every other
 * header in dsp/ is internal to the library (and to the project's own CLI, tests
 * and tools in this tree): it may change without notice.
 *
 * Tensors are float32, batch-major and time-last: (N, C, T), the layout PyTorch's
 * Conv1d uses. A network is an ordered list of layers built from layer specs (or
 * from an architecture JSON document); its trainable parameters live in one flat
 * array, with a gradient array of the same layout, so optimisers see one vector.
 *
 * Ownership: every object returned by a *_new, *_clone or *_read function is owned
 * by the caller and freed with the matching *_free. Pointers returned by
 * accessors (stride_net_params, stride_net_tensor, stride_tensorfile_data, ...)
 * belong to the object they came from and live as long as it does. Each
 * function below says where this differs.
 *
 * Errors: functions that can fail take `char err[STRIDE_ERR_LEN]` (may be NULL),
 * write a one-line reason there, and return NULL or a negative number.
 *
 * Threading: no object is shared between threads by the library and none is
 * thread-safe: calls on one object must not run concurrently; different objects
 * may be used from different threads at once. Nothing here starts threads
 * itself; batched conv1d calls the library's one matrix product, which in the
 * batch library (the CLI, the tests) is OpenBLAS's cblas_sgemm, whose threads
 * are the BLAS library's own business (stride_blas_set_threads), and in the
 * plugins' real-time build a plain loop without threads or locks. "Real-time
 * safe" below means: no allocation, locks, I/O or syscalls, bounded time.
 */
#ifndef STRIDE_H
#define STRIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for one error message. */
#define STRIDE_ERR_LEN 256
/* Longest layer or tensor name, including the terminating NUL. */
#define STRIDE_NAME_LEN 64
/* conv1d dc_zeros: 1 (taps sum to 0) or 2 (and their first moment) at most */
#define STRIDE_MAX_DC_ZEROS 2

/* ------------------------------------------------------------------------ */
/* Layers                                                                   */
/* ------------------------------------------------------------------------ */

/* The layer types. Each is one file of dsp/ and one row of the layer table
 * (dsp/layer_table.c); docs/ADDING_A_LAYER.md says how to add one. */
typedef enum {
	STRIDE_CONV1D,
	STRIDE_MAXPOOL1D,
	STRIDE_AVGPOOL1D,
	STRIDE_GLOBAL_AVGPOOL,
	STRIDE_GLOBAL_MAXPOOL,
	STRIDE_BATCHNORM1D,
	STRIDE_DENSE,
	STRIDE_RELU,
	STRIDE_LEAKY_RELU,
	STRIDE_TANH,
	STRIDE_SIGMOID,
	STRIDE_SOFTMAX,
	STRIDE_LOG,
	STRIDE_N_LAYER_TYPES
} StrideLayerType;

/* One layer's description. Fields a layer type does not use are ignored.
 * stride_layer_spec_defaults() fills the PyTorch defaults (stride 1, dilation 1,
 * padding 0, groups 1, bias on, eps 1e-5, momentum 0.1, slope 0.01). */
typedef struct {
	StrideLayerType type;
	char name[STRIDE_NAME_LEN]; /* tensor prefix: conv1d, batchnorm1d, dense */
	int in;                     /* conv1d: input channels; dense: input features */
	int out;                    /* conv1d: output channels; dense: outputs */
	int kernel;                 /* conv1d, maxpool1d, avgpool1d */
	int stride;                 /* conv1d and pools; pools: 0 means = kernel */
	int dilation;               /* conv1d */
	int padding;                /* conv1d and pools: zeros each side */
	int groups;                 /* conv1d */
	bool bias;                  /* conv1d, dense */
	int channels;               /* batchnorm1d */
	float eps;                  /* batchnorm1d; log: ln(max(x, 0) + eps) */
	float momentum;             /* batchnorm1d running-statistics update */
	float slope;                /* leaky_relu negative slope */
	int dc_zeros;               /* conv1d: zeros every kernel keeps at 0 Hz (0..2);
	                             * training holds them, see stride_net_constrain */
} StrideLayerSpec;

/* PyTorch defaults for a layer of this type. */
StrideLayerSpec stride_layer_spec_defaults(StrideLayerType type);

/* "conv1d", "maxpool1d", ... as used in architecture JSON; NULL when out of range. */
const char *stride_layer_type_name(StrideLayerType type);

/* The type named `name`; returns -1 when unknown. */
int stride_layer_type_from_name(const char *name);

/* The options that define a layer's geometry or size, PyTorch-style
 * ("1->8 k=64 s=16 d=1 p=0 g=1", "slope=0.01"; "" for none), into buf. */
void stride_layer_describe(const StrideLayerSpec *spec, char *buf, size_t len);

/* Output length of a conv or pool: floor((t + 2p - d(k-1) - 1) / s) + 1,
 * or -1 when the window does not fit (the result would be < 1). */
int stride_conv_out_len(int t, int kernel, int stride, int dilation, int padding);

/* ------------------------------------------------------------------------ */
/* Networks                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct StrideNet StrideNet;

/* A named tensor of a network: a parameter (trainable, with a gradient) or a
 * buffer (batchnorm running statistics; grad is NULL). Shapes as PyTorch names
 * them: conv1d weight [out, in/groups, kernel], dense weight [out, in], others [C]. */
typedef struct {
	const char *name; /* "<layer>.weight", "<layer>.running_mean", ... */
	int ndim;
	int shape[3];
	size_t size; /* product of the shape */
	float *data;
	float *grad; /* NULL for buffers */
} StrideTensor;

/* Build a network from layer specs, checking that they chain: channel counts
 * agree, kernels, strides and sizes are positive and sane, names are unique.
 * Parameters start at zero (use stride_net_init_params). The input channel count
 * is that of the first layer that has one (conv1d in, batchnorm1d channels,
 * dense in; a network that starts with dense takes inputs of length 1). */
StrideNet *stride_net_new(const StrideLayerSpec *specs, int n_specs, char err[STRIDE_ERR_LEN]);
void stride_net_free(StrideNet *net);

/* A deep copy (specs, parameters, buffers). */
StrideNet *stride_net_clone(const StrideNet *net, char err[STRIDE_ERR_LEN]);

int stride_net_n_layers(const StrideNet *net);
const StrideLayerSpec *stride_net_layer(const StrideNet *net, int i);
int stride_net_in_channels(const StrideNet *net);

/* How a network's outputs become class probabilities: as they are when it
 * ends in softmax or sigmoid, else a sigmoid of a single logit or a softmax
 * over several. The one rule for the plugins, `stride predict`, `stride eval`
 * and the trainer's reports. */
typedef enum {
	STRIDE_PROBS_AS_IS,
	STRIDE_PROBS_SIGMOID,
	STRIDE_PROBS_SOFTMAX,
} StrideProbMode;
StrideProbMode stride_net_prob_mode(const StrideNet *net, int n_classes);

/* One input's outputs raw[k x t] (channel-major) -> p[k], the probabilities
 * averaged over the t output steps, each clamped to [0, 1] (NaN gives 0).
 * Real-time safe: no allocation. */
void stride_probs_from_outputs(StrideProbMode mode, const float *raw, int k, int t, float *p);

/* Shape after layer i (i = n_layers - 1 for the output) for an input of length
 * t_in. Returns 0, or -1 with err set when the input is too short to reach it. */
int stride_net_layer_shape(const StrideNet *net, int i, int t_in, int *c, int *t,
                           char err[STRIDE_ERR_LEN]);
int stride_net_output_shape(const StrideNet *net, int t_in, int *c, int *t,
                            char err[STRIDE_ERR_LEN]);

/* Parameters: one flat array, and the gradient array of the same layout. */
size_t stride_net_n_params(const StrideNet *net);
float *stride_net_params(StrideNet *net);
float *stride_net_grads(StrideNet *net);

/* Named tensors (parameters then buffers, in layer order). */
int stride_net_n_tensors(const StrideNet *net);
StrideTensor stride_net_tensor(StrideNet *net, int i);
/* Index of the tensor called `name`, or -1. */
int stride_net_find_tensor(const StrideNet *net, const char *name);

/* PyTorch's default initialisation (kaiming-uniform weights, uniform biases,
 * batchnorm weight 1, bias 0, running mean 0, var 1), from a seeded generator. */
void stride_net_init_params(StrideNet *net, uint64_t seed);

/* Holds the weight constraints the specs declare, on a parameter array laid out
 * as stride_net_params(net) is: every kernel of a conv1d with dc_zeros K is
 * replaced by its orthogonal projection onto the kernels with K zeros at 0 Hz,
 * those orthogonal to the tap polynomials 1 (K >= 1) and i (K = 2). Such a
 * filter gives 0 for a constant input (and for a ramp when K = 2), so subsonic
 * rumble and DC never reach the layers after it. The trainer calls this after
 * initialisation and after every optimiser step (projected gradient descent). */
void stride_net_constrain(const StrideNet *net, float *params);

/* Size the activation buffers for batches of up to n items of length t. Forward
 * and backward within those sizes never allocate. Returns 0 or -1. */
int stride_net_reserve(StrideNet *net, int n, int t, char err[STRIDE_ERR_LEN]);

/* Forward a batch x (n, in_channels, t). training: batchnorm uses batch
 * statistics and updates its running statistics; otherwise running statistics.
 * Grows buffers when needed (see stride_net_reserve). On success *y points at the
 * output (n, *c_out, *t_out), owned by the network, valid until the next call.
 * Backward needs the forward's activations, so run it before the next forward. */
int stride_net_forward(StrideNet *net, const float *x, int n, int t, bool training,
                       const float **y, int *c_out, int *t_out, char err[STRIDE_ERR_LEN]);

/* Backward through the last forward: grad_y has the output's shape. Writes
 * (overwrites, not accumulates) the parameter gradients, and the input gradient
 * into grad_x when it is not NULL. Returns 0 or -1. */
int stride_net_backward(StrideNet *net, const float *grad_y, float *grad_x,
                        char err[STRIDE_ERR_LEN]);

/* Cost and geometry. */
double stride_net_flops(const StrideNet *net, int t_in); /* multiply-add = 2 FLOPs */
int stride_net_receptive_field(const StrideNet *net);     /* input samples per output step */
int stride_net_total_stride(const StrideNet *net);        /* input samples between output steps */

/* A copy in which every batchnorm1d directly after a conv1d or dense layer is
 * folded into that layer's weights and bias (inference only: running statistics). */
StrideNet *stride_net_fold_batchnorm(const StrideNet *net, char err[STRIDE_ERR_LEN]);

/* ------------------------------------------------------------------------ */
/* Losses: mean over the batch; grad (same shape as the input) may be NULL.     */
/* ------------------------------------------------------------------------ */

/* Softmax cross-entropy on logits (n, k) against class indices. */
float stride_loss_softmax_xent(const float *logits, const int *labels, int n, int k, float *grad);

/* Binary cross-entropy on n logits against targets in [0, 1] (the stable
 * log-sum-exp form, as PyTorch's BCEWithLogitsLoss). */
float stride_loss_bce_logits(const float *logits, const float *targets, int n, float *grad);

/* Binary cross-entropy on n probabilities p in (0, 1) (as PyTorch's BCELoss,
 * logs clamped at -100). */
float stride_loss_bce(const float *p, const float *targets, int n, float *grad);

/* ------------------------------------------------------------------------ */
/* Architecture JSON: {"layers": [{"type": "conv1d", "name": "conv1", ...}, ...]} */
/* ------------------------------------------------------------------------ */

/* Parse an architecture document. Returns a malloc'd spec array (*n_specs
 * entries) or NULL with err naming the layer and field at fault. */
StrideLayerSpec *stride_arch_parse(const char *json, int *n_specs, char err[STRIDE_ERR_LEN]);

/* Serialise specs as an architecture document (malloc'd string). */
char *stride_arch_to_json(const StrideLayerSpec *specs, int n_specs);

/* ------------------------------------------------------------------------ */
/* Model files (safetensors; see docs/MODEL_FORMAT.md)                        */
/* ------------------------------------------------------------------------ */

typedef enum { STRIDE_TASK_GATE, STRIDE_TASK_CLASSIFY } StrideTask;

/* A model: a network and what it decides, at which rate and pace. A plain value:
 * the caller may read every field, and may set task, sample_rate, window, hop
 * and input_gain of a model it holds (before stride_model_write, which checks
 * them against each other and the network, or before stride_stream_new and the
 * DSP objects, which take what they need and keep no reference). The pointers
 * (net, labels, meta_keys, meta_values) are owned by the model and freed by
 * stride_model_free: change labels only through stride_model_new and metadata
 * only through stride_model_set_meta. Not thread-safe: a model being changed
 * must not be read elsewhere; a model nobody changes may be read from any number
 * of threads. */
typedef struct {
	StrideNet *net;     /* owned by the model */
	StrideTask task;
	int sample_rate;    /* the model's input rate, Hz */
	int n_labels;
	char **labels;      /* n_labels class names */
	int window;         /* samples at sample_rate that one decision looks at */
	int hop;            /* samples at sample_rate between decisions */
	float input_gain;   /* multiplies the input before the network (default 1) */
	int n_meta;         /* every __metadata__ pair, stride.* included */
	char **meta_keys;
	char **meta_values;
} StrideModel;

/* Read and check a model file. Every problem is an error naming `path` and the
 * fault; no input makes it crash or read out of bounds. The caller owns the
 * result: free with stride_model_free. Allocates and reads the file: not
 * real-time safe (the plugins call it off the audio thread: at instantiation
 * and on their worker). */
StrideModel *stride_model_read(const char *path, char err[STRIDE_ERR_LEN]);

/* The same from memory (data is not referenced afterwards); `name` is used in
 * messages (fuzzing and tests). The caller owns the result (stride_model_free). */
StrideModel *stride_model_read_memory(const uint8_t *data, size_t len, const char *name,
                                      char err[STRIDE_ERR_LEN]);

/* Write a model file (to path.tmp, then rename, so `path` is never left half
 * written). Checks the fields first and refuses non-finite weights. Returns 0
 * or -1. Does file I/O: not real-time safe. */
int stride_model_write(const StrideModel *model, const char *path, char err[STRIDE_ERR_LEN]);

/* A model around net with default metadata (window: the network's receptive
 * field; hop: its total stride; input_gain 1); labels are copied. Takes
 * ownership of net, also when it fails (then net is freed). The caller owns the
 * result: free with stride_model_free. */
StrideModel *stride_model_new(StrideNet *net, StrideTask task, int sample_rate,
                              const char *const *labels, int n_labels, char err[STRIDE_ERR_LEN]);

/* A metadata value, or NULL. The string belongs to the model: valid until the
 * key is set again or the model is freed. Real-time safe. */
const char *stride_model_meta(const StrideModel *model, const char *key);

/* The stretch of its window a gate model was trained to call content when
 * half of it is, [*start, *end) samples, as `stride train` records it
 * (train.label_region = "START END"). Returns true when the model says so
 * validly; otherwise *start, *end are the whole window and it returns false. */
bool stride_model_label_region(const StrideModel *model, int *start, int *end);

/* Where in its window the hop-long stretch a decision answers for starts:
 * the hop at the centre of the label region (of the window without one). */
int stride_model_decision_offset(const StrideModel *model);

/* Set (or replace) a metadata value (both strings are copied). Returns 0 or -1
 * (out of memory). Invalidates strings stride_model_meta returned for the key. */
int stride_model_set_meta(StrideModel *model, const char *key, const char *value);

/* Frees the model, its network, labels and metadata. NULL is allowed. */
void stride_model_free(StrideModel *model);

/* ------------------------------------------------------------------------ */
/* Generic safetensors files of float32 tensors (test references, checkpoints) */
/* ------------------------------------------------------------------------ */

typedef struct StrideTensorFile StrideTensorFile;

/* Read and check a whole file (the same checks as the model files'; any dtype
 * but F32 refused, except PyTorch's I64 *.num_batches_tracked, which is
 * skipped). The caller owns the result: free with stride_tensorfile_free. Does
 * file I/O: not real-time safe. */
StrideTensorFile *stride_tensorfile_read(const char *path, char err[STRIDE_ERR_LEN]);
/* The same from memory (data is not referenced afterwards); `name` is used in
 * messages. The caller owns the result (stride_tensorfile_free). */
StrideTensorFile *stride_tensorfile_read_memory(const uint8_t *data, size_t len,
                                                const char *name, char err[STRIDE_ERR_LEN]);
/* NULL is allowed. */
void stride_tensorfile_free(StrideTensorFile *file);

/* The accessors below never allocate. Everything they return belongs to the
 * file and lives until stride_tensorfile_free. Out-of-range i gives NULL, -1
 * or 0. */
int stride_tensorfile_n_tensors(const StrideTensorFile *file);
/* Tensor i: its name, rank, shape (up to 8 dims) and data (float32, aligned). */
const char *stride_tensorfile_name(const StrideTensorFile *file, int i);
/* Index of the tensor called `name`, or -1. */
int stride_tensorfile_find(const StrideTensorFile *file, const char *name);
int stride_tensorfile_ndim(const StrideTensorFile *file, int i);
const int64_t *stride_tensorfile_shape(const StrideTensorFile *file, int i);
size_t stride_tensorfile_size(const StrideTensorFile *file, int i);
const float *stride_tensorfile_data(const StrideTensorFile *file, int i);
/* A __metadata__ value, or NULL. */
const char *stride_tensorfile_meta(const StrideTensorFile *file, const char *key);

/* One tensor to write. */
typedef struct {
	const char *name;
	int ndim;
	int64_t shape[8];
	const float *data;
} StrideTensorOut;

/* Write tensors and metadata pairs (n_meta keys and values) as a safetensors
 * file, through path.tmp and rename. Nothing passed in is kept. Returns 0 or -1.
 * Does file I/O: not real-time safe. */
int stride_tensorfile_write(const char *path, const StrideTensorOut *tensors, int n_tensors,
                            const char *const *meta_keys, const char *const *meta_values,
                            int n_meta, char err[STRIDE_ERR_LEN]);

/* ------------------------------------------------------------------------ */
/* .npy arrays (NumPy's format, float32, C order)                            */
/* ------------------------------------------------------------------------ */

/* Read a float32 (or float64, converted; big-endian byte-swapped) C-order .npy
 * of rank 0 to 8. Returns 0 or -1. The caller owns *data: free with free().
 * Does file I/O: not real-time safe. The _memory form reads buf (not
 * referenced afterwards) and names it `name` in messages. */
int stride_npy_read(const char *path, float **data, int *ndim, int64_t shape[8],
                    char err[STRIDE_ERR_LEN]);
int stride_npy_read_memory(const uint8_t *buf, size_t len, const char *name, float **data,
                           int *ndim, int64_t shape[8], char err[STRIDE_ERR_LEN]);
/* Write a float32 .npy (through path.tmp and rename). Returns 0 or -1. */
int stride_npy_write(const char *path, const float *data, int ndim, const int64_t *shape,
                     char err[STRIDE_ERR_LEN]);

/* ------------------------------------------------------------------------ */
/* Streaming: a network run incrementally on a stream (dsp/stream.c)          */
/* ------------------------------------------------------------------------ */

/* A model prepared for a stream at the model's rate. Decision k looks at the
 * window of input samples [k*hop, k*hop + window) (after input_gain) and equals
 * stride_net_forward (inference mode) on exactly that window; it is produced as
 * soon as its last sample has been pushed. Each layer keeps only the history it
 * needs, strides and pools decimate, and every intermediate output is computed
 * once (incremental mode). A model that cannot run incrementally (padding in a
 * conv or pool, or a hop that is not a multiple of the total stride before the
 * global pooling) runs windowed: one full forward per hop, still without
 * allocating. A batchnorm1d directly after a conv1d or dense layer is folded
 * into it (stride_net_fold_batchnorm); any other runs as a per-channel scale
 * and shift.
 *
 * Threading: stride_stream_new and _free allocate (worker or instantiate
 * thread); everything else is real-time safe: no allocation, locks, I/O or
 * syscalls, bounded time per sample, and no BLAS (its own kernels). A stream is
 * not thread-safe: push, reset and the accessors on one stream must not run
 * concurrently. */
typedef struct StrideStream StrideStream;

/* Prepares a stream for `model` (the model is not referenced afterwards). The
 * caller owns the result: free with stride_stream_free (NULL allowed). */
StrideStream *stride_stream_new(const StrideModel *model, char err[STRIDE_ERR_LEN]);
void stride_stream_free(StrideStream *stream);

/* Forgets all history, as if just created. Real-time safe. */
void stride_stream_reset(StrideStream *stream);

/* Pushes n frames of input, planar: in[c * stride_in + i] for channel c, frame
 * i (stride_in >= n; mono models: just the samples). Writes each decision that
 * completes as out[d * out_size .. + out_size) (out_size = stride_stream_out_size)
 * for up to max_out decisions and returns how many it wrote; decisions beyond
 * max_out are computed but dropped (pass max_out >= n / hop + 1). Non-finite
 * input is treated as 0 so it never poisons the history. Real-time safe. */
int stride_stream_push(StrideStream *stream, const float *in, int stride_in, int n, float *out,
                       int max_out);

int stride_stream_in_channels(const StrideStream *stream);
int stride_stream_out_size(const StrideStream *stream); /* output channels x output steps */
int stride_stream_window(const StrideStream *stream);
int stride_stream_hop(const StrideStream *stream);
bool stride_stream_incremental(const StrideStream *stream);
/* Multiply-adds x 2 per second of input at the model rate, as this stream runs. */
double stride_stream_flops_per_second(const StrideStream *stream, int sample_rate);

/* ------------------------------------------------------------------------ */
/* BLAS                                                                     */
/* ------------------------------------------------------------------------ */

/* Threads the BLAS library may use for batched conv1d (process-wide; a no-op in
 * the plugins' build, which has no BLAS). */
void stride_blas_set_threads(int n);

#ifdef __cplusplus
}
#endif

#endif /* STRIDE_H */
