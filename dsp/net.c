/* Networks: building from specs, shapes, parameters, forward and backward.
 * What each layer type does is its row of the layer table (layer_table.h);
 * this file only chains the layers and owns their memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_table.h"

#define MAX_PARAMS ((size_t)1 << 26) /* 64 M floats, 256 MB: a mistake, not a model */

#define TENSOR_NAME_LEN (STRIDE_NAME_LEN + 16)

typedef struct {
	char name[TENSOR_NAME_LEN];
	int ndim;
	int shape[3];
	size_t size;
	size_t offset; /* into params (trainable) or buffers */
	bool trainable;
	float fill;    /* value before initialisation or loading */
} TensorInfo;

/* A float or int buffer that only grows. */
typedef struct {
	void *data;
	size_t cap; /* bytes */
} Buf;

typedef struct {
	StrideLayerSpec spec;
	const StrideLayerOps *ops;
	int c_in, c_out;
	int t_in, t_out;                    /* of the last forward */
	int tensor[STRIDE_LAYER_TENSORS];   /* tensor indices by slot, or -1 */
	Buf y, dx, saved;
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

static void free_buf(Buf *b)
{
	stride_free_aligned(b->data);
	b->data = NULL;
	b->cap = 0;
}

static float *tensor_data(const StrideNet *net, int i)
{
	const TensorInfo *t = &net->tensors[i];
	return (t->trainable ? net->params : net->buffers) + t->offset;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                 */
/* ------------------------------------------------------------------------ */

static int add_tensor(StrideNet *net, const char *layer, const StrideTensorDecl *d)
{
	TensorInfo *t = &net->tensors[net->n_tensors];
	snprintf(t->name, sizeof t->name, "%s.%s", layer, d->suffix);
	t->ndim = d->ndim;
	t->size = 1;
	for (int i = 0; i < d->ndim; i++) {
		t->shape[i] = d->shape[i];
		t->size *= (size_t)d->shape[i];
	}
	t->trainable = d->trainable;
	t->fill = d->fill;
	if (t->trainable) {
		t->offset = net->n_params;
		net->n_params += t->size;
	} else {
		t->offset = net->n_buffers;
		net->n_buffers += t->size;
	}
	return net->n_tensors++;
}

/* The layers' tensors of one kind (trainable parameters, or buffers), in layer order. */
static int add_tensors(StrideNet *net, bool trainable, char *err)
{
	for (int i = 0; i < net->n_layers; i++) {
		Layer *L = &net->layers[i];
		StrideTensorDecl d[STRIDE_LAYER_TENSORS];
		memset(d, 0, sizeof d);
		if (L->ops->tensors)
			L->ops->tensors(&L->spec, d);
		for (int k = 0; k < STRIDE_LAYER_TENSORS; k++)
			if (d[k].suffix && d[k].trainable == trainable)
				L->tensor[k] = add_tensor(net, L->spec.name, &d[k]);
		if (trainable && net->n_params > MAX_PARAMS) {
			stride_set_err(err, "more than %zu parameters", MAX_PARAMS);
			return -1;
		}
	}
	return 0;
}

/* Checks one layer and chains the channel count *c (-1 while unknown:
 * activations and pools before the first layer that has one). */
static int check_layer(StrideNet *net, int i, int *c, char *err)
{
	Layer *L = &net->layers[i];
	StrideLayerSpec *s = &L->spec;
	L->ops = stride_layer_ops(s->type);
	if (!L->ops) {
		stride_set_err(err, "layer %d: unknown layer type %d", i, (int)s->type);
		return -1;
	}
	if (L->ops->needs_name && !stride_layer_name_valid(s->name)) {
		stride_set_err(err, "layer %d (%s): needs a name of letters, digits, '_', '.' or '-', "
		                    "shorter than %d characters",
		               i, L->ops->name, STRIDE_NAME_LEN);
		return -1;
	}
	const int c_before = *c;
	if (L->ops->check && L->ops->check(i, s, c, err) < 0)
		return -1;
	if (c_before < 0 && *c >= 0 && net->in_channels < 0 && L->ops->in_channels)
		net->in_channels = L->ops->in_channels(s);
	for (int j = 0; j < i && L->ops->needs_name; j++) {
		if (net->layers[j].ops->needs_name && strcmp(net->layers[j].spec.name, s->name) == 0) {
			stride_set_err(err, "layers %d and %d are both named '%s'", j, i, s->name);
			return -1;
		}
	}
	return 0;
}

StrideNet *stride_net_new(const StrideLayerSpec *specs, int n_specs, char err[STRIDE_ERR_LEN])
{
	if (!specs || n_specs < 1 || n_specs > STRIDE_MAX_LAYERS) {
		stride_set_err(err, "a network needs 1..%d layers, got %d", STRIDE_MAX_LAYERS, n_specs);
		return NULL;
	}
	StrideNet *net = calloc(1, sizeof *net);
	if (!net)
		goto oom;
	net->layers = calloc((size_t)n_specs, sizeof *net->layers);
	net->tensors = calloc((size_t)n_specs * STRIDE_LAYER_TENSORS, sizeof *net->tensors);
	if (!net->layers || !net->tensors)
		goto oom;
	net->n_layers = n_specs;
	net->in_channels = -1;

	int c = -1;
	for (int i = 0; i < n_specs; i++) {
		Layer *L = &net->layers[i];
		L->spec = specs[i];
		L->spec.name[STRIDE_NAME_LEN - 1] = '\0';
		for (int k = 0; k < STRIDE_LAYER_TENSORS; k++)
			L->tensor[k] = -1;
		if (check_layer(net, i, &c, err) < 0)
			goto fail;
	}
	if (net->in_channels < 0) {
		stride_set_err(err, "no conv1d, batchnorm1d or dense layer: cannot tell the input channels");
		goto fail;
	}
	/* tensors: trainable parameters first (layer order), then buffers */
	if (add_tensors(net, true, err) < 0 || add_tensors(net, false, err) < 0)
		goto fail;
	net->params = stride_alloc_aligned((net->n_params + 1) * sizeof(float));
	net->grads = stride_alloc_aligned((net->n_params + 1) * sizeof(float));
	net->buffers = stride_alloc_aligned((net->n_buffers + 1) * sizeof(float));
	if (!net->params || !net->grads || !net->buffers)
		goto oom;
	for (int i = 0; i < net->n_tensors; i++) {
		float *d = tensor_data(net, i);
		for (size_t k = 0; k < net->tensors[i].size && net->tensors[i].fill != 0.0f; k++)
			d[k] = net->tensors[i].fill;
	}
	return net;
oom:
	stride_set_err(err, "out of memory building the network");
fail:
	stride_net_free(net);
	return NULL;
}

void stride_net_free(StrideNet *net)
{
	if (!net)
		return;
	for (int i = 0; net->layers && i < net->n_layers; i++) {
		Layer *L = &net->layers[i];
		free_buf(&L->y);
		free_buf(&L->dx);
		free_buf(&L->saved);
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

/* ------------------------------------------------------------------------ */
/* Shapes                                                                   */
/* ------------------------------------------------------------------------ */

/* Shape after one layer, from (c, t). */
static int layer_out_shape(const Layer *L, int i, int c, int t, int *c2, int *t2, char *err)
{
	if (L->ops->shape)
		return L->ops->shape(&L->spec, i, c, t, c2, t2, err);
	*c2 = c;
	*t2 = t;
	return 0;
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
		if (layer_out_shape(&net->layers[j], j, cc, tt, &cc, &tt, err) < 0)
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

/* ------------------------------------------------------------------------ */
/* Parameters                                                               */
/* ------------------------------------------------------------------------ */

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
	out.data = tensor_data(net, i);
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

/* A layer's tensors by slot: in `params` for the trainable ones (an array laid
 * out as net->params), in net->buffers for the others; NULL when unused. */
static void layer_tensors(const StrideNet *net, const Layer *L, float *params,
                          float *t[STRIDE_LAYER_TENSORS])
{
	for (int k = 0; k < STRIDE_LAYER_TENSORS; k++) {
		const int j = L->tensor[k];
		t[k] = j < 0 ? NULL
		             : (net->tensors[j].trainable ? params : net->buffers) + net->tensors[j].offset;
	}
}

void stride_net_init_params(StrideNet *net, uint64_t seed)
{
	StrideRng rng;
	stride_rng_seed(&rng, seed);
	for (int i = 0; i < net->n_layers; i++) {
		const Layer *L = &net->layers[i];
		float *t[STRIDE_LAYER_TENSORS];
		layer_tensors(net, L, net->params, t);
		if (L->ops->init)
			L->ops->init(&L->spec, t, &rng);
	}
	stride_net_constrain(net, net->params);
}

void stride_net_constrain(const StrideNet *net, float *params)
{
	for (int i = 0; i < net->n_layers; i++) {
		const Layer *L = &net->layers[i];
		float *t[STRIDE_LAYER_TENSORS];
		layer_tensors(net, L, params, t);
		if (L->ops->constrain)
			L->ops->constrain(&L->spec, t);
	}
}

/* ------------------------------------------------------------------------ */
/* Forward and backward                                                     */
/* ------------------------------------------------------------------------ */

static const float *layer_input(const StrideNet *net, int i)
{
	return i == 0 ? net->x : (const float *)net->layers[i - 1].y.data;
}

/* Layer i's pass over a batch of n, with the shapes of the last plan. */
static StrideLayerPass pass_of(StrideNet *net, int i, int n)
{
	Layer *L = &net->layers[i];
	StrideLayerPass p;
	memset(&p, 0, sizeof p);
	p.spec = &L->spec;
	p.index = i;
	p.n = n;
	p.c_in = L->c_in;
	p.t_in = L->t_in;
	p.c_out = L->c_out;
	p.t_out = L->t_out;
	p.training = net->training;
	p.x = layer_input(net, i);
	p.y = L->y.data;
	p.saved = L->saved.data;
	p.scratch = net->scratch.data;
	layer_tensors(net, L, net->params, p.t);
	for (int k = 0; k < STRIDE_LAYER_TENSORS; k++) {
		const int j = L->tensor[k];
		p.grad[k] = j >= 0 && net->tensors[j].trainable ? net->grads + net->tensors[j].offset
		                                                : NULL;
	}
	return p;
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
		if (layer_out_shape(L, i, c, t, &L->c_out, &L->t_out, err) < 0)
			return -1;
		size_t in_count, out_count;
		if (!stride_mul_size((size_t)n * (size_t)L->c_in, (size_t)L->t_in, &in_count) ||
		    !stride_mul_size((size_t)n * (size_t)L->c_out, (size_t)L->t_out, &out_count) ||
		    in_count > ((size_t)1 << 40) / sizeof(float)) {
			stride_set_err(err, "batch %d x length %d is too large", n, t);
			return -1;
		}
		const StrideLayerPass p = pass_of(net, i, n);
		const size_t saved = L->ops->saved_bytes ? L->ops->saved_bytes(&p) : 0;
		if (!grow(&L->y, out_count * sizeof(float)) || !grow(&L->dx, in_count * sizeof(float)) ||
		    !grow(&L->saved, saved)) {
			stride_set_err(err, "out of memory for batch %d x length %d", n, t);
			return -1;
		}
		const size_t s = L->ops->scratch_floats ? L->ops->scratch_floats(&p) : 0;
		if (s > scratch)
			scratch = s;
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
		const StrideLayerPass p = pass_of(net, i, n);
		if (net->layers[i].ops->forward(&p, err) < 0)
			return -1;
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
	const float *dy = grad_y;
	for (int i = net->n_layers - 1; i >= 0; i--) {
		Layer *L = &net->layers[i];
		StrideLayerPass p = pass_of(net, i, net->n);
		p.dy = dy;
		p.dx = i == 0 ? grad_x : L->dx.data;
		/* nothing to learn below the first parameter-free layer */
		if ((p.dx || L->ops->tensors) && L->ops->backward(&p, err) < 0)
			return -1;
		dy = p.dx;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Cost and geometry                                                        */
/* ------------------------------------------------------------------------ */

double stride_net_flops(const StrideNet *net, int t_in)
{
	int c = net->in_channels, t = t_in;
	double flops = 0.0;
	for (int i = 0; i < net->n_layers; i++) {
		int c2, t2;
		if (layer_out_shape(&net->layers[i], i, c, t, &c2, &t2, NULL) < 0)
			return -1.0;
		flops += stride_layer_flops(&net->layers[i].spec, c, t, c2, t2);
		c = c2;
		t = t2;
	}
	return flops;
}

StrideLocalGeometry stride_net_local_geometry(const StrideNet *net)
{
	StrideLocalGeometry g = { 0, 1, 1, false };
	for (; g.n_local < net->n_layers; g.n_local++) {
		const Layer *L = &net->layers[g.n_local];
		if (L->ops->kind == STRIDE_LAYER_GLOBAL)
			break;
		if (L->ops->kind != STRIDE_LAYER_WINDOWED)
			continue;
		const StrideWindow w = L->ops->window(&L->spec);
		g.padded = g.padded || w.padding > 0;
		g.rf += (long long)w.dilation * (w.kernel - 1) * g.jump;
		if (g.rf > 0x7fffffffLL)
			g.rf = 0x7fffffffLL;
		g.jump *= w.stride;
		if (g.jump > 0x7fffffffLL)
			g.jump = 0x80000000LL; /* larger than any hop: cannot divide it */
	}
	return g;
}

int stride_net_receptive_field(const StrideNet *net)
{
	return (int)stride_net_local_geometry(net).rf;
}

int stride_net_total_stride(const StrideNet *net)
{
	const long long jump = stride_net_local_geometry(net).jump;
	return jump > 0x7fffffffLL ? 0x7fffffff : (int)jump;
}
