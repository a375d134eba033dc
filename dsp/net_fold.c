/* The inference copy of a network: every layer that can be folded (batchnorm1d)
 * put into the weights and bias of the layer before it when that layer can
 * take it (conv1d, dense), as the layer table says. Built on the public
 * network API: layers keep their names, so tensors are copied by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_table.h"

/* Tensor "<layer>.<suffix>" of net, or NULL. */
static StrideTensor *find(StrideNet *net, const char *layer, const char *suffix, StrideTensor *t)
{
	char name[STRIDE_NAME_LEN + 16];
	snprintf(name, sizeof name, "%s.%s", layer, suffix ? suffix : "");
	const int i = suffix ? stride_net_find_tensor(net, name) : -1;
	if (i < 0)
		return NULL;
	*t = stride_net_tensor(net, i);
	return t;
}

/* Folds layer `b` of `in` into layer `into` of `out` (whose tensors hold the
 * unfolded values already). */
static void fold_layer(StrideNet *in, const StrideLayerSpec *b, StrideNet *out, const char *into)
{
	const StrideLayerOps *ops = stride_layer_ops(b->type);
	StrideTensorDecl decl[STRIDE_LAYER_TENSORS];
	memset(decl, 0, sizeof decl);
	ops->tensors(b, decl);
	float *bt[STRIDE_LAYER_TENSORS];
	for (int k = 0; k < STRIDE_LAYER_TENSORS; k++) {
		StrideTensor t;
		bt[k] = find(in, b->name, decl[k].suffix, &t) ? t.data : NULL;
	}
	StrideTensor w, bias;
	find(out, into, "weight", &w);
	find(out, into, "bias", &bias);
	const int outs = (int)bias.size;
	ops->fold(b, bt, w.data, bias.data, outs, w.size / (size_t)outs);
}

StrideNet *stride_net_fold_batchnorm(const StrideNet *net, char err[STRIDE_ERR_LEN])
{
	const int n = stride_net_n_layers(net);
	StrideLayerSpec *specs = calloc((size_t)n, sizeof *specs);
	int *folded = malloc((size_t)n * sizeof *folded); /* new layer -> old layer folded in, or -1 */
	StrideNet *out = NULL;
	if (!specs || !folded) {
		stride_set_err(err, "out of memory");
		goto done;
	}
	int m = 0;
	for (int i = 0; i < n; i++) {
		const StrideLayerSpec *s = stride_net_layer(net, i);
		if (stride_layer_ops(s->type)->fold && m > 0 &&
		    stride_layer_ops(specs[m - 1].type)->absorbs_affine) {
			folded[m - 1] = i;
			specs[m - 1].bias = true;
			continue;
		}
		specs[m] = *s;
		folded[m++] = -1;
	}
	out = stride_net_new(specs, m, err);
	if (!out)
		goto done;
	StrideNet *in = (StrideNet *)net; /* read only: tensors are only read from it */
	for (int k = 0; k < stride_net_n_tensors(out); k++) {
		const StrideTensor t = stride_net_tensor(out, k);
		const int j = stride_net_find_tensor(in, t.name);
		if (j >= 0) /* a bias the fold added starts at zero */
			memcpy(t.data, stride_net_tensor(in, j).data, t.size * sizeof(float));
	}
	for (int j = 0; j < m; j++)
		if (folded[j] >= 0)
			fold_layer(in, stride_net_layer(in, folded[j]), out, specs[j].name);
done:
	free(specs);
	free(folded);
	return out;
}
