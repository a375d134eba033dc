/* The table of layer types (one row each, defined in its layer file), and the
 * helpers the layer files share. See layer_table.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "layer_table.h"

/* The rows, each defined in its layer file. Adding a layer type: its enum
 * value in stride.h, its file, and its line here and in the table. */
extern const StrideLayerOps stride_layer_conv1d, stride_layer_maxpool1d, stride_layer_avgpool1d,
        stride_layer_global_avgpool, stride_layer_global_maxpool, stride_layer_batchnorm1d,
        stride_layer_dense, stride_layer_relu, stride_layer_leaky_relu, stride_layer_tanh,
        stride_layer_sigmoid, stride_layer_softmax, stride_layer_log;

static const StrideLayerOps *const stride_layer_table[STRIDE_N_LAYER_TYPES] = {
	[STRIDE_CONV1D] = &stride_layer_conv1d,
	[STRIDE_MAXPOOL1D] = &stride_layer_maxpool1d,
	[STRIDE_AVGPOOL1D] = &stride_layer_avgpool1d,
	[STRIDE_GLOBAL_AVGPOOL] = &stride_layer_global_avgpool,
	[STRIDE_GLOBAL_MAXPOOL] = &stride_layer_global_maxpool,
	[STRIDE_BATCHNORM1D] = &stride_layer_batchnorm1d,
	[STRIDE_DENSE] = &stride_layer_dense,
	[STRIDE_RELU] = &stride_layer_relu,
	[STRIDE_LEAKY_RELU] = &stride_layer_leaky_relu,
	[STRIDE_TANH] = &stride_layer_tanh,
	[STRIDE_SIGMOID] = &stride_layer_sigmoid,
	[STRIDE_SOFTMAX] = &stride_layer_softmax,
	[STRIDE_LOG] = &stride_layer_log,
};

const StrideLayerOps *stride_layer_ops(StrideLayerType type)
{
	if ((int)type < 0 || type >= STRIDE_N_LAYER_TYPES)
		return NULL;
	return stride_layer_table[type];
}

bool stride_layer_name_valid(const char *s)
{
	const size_t len = strnlen(s, STRIDE_NAME_LEN);
	if (len == 0 || len >= STRIDE_NAME_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		const char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int stride_layer_window_shape(const StrideLayerSpec *s, int i, int t, int *t_out, char *err)
{
	const StrideWindow w = stride_layer_ops(s->type)->window(s);
	const int len = stride_conv_out_len(t, w.kernel, w.stride, w.dilation, w.padding);
	if (len < 1) {
		stride_set_err(err,
		               "layer %d (%s): input length %d is shorter than its window "
		               "(kernel %d, dilation %d, padding %d)",
		               i, stride_layer_type_name(s->type), t, w.kernel, w.dilation, w.padding);
		return -1;
	}
	*t_out = len;
	return 0;
}

void stride_layer_init_uniform(int fan_in, size_t n_weights, int n_bias,
                               float *const t[STRIDE_LAYER_TENSORS], StrideRng *rng)
{
	const double bound = 1.0 / sqrt((double)fan_in);
	float *w = t[STRIDE_T_WEIGHT];
	for (size_t k = 0; k < n_weights; k++)
		w[k] = (float)((2.0 * stride_rng_uniform(rng) - 1.0) * bound);
	if (t[STRIDE_T_BIAS]) {
		float *b = t[STRIDE_T_BIAS];
		for (int k = 0; k < n_bias; k++)
			b[k] = (float)((2.0 * stride_rng_uniform(rng) - 1.0) * bound);
	}
}

double stride_layer_flops(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out)
{
	const StrideLayerOps *ops = stride_layer_ops(s->type);
	if (ops && ops->flops)
		return ops->flops(s, c_in, t_in, c_out, t_out);
	return (double)c_in * t_in;
}

double stride_layer_flops_exp(const StrideLayerSpec *s, int c_in, int t_in, int c_out, int t_out)
{
	(void)s;
	(void)c_out;
	(void)t_out;
	const double in_count = (double)c_in * t_in;
	return 4.0 * in_count;
}

StrideGeom stride_layer_geom(const StrideLayerPass *p)
{
	const StrideWindow w = stride_layer_ops(p->spec->type)->window(p->spec);
	StrideGeom g;
	g.n = p->n;
	g.c_in = p->c_in;
	g.t_in = p->t_in;
	g.c_out = p->c_out;
	g.t_out = p->t_out;
	g.kernel = w.kernel;
	g.stride = w.stride;
	g.dilation = w.dilation;
	g.padding = w.padding;
	g.groups = w.groups;
	return g;
}

const float *stride_layer_find_tensor(StrideNet *net, const char *layer, const char *suffix,
                                      size_t size)
{
	char name[STRIDE_NAME_LEN + 16];
	snprintf(name, sizeof name, "%s.%s", layer, suffix);
	const int i = stride_net_find_tensor(net, name);
	if (i < 0)
		return NULL;
	const StrideTensor t = stride_net_tensor(net, i);
	return t.size == size ? t.data : NULL;
}
