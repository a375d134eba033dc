/* Layer specs: defaults, names and the output-length formula. */
#include <string.h>

#include "stride.h"

static const char *const type_names[STRIDE_N_LAYER_TYPES] = {
	[STRIDE_CONV1D] = "conv1d",
	[STRIDE_MAXPOOL1D] = "maxpool1d",
	[STRIDE_AVGPOOL1D] = "avgpool1d",
	[STRIDE_GLOBAL_AVGPOOL] = "global_avgpool",
	[STRIDE_GLOBAL_MAXPOOL] = "global_maxpool",
	[STRIDE_BATCHNORM1D] = "batchnorm1d",
	[STRIDE_DENSE] = "dense",
	[STRIDE_RELU] = "relu",
	[STRIDE_LEAKY_RELU] = "leaky_relu",
	[STRIDE_TANH] = "tanh",
	[STRIDE_SIGMOID] = "sigmoid",
	[STRIDE_SOFTMAX] = "softmax",
	[STRIDE_LOG] = "log",
};

StrideLayerSpec stride_layer_spec_defaults(StrideLayerType type)
{
	StrideLayerSpec s;
	memset(&s, 0, sizeof s);
	s.type = type;
	s.stride = type == STRIDE_CONV1D ? 1 : 0; /* pools: 0 = the kernel size */
	s.dilation = 1;
	s.groups = 1;
	s.bias = true;
	s.eps = 1e-5f;
	s.momentum = 0.1f;
	s.slope = 0.01f;
	return s;
}

const char *stride_layer_type_name(StrideLayerType type)
{
	if ((int)type < 0 || type >= STRIDE_N_LAYER_TYPES)
		return NULL;
	return type_names[type];
}

int stride_layer_type_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < STRIDE_N_LAYER_TYPES; i++)
		if (strcmp(type_names[i], name) == 0)
			return i;
	return -1;
}

int stride_conv_out_len(int t, int kernel, int stride, int dilation, int padding)
{
	if (t < 1 || kernel < 1 || stride < 1 || dilation < 1 || padding < 0)
		return -1;
	const long span = (long)dilation * (kernel - 1) + 1;
	const long room = (long)t + 2L * padding - span;
	if (room < 0)
		return -1;
	const long len = room / stride + 1;
	return len > 0x7fffffffL ? -1 : (int)len;
}
