/* `stride info MODEL`: what a model file holds and what running it costs. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

/* "1.23 M" style: three significant digits and an SI prefix. */
static void human(char *buf, size_t len, double v, const char *unit)
{
	static const char *const prefix[] = { "", "k", "M", "G", "T", "P" };
	int p = 0;
	while (v >= 999.5 && p < 5) {
		v /= 1000.0;
		p++;
	}
	snprintf(buf, len, "%.3g %s%s", v, prefix[p], unit);
}

static void human_bytes(char *buf, size_t len, double bytes)
{
	static const char *const prefix[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int p = 0;
	while (bytes >= 1024.0 && p < 4) {
		bytes /= 1024.0;
		p++;
	}
	if (p == 0)
		snprintf(buf, len, "%.0f %s", bytes, prefix[p]);
	else
		snprintf(buf, len, "%.2f %s", bytes, prefix[p]);
}

static double ms(int samples, int rate)
{
	return 1000.0 * samples / rate;
}

/* Parameters (or, with buffers set, buffer values) of the tensors named "<layer>.*". */
static size_t layer_tensor_size(StrideNet *net, const char *layer, int buffers)
{
	size_t total = 0, n = strlen(layer);
	if (n == 0)
		return 0;
	int nt = stride_net_n_tensors(net);
	for (int i = 0; i < nt; i++) {
		StrideTensor t = stride_net_tensor(net, i);
		if ((t.grad == NULL) != (buffers != 0))
			continue;
		if (strncmp(t.name, layer, n) == 0 && t.name[n] == '.')
			total += t.size;
	}
	return total;
}

static void print_layers(StrideNet *net, int window)
{
	int n = stride_net_n_layers(net);
	printf("\nlayers (output shape for one window of %d samples):\n", window);
	printf("  %3s  %-14s %-14s %-34s %-14s %10s\n", "#", "type", "name", "options", "output C x T",
	       "params");
	for (int i = 0; i < n; i++) {
		const StrideLayerSpec *s = stride_net_layer(net, i);
		const char *type = stride_layer_type_name(s->type);
		char opts[128], shape[48];
		stride_layer_describe(s, opts, sizeof opts);
		int c = 0, t = 0;
		if (stride_net_layer_shape(net, i, window, &c, &t, NULL) == 0)
			snprintf(shape, sizeof shape, "%d x %d", c, t);
		else
			snprintf(shape, sizeof shape, "(too short)");
		printf("  %3d  %-14s %-14s %-34s %-14s %10zu\n", i, type ? type : "?",
		       s->name[0] ? s->name : "-", opts, shape, layer_tensor_size(net, s->name, 0));
	}
}

/* FLOPs per second of audio when every output step is computed once: the cost
 * that K more output steps add, which is exact (every layer gains a whole number
 * of steps) and leaves out whatever is paid once per call. */
static double streamed_flops_per_second(const StrideNet *net, int window, int rate, int stride)
{
	int k = rate / stride;
	if (k < 1)
		k = 1;
	long long longer = (long long)window + (long long)k * stride;
	if (longer > 0x7fffffff)
		return -1.0;
	double extra = stride_net_flops(net, (int)longer) - stride_net_flops(net, window);
	return extra * rate / ((double)k * stride);
}

/* Metadata beyond the stride.* keys that run_info prints itself (training notes and such). */
static void print_other_metadata(const StrideModel *model)
{
	int shown = 0;
	for (int i = 0; i < model->n_meta; i++) {
		const char *k = model->meta_keys[i], *v = model->meta_values[i];
		if (strncmp(k, "stride.", 7) == 0)
			continue;
		if (!shown++)
			printf("metadata:\n");
		size_t len = strlen(v);
		printf("  %s: %.60s%s\n", k, v, len > 60 ? "..." : "");
	}
}

/* Parameters, buffers, output, FLOPs and geometry of the whole network. */
static void print_totals(const StrideModel *model)
{
	StrideNet *net = model->net;
	int rate = model->sample_rate;
	char a[48], b[48];
	size_t params = stride_net_n_params(net);
	size_t buffers = 0;
	int nt = stride_net_n_tensors(net);
	for (int i = 0; i < nt; i++) {
		StrideTensor t = stride_net_tensor(net, i);
		if (!t.grad)
			buffers += t.size;
	}
	int c_out = 0, t_out = 0;
	int fits = stride_net_output_shape(net, model->window, &c_out, &t_out, NULL) == 0;
	int rf = stride_net_receptive_field(net);
	int stride = stride_net_total_stride(net);

	printf("\ntotals:\n");
	human_bytes(a, sizeof a, (double)params * sizeof(float));
	printf("  parameters:       %zu (%s)\n", params, a);
	if (buffers) {
		human_bytes(a, sizeof a, (double)buffers * sizeof(float));
		printf("  buffers:          %zu (%s, batchnorm running statistics)\n", buffers, a);
	}
	if (fits)
		printf("  output:           %d x %d per window\n", c_out, t_out);
	else
		printf("  output:           none: the window is shorter than the network accepts\n");
	if (fits && model->hop > 0 && stride > 0) {
		double fw = stride_net_flops(net, model->window);
		human(a, sizeof a, fw, "FLOP");
		printf("  FLOPs per window: %s\n", a);
		human(a, sizeof a, fw * rate / model->hop, "FLOP/s");
		printf("  windowed:         %s (one window per hop)\n", a);
		double fs = streamed_flops_per_second(net, model->window, rate, stride);
		if (fs >= 0.0) {
			human(b, sizeof b, fs, "FLOP/s");
			printf("  streamed:         %s (each output step computed once)\n", b);
		}
	}
	printf("  receptive field:  %d samples (%.2f ms)\n", rf, ms(rf, rate));
	printf("  total stride:     %d samples (%.2f ms)\n", stride, ms(stride, rate));
	printf("  latency:          %d samples (%.2f ms, the window)\n", model->window,
	       ms(model->window, rate));
}

static int run_info(int argc, char **argv)
{
	const StrideCommand *cmd = &stride_cmd_info;
	if (argc != 2)
		return cli_command_usage_error(cmd, "expected one MODEL argument, got %d", argc - 1);
	const char *path = argv[1];
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *model = stride_model_read(path, err);
	if (!model)
		return cli_command_fail(cmd, "%s", err);
	StrideNet *net = model->net;
	int rate = model->sample_rate;

	printf("file:          %s\n", path);
	printf("task:          %s\n", model->task == STRIDE_TASK_GATE ? "gate" : "classify");
	printf("sample rate:   %d Hz\n", rate);
	printf("labels:        %d:", model->n_labels);
	for (int i = 0; i < model->n_labels; i++)
		printf("%s %s", i ? "," : "", model->labels[i]);
	printf("\n");
	printf("window:        %d samples (%.2f ms)\n", model->window, ms(model->window, rate));
	printf("hop:           %d samples (%.2f ms)\n", model->hop, ms(model->hop, rate));
	printf("input gain:    %g\n", (double)model->input_gain);
	printf("input:         %d channel%s\n", stride_net_in_channels(net),
	       stride_net_in_channels(net) == 1 ? "" : "s");
	print_other_metadata(model);
	print_layers(net, model->window);
	print_totals(model);

	stride_model_free(model);
	return STRIDE_EXIT_OK;
}

const StrideCommand stride_cmd_info = {
	.name = "info",
	.args = "MODEL",
	.summary = "describe a model file: metadata, layers, parameters, cost",
	.help =
		"Loads MODEL and prints its metadata (task, sample rate, labels, window,\n"
		"hop, input gain), a table of its layers with the output shape each gives\n"
		"for one window of input and its parameter count, and totals:\n"
		"  parameters   count and bytes (float32)\n"
		"  FLOPs        per forward of one window (a multiply-add counts 2);\n"
		"               per second of audio run windowed (one window per hop)\n"
		"               and streamed (each output step computed once)\n"
		"  geometry     receptive field, total stride, and latency (the window,\n"
		"               which is the decision delay the plugins report)\n"
		"\n"
		"Exit status: 0, 1 when the model cannot be loaded, 2 on usage errors.\n",
	.run = run_info,
};
