/* libFuzzer target: the model file loader, from bytes, as the plugins and the
 * CLI use it (stride_model_read reads the whole file, then does exactly this).
 *
 * Every input must either load, giving a model whose fields agree with its
 * network, that a stream can be made from, and that saves and loads back as
 * the same model (bit for bit in its weights), or be refused with a message.
 * The same bytes also go through the generic safetensors reader (checkpoints,
 * test references), which shares the header parser but not the model checks.
 * ASan, UBSan and LeakSanitizer (on by default under libFuzzer) turn any
 * overflow, undefined operation or leak into a crash. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_scratch.h"
#include "stride.h"

/* Streams for windows above this are skipped: the loader accepts windows up to
 * 16 M samples, and making such a stream per input would only measure malloc. */
#define MAX_STREAM_WINDOW 65536

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where the round trip writes (fuzz_scratch.h). */
static char save_path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_scratch_path(save_path, sizeof save_path, ".safetensors");
	return 0;
}

/* A refusal that says nothing is a bug too: users see only the message. */
static void require_message(const char *err)
{
	if (!err[0])
		abort();
}

/* What the plugins do with a model they accepted: a stream, fed one block. */
static void run_stream(const StrideModel *m)
{
	if (m->window > MAX_STREAM_WINDOW)
		return;
	char err[STRIDE_ERR_LEN] = "";
	StrideStream *s = stride_stream_new(m, err);
	if (!s) {
		require_message(err);
		return;
	}
	enum { BLOCK = 256 };
	const int channels = stride_stream_in_channels(s);
	const int out_size = stride_stream_out_size(s);
	const int max_out = BLOCK / stride_stream_hop(s) + 1;
	float *in = calloc((size_t)channels * BLOCK, sizeof *in);
	float *out = calloc((size_t)max_out * (size_t)out_size, sizeof *out);
	if (in && out) {
		for (int i = 0; i < channels * BLOCK; i++)
			in[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
		stride_stream_push(s, in, BLOCK, BLOCK, out, max_out);
	}
	free(in);
	free(out);
	stride_stream_free(s);
}

static int same_float(float a, float b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static int same_spec(const StrideLayerSpec *a, const StrideLayerSpec *b)
{
	return a->type == b->type && strcmp(a->name, b->name) == 0 && a->in == b->in &&
	       a->out == b->out && a->kernel == b->kernel && a->stride == b->stride &&
	       a->dilation == b->dilation && a->padding == b->padding && a->groups == b->groups &&
	       a->bias == b->bias && a->channels == b->channels && same_float(a->eps, b->eps) &&
	       same_float(a->momentum, b->momentum) && same_float(a->slope, b->slope);
}

/* stride_model_write writes what load accepted, and load reads back the same
 * model: what the trainer writes and the plugins read must agree. */
static void round_trip(const StrideModel *m)
{
	char err[STRIDE_ERR_LEN] = "";
	if (stride_model_write(m, save_path, err) < 0) {
		fprintf(stderr, "a loaded model does not save: %s\n", err);
		abort();
	}
	StrideModel *b = stride_model_read(save_path, err);
	unlink(save_path);
	if (!b) {
		fprintf(stderr, "a saved model does not load back: %s\n", err);
		abort();
	}
	if (b->task != m->task || b->sample_rate != m->sample_rate || b->window != m->window ||
	    b->hop != m->hop || !same_float(b->input_gain, m->input_gain) ||
	    b->n_labels != m->n_labels || stride_net_n_layers(b->net) != stride_net_n_layers(m->net) ||
	    stride_net_n_tensors(b->net) != stride_net_n_tensors(m->net))
		abort();
	for (int i = 0; i < m->n_labels; i++) {
		if (strcmp(b->labels[i], m->labels[i]) != 0)
			abort();
	}
	for (int i = 0; i < stride_net_n_layers(m->net); i++) {
		if (!same_spec(stride_net_layer(b->net, i), stride_net_layer(m->net, i)))
			abort();
	}
	for (int i = 0; i < stride_net_n_tensors(m->net); i++) {
		StrideTensor ta = stride_net_tensor(m->net, i), tb = stride_net_tensor(b->net, i);
		if (strcmp(ta.name, tb.name) != 0 || ta.size != tb.size ||
		    memcmp(ta.data, tb.data, ta.size * sizeof *ta.data) != 0)
			abort();
	}
	/* the metadata a user set survives too */
	for (int i = 0; i < m->n_meta; i++) {
		if (strncmp(m->meta_keys[i], "stride.", 7) == 0)
			continue;
		const char *v = stride_model_meta(b, m->meta_keys[i]);
		if (!v || strcmp(v, m->meta_values[i]) != 0)
			abort();
	}
	stride_model_free(b);
}

static void check_model(const StrideModel *m)
{
	int c, t;
	char err[STRIDE_ERR_LEN] = "";
	/* the loader promised these; the plugins size their buffers from them */
	if (!m->net || m->window < 1 || m->hop < 1 || m->n_labels < 0)
		abort();
	if (stride_net_output_shape(m->net, m->window, &c, &t, err) < 0 || c != m->n_labels)
		abort();
	for (int i = 0; i < m->n_labels; i++) {
		if (!m->labels[i])
			abort();
	}
	run_stream(m);
	round_trip(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *m = stride_model_read_memory(data, size, "fuzz.safetensors", err);
	if (m)
		check_model(m);
	else
		require_message(err);
	stride_model_free(m);

	err[0] = 0;
	StrideTensorFile *tf = stride_tensorfile_read_memory(data, size, "fuzz.safetensors", err);
	if (tf) {
		/* every tensor's size is the product of its shape */
		for (int i = 0; i < stride_tensorfile_n_tensors(tf); i++) {
			size_t n = 1;
			const int64_t *shape = stride_tensorfile_shape(tf, i);
			for (int d = 0; d < stride_tensorfile_ndim(tf, i); d++)
				n *= (size_t)shape[d];
			if (n != stride_tensorfile_size(tf, i) || (n && !stride_tensorfile_data(tf, i)))
				abort();
		}
	} else {
		require_message(err);
	}
	stride_tensorfile_free(tf);
	return 0;
}
