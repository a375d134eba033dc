/* `stride predict` and `stride eval`: every output format parses back (CSV
 * columns, JSON through cJSON, Audacity label tracks) and says what the
 * network, run in this process on the same windows, says. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "train_util.h"

#include "detector.h"
#include "stride.h"

#define RATE 16000
#define WINDOW 512
#define HOP 128

static char tmpdir[256];
static char stride_bin[1024];
static char cls_model[600], gate_model[600];
static char audio_a[600], audio_b[600], gate_audio[600];

static void path_in(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", tmpdir, rel);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* A classifier with random weights and a label that needs CSV quoting; its
 * second output's bias is set so that half the windows of `audio` (first
 * `frames` samples) go each way. */
static int make_classifier(const char *path, const float *audio, int frames)
{
	StrideLayerSpec s[5];
	s[0] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[0].name, sizeof s[0].name, "conv");
	s[0].in = 1;
	s[0].out = 4;
	s[0].kernel = 16;
	s[0].stride = 4;
	s[1] = stride_layer_spec_defaults(STRIDE_RELU);
	s[2] = stride_layer_spec_defaults(STRIDE_GLOBAL_AVGPOOL);
	s[3] = stride_layer_spec_defaults(STRIDE_DENSE);
	snprintf(s[3].name, sizeof s[3].name, "fc");
	s[3].in = 4;
	s[3].out = 2;
	s[4] = stride_layer_spec_defaults(STRIDE_SOFTMAX);
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, 5, err);
	if (!net)
		return -1;
	stride_net_init_params(net, 99);
	/* scale the head so the decisions are not all alike */
	int fc = stride_net_find_tensor(net, "fc.weight");
	StrideTensor t = stride_net_tensor(net, fc);
	for (size_t i = 0; i < t.size; i++)
		t.data[i] *= 40.0f;
	int nw = (frames - WINDOW) / HOP + 1;
	float *d = malloc((size_t)nw * sizeof *d), win[WINDOW];
	for (int i = 0; i < nw; i++) {
		for (int j = 0; j < WINDOW; j++)
			win[j] = 2.0f * audio[i * HOP + j];
		const float *y;
		int c, tt;
		if (stride_net_forward(net, win, 1, WINDOW, false, &y, &c, &tt, err) != 0)
			return -1;
		d[i] = logf(y[1]) - logf(y[0]);
	}
	qsort(d, (size_t)nw, sizeof *d, cmp_float);
	stride_net_tensor(net, stride_net_find_tensor(net, "fc.bias")).data[1] -= d[nw / 2] + 1e-3f;
	free(d);
	const char *labels[] = { "tone", "noise, hum" };
	StrideModel *m = stride_model_new(net, STRIDE_TASK_CLASSIFY, RATE, labels, 2, err);
	if (!m)
		return -1;
	m->window = WINDOW;
	m->hop = HOP;
	m->input_gain = 2.0f;
	int rc = stride_model_write(m, path, err);
	stride_model_free(m);
	return rc;
}

/* A gate that opens with level: content logit = 50 * mean|x| - 1. */
static int make_gate(const char *path)
{
	StrideLayerSpec s[5];
	s[0] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[0].name, sizeof s[0].name, "rect");
	s[0].in = 1;
	s[0].out = 2;
	s[0].kernel = 1;
	s[0].bias = false;
	s[1] = stride_layer_spec_defaults(STRIDE_RELU);
	s[2] = stride_layer_spec_defaults(STRIDE_GLOBAL_AVGPOOL);
	s[3] = stride_layer_spec_defaults(STRIDE_DENSE);
	snprintf(s[3].name, sizeof s[3].name, "fc");
	s[3].in = 2;
	s[3].out = 2;
	s[4] = stride_layer_spec_defaults(STRIDE_SOFTMAX);
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, 5, err);
	if (!net)
		return -1;
	float *w = stride_net_tensor(net, stride_net_find_tensor(net, "rect.weight")).data;
	w[0] = 1.0f;
	w[1] = -1.0f;
	float *fw = stride_net_tensor(net, stride_net_find_tensor(net, "fc.weight")).data;
	float *fb = stride_net_tensor(net, stride_net_find_tensor(net, "fc.bias")).data;
	fw[0] = fw[1] = 0.0f;  /* noise */
	fw[2] = fw[3] = 50.0f; /* content */
	fb[0] = 0.0f;
	fb[1] = -1.0f;
	const char *labels[] = { "noise", "content" };
	StrideModel *m = stride_model_new(net, STRIDE_TASK_GATE, RATE, labels, 2, err);
	if (!m)
		return -1;
	m->window = WINDOW;
	m->hop = HOP;
	int rc = stride_model_write(m, path, err);
	stride_model_free(m);
	return rc;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/stride_test_predict_XXXXXX");
	if (!mkdtemp(tmpdir) || tu_find_stride(stride_bin, sizeof stride_bin) < 0)
		return -1;
	path_in(cls_model, sizeof cls_model, "cls.safetensors");
	path_in(gate_model, sizeof gate_model, "gate.safetensors");
	/* a: tone then noise; b: noise only; gate: silence, a tone, silence */
	float *x = malloc(3 * RATE * sizeof *x);
	unsigned long long s = 5;
	tu_tone(x, RATE / 2, RATE, 330.0, 0.3);
	tu_noise(x + RATE / 2, RATE / 2, 0.2, &s);
	path_in(audio_a, sizeof audio_a, "a.wav");
	tu_write_wav(audio_a, x, RATE, RATE, 1, 0);
	/* the file holds 16-bit samples: decide on what will be read back */
	for (int i = 0; i < RATE; i++)
		x[i] = (float)lrintf(x[i] * 32767.0f) / 32768.0f;
	if (make_classifier(cls_model, x, RATE) < 0 || make_gate(gate_model) < 0)
		return -1;
	tu_noise(x, RATE, 0.3, &s);
	path_in(audio_b, sizeof audio_b, "b.wav");
	tu_write_wav(audio_b, x, 3 * RATE / 4, RATE, 1, 0);
	memset(x, 0, 3 * RATE * sizeof *x);
	tu_tone(x + RATE / 2, RATE / 2, RATE, 440.0, 0.3);
	path_in(gate_audio, sizeof gate_audio, "gate_in.wav");
	tu_write_wav(gate_audio, x, 3 * RATE / 2, RATE, 1, 0);
	free(x);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tu_rmtree(tmpdir);
	return 0;
}

/* The model's probabilities for every hop of a file, computed here. */
static float *expected_probs(const char *model_path, const char *audio, long long *n_out)
{
	char err[STRIDE_ERR_LEN];
	StrideModel *m = stride_model_read(model_path, err);
	assert_non_null(m);
	SF_INFO info;
	memset(&info, 0, sizeof info);
	SNDFILE *f = sf_open(audio, SFM_READ, &info);
	assert_non_null(f);
	float *x = malloc((size_t)info.frames * sizeof *x);
	assert_int_equal(sf_readf_float(f, x, info.frames), info.frames);
	sf_close(f);
	long long n = (info.frames - m->window) / m->hop + 1;
	float *p = malloc((size_t)n * 2 * sizeof *p);
	float *win = malloc((size_t)m->window * sizeof *win);
	for (long long i = 0; i < n; i++) {
		for (int j = 0; j < m->window; j++)
			win[j] = x[i * m->hop + j] * m->input_gain;
		const float *y;
		int c, t;
		assert_int_equal(stride_net_forward(m->net, win, 1, m->window, false, &y, &c, &t, err), 0);
		p[2 * i] = y[0];
		p[2 * i + 1] = y[1];
	}
	free(win);
	free(x);
	stride_model_free(m);
	*n_out = n;
	return p;
}

/* Splits a CSV line into fields (RFC 4180 quoting); returns the count. */
static int csv_split(const char *line, char fields[][256], int max)
{
	int n = 0;
	const char *p = line;
	while (n < max) {
		int k = 0;
		if (*p == '"') {
			p++;
			while (*p && !(*p == '"' && p[1] != '"')) {
				if (*p == '"')
					p++;
				if (k < 255)
					fields[n][k++] = *p;
				p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',' && *p != '\n')
				if (k < 255)
					fields[n][k++] = *p++;
		}
		fields[n++][k] = '\0';
		if (*p != ',')
			break;
		p++;
	}
	return n;
}

static void test_csv(void **state)
{
	(void)state;
	char out[600];
	path_in(out, sizeof out, "pred.csv");
	const char *args[] = { "predict", cls_model, audio_a, audio_b, "--out", out, NULL };
	TuRun r = tu_run(stride_bin, args, tmpdir);
	if (r.status != 0)
		fail_msg("predict failed:\n%s\n%s", r.out, r.err);
	/* the verdicts go to stdout when the data goes to a file */
	char v[700];
	snprintf(v, sizeof v, "%s: ", audio_a);
	tu_assert_contains(r.out, v);
	snprintf(v, sizeof v, "%s: ", audio_b);
	tu_assert_contains(r.out, v);
	tu_run_free(&r);

	char *text = tu_slurp(out);
	assert_non_null(text);
	char fields[8][256];
	char *save = NULL;
	char *line = strtok_r(text, "\n", &save);
	assert_int_equal(csv_split(line, fields, 8), 6);
	assert_string_equal(fields[0], "file");
	assert_string_equal(fields[1], "start");
	assert_string_equal(fields[2], "end");
	assert_string_equal(fields[3], "label");
	assert_string_equal(fields[4], "p_tone");
	assert_string_equal(fields[5], "p_noise, hum");
	long long na, nb;
	float *pa = expected_probs(cls_model, audio_a, &na);
	float *pb = expected_probs(cls_model, audio_b, &nb);
	assert_int_equal(na, (RATE - WINDOW) / HOP + 1);
	long long rows = 0;
	int labels_seen[2] = { 0, 0 };
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		assert_int_equal(csv_split(line, fields, 8), 6);
		bool is_a = rows < na;
		long long i = is_a ? rows : rows - na;
		assert_string_equal(fields[0], is_a ? audio_a : audio_b);
		const float *p = (is_a ? pa : pb) + 2 * i;
		double start = strtod(fields[1], NULL), end = strtod(fields[2], NULL);
		assert_float_equal(start, (double)(i * HOP + (WINDOW - HOP) / 2) / RATE, 1e-6);
		assert_float_equal(end - start, (double)HOP / RATE, 1e-6);
		double p0 = strtod(fields[4], NULL), p1 = strtod(fields[5], NULL);
		assert_float_equal(p0, p[0], 2e-6);
		assert_float_equal(p1, p[1], 2e-6);
		assert_float_equal(p0 + p1, 1.0, 3e-6);
		int top = p[1] > p[0];
		assert_string_equal(fields[3], top ? "noise, hum" : "tone");
		labels_seen[top]++;
		rows++;
	}
	assert_int_equal(rows, na + nb);
	assert_true(labels_seen[0] > 0 && labels_seen[1] > 0);
	free(pa);
	free(pb);
	free(text);
}

static void test_json(void **state)
{
	(void)state;
	const char *args[] = { "predict", "--format", "json", cls_model, audio_a, NULL };
	TuRun r = tu_run(stride_bin, args, tmpdir);
	assert_int_equal(r.status, 0);
	cJSON *root = cJSON_Parse(r.out);
	if (!root)
		fail_msg("not JSON:\n%s", r.out);
	assert_string_equal(cJSON_GetObjectItem(root, "task")->valuestring, "classify");
	assert_int_equal(cJSON_GetObjectItem(root, "sample_rate")->valueint, RATE);
	assert_int_equal(cJSON_GetObjectItem(root, "window")->valueint, WINDOW);
	assert_int_equal(cJSON_GetObjectItem(root, "hop")->valueint, HOP);
	cJSON *labels = cJSON_GetObjectItem(root, "labels");
	assert_int_equal(cJSON_GetArraySize(labels), 2);
	assert_string_equal(cJSON_GetArrayItem(labels, 1)->valuestring, "noise, hum");
	cJSON *files = cJSON_GetObjectItem(root, "files");
	assert_int_equal(cJSON_GetArraySize(files), 1);
	cJSON *f = cJSON_GetArrayItem(files, 0);
	assert_string_equal(cJSON_GetObjectItem(f, "file")->valuestring, audio_a);
	assert_float_equal(cJSON_GetObjectItem(f, "duration")->valuedouble, 1.0, 1e-9);
	long long n;
	float *p = expected_probs(cls_model, audio_a, &n);
	cJSON *dec = cJSON_GetObjectItem(f, "decisions");
	assert_int_equal(cJSON_GetArraySize(dec), n);
	double mean[2] = { 0, 0 };
	int runs = 0;
	const char *prev = NULL;
	for (int i = 0; i < n; i++) {
		cJSON *d = cJSON_GetArrayItem(dec, i);
		cJSON *pr = cJSON_GetObjectItem(d, "p");
		assert_float_equal(cJSON_GetArrayItem(pr, 0)->valuedouble, p[2 * i], 1e-7);
		assert_float_equal(cJSON_GetArrayItem(pr, 1)->valuedouble, p[2 * i + 1], 1e-7);
		mean[0] += p[2 * i];
		mean[1] += p[2 * i + 1];
		const char *l = cJSON_GetObjectItem(d, "label")->valuestring;
		assert_string_equal(l, p[2 * i + 1] > p[2 * i] ? "noise, hum" : "tone");
		if (!prev || strcmp(prev, l) != 0)
			runs++;
		prev = l;
	}
	/* segments: one per run of equal decisions, end to end */
	cJSON *seg = cJSON_GetObjectItem(f, "segments");
	assert_int_equal(cJSON_GetArraySize(seg), runs);
	cJSON *first = cJSON_GetArrayItem(seg, 0), *last = cJSON_GetArrayItem(seg, runs - 1);
	assert_float_equal(cJSON_GetObjectItem(first, "start")->valuedouble,
	                   cJSON_GetObjectItem(cJSON_GetArrayItem(dec, 0), "start")->valuedouble, 1e-9);
	assert_float_equal(cJSON_GetObjectItem(last, "end")->valuedouble,
	                   cJSON_GetObjectItem(cJSON_GetArrayItem(dec, (int)n - 1), "end")->valuedouble, 1e-9);
	cJSON *v = cJSON_GetObjectItem(f, "verdict");
	assert_string_equal(cJSON_GetObjectItem(v, "label")->valuestring, mean[1] > mean[0] ? "noise, hum" : "tone");
	assert_float_equal(cJSON_GetObjectItem(v, "mean_probability")->valuedouble,
	                   (mean[0] > mean[1] ? mean[0] : mean[1]) / n, 1e-5);
	cJSON_Delete(root);
	free(p);
	/* with the data on stdout the verdict is on stderr */
	char vline[700];
	snprintf(vline, sizeof vline, "%s: ", audio_a);
	tu_assert_contains(r.err, vline);
	tu_run_free(&r);
}

/* Parses label-track text into (start, end, label) rows; returns the count. */
static int parse_track(const char *text, double *s, double *e, char labels[][64], int max)
{
	int n = 0;
	const char *p = text;
	while (*p && n < max) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		char line[256];
		size_t len = (size_t)(nl - p);
		assert_true(len < sizeof line);
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		char *t1 = strchr(line, '\t');
		assert_non_null(t1);
		char *t2 = strchr(t1 + 1, '\t');
		assert_non_null(t2);
		*t1 = *t2 = '\0';
		char *end;
		s[n] = strtod(line, &end);
		assert_true(*end == '\0');
		e[n] = strtod(t1 + 1, &end);
		assert_true(*end == '\0');
		assert_true(e[n] > s[n]);
		snprintf(labels[n], 64, "%s", t2 + 1);
		n++;
	}
	return n;
}

static void test_gate_label_track(void **state)
{
	(void)state;
	char out[600];
	path_in(out, sizeof out, "gate.txt");
	const char *args[] = { "predict", "--format", "labels", gate_model, gate_audio, "--out", out, NULL };
	TuRun r = tu_run(stride_bin, args, tmpdir);
	assert_int_equal(r.status, 0);
	tu_assert_contains(r.out, "content (content ");
	tu_run_free(&r);
	char *text = tu_slurp(out);
	double s[16], e[16];
	char labels[16][64];
	int n = parse_track(text, s, e, labels, 16);
	free(text);
	/* one content stretch, the tone at 0.5 .. 1.0 s, to within a window */
	assert_int_equal(n, 1);
	assert_string_equal(labels[0], "content");
	assert_true(fabs(s[0] - 0.5) <= (double)WINDOW / RATE);
	assert_true(fabs(e[0] - 1.0) <= (double)WINDOW / RATE);

	/* threshold 0: every decision is content, one segment over all of them */
	const char *a0[] = { "predict", "--format", "labels", "--threshold", "0", gate_model, gate_audio, NULL };
	r = tu_run(stride_bin, a0, tmpdir);
	assert_int_equal(r.status, 0);
	n = parse_track(r.out, s, e, labels, 16);
	assert_int_equal(n, 1);
	assert_float_equal(s[0], (double)((WINDOW - HOP) / 2) / RATE, 1e-6);
	long long nd = (3 * RATE / 2 - WINDOW) / HOP + 1;
	assert_float_equal(e[0], (double)((nd - 1) * HOP + (WINDOW - HOP) / 2 + HOP) / RATE, 1e-6);
	tu_run_free(&r);

	/* several files into a folder: one track each */
	char dir[600], p1[700], p2[700];
	path_in(dir, sizeof dir, "tracks");
	const char *a2[] = { "predict", "--format", "labels", gate_model, gate_audio, audio_a, "--out", dir, NULL };
	r = tu_run(stride_bin, a2, tmpdir);
	assert_int_equal(r.status, 0);
	tu_run_free(&r);
	snprintf(p1, sizeof p1, "%s/gate_in.txt", dir);
	snprintf(p2, sizeof p2, "%s/a.txt", dir);
	text = tu_slurp(p1);
	assert_non_null(text);
	assert_int_equal(parse_track(text, s, e, labels, 16), 1);
	free(text);
	text = tu_slurp(p2);
	assert_non_null(text);
	free(text);
}

static void test_predict_errors(void **state)
{
	(void)state;
	char bad[600], tiny[600];
	path_in(bad, sizeof bad, "bad.wav");
	tu_write_text(bad, "not audio");
	const char *a1[] = { "predict", cls_model, bad, audio_a, NULL };
	TuRun r = tu_run(stride_bin, a1, tmpdir);
	assert_int_equal(r.status, 1);
	tu_assert_contains(r.err, bad);
	tu_assert_contains(r.out, audio_a); /* the good file still went through */
	tu_run_free(&r);

	float x[100];
	tu_tone(x, 100, RATE, 500.0, 0.3);
	path_in(tiny, sizeof tiny, "tiny.wav");
	tu_write_wav(tiny, x, 100, RATE, 1, 0);
	const char *a2[] = { "predict", "--format", "json", cls_model, tiny, NULL };
	r = tu_run(stride_bin, a2, tmpdir);
	assert_int_equal(r.status, 0);
	tu_assert_contains(r.err, "zero-padded");
	cJSON *root = cJSON_Parse(r.out);
	assert_non_null(root);
	cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "files"), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "decisions")), 1);
	cJSON_Delete(root);
	tu_run_free(&r);

	const char *a3[] = { "predict", "--format", "xml", cls_model, audio_a, NULL };
	r = tu_run(stride_bin, a3, tmpdir);
	assert_int_equal(r.status, 2);
	tu_assert_contains(r.err, "bad value for --format");
	tu_run_free(&r);

	const char *a4[] = { "predict", cls_model, NULL };
	r = tu_run(stride_bin, a4, tmpdir);
	assert_int_equal(r.status, 2);
	tu_run_free(&r);
}

/* eval on a labelled gate folder: frame F1 against hand-made truth */
static void test_eval_gate_tracks(void **state)
{
	(void)state;
	char dir[600], p[700];
	path_in(dir, sizeof dir, "evalgate");
	float *x = calloc(2 * RATE, sizeof *x);
	tu_tone(x + RATE / 2, RATE / 2, RATE, 440.0, 0.3);
	snprintf(p, sizeof p, "%s/labelled/one.wav", dir);
	tu_write_wav(p, x, 2 * RATE, RATE, 1, 0);
	snprintf(p, sizeof p, "%s/labelled/one.txt", dir);
	tu_write_text(p, "0.5\t1.0\tcontent\n");
	free(x);
	const char *args[] = { "eval", gate_model, dir, "--baseline", NULL };
	TuRun r = tu_run(stride_bin, args, tmpdir);
	if (r.status != 0)
		fail_msg("eval failed:\n%s\n%s", r.out, r.err);
	/* every hop scored: (2 s - window) / hop + 1 decisions */
	char want[64];
	snprintf(want, sizeof want, "%d decisions", (2 * RATE - WINDOW) / HOP + 1);
	tu_assert_contains(r.out, want);
	tu_assert_contains(r.out, "frame F1 (content): ");
	double f1 = strtod(strstr(r.out, "frame F1 (content): ") + strlen("frame F1 (content): "), NULL);
	assert_true(f1 > 0.9);
	tu_assert_contains(r.out, "level-threshold gate");
	tu_run_free(&r);
}

/* A network with one output and no sigmoid of its own: its logit is
 * 4 * mean(x) - 0.5 over each window, so over a steady 0.25 every decision's
 * probability is sigmoid(0.5) = 0.6225. The plugins' detector and `stride
 * predict` form it by the same rule (stride_probs_from_outputs). */
static void test_one_output_model(void **state)
{
	(void)state;
	StrideLayerSpec s[2];
	s[0] = stride_layer_spec_defaults(STRIDE_CONV1D);
	snprintf(s[0].name, sizeof s[0].name, "lin");
	s[0].in = 1;
	s[0].out = 1;
	s[0].kernel = 1;
	s[1] = stride_layer_spec_defaults(STRIDE_GLOBAL_AVGPOOL);
	char err[STRIDE_ERR_LEN];
	StrideNet *net = stride_net_new(s, 2, err);
	if (!net)
		fail_msg("%s", err);
	const float w = 4.0f, b = -0.5f;
	StrideTensor t = stride_net_tensor(net, stride_net_find_tensor(net, "lin.weight"));
	t.data[0] = w;
	t = stride_net_tensor(net, stride_net_find_tensor(net, "lin.bias"));
	t.data[0] = b;
	static const char *const labels[] = { "content" };
	StrideModel *m = stride_model_new(net, STRIDE_TASK_GATE, RATE, labels, 1, err);
	if (!m)
		fail_msg("%s", err);
	m->window = WINDOW;
	m->hop = HOP;
	char model[600], audio[600], out[600];
	path_in(model, sizeof model, "one_output.safetensors");
	path_in(audio, sizeof audio, "steady.wav");
	path_in(out, sizeof out, "one_output.csv");
	assert_int_equal(stride_model_write(m, model, err), 0);
	float x[RATE];
	for (int i = 0; i < RATE; i++)
		x[i] = 0.25f;
	tu_write_wav(audio, x, RATE, RATE, 1, 1);
	const double want = 1.0 / (1.0 + exp(-0.5));

	/* the plugins' detector */
	StrideDetector *det = stride_detector_new(m, RATE, 1, err);
	if (!det)
		fail_msg("%s", err);
	float probs[64];
	int decisions = 0;
	for (int at = 0; at + STRIDE_DETECTOR_MAX_FRAMES <= RATE; at += STRIDE_DETECTOR_MAX_FRAMES) {
		const float *in[1] = { x + at };
		const int got = stride_detector_push(det, in, STRIDE_DETECTOR_MAX_FRAMES, probs);
		for (int d = 0; d < got; d++, decisions++)
			assert_float_equal(probs[d], want, 1e-6);
	}
	assert_true(decisions > 50);
	stride_detector_free(det);

	/* stride predict */
	const char *args[] = { "predict", model, audio, "--out", out, NULL };
	TuRun r = tu_run(stride_bin, args, tmpdir);
	if (r.status != 0)
		fail_msg("predict failed:\n%s\n%s", r.out, r.err);
	tu_run_free(&r);
	char *text = tu_slurp(out);
	assert_non_null(text);
	char fields[8][256], *save = NULL;
	char *line = strtok_r(text, "\n", &save); /* the header */
	int rows = 0;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		assert_int_equal(csv_split(line, fields, 8), 5);
		assert_float_equal(strtod(fields[4], NULL), want, 1e-5);
		rows++;
	}
	assert_int_equal(rows, (RATE - WINDOW) / HOP + 1);
	free(text);
	stride_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_gate_label_track),
		cmocka_unit_test(test_predict_errors),
		cmocka_unit_test(test_eval_gate_tracks),
		cmocka_unit_test(test_one_output_model),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
