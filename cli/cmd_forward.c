/* `stride forward MODEL INPUT OUTPUT.npy`: the raw network output for one input. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio_file.h"
#include "commands.h"

/* The network input: (channels, frames), planar. */
typedef struct {
	float *x;
	int channels;
	int frames;
} Input;

/* .npy by its magic bytes, or by its name when the file cannot be opened (so
 * the error then comes from the .npy reader). */
static bool looks_like_npy(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f) {
		unsigned char magic[6] = { 0 };
		size_t n = fread(magic, 1, sizeof magic, f);
		fclose(f);
		if (n == sizeof magic && memcmp(magic, "\x93NUMPY", 6) == 0)
			return true;
	}
	size_t len = strlen(path);
	return len >= 4 && strcasecmp(path + len - 4, ".npy") == 0;
}

static int read_npy_input(const char *path, int want_channels, Input *in, char err[STRIDE_ERR_LEN])
{
	float *data = NULL;
	int ndim = 0;
	int64_t shape[8] = { 0 };
	if (stride_npy_read(path, &data, &ndim, shape, err) != 0)
		return -1;
	int64_t c = ndim == 1 ? 1 : shape[0];
	int64_t t = ndim == 1 ? shape[0] : shape[1];
	if (ndim != 1 && ndim != 2) {
		stride_set_err(err, "%s: expected an array shaped [C, T] or [T], got %d dimensions", path,
		               ndim);
	} else if (c != want_channels) {
		stride_set_err(err, "%s: has %lld channels, the model takes %d", path, (long long)c,
		               want_channels);
	} else if (t > 0x7fffffff) {
		stride_set_err(err, "%s: %lld samples is too long for one forward", path, (long long)t);
	} else {
		in->x = data;
		in->channels = (int)c;
		in->frames = (int)t;
		return 0;
	}
	free(data);
	return -1;
}

static int read_audio_input(const char *path, int rate, int want_channels, Input *in,
                            char err[STRIDE_ERR_LEN])
{
	StrideAudio audio;
	int rc = want_channels == 1 ? cli_audio_read_mono(path, rate, &audio, err)
	                            : cli_audio_read(path, rate, &audio, err);
	if (rc != 0)
		return -1;
	if (audio.channels != want_channels) {
		stride_set_err(err, "%s: has %d channels, the model takes %d", path, audio.channels,
		               want_channels);
	} else if (audio.frames > 0x7fffffff) {
		stride_set_err(err, "%s: %zu samples is too long for one forward", path, audio.frames);
	} else {
		in->x = audio.data;
		in->channels = audio.channels;
		in->frames = (int)audio.frames;
		return 0;
	}
	cli_audio_free(&audio);
	return -1;
}

/* The shortest input the network accepts (output shape is monotone in length). */
static int min_input_length(const StrideNet *net)
{
	int c, t;
	int hi = stride_net_receptive_field(net);
	if (hi < 1)
		hi = 1;
	while (stride_net_output_shape(net, hi, &c, &t, NULL) != 0) {
		if (hi > 0x3fffffff)
			return hi;
		hi *= 2;
	}
	int lo = 1;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (stride_net_output_shape(net, mid, &c, &t, NULL) == 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static int write_output(const char *path, const float *y, int ndim, const int64_t *shape,
                        char err[STRIDE_ERR_LEN])
{
	if (stride_npy_write(path, y, ndim, shape, err) != 0)
		return -1;
	printf("%s: [", path);
	for (int i = 0; i < ndim; i++)
		printf("%s%lld", i ? ", " : "", (long long)shape[i]);
	printf("]\n");
	return 0;
}

static int forward_whole(StrideNet *net, const Input *in, const char *out_path,
                         char err[STRIDE_ERR_LEN])
{
	const float *y = NULL;
	int c_out = 0, t_out = 0;
	if (stride_net_forward(net, in->x, 1, in->frames, false, &y, &c_out, &t_out, err) != 0)
		return -1;
	int64_t shape[2] = { c_out, t_out };
	return write_output(out_path, y, 2, shape, err);
}

/* One forward per window (window and hop from the model); the incomplete tail is dropped. */
static int forward_windowed(const StrideModel *model, const Input *in, const char *in_path,
                            const char *out_path, char err[STRIDE_ERR_LEN])
{
	StrideNet *net = model->net;
	int window = model->window, hop = model->hop;
	if (window < 1 || hop < 1) {
		stride_set_err(err, "the model's window (%d) and hop (%d) must be positive", window, hop);
		return -1;
	}
	if (in->frames < window) {
		stride_set_err(err, "%s: %d samples is shorter than the model's window of %d samples",
		               in_path, in->frames, window);
		return -1;
	}
	int c_out = 0, t_out = 0;
	if (stride_net_output_shape(net, window, &c_out, &t_out, err) != 0) {
		stride_prefix_err(err, "the model's window of %d samples", window);
		return -1;
	}
	size_t n_windows = (size_t)(in->frames - window) / (size_t)hop + 1;
	size_t per = (size_t)c_out * (size_t)t_out;
	size_t total;
	float *out = NULL, *buf = NULL;
	int rc = -1;
	if (!stride_mul_size(n_windows, per, &total) || !(out = malloc((total ? total : 1) * sizeof *out)) ||
	    !(buf = malloc((size_t)in->channels * (size_t)window * sizeof *buf))) {
		stride_set_err(err, "out of memory for %zu windows", n_windows);
		goto done;
	}
	for (size_t w = 0; w < n_windows; w++) {
		size_t start = w * (size_t)hop;
		for (int c = 0; c < in->channels; c++)
			memcpy(buf + (size_t)c * (size_t)window, in->x + (size_t)c * (size_t)in->frames + start,
			       (size_t)window * sizeof *buf);
		const float *y = NULL;
		int c_y = 0, t_y = 0;
		if (stride_net_forward(net, buf, 1, window, false, &y, &c_y, &t_y, err) != 0)
			goto done;
		memcpy(out + w * per, y, per * sizeof *out);
	}
	int64_t shape[3] = { (int64_t)n_windows, c_out, t_out };
	rc = write_output(out_path, out, 3, shape, err);
done:
	free(buf);
	free(out);
	return rc;
}

static int run_forward(int argc, char **argv)
{
	const StrideCommand *cmd = &stride_cmd_forward;
	const char *pos[3];
	int n_pos = 0;
	bool windowed = false, options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!options_done && strcmp(a, "--") == 0) {
			options_done = true;
		} else if (!options_done && strcmp(a, "--windowed") == 0) {
			windowed = true;
		} else if (!options_done && a[0] == '-' && a[1] != '\0') {
			return cli_command_usage_error(cmd, "unknown option '%s'", a);
		} else {
			if (n_pos == 3)
				return cli_command_usage_error(cmd, "too many arguments");
			pos[n_pos++] = a;
		}
	}
	if (n_pos != 3)
		return cli_command_usage_error(cmd, "expected MODEL INPUT OUTPUT.npy");
	const char *model_path = pos[0], *in_path = pos[1], *out_path = pos[2];

	char err[STRIDE_ERR_LEN] = "";
	StrideModel *model = stride_model_read(model_path, err);
	if (!model)
		return cli_command_fail(cmd, "%s", err);
	StrideNet *net = model->net;
	int want = stride_net_in_channels(net);
	Input in = { NULL, 0, 0 };
	int rc = STRIDE_EXIT_FAIL;
	int got = looks_like_npy(in_path) ? read_npy_input(in_path, want, &in, err)
	                                  : read_audio_input(in_path, model->sample_rate, want, &in, err);
	if (got != 0) {
		cli_command_fail(cmd, "%s", err);
		goto done;
	}
	int c, t;
	if (stride_net_output_shape(net, in.frames, &c, &t, NULL) != 0) {
		cli_command_fail(cmd,
		                 "%s: %d samples is too short: the model needs at least %d samples "
		                 "(receptive field %d)",
		                 in_path, in.frames, min_input_length(net), stride_net_receptive_field(net));
		goto done;
	}
	if (model->input_gain != 1.0f) {
		size_t n = (size_t)in.channels * (size_t)in.frames;
		for (size_t i = 0; i < n; i++)
			in.x[i] *= model->input_gain;
	}
	if ((windowed ? forward_windowed(model, &in, in_path, out_path, err)
	              : forward_whole(net, &in, out_path, err)) != 0) {
		cli_command_fail(cmd, "%s", err);
		goto done;
	}
	rc = STRIDE_EXIT_OK;
done:
	free(in.x);
	stride_model_free(model);
	return rc;
}

const StrideCommand stride_cmd_forward = {
	.name = "forward",
	.args = "[--windowed] MODEL INPUT OUTPUT.npy",
	.summary = "run a model on one input and save its raw output as .npy",
	.help =
		"INPUT is an audio file (any format libsndfile reads; resampled to the\n"
		"model's rate, mixed to mono when the model takes one channel) or a float32\n"
		".npy array shaped [C, T] or [T] (taken as-is at the model's rate; C must\n"
		"match the model's input channels). The input is multiplied by the model's\n"
		"input gain and run through the network as one batch item (inference mode:\n"
		"batchnorm uses its running statistics). OUTPUT.npy receives the output\n"
		"tensor [C_out, T_out].\n"
		"\n"
		"options:\n"
		"  --windowed   one forward per window (the model's window and hop; the\n"
		"               incomplete tail is dropped); OUTPUT.npy is then\n"
		"               [n_windows, C_out, T_out]\n"
		"\n"
		"Exit status: 0, 1 on errors (unreadable files, input too short, channel\n"
		"mismatch), 2 on usage errors.\n",
	.run = run_forward,
};
