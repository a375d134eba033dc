/* `stride predict MODEL FILE...`: decisions over time, segments, a verdict per file. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audio_file.h"
#include "augment.h"
#include "commands.h"
#include "options.h"
#include "gate.h"
#include "report.h"
#include "train_loop.h"

enum { FMT_CSV, FMT_JSON, FMT_LABELS };

typedef struct {
	const char *model, *out;
	const char **files;
	int n_files;
	int format, threads;
	double threshold;
} PredictArgs;

/* One file's decisions. */
typedef struct {
	const char *path;
	long long n;        /* decisions */
	float *probs;       /* n x k */
	int *label;         /* n: the decided class */
	double *start;      /* n: seconds each decision answers for */
	double *end;
	double duration;
	bool padded;        /* shorter than one window: zero-padded */
} FilePrediction;

typedef struct {
	double start, end;
	int label;
} Segment;

/* A decision's name: its label, or "noise" for the closed decision of a gate
 * with a single output (its one label names what it opens on). */
static const char *decision_name(const StrideModel *model, int label)
{
	return label < model->n_labels ? model->labels[label] : "noise";
}

static void prediction_free(FilePrediction *p)
{
	free(p->probs);
	free(p->label);
	free(p->start);
	free(p->end);
	memset(p, 0, sizeof *p);
}

static int predict_file(const StrideModel *model, StrideNet **nets, int threads, const char *path,
                        double threshold, int content, FilePrediction *p, char *err)
{
	memset(p, 0, sizeof *p);
	p->path = path;
	StrideAudio audio;
	if (cli_audio_read_mono(path, model->sample_rate, &audio, err) != 0)
		return -1;
	const int w = model->window, hop = model->hop, k = model->n_labels;
	p->duration = (double)audio.frames / model->sample_rate;
	float *x = audio.data;
	size_t frames = audio.frames;
	if (frames < (size_t)w) {
		/* a short file is one window, zero-padded */
		float *padded = calloc((size_t)w, sizeof *padded);
		if (!padded) {
			cli_audio_free(&audio);
			stride_set_err(err, "%s: out of memory", path);
			return -1;
		}
		if (frames)
			memcpy(padded, x, frames * sizeof *x);
		cli_audio_free(&audio);
		x = padded;
		frames = (size_t)w;
		p->padded = true;
	} else {
		audio.data = NULL;
	}
	p->n = (long long)((frames - (size_t)w) / (size_t)hop) + 1;
	p->probs = malloc((size_t)p->n * (size_t)k * sizeof *p->probs);
	p->label = malloc((size_t)p->n * sizeof *p->label);
	p->start = malloc((size_t)p->n * sizeof *p->start);
	p->end = malloc((size_t)p->n * sizeof *p->end);
	int rc = -1;
	if (!p->probs || !p->label || !p->start || !p->end) {
		stride_set_err(err, "%s: out of memory", path);
		goto done;
	}
	if (cli_infer_windows(nets, threads, x, p->n, hop, w, model->input_gain, p->probs, k, err) < 0) {
		stride_prefix_err(err, "%s", path);
		goto done;
	}
	/* Decision i answers for the hop at the centre of the model's label region
	 * (the whole window for a model that states none). */
	const int rs = stride_model_decision_offset(model), re = rs + hop;
	for (long long i = 0; i < p->n; i++) {
		const float *q = p->probs + (size_t)i * k;
		int best = 0;
		for (int j = 1; j < k; j++)
			if (q[j] > q[best])
				best = j;
		if (content >= 0)
			best = q[content] >= threshold ? content : (content == 0 ? 1 : 0);
		p->label[i] = best;
		p->start[i] = (double)(i * hop + rs) / model->sample_rate;
		p->end[i] = (double)(i * hop + re) / model->sample_rate;
	}
	rc = 0;
done:
	free(x);
	if (rc < 0)
		prediction_free(p);
	return rc;
}

/* Runs of equal decisions; gates keep only the content runs. */
static int segments(const FilePrediction *p, int content, Segment **out)
{
	*out = malloc((size_t)(p->n + 1) * sizeof **out);
	if (!*out)
		return -1;
	int n = 0;
	for (long long i = 0; i < p->n;) {
		long long j = i;
		while (j + 1 < p->n && p->label[j + 1] == p->label[i])
			j++;
		if (content < 0 || p->label[i] == content)
			(*out)[n++] = (Segment){ p->start[i], p->end[j], p->label[i] };
		i = j + 1;
	}
	return n;
}

/* The verdict: gates the share of content; classifiers the class with the
 * highest mean probability. */
static void verdict(const FilePrediction *p, const StrideModel *model, int content, char *buf,
                    size_t len, int *top_out, double *score_out)
{
	const int k = model->n_labels;
	if (content >= 0) {
		long long c = 0;
		for (long long i = 0; i < p->n; i++)
			c += p->label[i] == content;
		double share = p->n ? (double)c / (double)p->n : 0.0;
		*top_out = c > 0 ? content : (content == 0 ? 1 : 0);
		*score_out = share;
		snprintf(buf, len, "%s (content %.1f%% of the time)", c > 0 ? "content" : "no content",
		         100.0 * share);
		return;
	}
	int top = 0;
	double best = -1.0;
	for (int j = 0; j < k; j++) {
		double s = 0.0;
		for (long long i = 0; i < p->n; i++)
			s += p->probs[(size_t)i * k + j];
		s = p->n ? s / (double)p->n : 0.0;
		if (s > best) {
			best = s;
			top = j;
		}
	}
	*top_out = top;
	*score_out = best;
	snprintf(buf, len, "%s (mean probability %.3f)", decision_name(model, top), best);
}

/* A CSV field, quoted when it needs to be (RFC 4180). */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void write_csv_header(FILE *f, const StrideModel *model)
{
	fputs("file,start,end,label", f);
	for (int j = 0; j < model->n_labels; j++) {
		char name[STRIDE_NAME_LEN + 256];
		snprintf(name, sizeof name, "p_%s", model->labels[j]);
		fputc(',', f);
		csv_field(f, name);
	}
	fputc('\n', f);
}

static void write_csv(FILE *f, const FilePrediction *p, const StrideModel *model)
{
	const int k = model->n_labels;
	for (long long i = 0; i < p->n; i++) {
		csv_field(f, p->path);
		fprintf(f, ",%.6f,%.6f,", p->start[i], p->end[i]);
		csv_field(f, decision_name(model, p->label[i]));
		for (int j = 0; j < k; j++)
			fprintf(f, ",%.6f", p->probs[(size_t)i * k + j]);
		fputc('\n', f);
	}
}

static void write_labels(FILE *f, const Segment *s, int n, const StrideModel *model)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "%.6f\t%.6f\t%s\n", s[i].start, s[i].end, decision_name(model, s[i].label));
}

static cJSON *file_json(const FilePrediction *p, const StrideModel *model, const Segment *s, int ns,
                        const char *verdict_text, int top, double score, int content)
{
	const int k = model->n_labels;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "file", p->path);
	cJSON_AddNumberToObject(o, "duration", p->duration);
	cJSON *v = cJSON_AddObjectToObject(o, "verdict");
	cJSON_AddStringToObject(v, "label", decision_name(model, top));
	cJSON_AddNumberToObject(v, content >= 0 ? "content_share" : "mean_probability", score);
	cJSON_AddStringToObject(v, "text", verdict_text);
	cJSON *dec = cJSON_AddArrayToObject(o, "decisions");
	for (long long i = 0; i < p->n; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "start", p->start[i]);
		cJSON_AddNumberToObject(d, "end", p->end[i]);
		cJSON_AddStringToObject(d, "label", decision_name(model, p->label[i]));
		cJSON *pr = cJSON_AddArrayToObject(d, "p");
		for (int j = 0; j < k; j++)
			cJSON_AddItemToArray(pr, cJSON_CreateNumber((double)p->probs[(size_t)i * k + j]));
		cJSON_AddItemToArray(dec, d);
	}
	cJSON *seg = cJSON_AddArrayToObject(o, "segments");
	for (int i = 0; i < ns; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "start", s[i].start);
		cJSON_AddNumberToObject(d, "end", s[i].end);
		cJSON_AddStringToObject(d, "label", decision_name(model, s[i].label));
		cJSON_AddItemToArray(seg, d);
	}
	return o;
}

static int parse_args(const StrideCommand *cmd, int argc, char **argv, PredictArgs *a)
{
	memset(a, 0, sizeof *a);
	a->threads = cli_default_threads();
	a->threshold = 0.5;
	a->format = FMT_CSV;
	a->files = calloc((size_t)argc, sizeof *a->files);
	if (!a->files)
		return cli_command_fail(cmd, "out of memory");
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (options_done || o[0] != '-' || strcmp(o, "-") == 0) {
			if (!a->model)
				a->model = o;
			else
				a->files[a->n_files++] = o;
			continue;
		}
		if (strcmp(o, "--") == 0) {
			options_done = true;
			continue;
		}
		bool ok = true;
		if (strcmp(o, "--format") == 0) {
			if (v && strcmp(v, "csv") == 0)
				a->format = FMT_CSV;
			else if (v && strcmp(v, "json") == 0)
				a->format = FMT_JSON;
			else if (v && (strcmp(v, "labels") == 0 || strcmp(v, "audacity") == 0))
				a->format = FMT_LABELS;
			else
				ok = false;
		} else if (strcmp(o, "--out") == 0) {
			a->out = v;
		} else if (strcmp(o, "--threads") == 0) {
			ok = cli_parse_int(v, 1, 256, &a->threads);
		} else if (strcmp(o, "--threshold") == 0) {
			ok = cli_parse_double(v, 0.0, 1.0, &a->threshold);
		} else {
			free(a->files);
			return cli_command_usage_error(cmd, "unknown option '%s'", o);
		}
		if (!v || !ok) {
			free(a->files);
			return cli_command_usage_error(cmd, v ? "bad value for %s: '%s'" : "%s needs a value",
			                               o, v ? v : "");
		}
		i++;
	}
	if (!a->model || a->n_files == 0) {
		free(a->files);
		return cli_command_usage_error(cmd, "expected MODEL FILE...");
	}
	return 0;
}

/* Where one file's label track goes when there are several: OUT/<name>.txt. */
static char *track_path(const char *dir, const char *file)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	size_t n = strlen(dir) + stem + 6;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%.*s.txt", dir, (int)stem, base);
	return p;
}

/* Where the results go: the folder of label tracks (made when missing), or
 * --out opened for writing (*out: stdout without --out). Returns 0 or -1. */
static int open_output(const StrideCommand *cmd, const PredictArgs *a, bool several_tracks,
                       FILE **out)
{
	if (several_tracks) {
		struct stat st;
		if (stat(a->out, &st) != 0 && mkdir(a->out, 0777) != 0) {
			cli_command_fail(cmd, "%s: cannot create the folder: %s", a->out, strerror(errno));
			return -1;
		}
	} else if (a->out) {
		FILE *f = fopen(a->out, "w");
		if (!f) {
			cli_command_fail(cmd, "%s: cannot write: %s", a->out, strerror(errno));
			return -1;
		}
		*out = f;
	}
	return 0;
}

/* --format json: the model's part of the document; *files: its "files" array. */
static cJSON *json_root(const StrideModel *model, const PredictArgs *a, int content, cJSON **files)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "model", a->model);
	cJSON_AddStringToObject(root, "task", model->task == STRIDE_TASK_GATE ? "gate" : "classify");
	cJSON_AddNumberToObject(root, "sample_rate", model->sample_rate);
	cJSON_AddNumberToObject(root, "window", model->window);
	cJSON_AddNumberToObject(root, "hop", model->hop);
	if (content >= 0)
		cJSON_AddNumberToObject(root, "threshold", a->threshold);
	cJSON *l = cJSON_AddArrayToObject(root, "labels");
	for (int j = 0; j < model->n_labels; j++)
		cJSON_AddItemToArray(l, cJSON_CreateString(model->labels[j]));
	*files = cJSON_AddArrayToObject(root, "files");
	return root;
}

/* File f's result as CSV or a label track (on out, or in its own file when
 * there are several). Returns the failures (0 or 1). */
static int write_result(const PredictArgs *a, int f, FILE *out, bool several_tracks,
                        const FilePrediction *p, const StrideModel *model, const Segment *segs,
                        int ns)
{
	int failures = 0;
	if (a->format == FMT_CSV) {
		write_csv(out, p, model);
	} else if (several_tracks) {
		char *tp = track_path(a->out, a->files[f]);
		FILE *tf = tp ? fopen(tp, "w") : NULL;
		if (!tf) {
			fprintf(stderr, "stride predict: %s: cannot write: %s\n", tp ? tp : a->out,
			        strerror(errno));
			failures++;
		} else {
			write_labels(tf, segs, ns, model);
			if (fclose(tf) != 0) {
				fprintf(stderr, "stride predict: %s: write error\n", tp);
				failures++;
			}
		}
		free(tp);
	} else {
		if (a->n_files > 1)
			fprintf(out, "# %s\n", a->files[f]);
		write_labels(out, segs, ns, model);
	}
	return failures;
}

/* File f: predicted, its result written (or added to files_json) and its
 * verdict on vout. Returns the failures (0 or 1), or -1 when out of memory. */
static int predict_one(const PredictArgs *a, int f, const StrideModel *model, StrideNet **nets,
                       int content, FILE *out, FILE *vout, bool several_tracks, cJSON *files_json)
{
	char err[STRIDE_ERR_LEN] = "";
	FilePrediction p;
	if (predict_file(model, nets, a->threads, a->files[f], a->threshold, content, &p, err) < 0) {
		fprintf(stderr, "stride predict: %s\n", err);
		return 1;
	}
	Segment *segs = NULL;
	int ns = segments(&p, content, &segs);
	char vtext[256];
	int top = 0;
	double score = 0.0;
	verdict(&p, model, content, vtext, sizeof vtext, &top, &score);
	if (ns < 0) {
		prediction_free(&p);
		return -1;
	}
	int failures = 0;
	if (a->format == FMT_JSON)
		cJSON_AddItemToArray(files_json, file_json(&p, model, segs, ns, vtext, top, score, content));
	else
		failures = write_result(a, f, out, several_tracks, &p, model, segs, ns);
	fprintf(vout, "%s: %s%s\n", a->files[f], vtext,
	        p.padded ? " [shorter than the window: zero-padded]" : "");
	free(segs);
	prediction_free(&p);
	return failures;
}

static int run_predict(int argc, char **argv)
{
	const StrideCommand *cmd = &stride_cmd_predict;
	PredictArgs a;
	int rc = parse_args(cmd, argc, argv, &a);
	if (rc != 0)
		return rc;
	char err[STRIDE_ERR_LEN] = "";
	StrideModel *model = stride_model_read(a.model, err);
	if (!model) {
		free(a.files);
		return cli_command_fail(cmd, "%s", err);
	}
	rc = STRIDE_EXIT_FAIL;
	FILE *out = stdout;
	bool several_tracks = a.format == FMT_LABELS && a.n_files > 1 && a.out;
	cJSON *root = NULL, *files_json = NULL;
	StrideNet **nets = calloc((size_t)a.threads, sizeof *nets);
	int content = -1, failures = 0;
	if (!nets) {
		cli_command_fail(cmd, "out of memory");
		goto done;
	}
	if (stride_net_in_channels(model->net) != 1) {
		cli_command_fail(cmd, "%s: takes %d input channels; predict handles mono models", a.model,
		                 stride_net_in_channels(model->net));
		goto done;
	}
	if (model->task == STRIDE_TASK_GATE) {
		/* the plugin's rule, so predict reports the class the gate opens on */
		if ((content = stride_gate_content_label(model, err)) < 0) {
			cli_command_fail(cmd, "%s: %s", a.model, err);
			goto done;
		}
	}
	for (int t = 0; t < a.threads; t++)
		if (!(nets[t] = stride_net_clone(model->net, err))) {
			cli_command_fail(cmd, "%s", err);
			goto done;
		}
	stride_blas_set_threads(1);
	if (open_output(cmd, &a, several_tracks, &out) < 0)
		goto done;
	/* verdicts go with the data on a file, beside it (stderr) when the data is on stdout */
	FILE *vout = out == stdout && !several_tracks ? stderr : stdout;
	if (a.format == FMT_CSV)
		write_csv_header(out, model);
	if (a.format == FMT_JSON)
		root = json_root(model, &a, content, &files_json);
	for (int f = 0; f < a.n_files; f++) {
		int r = predict_one(&a, f, model, nets, content, out, vout, several_tracks, files_json);
		if (r < 0) {
			cli_command_fail(cmd, "out of memory");
			goto done;
		}
		failures += r;
	}
	if (root) {
		char *text = cJSON_Print(root);
		if (!text) {
			cli_command_fail(cmd, "out of memory");
			goto done;
		}
		fputs(text, out);
		fputc('\n', out);
		free(text);
	}
	rc = failures ? STRIDE_EXIT_FAIL : STRIDE_EXIT_OK;
done:
	if (out != stdout && fclose(out) != 0) {
		cli_command_fail(cmd, "%s: write error", a.out);
		rc = STRIDE_EXIT_FAIL;
	}
	cJSON_Delete(root);
	if (nets)
		for (int t = 0; t < a.threads; t++)
			stride_net_free(nets[t]);
	free(nets);
	free(a.files);
	stride_model_free(model);
	return rc;
}

const StrideCommand stride_cmd_predict = {
	.name = "predict",
	.args = "MODEL FILE... [--format csv|json|labels] [--out PATH]",
	.summary = "decisions over time for audio files, and a verdict per file",
	.help =
		"Runs the model on every window of each FILE (any format libsndfile reads,\n"
		"mixed to mono, resampled to the model's rate, times the model's input\n"
		"gain), one decision per hop. Decision k answers for the hop-long stretch\n"
		"at the centre of its window, [k*hop + (window-hop)/2, + hop) samples, or of\n"
		"the label region it was trained to (train.label_region = \"START END\":\n"
		"[k*hop + (START+END-hop)/2, + hop)).\n"
		"\n"
		"formats:\n"
		"  csv      (default) a header, then per decision: file, start, end (s),\n"
		"           label, and p_<label> for every label\n"
		"  json     {model, task, sample_rate, window, hop, labels, files: [{file,\n"
		"           duration, verdict, decisions: [{start, end, label, p}],\n"
		"           segments: [{start, end, label}]}]}\n"
		"  labels   an Audacity label track (start<TAB>end<TAB>label) of the\n"
		"           segments: for gates the content stretches, for classifiers\n"
		"           the runs of the top class. With several files and --out, OUT\n"
		"           is a folder receiving OUT/<name>.txt per file; on stdout each\n"
		"           track follows a \"# FILE\" line\n"
		"\n"
		"options:\n"
		"  --out PATH       write there instead of stdout\n"
		"  --threshold P    gates: content when its probability >= P (0.5)\n"
		"  --threads N      (all cores)\n"
		"\n"
		"The verdict per file (gates: whether and how much content; classifiers:\n"
		"the label with the highest mean probability) is printed on stdout when\n"
		"the data goes to --out, else on stderr; JSON holds it too.\n"
		"\n"
		"Exit status: 0, 1 when a file cannot be read or written, 2 on usage errors.\n",
	.run = run_predict,
};
