/* `stride gate IN OUT`: Stride Gate on a file, through the same DSP object
 * (dsp/gate.c) and the same controls as the plugin, for batch work on
 * recordings. The flags are the plugin's port symbols. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sndfile.h>

#include "commands.h"
#include "gate.h"
#include "options.h"

#define BLOCK 1024
#define MAX_CHANNELS 8

/* The installed bundle's model, searched where hosts look for bundles. */
static bool find_default_model(char *out, size_t size)
{
	const char *name = "stride.lv2/gate.safetensors";
	char dirs[8][2048];
	int n = 0;
	const char *lv2_path = getenv("LV2_PATH");
	for (const char *p = lv2_path; p && *p && n < 4;) {
		const char *colon = strchr(p, ':');
		const size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len > 0 && len < sizeof dirs[0]) {
			memcpy(dirs[n], p, len);
			dirs[n++][len] = '\0';
		}
		p += len + (colon ? 1 : 0);
	}
	const char *home = getenv("HOME");
	if (home && strlen(home) + 6 < sizeof dirs[0])
		n += snprintf(dirs[n], sizeof dirs[0], "%s/.lv2", home) > 0;
	/* <prefix>/bin/stride -> <prefix>/lib/lv2 */
	char exe[1024];
	const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			n += snprintf(dirs[n], sizeof dirs[0], "%s/../lib/lv2", exe) > 0;
		}
	}
	n += snprintf(dirs[n], sizeof dirs[0], "/usr/local/lib/lv2") > 0;
	n += snprintf(dirs[n], sizeof dirs[0], "/usr/lib/lv2") > 0;
	for (int i = 0; i < n; i++) {
		const int w = snprintf(out, size, "%s/%s", dirs[i], name);
		if (w > 0 && (size_t)w < size && access(out, R_OK) == 0)
			return true;
	}
	return false;
}

/* libsndfile's major format for OUT's extension (0: keep the input's). */
static int major_for(const char *path)
{
	static const struct {
		const char *ext;
		int major;
	} table[] = {
		{".wav", SF_FORMAT_WAV}, {".flac", SF_FORMAT_FLAC}, {".aif", SF_FORMAT_AIFF},
		{".aiff", SF_FORMAT_AIFF}, {".ogg", SF_FORMAT_OGG}, {".au", SF_FORMAT_AU},
		{".caf", SF_FORMAT_CAF}, {".w64", SF_FORMAT_W64},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof table / sizeof table[0]; i++)
		if (!strcasecmp(dot, table[i].ext))
			return table[i].major;
	return 0;
}

/* The output format: OUT's container with the input's sample format when that
 * combination exists. */
static int output_format(const SF_INFO *in, const char *path)
{
	const int major = major_for(path) ? major_for(path) : (in->format & SF_FORMAT_TYPEMASK);
	SF_INFO probe = *in;
	const int subtypes[] = {in->format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24, SF_FORMAT_VORBIS,
	                        SF_FORMAT_FLOAT};
	for (size_t i = 0; i < sizeof subtypes / sizeof subtypes[0]; i++) {
		probe.format = major | subtypes[i];
		if (sf_format_check(&probe))
			return probe.format;
	}
	return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
}

typedef struct {
	const char *in_path, *out_path, *model_path;
	StrideGateParams params;
	bool keep_latency;
	const char *trace_path; /* --trace: per-stretch probability and gain (NULL: none) */
	long long trace_frames; /* rows of this many input frames (0: one decision's stretch) */
} Options;

static int parse_value(const StrideCommand *cmd, const StrideParamInfo *info, const char *text,
                       float *out)
{
	char *end = NULL;
	errno = 0;
	const double v = strtod(text, &end);
	if (errno || end == text || *end != '\0' || !(v == v))
		return cli_command_usage_error(cmd, "--%s: '%s' is not a number", info->symbol, text);
	if (v < info->min || v > info->max)
		return cli_command_usage_error(cmd, "--%s %s is outside %g .. %g", info->symbol, text,
		                               info->min, info->max);
	*out = (float)v;
	return 0;
}

/* --NAME VALUE for a gate parameter (param_info.h), --model or --preset;
 * *known: whether NAME (nlen characters) is one. Returns 0 or a usage error. */
static int parse_setting(const StrideCommand *cmd, const char *name, size_t nlen, const char *value,
                         Options *o, bool *known)
{
	*known = false;
	for (int k = 0; k < STRIDE_GATE_N_PARAMS && !*known; k++) {
		const StrideParamInfo *info = &stride_gate_param_info[k];
		if (strlen(info->symbol) != nlen || strncmp(name, info->symbol, nlen))
			continue;
		*known = true;
		if (!value)
			return cli_command_usage_error(cmd, "--%s needs a value", info->symbol);
		if (parse_value(cmd, info, value, &o->params.v[k]))
			return STRIDE_EXIT_USAGE;
	}
	if (!*known && nlen == 5 && !strncmp(name, "model", 5)) {
		*known = true;
		if (!value)
			return cli_command_usage_error(cmd, "--model needs a file");
		o->model_path = value;
	} else if (!*known && nlen == 6 && !strncmp(name, "preset", 6)) {
		*known = true;
		int found = -1;
		for (int p = 0; value && p < stride_gate_n_presets; p++)
			if (!strcmp(value, stride_gate_presets[p].symbol))
				found = p;
		if (found < 0)
			return cli_command_usage_error(cmd, "--preset: '%s' is not speech, music or "
			                                       "tight",
			                                  value ? value : "");
		/* a preset sets what it names; flags after it override */
		for (int k = 0; k < STRIDE_GATE_N_PARAMS; k++)
			if (k != STRIDE_GATE_ENABLE)
				o->params.v[k] = stride_gate_presets[found].params.v[k];
	}
	return 0;
}

static int parse(const StrideCommand *cmd, int argc, char **argv, Options *o)
{
	memset(o, 0, sizeof *o);
	o->params = stride_gate_params_default();
	const char *pos[2];
	int n_pos = 0;
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (options_done || a[0] != '-' || a[1] == '\0') {
			if (n_pos == 2)
				return cli_command_usage_error(cmd, "too many arguments");
			pos[n_pos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			options_done = true;
			continue;
		}
		if (!strcmp(a, "--keep-latency")) {
			o->keep_latency = true;
			continue;
		}
		if (!strcmp(a, "--trace") || !strncmp(a, "--trace=", 8)) {
			o->trace_path = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
			if (!o->trace_path || !*o->trace_path)
				return cli_command_usage_error(cmd, "--trace needs a file");
			continue;
		}
		if (!strcmp(a, "--trace-frames") || !strncmp(a, "--trace-frames=", 15)) {
			const char *v = a[14] == '=' ? a + 15 : (i + 1 < argc ? argv[++i] : NULL);
			if (!cli_parse_long(v, 1, INT64_MAX, &o->trace_frames))
				return cli_command_usage_error(cmd, "--trace-frames needs a whole number of "
				                                       "frames, 1 or more");
			continue;
		}
		/* --name VALUE or --name=VALUE */
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		const size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
		if (strncmp(a, "--", 2) != 0)
			return cli_command_usage_error(cmd, "unknown option '%s'", a);
		bool known = false;
		int rc = parse_setting(cmd, name, nlen, value, o, &known);
		if (rc != 0)
			return rc;
		if (!known)
			return cli_command_usage_error(cmd, "unknown option '%s'", a);
		if (!eq)
			i++;
	}
	if (n_pos != 2)
		return cli_command_usage_error(cmd, "expected IN and OUT");
	o->in_path = pos[0];
	o->out_path = pos[1];
	return 0;
}

/* What --trace collects: the gain applied to each input frame and each
 * decision's probability and open state (the whole file: 4 bytes a frame). */
typedef struct {
	float *gain;
	int64_t n_gain, cap_gain;
	struct {
		float p;
		bool open;
	} *dec;
	int64_t n_dec, cap_dec;
} Trace;

static bool grow(void **buf, int64_t *cap, int64_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	const int64_t cap2 = need > 2 * *cap ? need + 4096 : 2 * *cap;
	void *b = realloc(*buf, (size_t)cap2 * elem);
	if (!b)
		return false;
	*buf = b;
	*cap = cap2;
	return true;
}

/* Runs one frame through the gate and records what the trace needs. */
static bool traced_frame(StrideGate *gate, Trace *tr, const float *const *in, float *const *out,
                         int64_t t)
{
	stride_gate_process(gate, in, out, 1);
	/* one frame brings at most one decision for any model with a hop of more
	 * than one sample at the model's rate; more would share this probability */
	const int64_t n = stride_gate_decisions(gate);
	if (n > tr->n_dec) {
		if (!grow((void **)&tr->dec, &tr->cap_dec, n, sizeof *tr->dec))
			return false;
		for (; tr->n_dec < n; tr->n_dec++) {
			tr->dec[tr->n_dec].p = stride_gate_probability(gate);
			tr->dec[tr->n_dec].open = stride_gate_decision_open(gate);
		}
	}
	/* output frame t carries input frame t - latency */
	if (t >= (int64_t)stride_gate_latency(gate)) {
		if (!grow((void **)&tr->gain, &tr->cap_gain, tr->n_gain + 1, sizeof(float)))
			return false;
		tr->gain[tr->n_gain++] = stride_gate_gain(gate);
	}
	return true;
}

/* The trace as CSV, on the input's time axis: rows of `step` input frames,
 * each with the probability and open state of the decision that speaks for
 * the row's first frame (0 before the first decision's stretch) and the
 * gain applied to the row's frames. */
static int write_trace(const StrideCommand *cmd, const Options *o, const StrideGate *gate,
                       const Trace *tr, int64_t frames)
{
	FILE *f = fopen(o->trace_path, "w");
	if (!f)
		return cli_command_fail(cmd, "%s: %s", o->trace_path, strerror(errno));
	int64_t s0, s1;
	stride_gate_decision_span(gate, 0, &s0, &s1);
	const int64_t step = o->trace_frames > 0 ? o->trace_frames : s1 - s0;
	const int64_t n = tr->n_gain < frames ? tr->n_gain : frames;
	fprintf(f, "start,end,probability,open,gain_min,gain_mean,gain_max\n");
	int64_t k = -1, k_end = s0; /* the decision speaking for [.., k_end) */
	for (int64_t a = 0; a < n; a += step) {
		const int64_t b = a + step < n ? a + step : n;
		while (a >= k_end && k + 1 < tr->n_dec) {
			k++;
			stride_gate_decision_span(gate, k, &s0, &k_end);
		}
		const bool spoken = k >= 0 && a < k_end;
		double lo = 1e30, hi = -1e30, sum = 0.0;
		for (int64_t u = a; u < b; u++) {
			const double g = tr->gain[u];
			lo = g < lo ? g : lo;
			hi = g > hi ? g : hi;
			sum += g;
		}
		fprintf(f, "%lld,%lld,%.9g,%d,%.9g,%.9g,%.9g\n", (long long)a, (long long)b,
		        spoken ? tr->dec[k].p : 0.0, spoken && tr->dec[k].open, lo, sum / (double)(b - a), hi);
	}
	if (fclose(f) != 0)
		return cli_command_fail(cmd, "%s: could not finish writing", o->trace_path);
	return STRIDE_EXIT_OK;
}

/* A block of n frames frame by frame, to see each frame's gain and each
 * decision; first: the block's first frame in the file. False when out of
 * memory. */
static bool traced_block(StrideGate *gate, Trace *tr, const float *const *ins, float *const *outs,
                         int ch, sf_count_t n, uint64_t first)
{
	for (sf_count_t i = 0; i < n; i++) {
		const float *in1[MAX_CHANNELS];
		float *out1[MAX_CHANNELS];
		for (int c = 0; c < ch; c++) {
			in1[c] = ins[c] + i;
			out1[c] = outs[c] + i;
		}
		if (!traced_frame(gate, tr, in1, out1, (int64_t)(first + (uint64_t)i)))
			return false;
	}
	return true;
}

/* Frames [0, n) of the interleaved inter into the channels' BLOCK-long rows of planar. */
static void deinterleave(const float *inter, int ch, sf_count_t n, float *planar)
{
	for (sf_count_t i = 0; i < n; i++)
		for (int c = 0; c < ch; c++)
			planar[(size_t)c * BLOCK + (size_t)i] =
			    inter[(size_t)i * (size_t)ch + (size_t)c];
}

/* Frames [skip, skip + n) of planar's BLOCK-long channel rows, interleaved into inter. */
static void interleave(const float *planar, int ch, sf_count_t skip, sf_count_t n, float *inter)
{
	for (sf_count_t i = 0; i < n; i++)
		for (int c = 0; c < ch; c++)
			inter[(size_t)i * (size_t)ch + (size_t)c] =
			    planar[(size_t)c * BLOCK + (size_t)(i + skip)];
}

/* Streams the file through the gate; returns an exit status. */
static int gate_file(const StrideCommand *cmd, const Options *o, StrideGate *gate, SNDFILE *in,
                     const SF_INFO *info, SNDFILE *out)
{
	const int ch = info->channels;
	const uint32_t latency = stride_gate_latency(gate);
	float *inter = malloc(sizeof(float) * BLOCK * (size_t)ch);
	float *planar_in = malloc(sizeof(float) * BLOCK * (size_t)ch);
	float *planar_out = malloc(sizeof(float) * BLOCK * (size_t)ch);
	if (!inter || !planar_in || !planar_out) {
		free(inter);
		free(planar_in);
		free(planar_out);
		return cli_command_fail(cmd, "out of memory");
	}
	const float *ins[MAX_CHANNELS];
	float *outs[MAX_CHANNELS];
	for (int c = 0; c < ch; c++) {
		ins[c] = planar_in + (size_t)c * BLOCK;
		outs[c] = planar_out + (size_t)c * BLOCK;
	}
	/* compensation: drop the first `latency` frames and feed as many zeros at
	 * the end, so the output lines up with the input and is as long */
	uint64_t to_skip = o->keep_latency ? 0 : latency;
	uint64_t tail = o->keep_latency ? 0 : latency;
	uint64_t frames = 0, open_blocks = 0, blocks = 0, processed = 0;
	int status = STRIDE_EXIT_OK;
	Trace tr;
	memset(&tr, 0, sizeof tr);
	for (;;) {
		sf_count_t got = sf_readf_float(in, inter, BLOCK);
		if (got < 0)
			got = 0;
		if (got == 0) {
			if (tail == 0)
				break;
			got = (sf_count_t)(tail < BLOCK ? tail : BLOCK);
			memset(inter, 0, sizeof(float) * (size_t)got * (size_t)ch);
			tail -= (uint64_t)got;
		} else {
			frames += (uint64_t)got;
		}
		deinterleave(inter, ch, got, planar_in);
		if (o->trace_path) {
			if (!traced_block(gate, &tr, ins, outs, ch, got, processed)) {
				status = cli_command_fail(cmd, "out of memory for the trace");
				break;
			}
		} else {
			stride_gate_process(gate, ins, outs, (uint32_t)got);
		}
		processed += (uint64_t)got;
		blocks++;
		open_blocks += stride_gate_gain(gate) >= 0.5f;
		const sf_count_t skip = (sf_count_t)(to_skip < (uint64_t)got ? to_skip : (uint64_t)got);
		to_skip -= (uint64_t)skip;
		const sf_count_t keep = got - skip;
		interleave(planar_out, ch, skip, keep, inter);
		if (keep > 0 && sf_writef_float(out, inter, keep) != keep) {
			status = cli_command_fail(cmd, "%s: %s", o->out_path, sf_strerror(out));
			break;
		}
	}
	if (status == STRIDE_EXIT_OK && o->trace_path)
		status = write_trace(cmd, o, gate, &tr, (int64_t)frames);
	free(tr.gain);
	free(tr.dec);
	if (status == STRIDE_EXIT_OK)
		printf("%s -> %s: %llu frames, %d channel%s at %d Hz; latency %u frames (%.1f ms, %s); "
		       "open %.0f%% of the time\n",
		       o->in_path, o->out_path, (unsigned long long)frames, ch, ch == 1 ? "" : "s",
		       info->samplerate, latency, 1000.0 * latency / info->samplerate,
		       o->keep_latency ? "kept" : "compensated",
		       blocks ? 100.0 * (double)open_blocks / (double)blocks : 0.0);
	free(inter);
	free(planar_in);
	free(planar_out);
	return status;
}

static int run_gate(int argc, char **argv)
{
	const StrideCommand *cmd = &stride_cmd_gate;
	Options o;
	if (parse(cmd, argc, argv, &o))
		return STRIDE_EXIT_USAGE;
	char found[4096];
	if (!o.model_path) {
		if (!find_default_model(found, sizeof found))
			return cli_command_fail(cmd, "no installed gate model (stride.lv2/gate.safetensors "
			                                "in $LV2_PATH, ~/.lv2 or PREFIX/lib/lv2): pass "
			                                "--model FILE");
		o.model_path = found;
	}
	char err[STRIDE_ERR_LEN];
	StrideModel *model = stride_model_read(o.model_path, err);
	if (!model)
		return cli_command_fail(cmd, "%s", err);
	SF_INFO info;
	memset(&info, 0, sizeof info);
	SNDFILE *in = sf_open(o.in_path, SFM_READ, &info);
	if (!in) {
		stride_model_free(model);
		return cli_command_fail(cmd, "%s: %s", o.in_path, sf_strerror(NULL));
	}
	if (info.channels < 1 || info.channels > MAX_CHANNELS) {
		sf_close(in);
		stride_model_free(model);
		return cli_command_fail(cmd, "%s: %d channels (1 .. %d are supported)", o.in_path,
		                        info.channels, MAX_CHANNELS);
	}
	StrideGate *gate = stride_gate_new(model, info.samplerate, info.channels, err);
	stride_model_free(model);
	if (!gate) {
		sf_close(in);
		return cli_command_fail(cmd, "%s: %s", o.model_path, err);
	}
	stride_gate_set_params(gate, &o.params);
	SF_INFO out_info = info;
	out_info.format = output_format(&info, o.out_path);
	SNDFILE *out = sf_open(o.out_path, SFM_WRITE, &out_info);
	int status;
	if (!out) {
		status = cli_command_fail(cmd, "%s: %s", o.out_path, sf_strerror(NULL));
	} else {
		status = gate_file(cmd, &o, gate, in, &info, out);
		if (sf_close(out) != 0 && status == STRIDE_EXIT_OK)
			status = cli_command_fail(cmd, "%s: could not finish writing", o.out_path);
	}
	sf_close(in);
	stride_gate_free(gate);
	return status;
}

const StrideCommand stride_cmd_gate = {
	"gate",
	"[--model FILE] [--preset speech|music|tight] [--threshold P] [--hysteresis P] "
	"[--attack MS] [--hold MS] [--release MS] [--range DB] [--enable 0|1] [--keep-latency] "
	"[--trace FILE.csv [--trace-frames N]] IN OUT",
	"apply Stride Gate to an audio file, as the plugin would",
	"Runs the gate of the Stride Gate plugin (the same code and controls) over IN\n"
	"and writes OUT: any format libsndfile reads; OUT's extension picks its format\n"
	"(.wav, .flac, .ogg, .aiff, ...), with IN's sample format where it fits. Files\n"
	"with more than one channel get one decision for all channels, as the stereo\n"
	"plugin does.\n"
	"\n"
	"  --model FILE     a gate model; default: the installed bundle's\n"
	"                   (stride.lv2/gate.safetensors in $LV2_PATH, ~/.lv2, PREFIX/lib/lv2)\n"
	"  --preset NAME    start from the plugin preset speech, music or tight\n"
	"  --threshold P    probability of content at which the gate opens (0..1, 0.5)\n"
	"  --hysteresis P   how far below the threshold before it closes (0..0.5, 0.1)\n"
	"  --attack MS      opening time (0.5..10, 2); the lookahead finishes it before\n"
	"                   the sound starts\n"
	"  --hold MS        time it stays open after the last content (0..2000, 150)\n"
	"  --release MS     closing time (5..2000, 200)\n"
	"  --range DB       attenuation when closed (-90..0, -90; -90 closes fully)\n"
	"  --enable 0|1     0 passes the audio through (1)\n"
	"  --keep-latency   keep the plugin's lookahead delay in OUT; by default it is\n"
	"                   removed, so OUT lines up with IN and is as long\n"
	"  --trace FILE.csv what the gate did, on IN's time axis (the latency taken\n"
	"                   out, whatever --keep-latency says): a header, then rows of N\n"
	"                   input frames: start, end (frames), probability and open\n"
	"                   (0|1: threshold and hysteresis, before hold) of the decision\n"
	"                   that speaks for the row's first frame (0 before the first\n"
	"                   one), and the gain applied to the row's frames: gain_min,\n"
	"                   gain_mean, gain_max (linear). Input frames whose output\n"
	"                   --keep-latency leaves out have no row\n"
	"  --trace-frames N frames per trace row (default: the stretch one decision\n"
	"                   speaks for, e.g. 160 at 16 kHz for a 10 ms hop)\n",
	run_gate,
	NULL,
};
