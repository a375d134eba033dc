/* Layer specs: defaults, names (from the layer table) and the output-length formula. */
#include <string.h>

#include "layer_table.h"

StrideLayerSpec stride_layer_spec_defaults(StrideLayerType type)
{
	StrideLayerSpec s;
	memset(&s, 0, sizeof s);
	s.type = type;
	s.stride = 0; /* pools: 0 = the kernel size */
	s.dilation = 1;
	s.groups = 1;
	s.bias = true;
	s.eps = 1e-5f;
	s.momentum = 0.1f;
	s.slope = 0.01f;
	const StrideLayerOps *ops = stride_layer_ops(type);
	if (ops && ops->defaults)
		ops->defaults(&s);
	return s;
}

const char *stride_layer_type_name(StrideLayerType type)
{
	const StrideLayerOps *ops = stride_layer_ops(type);
	return ops ? ops->name : NULL;
}

int stride_layer_type_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < STRIDE_N_LAYER_TYPES; i++)
		if (strcmp(stride_layer_ops((StrideLayerType)i)->name, name) == 0)
			return i;
	return -1;
}

void stride_layer_describe(const StrideLayerSpec *spec, char *buf, size_t len)
{
	const StrideLayerOps *ops = stride_layer_ops(spec->type);
	if (len > 0)
		buf[0] = '\0';
	if (ops && ops->describe)
		ops->describe(spec, buf, len);
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
