/* Networks: building from specs, shapes, parameters, forward and backward. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "stride.h"
#include "util.h"

/* Sizes beyond these are refused: they are mistakes, not models. */
#define MAX_LAYERS 256
#define MAX_CHANNELS 4096
#define MAX_KERNEL 65536
#define MAX_STEP 65536           /* stride, dilation */
#define MAX_DENSE_IN (1 << 22)
#define MAX_PARAMS ((size_t)1 << 26) /* 64 M floats, 256 MB */

#define TENSOR_NAME_LEN (STRIDE_NAME_LEN + 16)

typedef struct {
	char name[TENSOR_NAME_LEN];
	int ndim;
	int shape[3];
	size_t size;
	size_t offset; /* into params (trainable) or buffers */
	bool trainable;
} TensorInfo;

/* A float or int buffer that only grows. */
typedef struct {
	void *data;
	size_t cap; /* bytes */
} Buf;

typedef struct {
	StrideLayerSpec spec;
	int c_in, c_out;
	int weight, bias;           /* tensor indices or -1 (bn: gamma, beta) */
	int run_mean, run_var;      /* batchnorm buffers or -1 */
	int t_in, t_out;            /* of the last forward */
	Buf y, dx, argmax, bn_mean, bn_invstd;
} Layer;

struct StrideNet {
	int n_layers;
	Layer *layers;
	int in_channels;
	int n_tensors;
	TensorInfo *tensors;
	size_t n_params, n_buffers;
	float *params, *grads, *buffers;
	Buf scratch;
	/* the last forward, for backward */
	const float *x;
	int n, t;
	bool training;
	bool have_forward;
};

static bool grow(Buf *b, size_t bytes)
{
	if (bytes <= b->cap)
		return true;
	void *p = stride_alloc_aligned(bytes);
	if (!p)
		return false;
	stride_free_aligned(b->data);
	b->data = p;
	b->cap = bytes;
	return true;
}

static bool has_params(StrideLayerType t)
{
	return t == STRIDE_CONV1D || t == STRIDE_DENSE || t == STRIDE_BATCHNORM1D;
}

static bool is_pool(StrideLayerType t)
{
	return t == STRIDE_MAXPOOL1D || t == STRIDE_AVGPOOL1D;
}

static bool valid_name(const char *s)
{
	size_t len = strnlen(s, STRIDE_NAME_LEN);
	if (len == 0 || len >= STRIDE_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static int add_tensor(StrideNet *net, const char *layer, const char *suffix, int ndim,
                      const int *shape, bool trainable)
{
	TensorInfo *t = &net->tensors[net->n_tensors];
	snprintf(t->name, sizeof t->name, "%s.%s", layer, suffix);
	t->ndim = ndim;
	t->size = 1;
	for (int i = 0; i < ndim; i++) {
		t->shape[i] = shape[i];
		t->size *= (size_t)shape[i];
	}
	t->trainable = trainable;
	if (trainable) {
		t->offset = net->n_params;
		net->n_params += t->size;
	} else {
		t->offset = net->n_buffers;
		net->n_buffers += t->size;
	}
	return net->n_tensors++;
}

/* Checks one spec and works out its channels; *c is the running channel count
 * (-1 while unknown: activations and pools before the first layer that has one). */
static int check_layer(int i, StrideLayerSpec *s, int *c, char *err)
{
	const char *tn = stride_layer_type_name(s->type);
	if (!tn) {
		stride_set_err(err, "layer %d: unknown layer type %d", i, (int)s->type);
		return -1;
	}
	if (has_params(s->type) && !valid_name(s->name)) {
		stride_set_err(err, "layer %d (%s): needs a name of letters, digits, '_', '.' or '-', "
		                    "shorter than %d characters",
		               i, tn, STRIDE_NAME_LEN);
		return -1;
	}
	switch (s->type) {
	case STRIDE_CONV1D:
		if (s->in < 1 || s->in > MAX_CHANNELS || s->out < 1 || s->out > MAX_CHANNELS) {
			stride_set_err(err, "layer %d (conv1d %s): channels in %d, out %d must be 1..%d", i,
			               s->name, s->in, s->out, MAX_CHANNELS);
			return -1;
		}
		if (s->kernel < 1 || s->kernel > MAX_KERNEL || s->stride < 1 || s->stride > MAX_STEP ||
		    s->dilation < 1 || s->dilation > MAX_STEP || s->padding < 0 ||
		    s->padding > MAX_KERNEL) {
			stride_set_err(err,
			               "layer %d (conv1d %s): kernel %d, stride %d, dilation %d, padding %d "
			               "out of range",
			               i, s->name, s->kernel, s->stride, s->dilation, s->padding);
			return -1;
		}
		if (s->dc_zeros < 0 || s->dc_zeros > STRIDE_MAX_DC_ZEROS || s->dc_zeros >= s->kernel) {
			stride_set_err(err,
			               "layer %d (conv1d %s): dc_zeros %d must be 0..%d and below the "
			               "kernel size %d",
			               i, s->name, s->dc_zeros, STRIDE_MAX_DC_ZEROS, s->kernel);
			return -1;
		}
		if (s->groups < 1 || s->in % s->groups || s->out % s->groups) {
			stride_set_err(err, "layer %d (conv1d %s): groups %d must divide in %d and out %d", i,
			               s->name, s->groups, s->in, s->out);
			return -1;
		}
		if (*c >= 0 && *c != s->in) {
			stride_set_err(err, "layer %d (conv1d %s): expects %d input channels, gets %d", i,
			               s->name, s->in, *c);
			return -1;
		}
		*c = s->out;
		return 0;
	case STRIDE_MAXPOOL1D:
	case STRIDE_AVGPOOL1D:
		if (s->stride == 0)
			s->stride = s->kernel;
		if (s->kernel < 1 || s->kernel > MAX_KERNEL || s->stride < 1 || s->stride > MAX_STEP) {
			stride_set_err(err, "layer %d (%s): kernel %d and stride %d must be 1..%d", i, tn,
			               s->kernel, s->stride, MAX_KERNEL);
			return -1;
		}
		if (s->padding < 0 || s->padding > s->kernel / 2) {
			stride_set_err(err, "layer %d (%s): padding %d must be 0..kernel/2 (%d)", i, tn,
			               s->padding, s->kernel / 2);
			return -1;
		}
		return 0;
	case STRIDE_BATCHNORM1D:
		if (s->channels < 1 || s->channels > MAX_CHANNELS) {
			stride_set_err(err, "layer %d (batchnorm1d %s): channels %d must be 1..%d", i,
			               s->name, s->channels, MAX_CHANNELS);
			return -1;
		}
		if (!(s->eps > 0.0f && s->eps < 1.0f) || !(s->momentum >= 0.0f && s->momentum <= 1.0f)) {
			stride_set_err(err, "layer %d (batchnorm1d %s): eps must be in (0, 1), momentum in [0, 1]",
			               i, s->name);
			return -1;
		}
		if (*c >= 0 && *c != s->channels) {
			stride_set_err(err, "layer %d (batchnorm1d %s): has %d channels, gets %d", i, s->name,
			               s->channels, *c);
			return -1;
		}
		*c = s->channels;
		return 0;
	case STRIDE_DENSE:
		if (s->in < 1 || s->in > MAX_DENSE_IN || s->out < 1 || s->out > MAX_CHANNELS) {
			stride_set_err(err, "layer %d (dense %s): in %d must be 1..%d and out %d 1..%d", i,
			               s->name, s->in, MAX_DENSE_IN, s->out, MAX_CHANNELS);
			return -1;
		}
		if (*c >= 0 && s->in % *c) {
			stride_set_err(err, "layer %d (dense %s): %d inputs is not a whole number of %d-channel steps",
			               i, s->name, s->in, *c);
			return -1;
		}
		*c = s->out;
		return 0;
	case STRIDE_LEAKY_RELU:
		if (!isfinite(s->slope)) {
			stride_set_err(err, "layer %d (leaky_relu): slope must be finite", i);
			return -1;
		}
		return 0;
	case STRIDE_LOG:
		/* eps keeps ln() finite at zero input (digital silence) */
		if (!(s->eps > 0.0f) || !isfinite(s->eps)) {
			stride_set_err(err, "layer %d (log): eps must be positive and finite", i);
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}

StrideNet *stride_net_new(const StrideLayerSpec *specs, int n_specs, char err[STRIDE_ERR_LEN])
{
	if (!specs || n_specs < 1 || n_specs > MAX_LAYERS) {
		stride_set_err(err, "a network needs 1..%d layers, got %d", MAX_LAYERS, n_specs);
		return NULL;
	}
	StrideNet *net = calloc(1, sizeof *net);
	if (!net)
		goto oom;
	net->layers = calloc((size_t)n_specs, sizeof *net->layers);
	net->tensors = calloc((size_t)n_specs * 4, sizeof *net->tensors);
	if (!net->layers || !net->tensors)
		goto oom;
	net->n_layers = n_specs;
	net->in_channels = -1;

	int c = -1;
	for (int i = 0; i < n_specs; i++) {
		Layer *L = &net->layers[i];
		L->spec = specs[i];
		L->spec.name[STRIDE_NAME_LEN - 1] = '\0';
		const int c_before = c;
		if (check_layer(i, &L->spec, &c, err) < 0)
			goto fail;
		if (c_before < 0 && c >= 0 && net->in_channels < 0) {
			const StrideLayerSpec *s = &L->spec;
			net->in_channels = s->type == STRIDE_BATCHNORM1D ? s->channels : s->in;
		}
		for (int j = 0; j < i && has_params(L->spec.type); j++) {
			if (has_params(specs[j].type) && strcmp(net->layers[j].spec.name, L->spec.name) == 0) {
				stride_set_err(err, "layers %d and %d are both named '%s'", j, i, L->spec.name);
				goto fail;
			}
		}
	}
	if (net->in_channels < 0) {
		stride_set_err(err, "no conv1d, batchnorm1d or dense layer: cannot tell the input channels");
		goto fail;
	}

	/* tensors: trainable parameters first (layer order), then buffers */
	for (int i = 0; i < n_specs; i++) {
		Layer *L = &net->layers[i];
		const StrideLayerSpec *s = &L->spec;
		L->weight = L->bias = L->run_mean = L->run_var = -1;
		if (s->type == STRIDE_CONV1D) {
			const int shape[3] = { s->out, s->in / s->groups, s->kernel };
			L->weight = add_tensor(net, s->name, "weight", 3, shape, true);
			if (s->bias)
				L->bias = add_tensor(net, s->name, "bias", 1, &s->out, true);
		} else if (s->type == STRIDE_DENSE) {
			const int shape[2] = { s->out, s->in };
			L->weight = add_tensor(net, s->name, "weight", 2, shape, true);
			if (s->bias)
				L->bias = add_tensor(net, s->name, "bias", 1, &s->out, true);
		} else if (s->type == STRIDE_BATCHNORM1D) {
			L->weight = add_tensor(net, s->name, "weight", 1, &s->channels, true);
			L->bias = add_tensor(net, s->name, "bias", 1, &s->channels, true);
		}
		if (net->n_params > MAX_PARAMS) {
			stride_set_err(err, "more than %zu parameters", MAX_PARAMS);
			goto fail;
		}
	}
	for (int i = 0; i < n_specs; i++) {
		Layer *L = &net->layers[i];
		if (L->spec.type == STRIDE_BATCHNORM1D) {
			L->run_mean = add_tensor(net, L->spec.name, "running_mean", 1, &L->spec.channels, false);
			L->run_var = add_tensor(net, L->spec.name, "running_var", 1, &L->spec.channels, false);
		}
	}
	net->params = stride_alloc_aligned((net->n_params + 1) * sizeof(float));
	net->grads = stride_alloc_aligned((net->n_params + 1) * sizeof(float));
	net->buffers = stride_alloc_aligned((net->n_buffers + 1) * sizeof(float));
	if (!net->params || !net->grads || !net->buffers)
		goto oom;
	/* neutral batchnorm until initialised or loaded */
	for (int i = 0; i < n_specs; i++) {
		Layer *L = &net->layers[i];
		if (L->spec.type == STRIDE_BATCHNORM1D) {
			for (int k = 0; k < L->spec.channels; k++) {
				net->params[net->tensors[L->weight].offset + (size_t)k] = 1.0f;
				net->buffers[net->tensors[L->run_var].offset + (size_t)k] = 1.0f;
			}
		}
	}
	return net;
oom:
	stride_set_err(err, "out of memory building the network");
fail:
	stride_net_free(net);
	return NULL;
}

static void free_buf(Buf *b)
{
	stride_free_aligned(b->data);
	b->data = NULL;
	b->cap = 0;
}

void stride_net_free(StrideNet *net)
{
	if (!net)
		return;
	for (int i = 0; net->layers && i < net->n_layers; i++) {
		Layer *L = &net->layers[i];
		free_buf(&L->y);
		free_buf(&L->dx);
		free_buf(&L->argmax);
		free_buf(&L->bn_mean);
		free_buf(&L->bn_invstd);
	}
	free_buf(&net->scratch);
	stride_free_aligned(net->params);
	stride_free_aligned(net->grads);
	stride_free_aligned(net->buffers);
	free(net->layers);
	free(net->tensors);
	free(net);
}

StrideNet *stride_net_clone(const StrideNet *net, char err[STRIDE_ERR_LEN])
{
	StrideLayerSpec *specs = malloc((size_t)net->n_layers * sizeof *specs);
	if (!specs) {
		stride_set_err(err, "out of memory");
		return NULL;
	}
	for (int i = 0; i < net->n_layers; i++)
		specs[i] = net->layers[i].spec;
	StrideNet *copy = stride_net_new(specs, net->n_layers, err);
	free(specs);
	if (!copy)
		return NULL;
	memcpy(copy->params, net->params, net->n_params * sizeof(float));
	memcpy(copy->buffers, net->buffers, net->n_buffers * sizeof(float));
	return copy;
}

int stride_net_n_layers(const StrideNet *net)
{
	return net->n_layers;
}

const StrideLayerSpec *stride_net_layer(const StrideNet *net, int i)
{
	return (i >= 0 && i < net->n_layers) ? &net->layers[i].spec : NULL;
}

int stride_net_in_channels(const StrideNet *net)
{
	return net->in_channels;
}

/* Shape after one layer, from (c, t). */
static int layer_out_shape(const StrideLayerSpec *s, int i, int c, int t, int *c2, int *t2,
                           char *err)
{
	const char *tn = stride_layer_type_name(s->type);
	switch (s->type) {
	case STRIDE_CONV1D:
	case STRIDE_MAXPOOL1D:
	case STRIDE_AVGPOOL1D: {
		const int dil = s->type == STRIDE_CONV1D ? s->dilation : 1;
		const int len = stride_conv_out_len(t, s->kernel, s->stride, dil, s->padding);
		if (len < 1) {
			stride_set_err(err,
			               "layer %d (%s): input length %d is shorter than its window "
			               "(kernel %d, dilation %d, padding %d)",
			               i, tn, t, s->kernel, dil, s->padding);
			return -1;
		}
		*c2 = s->type == STRIDE_CONV1D ? s->out : c;
		*t2 = len;
		return 0;
	}
	case STRIDE_GLOBAL_AVGPOOL:
	case STRIDE_GLOBAL_MAXPOOL:
		*c2 = c;
		*t2 = 1;
		return 0;
	case STRIDE_DENSE:
		if ((long)c * t != s->in) {
			stride_set_err(err, "layer %d (dense %s): expects %d inputs, gets %d x %d = %ld", i,
			               s->name, s->in, c, t, (long)c * t);
			return -1;
		}
		*c2 = s->out;
		*t2 = 1;
		return 0;
	default:
		*c2 = c;
		*t2 = t;
		return 0;
	}
}

int stride_net_layer_shape(const StrideNet *net, int i, int t_in, int *c, int *t,
                           char err[STRIDE_ERR_LEN])
{
	if (i < 0 || i >= net->n_layers) {
		stride_set_err(err, "no layer %d", i);
		return -1;
	}
	if (t_in < 1) {
		stride_set_err(err, "input length %d: must be at least 1", t_in);
		return -1;
	}
	int cc = net->in_channels, tt = t_in;
	for (int j = 0; j <= i; j++)
		if (layer_out_shape(&net->layers[j].spec, j, cc, tt, &cc, &tt, err) < 0)
			return -1;
	*c = cc;
	*t = tt;
	return 0;
}

int stride_net_output_shape(const StrideNet *net, int t_in, int *c, int *t,
                            char err[STRIDE_ERR_LEN])
{
	return stride_net_layer_shape(net, net->n_layers - 1, t_in, c, t, err);
}

size_t stride_net_n_params(const StrideNet *net)
{
	return net->n_params;
}

float *stride_net_params(StrideNet *net)
{
	return net->params;
}

float *stride_net_grads(StrideNet *net)
{
	return net->grads;
}

int stride_net_n_tensors(const StrideNet *net)
{
	return net->n_tensors;
}

StrideTensor stride_net_tensor(StrideNet *net, int i)
{
	StrideTensor out;
	memset(&out, 0, sizeof out);
	if (i < 0 || i >= net->n_tensors)
		return out;
	const TensorInfo *t = &net->tensors[i];
	out.name = t->name;
	out.ndim = t->ndim;
	memcpy(out.shape, t->shape, sizeof out.shape);
	out.size = t->size;
	out.data = (t->trainable ? net->params : net->buffers) + t->offset;
	out.grad = t->trainable ? net->grads + t->offset : NULL;
	return out;
}

int stride_net_find_tensor(const StrideNet *net, const char *name)
{
	for (int i = 0; i < net->n_tensors; i++)
		if (strcmp(net->tensors[i].name, name) == 0)
			return i;
	return -1;
}

static float *tensor_data(StrideNet *net, int i)
{
	const TensorInfo *t = &net->tensors[i];
	return (t->trainable ? net->params : net->buffers) + t->offset;
}

static float *tensor_grad(StrideNet *net, int i)
{
	return i < 0 ? NULL : net->grads + net->tensors[i].offset;
}

void stride_net_init_params(StrideNet *net, uint64_t seed)
{
	StrideRng rng;
	stride_rng_seed(&rng, seed);
	for (int i = 0; i < net->n_layers; i++) {
		Layer *L = &net->layers[i];
		const StrideLayerSpec *s = &L->spec;
		if (s->type == STRIDE_CONV1D || s->type == STRIDE_DENSE) {
			/* kaiming_uniform(a=sqrt(5)) and PyTorch's bias rule: both U(+-1/sqrt(fan_in)) */
			const int fan_in = s->type == STRIDE_CONV1D ? s->in / s->groups * s->kernel : s->in;
			const double bound = 1.0 / sqrt((double)fan_in);
			float *w = tensor_data(net, L->weight);
			for (size_t k = 0; k < net->tensors[L->weight].size; k++)
				w[k] = (float)((2.0 * stride_rng_uniform(&rng) - 1.0) * bound);
			if (L->bias >= 0) {
				float *b = tensor_data(net, L->bias);
				for (int k = 0; k < s->out; k++)
					b[k] = (float)((2.0 * stride_rng_uniform(&rng) - 1.0) * bound);
			}
		} else if (s->type == STRIDE_BATCHNORM1D) {
			float *g = tensor_data(net, L->weight), *b = tensor_data(net, L->bias);
			float *m = tensor_data(net, L->run_mean), *v = tensor_data(net, L->run_var);
			for (int k = 0; k < s->channels; k++) {
				g[k] = 1.0f;
				b[k] = 0.0f;
				m[k] = 0.0f;
				v[k] = 1.0f;
			}
		}
	}
	stride_net_constrain(net, net->params);
}

/* Discrete orthogonal polynomials over the taps, t = i - (k - 1) / 2:
 * 1, t and t^2 - (k^2 - 1) / 12 are orthogonal on that symmetric grid, so
 * removing each component in turn is the orthogonal projection. */
static double tap_poly(int m, int i, int k)
{
	const double t = i - 0.5 * (k - 1);
	return m == 0 ? 1.0 : m == 1 ? t : t * t - ((double)k * k - 1.0) / 12.0;
}

static void remove_dc(float *w, int k, int dc_zeros)
{
	for (int m = 0; m < dc_zeros; m++) {
		double dot = 0.0, norm = 0.0;
		for (int i = 0; i < k; i++) {
			const double p = tap_poly(m, i, k);
			dot += p * w[i];
			norm += p * p;
		}
		const double c = dot / norm;
		for (int i = 0; i < k; i++)
			w[i] = (float)(w[i] - c * tap_poly(m, i, k));
	}
}

void stride_net_constrain(const StrideNet *net, float *params)
{
	for (int l = 0; l < net->n_layers; l++) {
		const Layer *L = &net->layers[l];
		if (L->spec.type != STRIDE_CONV1D || L->spec.dc_zeros <= 0)
			continue;
		const TensorInfo *t = &net->tensors[L->weight];
		const int k = L->spec.kernel;
		for (size_t j = 0; j + (size_t)k <= t->size; j += (size_t)k)
			remove_dc(params + t->offset + j, k, L->spec.dc_zeros);
	}
}

static StrideGeom geom_of(const Layer *L, int n)
{
	StrideGeom g;
	g.n = n;
	g.c_in = L->c_in;
	g.t_in = L->t_in;
	g.c_out = L->c_out;
	g.t_out = L->t_out;
	g.kernel = L->spec.kernel;
	g.stride = L->spec.stride;
	g.dilation = L->spec.type == STRIDE_CONV1D ? L->spec.dilation : 1;
	g.padding = L->spec.padding;
	g.groups = L->spec.type == STRIDE_CONV1D ? L->spec.groups : 1;
	return g;
}

/* Works out every layer's shapes for (n, t) and makes sure the buffers fit. */
static int plan(StrideNet *net, int n, int t, char *err)
{
	if (n < 1 || t < 1) {
		stride_set_err(err, "batch %d x length %d: both must be at least 1", n, t);
		return -1;
	}
	int c = net->in_channels;
	size_t scratch = 0;
	for (int i = 0; i < net->n_layers; i++) {
		Layer *L = &net->layers[i];
		L->c_in = c;
		L->t_in = t;
		if (layer_out_shape(&L->spec, i, c, t, &L->c_out, &L->t_out, err) < 0)
			return -1;
		size_t in_count, out_count;
		if (!stride_mul_size((size_t)n * (size_t)L->c_in, (size_t)L->t_in, &in_count) ||
		    !stride_mul_size((size_t)n * (size_t)L->c_out, (size_t)L->t_out, &out_count) ||
		    in_count > ((size_t)1 << 40) / sizeof(float)) {
			stride_set_err(err, "batch %d x length %d is too large", n, t);
			return -1;
		}
		bool ok = grow(&L->y, out_count * sizeof(float)) &&
		          grow(&L->dx, in_count * sizeof(float));
		if (L->spec.type == STRIDE_MAXPOOL1D || L->spec.type == STRIDE_GLOBAL_MAXPOOL)
			ok = ok && grow(&L->argmax, out_count * sizeof(int));
		if (L->spec.type == STRIDE_BATCHNORM1D)
			ok = ok && grow(&L->bn_mean, (size_t)L->c_in * sizeof(float)) &&
			     grow(&L->bn_invstd, (size_t)L->c_in * sizeof(float));
		if (!ok) {
			stride_set_err(err, "out of memory for batch %d x length %d", n, t);
			return -1;
		}
		if (L->spec.type == STRIDE_CONV1D) {
			const StrideGeom g = geom_of(L, n);
			const size_t s = stride_conv_scratch_floats(&g);
			if (s > scratch)
				scratch = s;
		}
		c = L->c_out;
		t = L->t_out;
	}
	if (!grow(&net->scratch, (scratch + 1) * sizeof(float))) {
		stride_set_err(err, "out of memory for the conv1d patch matrix");
		return -1;
	}
	return 0;
}

int stride_net_reserve(StrideNet *net, int n, int t, char err[STRIDE_ERR_LEN])
{
	return plan(net, n, t, err);
}

static const float *layer_input(const StrideNet *net, int i)
{
	return i == 0 ? net->x : (const float *)net->layers[i - 1].y.data;
}

int stride_net_forward(StrideNet *net, const float *x, int n, int t, bool training,
                       const float **y, int *c_out, int *t_out, char err[STRIDE_ERR_LEN])
{
	net->have_forward = false;
	if (plan(net, n, t, err) < 0)
		return -1;
	net->x = x;
	net->n = n;
	net->t = t;
	net->training = training;
	for (int i = 0; i < net->n_layers; i++) {
		Layer *L = &net->layers[i];
		const StrideLayerSpec *s = &L->spec;
		const float *in = layer_input(net, i);
		float *out = L->y.data;
		const size_t count = (size_t)n * L->c_in * L->t_in;
		const StrideGeom g = geom_of(L, n);
		switch (s->type) {
		case STRIDE_CONV1D:
			stride_conv_forward(&g, in, tensor_data(net, L->weight),
			                    L->bias >= 0 ? tensor_data(net, L->bias) : NULL, out,
			                    net->scratch.data);
			break;
		case STRIDE_MAXPOOL1D:
			stride_maxpool_forward(&g, in, out, L->argmax.data);
			break;
		case STRIDE_AVGPOOL1D:
			stride_avgpool_forward(&g, in, out);
			break;
		case STRIDE_GLOBAL_AVGPOOL:
			stride_global_avg_forward(n, L->c_in, L->t_in, in, out);
			break;
		case STRIDE_GLOBAL_MAXPOOL:
			stride_global_max_forward(n, L->c_in, L->t_in, in, out, L->argmax.data);
			break;
		case STRIDE_BATCHNORM1D: {
			const StrideBnGeom bg = { n, L->c_in, L->t_in, s->eps, s->momentum };
			if (training) {
				if (stride_bn_forward_train(&bg, in, tensor_data(net, L->weight),
				                            tensor_data(net, L->bias), tensor_data(net, L->run_mean),
				                            tensor_data(net, L->run_var), out, L->bn_mean.data,
				                            L->bn_invstd.data) < 0) {
					stride_set_err(err,
					               "layer %d (batchnorm1d %s): training needs more than one value "
					               "per channel (batch %d x length %d)",
					               i, s->name, n, L->t_in);
					return -1;
				}
			} else {
				stride_bn_forward_eval(&bg, in, tensor_data(net, L->weight),
				                       tensor_data(net, L->bias), tensor_data(net, L->run_mean),
				                       tensor_data(net, L->run_var), out);
			}
			break;
		}
		case STRIDE_DENSE:
			stride_dense_forward(n, s->in, s->out, in, tensor_data(net, L->weight),
			                     L->bias >= 0 ? tensor_data(net, L->bias) : NULL, out);
			break;
		case STRIDE_RELU:
			stride_relu_forward(count, in, out);
			break;
		case STRIDE_LEAKY_RELU:
			stride_leaky_relu_forward(count, s->slope, in, out);
			break;
		case STRIDE_LOG:
			stride_log_forward(count, s->eps, in, out);
			break;
		case STRIDE_TANH:
			stride_tanh_forward(count, in, out);
			break;
		case STRIDE_SIGMOID:
			stride_sigmoid_forward(count, in, out);
			break;
		case STRIDE_SOFTMAX:
			stride_softmax_forward(n, L->c_in, L->t_in, in, out);
			break;
		default:
			stride_set_err(err, "layer %d: unknown type", i);
			return -1;
		}
	}
	const Layer *last = &net->layers[net->n_layers - 1];
	*y = last->y.data;
	if (c_out)
		*c_out = last->c_out;
	if (t_out)
		*t_out = last->t_out;
	net->have_forward = true;
	return 0;
}

int stride_net_backward(StrideNet *net, const float *grad_y, float *grad_x,
                        char err[STRIDE_ERR_LEN])
{
	if (!net->have_forward) {
		stride_set_err(err, "backward needs a forward first");
		return -1;
	}
	const int n = net->n;
	const float *dy = grad_y;
	for (int i = net->n_layers - 1; i >= 0; i--) {
		Layer *L = &net->layers[i];
		const StrideLayerSpec *s = &L->spec;
		const float *in = layer_input(net, i);
		const float *out = L->y.data;
		float *dx = i == 0 ? grad_x : L->dx.data;
		const size_t count = (size_t)n * L->c_in * L->t_in;
		const StrideGeom g = geom_of(L, n);
		switch (s->type) {
		case STRIDE_CONV1D:
			stride_conv_backward(&g, in, tensor_data(net, L->weight), dy, dx,
			                     tensor_grad(net, L->weight), tensor_grad(net, L->bias),
			                     net->scratch.data);
			break;
		case STRIDE_DENSE:
			stride_dense_backward(n, s->in, s->out, in, tensor_data(net, L->weight), dy, dx,
			                      tensor_grad(net, L->weight), tensor_grad(net, L->bias));
			break;
		case STRIDE_BATCHNORM1D: {
			const StrideBnGeom bg = { n, L->c_in, L->t_in, s->eps, s->momentum };
			if (net->training)
				stride_bn_backward_train(&bg, in, tensor_data(net, L->weight), L->bn_mean.data,
				                         L->bn_invstd.data, dy, dx, tensor_grad(net, L->weight),
				                         tensor_grad(net, L->bias));
			else
				stride_bn_backward_eval(&bg, in, tensor_data(net, L->weight),
				                        tensor_data(net, L->run_mean), tensor_data(net, L->run_var),
				                        dy, dx, tensor_grad(net, L->weight),
				                        tensor_grad(net, L->bias));
			break;
		}
		default:
			if (!dx)
				break; /* nothing to learn below the first parameter-free layer */
			switch (s->type) {
			case STRIDE_MAXPOOL1D:
				stride_maxpool_backward(&g, dy, L->argmax.data, dx);
				break;
			case STRIDE_AVGPOOL1D:
				stride_avgpool_backward(&g, dy, dx);
				break;
			case STRIDE_GLOBAL_AVGPOOL:
				stride_global_avg_backward(n, L->c_in, L->t_in, dy, dx);
				break;
			case STRIDE_GLOBAL_MAXPOOL:
				stride_global_max_backward(n, L->c_in, L->t_in, dy, L->argmax.data, dx);
				break;
			case STRIDE_RELU:
				stride_relu_backward(count, in, dy, dx);
				break;
			case STRIDE_LEAKY_RELU:
				stride_leaky_relu_backward(count, s->slope, in, dy, dx);
				break;
			case STRIDE_LOG:
				stride_log_backward(count, s->eps, in, dy, dx);
				break;
			case STRIDE_TANH:
				stride_tanh_backward(count, out, dy, dx);
				break;
			case STRIDE_SIGMOID:
				stride_sigmoid_backward(count, out, dy, dx);
				break;
			case STRIDE_SOFTMAX:
				stride_softmax_backward(n, L->c_in, L->t_in, out, dy, dx);
				break;
			default:
				stride_set_err(err, "layer %d: unknown type", i);
				return -1;
			}
		}
		dy = dx;
	}
	return 0;
}

double stride_net_flops(const StrideNet *net, int t_in)
{
	int c = net->in_channels, t = t_in;
	double flops = 0.0;
	for (int i = 0; i < net->n_layers; i++) {
		const StrideLayerSpec *s = &net->layers[i].spec;
		int c2, t2;
		if (layer_out_shape(s, i, c, t, &c2, &t2, NULL) < 0)
			return -1.0;
		const double in_count = (double)c * t, out_count = (double)c2 * t2;
		switch (s->type) {
		case STRIDE_CONV1D:
			flops += 2.0 * out_count * (s->in / s->groups) * s->kernel + (s->bias ? out_count : 0);
			break;
		case STRIDE_DENSE:
			flops += 2.0 * s->in * s->out + (s->bias ? s->out : 0);
			break;
		case STRIDE_MAXPOOL1D:
		case STRIDE_AVGPOOL1D:
			flops += out_count * s->kernel;
			break;
		case STRIDE_GLOBAL_AVGPOOL:
		case STRIDE_GLOBAL_MAXPOOL:
		case STRIDE_RELU:
		case STRIDE_LEAKY_RELU:
			flops += in_count;
			break;
		case STRIDE_BATCHNORM1D:
			flops += 2.0 * in_count;
			break;
		default: /* tanh, sigmoid, softmax: an exp, a divide and some adds each */
			flops += 4.0 * in_count;
			break;
		}
		c = c2;
		t = t2;
	}
	return flops;
}

/* Geometry of the time-local part of the network: the layers before the first
 * global pool or dense layer (after those, every output sees the whole input). */
static void local_geometry(const StrideNet *net, long *rf, long *jump)
{
	*rf = 1;
	*jump = 1;
	for (int i = 0; i < net->n_layers; i++) {
		const StrideLayerSpec *s = &net->layers[i].spec;
		if (s->type == STRIDE_GLOBAL_AVGPOOL || s->type == STRIDE_GLOBAL_MAXPOOL ||
		    s->type == STRIDE_DENSE)
			break;
		if (s->type == STRIDE_CONV1D || is_pool(s->type)) {
			const long dil = s->type == STRIDE_CONV1D ? s->dilation : 1;
			*rf += dil * (s->kernel - 1) * *jump;
			*jump *= s->stride;
			if (*jump > 0x7fffffffL)
				*jump = 0x7fffffffL;
			if (*rf > 0x7fffffffL)
				*rf = 0x7fffffffL;
		}
	}
}

int stride_net_receptive_field(const StrideNet *net)
{
	long rf, jump;
	local_geometry(net, &rf, &jump);
	return (int)rf;
}

int stride_net_total_stride(const StrideNet *net)
{
	long rf, jump;
	local_geometry(net, &rf, &jump);
	return (int)jump;
}

StrideNet *stride_net_fold_batchnorm(const StrideNet *net, char err[STRIDE_ERR_LEN])
{
	StrideLayerSpec *specs = calloc((size_t)net->n_layers, sizeof *specs);
	int *src = malloc((size_t)net->n_layers * sizeof *src);   /* new layer -> old layer */
	int *bn_of = malloc((size_t)net->n_layers * sizeof *bn_of); /* old layer -> bn folded in */
	StrideNet *out = NULL;
	if (!specs || !src || !bn_of) {
		stride_set_err(err, "out of memory");
		goto done;
	}
	int m = 0;
	for (int i = 0; i < net->n_layers; i++) {
		bn_of[i] = -1;
		const StrideLayerSpec *s = &net->layers[i].spec;
		if (s->type == STRIDE_BATCHNORM1D && m > 0) {
			const StrideLayerType prev = specs[m - 1].type;
			if (prev == STRIDE_CONV1D || prev == STRIDE_DENSE) {
				bn_of[src[m - 1]] = i;
				specs[m - 1].bias = true;
				continue;
			}
		}
		specs[m] = *s;
		src[m] = i;
		m++;
	}
	out = stride_net_new(specs, m, err);
	if (!out)
		goto done;
	StrideNet *in = (StrideNet *)net; /* read only: tensor_data does not modify */
	for (int j = 0; j < m; j++) {
		const Layer *Lo = &in->layers[src[j]];
		const Layer *Ln = &out->layers[j];
		if (Lo->weight >= 0)
			memcpy(tensor_data(out, Ln->weight), tensor_data(in, Lo->weight),
			       in->tensors[Lo->weight].size * sizeof(float));
		if (Lo->bias >= 0)
			memcpy(tensor_data(out, Ln->bias), tensor_data(in, Lo->bias),
			       in->tensors[Lo->bias].size * sizeof(float));
		if (Lo->run_mean >= 0) {
			memcpy(tensor_data(out, Ln->run_mean), tensor_data(in, Lo->run_mean),
			       in->tensors[Lo->run_mean].size * sizeof(float));
			memcpy(tensor_data(out, Ln->run_var), tensor_data(in, Lo->run_var),
			       in->tensors[Lo->run_var].size * sizeof(float));
		}
		const int b = bn_of[src[j]];
		if (b < 0)
			continue;
		/* y = gamma * (Wx + bias - mean) / sqrt(var + eps) + beta */
		const Layer *B = &in->layers[b];
		const float *gamma = tensor_data(in, B->weight), *beta = tensor_data(in, B->bias);
		const float *mean = tensor_data(in, B->run_mean), *var = tensor_data(in, B->run_var);
		float *w = tensor_data(out, Ln->weight), *bias = tensor_data(out, Ln->bias);
		const int outs = Ln->spec.out;
		const size_t per_out = out->tensors[Ln->weight].size / (size_t)outs;
		for (int o = 0; o < outs; o++) {
			const double scale = gamma[o] / sqrt((double)var[o] + B->spec.eps);
			for (size_t k = 0; k < per_out; k++)
				w[(size_t)o * per_out + k] = (float)(w[(size_t)o * per_out + k] * scale);
			bias[o] = (float)((bias[o] - mean[o]) * scale + beta[o]);
		}
	}
done:
	free(specs);
	free(src);
	free(bn_of);
	return out;
}
