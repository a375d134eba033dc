/* Loading a dataset: its classes and files planned, the audio read in
 * parallel, checked and summed up (finding the files: dataset_files.c; label
 * tracks: label_track.c; the validation split: dataset_split.c). */
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "audio_file.h"
#include "dataset_files.h"
#include "util.h"
#include "workers.h"

/* Below this peak a file counts as silent (about -140 dBFS: under any real
 * converter's noise, above float rounding of digital silence). */
#define SILENT_PEAK 1e-7

/* ------------------------------------------------------------------------ */
/* Content of a clip                                                        */
/* ------------------------------------------------------------------------ */

size_t cli_clip_content_overlap(const StrideClip *c, size_t a, size_t b)
{
	if (c->kind == STRIDE_CLIP_CONTENT || (c->kind == STRIDE_CLIP_CLASS && c->label == STRIDE_GATE_CONTENT))
		return b > a ? b - a : 0;
	if (c->kind != STRIDE_CLIP_TRACKED)
		return 0;
	size_t total = 0;
	/* spans are sorted: binary search for the first that ends after a */
	int lo = 0, hi = c->n_spans;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (c->spans[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = lo; i < c->n_spans && c->spans[i].start < b; i++) {
		size_t s = c->spans[i].start > a ? c->spans[i].start : a;
		size_t e = c->spans[i].end < b ? c->spans[i].end : b;
		if (e > s)
			total += e - s;
	}
	return total;
}

/* ------------------------------------------------------------------------ */
/* Reading the files (in parallel)                                           */
/* ------------------------------------------------------------------------ */

typedef struct {
	Found *found;
	StrideClipKind kind;
	char *track;      /* label track path, or NULL */
	/* results */
	bool ok;
	StrideAudio audio;
	StrideSpan *spans;
	int n_spans;
	double rms, peak;
	char *messages;   /* warnings, printed in file order afterwards */
	size_t messages_len;
} Job;

typedef struct {
	Job *jobs;
	int n;
	int threads;
	const StrideDatasetOptions *opt;
} LoadCtx;

/* The job's peak and RMS level; false (saying why on msg) for a file with a
 * non-finite sample or all silent. */
static bool measure(Job *j, const char *path, FILE *msg)
{
	const size_t n = j->audio.frames;
	double sum = 0.0, peak = 0.0;
	const float *x = j->audio.data;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i])) {
			if (msg)
				fprintf(msg, "skipped %s: sample %zu is not a finite number\n", path, i);
			return false;
		}
		double v = fabs((double)x[i]);
		sum += v * v;
		if (v > peak)
			peak = v;
	}
	if (peak < SILENT_PEAK) {
		if (msg)
			fprintf(msg, "skipped %s: all silent (digital silence)\n", path);
		return false;
	}
	j->peak = peak;
	j->rms = sqrt(sum / (double)n);
	return true;
}

/* The job's label track: its spans, and the level of the content they mark;
 * false (saying why on msg) when it cannot be read or has bad lines. */
static bool read_track(Job *j, const char *path, int rate, FILE *msg)
{
	char err[STRIDE_ERR_LEN] = "";
	const float *x = j->audio.data;
	int bad = cli_label_track_read(j->track, rate, j->audio.frames, &j->spans, &j->n_spans, msg,
	                               err);
	if (bad < 0) {
		if (msg)
			fprintf(msg, "skipped %s: its label track: %s\n", path, err);
		return false;
	}
	if (bad > 0) {
		if (msg)
			fprintf(msg, "skipped %s: its label track %s has %d bad line%s\n", path, j->track,
			        bad, bad == 1 ? "" : "s");
		free(j->spans);
		j->spans = NULL;
		j->n_spans = 0;
		return false;
	}
	/* the level of a tracked file is that of its content */
	double cs = 0.0;
	size_t cn = 0;
	for (int s = 0; s < j->n_spans; s++)
		for (size_t i = j->spans[s].start; i < j->spans[s].end; i++) {
			cs += (double)x[i] * (double)x[i];
			cn++;
		}
	if (cn > 0)
		j->rms = sqrt(cs / (double)cn);
	return true;
}

static void load_one(Job *j, const StrideDatasetOptions *opt)
{
	FILE *msg = open_memstream(&j->messages, &j->messages_len);
	const char *path = j->found->path;
	char err[STRIDE_ERR_LEN] = "";
	struct stat st;
	j->ok = false;
	memset(&j->audio, 0, sizeof j->audio);
	if (stat(path, &st) == 0 && st.st_size == 0) {
		if (msg)
			fprintf(msg, "skipped %s: empty file (0 bytes)\n", path);
		goto done;
	}
	if (cli_audio_read_mono(path, opt->rate, &j->audio, err) != 0) {
		if (msg)
			fprintf(msg, "skipped %s\n", err);
		goto done;
	}
	const size_t n = j->audio.frames;
	if (n == 0) {
		if (msg)
			fprintf(msg, "skipped %s: empty (no samples)\n", path);
		goto done;
	}
	if (n < (size_t)opt->window) {
		if (msg)
			fprintf(msg,
			        "skipped %s: too short (%zu samples at %d Hz, %.3f s; the window is %d "
			        "samples)\n",
			        path, n, opt->rate, (double)n / opt->rate, opt->window);
		goto done;
	}
	if (!measure(j, path, msg))
		goto done;
	if (j->track && !read_track(j, path, opt->rate, msg))
		goto done;
	j->ok = true;
done:
	if (!j->ok) {
		cli_audio_free(&j->audio);
		free(j->spans);
		j->spans = NULL;
		j->n_spans = 0;
	}
	if (msg)
		fclose(msg);
}

static void load_job(void *ctx, int tid)
{
	LoadCtx *c = ctx;
	/* interleaved, so long and short files spread over the threads */
	for (int i = tid; i < c->n; i += c->threads)
		load_one(&c->jobs[i], c->opt);
}

/* ------------------------------------------------------------------------ */
/* The dataset                                                              */
/* ------------------------------------------------------------------------ */

void cli_dataset_free(StrideDataset *ds)
{
	if (!ds)
		return;
	for (int i = 0; i < ds->n_clips; i++) {
		free(ds->clips[i].name);
		free(ds->clips[i].path);
		free(ds->clips[i].x);
		free(ds->clips[i].spans);
	}
	free(ds->clips);
	stride_free_strings(ds->classes, ds->n_classes);
	stride_free_strings(ds->groups, ds->n_groups);
	free(ds->dir);
	free(ds);
}

static bool is_noise_folder(const char *name)
{
	return strcasecmp(name, "noise") == 0 || strcasecmp(name, "silence") == 0;
}

/* The folder part of a relative name ("." for none), malloc'd. */
static char *folder_of(const char *rel)
{
	const char *slash = strrchr(rel, '/');
	if (!slash)
		return stride_dup_string(".");
	size_t n = (size_t)(slash - rel);
	char *f = malloc(n + 1);
	if (f) {
		memcpy(f, rel, n);
		f[n] = '\0';
	}
	return f;
}

/* The index of `name` in names (adding it when absent), or -1 when out of memory. */
static int intern(char ***names, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (strcmp((*names)[i], name) == 0)
			return i;
	char **g = realloc(*names, (size_t)(*n + 1) * sizeof **names);
	if (!g)
		return -1;
	*names = g;
	if (!(g[*n] = stride_dup_string(name)))
		return -1;
	return (*n)++;
}

/* Classifier folders: class names from the folders or from opt->classes. */
static int scan_classes(const char *dir, const StrideDatasetOptions *opt, StrideDataset *ds,
                        FoundList *found, char *err)
{
	char **names;
	int n;
	if (cli_list_dir(dir, &names, &n, err) < 0)
		return -1;
	int rc = 0, folders = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char *full = cli_join_path(dir, names[i]);
		struct stat st;
		if (!full) {
			stride_set_err(err, "%s: out of memory", dir);
			rc = -1;
			break;
		}
		if (stat(full, &st) != 0 || !S_ISDIR(st.st_mode)) {
			if (opt->warn && stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
			    !cli_has_ext(names[i], ".txt") &&
			    !cli_is_known_non_audio(names[i]))
				fprintf(opt->warn, "skipped %s: not in a class folder (expected %s/<label>/<file>)\n",
				        full, dir);
			free(full);
			continue;
		}
		folders++;
		int label = -1;
		if (opt->classes) {
			for (int c = 0; c < opt->n_classes; c++)
				if (strcmp(opt->classes[c], names[i]) == 0)
					label = c;
			if (label < 0) {
				stride_set_err(err, "%s: folder \"%s\" is not one of the model's %d labels", dir,
				               names[i], opt->n_classes);
				rc = -1;
			}
		} else {
			label = intern(&ds->classes, &ds->n_classes, names[i]);
			if (label < 0) {
				stride_set_err(err, "%s: out of memory", dir);
				rc = -1;
			}
		}
		if (rc == 0)
			rc = cli_collect_files(full, names[i], label, found, 1, err);
		free(full);
	}
	stride_free_strings(names, n);
	if (rc < 0)
		return -1;
	if (opt->classes) {
		for (int c = 0; c < opt->n_classes; c++)
			if (intern(&ds->classes, &ds->n_classes, opt->classes[c]) < 0) {
				stride_set_err(err, "%s: out of memory", dir);
				return -1;
			}
	}
	if (folders == 0) {
		stride_set_err(err, "%s: no class folders: expected %s/<label>/<audio files>", dir, dir);
		return -1;
	}
	if (folders == 1 && opt->need_two_classes) {
		stride_set_err(err, "%s: only one class folder (%s): a classifier needs at least two", dir,
		               ds->classes[0]);
		return -1;
	}
	return 0;
}

/* Pairs audio files with label tracks and drops what is not audio. */
static int plan_jobs(const StrideDatasetOptions *opt, int shard, int shards, StrideDataset *ds,
                     FoundList *found, Job **jobs_out, int *n_out, char *err)
{
	Job *jobs = calloc((size_t)(found->n ? found->n : 1), sizeof *jobs);
	if (!jobs) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	int n = 0, audio = 0;
	for (int i = 0; i < found->n; i++) {
		Found *f = &found->items[i];
		if (cli_has_ext(f->rel, ".txt")) {
			if (opt->task == STRIDE_TASK_CLASSIFY)
				ds->n_tracks_ignored++;
			continue;
		}
		if (cli_is_known_non_audio(f->rel))
			continue;
		if (shards > 1 && audio++ % shards != shard)
			continue;
		Job *j = &jobs[n++];
		j->found = f;
		/* the label track: same name, .txt instead of the extension */
		const char *pbase = strrchr(f->path, '/');
		pbase = pbase ? pbase + 1 : f->path;
		const char *dot = strrchr(pbase, '.');
		size_t stem = dot && dot != pbase ? (size_t)(dot - f->path) : strlen(f->path);
		char *track = malloc(stem + 5);
		if (!track) {
			free(jobs);
			stride_set_err(err, "out of memory");
			return -1;
		}
		memcpy(track, f->path, stem);
		memcpy(track + stem, ".txt", 5);
		struct stat st;
		bool tracked = opt->task == STRIDE_TASK_GATE && !opt->noise_only &&
		               stat(track, &st) == 0 && S_ISREG(st.st_mode);
		if (tracked) {
			j->track = track;
			j->kind = STRIDE_CLIP_TRACKED;
		} else {
			free(track);
			if (opt->noise_only) {
				j->kind = STRIDE_CLIP_NOISE;
			} else if (opt->task == STRIDE_TASK_CLASSIFY) {
				j->kind = STRIDE_CLIP_CLASS;
			} else {
				const char *slash = strchr(f->rel, '/');
				char top[256];
				size_t tl = slash ? (size_t)(slash - f->rel) : 0;
				if (tl >= sizeof top)
					tl = sizeof top - 1;
				memcpy(top, f->rel, tl);
				top[tl] = '\0';
				j->kind = is_noise_folder(top) ? STRIDE_CLIP_NOISE : STRIDE_CLIP_CONTENT;
			}
		}
	}
	*jobs_out = jobs;
	*n_out = n;
	return 0;
}

static void print_summary(const StrideDataset *ds, FILE *out)
{
	fprintf(out, "data: %s (%s, %d Hz): %d file%s used", ds->dir,
	        ds->task == STRIDE_TASK_GATE ? "gate" : "classify", ds->rate, ds->n_clips,
	        ds->n_clips == 1 ? "" : "s");
	if (ds->n_skipped)
		fprintf(out, ", %d skipped", ds->n_skipped);
	if (ds->n_tracks_ignored)
		fprintf(out, ", %d label track%s ignored (classifier)", ds->n_tracks_ignored,
		        ds->n_tracks_ignored == 1 ? "" : "s");
	fprintf(out, "\n");
	if (ds->task == STRIDE_TASK_CLASSIFY) {
		fprintf(out, "  %-24s %7s %9s\n", "class", "files", "minutes");
		for (int c = 0; c < ds->n_classes; c++) {
			int files = 0;
			double sec = 0.0;
			for (int i = 0; i < ds->n_clips; i++)
				if (ds->clips[i].label == c) {
					files++;
					sec += (double)ds->clips[i].frames / ds->rate;
				}
			fprintf(out, "  %-24s %7d %9.2f\n", ds->classes[c], files, sec / 60.0);
		}
	} else {
		fprintf(out, "  %-24s %-14s %7s %9s\n", "folder", "use", "files", "minutes");
		for (int g = 0; g < ds->n_groups; g++) {
			int files = 0, kinds[4] = { 0 };
			double sec = 0.0;
			for (int i = 0; i < ds->n_clips; i++)
				if (ds->clips[i].group == g) {
					files++;
					kinds[ds->clips[i].kind]++;
					sec += (double)ds->clips[i].frames / ds->rate;
				}
			const char *use = kinds[STRIDE_CLIP_TRACKED] ? "label tracks"
			                  : kinds[STRIDE_CLIP_NOISE] ? "noise"
			                                             : "content";
			fprintf(out, "  %-24s %-14s %7d %9.2f\n", ds->groups[g], use, files, sec / 60.0);
		}
	}
}

static int check_usable(const StrideDatasetOptions *opt, const StrideDataset *ds, char *err)
{
	if (ds->n_clips == 0) {
		stride_set_err(err, "%s: no usable audio files%s", ds->dir,
		               ds->n_skipped ? " (every file was skipped: see above)" : "");
		return -1;
	}
	if (opt->noise_only)
		return 0;
	if (ds->task == STRIDE_TASK_CLASSIFY) {
		if (!opt->need_two_classes)
			return 0;
		int with_files = 0;
		for (int c = 0; c < ds->n_classes; c++) {
			int files = 0;
			for (int i = 0; i < ds->n_clips; i++)
				files += ds->clips[i].label == c;
			if (files == 0) {
				stride_set_err(err, "%s: class \"%s\" has no usable files", ds->dir,
				               ds->classes[c]);
				return -1;
			}
			with_files++;
		}
		if (with_files < 2) {
			stride_set_err(err, "%s: only one class (%s): a classifier needs at least two",
			               ds->dir, ds->classes[0]);
			return -1;
		}
		return 0;
	}
	int content = 0, negatives = 0;
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		if (c->kind == STRIDE_CLIP_CONTENT || (c->kind == STRIDE_CLIP_TRACKED && c->n_spans > 0))
			content++;
		if (c->kind == STRIDE_CLIP_NOISE || c->kind == STRIDE_CLIP_TRACKED)
			negatives++;
	}
	if (content == 0) {
		stride_set_err(err,
		               "%s: no content for the gate: put content in folders such as %s/content/ "
		               "or add label tracks",
		               ds->dir, ds->dir);
		return -1;
	}
	if (negatives == 0 && opt->need_two_classes) {
		stride_set_err(err,
		               "%s: nothing for the gate to close on: add %s/noise/ (noise, hum, room "
		               "tone) or files with label tracks",
		               ds->dir, ds->dir);
		return -1;
	}
	return 0;
}

StrideDataset *cli_dataset_load(const char *dir, const StrideDatasetOptions *opt,
                                char err[STRIDE_ERR_LEN])
{
	return cli_dataset_load_shard(dir, opt, 0, 1, err);
}

StrideDataset *cli_dataset_load_noise(const char *dir, const StrideDatasetOptions *opt,
                                      char err[STRIDE_ERR_LEN])
{
	StrideDatasetOptions o = *opt;
	o.noise_only = true;
	o.need_two_classes = false;
	o.classes = NULL;
	o.n_classes = 0;
	return cli_dataset_load(dir, &o, err);
}

/* The dataset's folder checked, its classes and its files found (not read). */
static StrideDataset *scan_dataset(const char *dir, const StrideDatasetOptions *opt,
                                   FoundList *found, char *err)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		stride_set_err(err, "%s: no such folder", dir);
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		stride_set_err(err, "%s: not a folder (a dataset is a folder of class folders)", dir);
		return NULL;
	}
	if (opt->window < 1 || opt->rate < 1) {
		stride_set_err(err, "%s: bad window %d or rate %d", dir, opt->window, opt->rate);
		return NULL;
	}
	StrideDataset *ds = calloc(1, sizeof *ds);
	if (!ds || !(ds->dir = stride_dup_string(dir))) {
		stride_set_err(err, "out of memory");
		cli_dataset_free(ds);
		return NULL;
	}
	ds->task = opt->task;
	ds->rate = opt->rate;
	if (opt->task == STRIDE_TASK_CLASSIFY && !opt->noise_only) {
		if (scan_classes(dir, opt, ds, found, err) < 0)
			goto fail;
	} else {
		static const char *const gate_labels[] = { "noise", "content" };
		for (int c = 0; c < 2; c++)
			if (intern(&ds->classes, &ds->n_classes, gate_labels[c]) < 0) {
				stride_set_err(err, "out of memory");
				goto fail;
			}
		if (cli_collect_files(dir, "", -1, found, 0, err) < 0)
			goto fail;
	}
	return ds;
fail:
	cli_dataset_free(ds);
	return NULL;
}

/* Runs every job on opt->threads threads (one when they cannot start). */
static void read_jobs(Job *jobs, int n_jobs, const StrideDatasetOptions *opt)
{
	LoadCtx ctx = { jobs, n_jobs, opt->threads > 0 ? opt->threads : 1, opt };
	if (ctx.threads > n_jobs)
		ctx.threads = n_jobs > 0 ? n_jobs : 1;
	cli_workers_run_once(&ctx.threads, load_job, &ctx);
}

/* A read job's audio and spans become the dataset's next clip. Returns 0, or
 * -1 when out of memory. */
static int add_clip(StrideDataset *ds, Job *j, const StrideDatasetOptions *opt)
{
	StrideClip *c = &ds->clips[ds->n_clips];
	char *folder = folder_of(j->found->rel);
	c->name = stride_dup_string(j->found->rel);
	c->path = stride_dup_string(j->found->path);
	c->group = folder ? intern(&ds->groups, &ds->n_groups, folder) : -1;
	free(folder);
	c->kind = j->kind;
	c->x = j->audio.data;
	c->frames = j->audio.frames;
	c->spans = j->spans;
	c->n_spans = j->n_spans;
	c->rms = j->rms;
	c->peak = j->peak;
	c->use = STRIDE_USE_TRAIN;
	j->audio.data = NULL;
	j->spans = NULL;
	ds->n_clips++;
	if (j->kind == STRIDE_CLIP_CLASS)
		c->label = j->found->label;
	else if (opt->noise_only)
		c->label = -1;
	else if (j->kind == STRIDE_CLIP_CONTENT)
		c->label = STRIDE_GATE_CONTENT;
	else if (j->kind == STRIDE_CLIP_NOISE)
		c->label = STRIDE_GATE_NOISE;
	else
		c->label = -1;
	return c->name && c->path && c->group >= 0 ? 0 : -1;
}

static void free_jobs(Job *jobs, int n_jobs)
{
	for (int i = 0; i < n_jobs; i++) {
		free(jobs[i].track);
		free(jobs[i].messages);
		cli_audio_free(&jobs[i].audio);
		free(jobs[i].spans);
	}
	free(jobs);
}

StrideDataset *cli_dataset_load_shard(const char *dir, const StrideDatasetOptions *opt,
                                      int shard, int shards, char err[STRIDE_ERR_LEN])
{
	FoundList found = { 0 };
	Job *jobs = NULL;
	int n_jobs = 0;
	StrideDataset *ds = scan_dataset(dir, opt, &found, err);
	if (!ds || plan_jobs(opt, shard, shards, ds, &found, &jobs, &n_jobs, err) < 0)
		goto fail;
	read_jobs(jobs, n_jobs, opt);
	ds->clips = calloc((size_t)(n_jobs ? n_jobs : 1), sizeof *ds->clips);
	if (!ds->clips) {
		stride_set_err(err, "out of memory");
		goto fail;
	}
	for (int i = 0; i < n_jobs; i++) {
		Job *j = &jobs[i];
		if (j->messages && j->messages_len && opt->warn)
			fputs(j->messages, opt->warn);
		free(j->messages);
		j->messages = NULL;
		if (!j->ok) {
			ds->n_skipped++;
			continue;
		}
		if (add_clip(ds, j, opt) < 0) {
			stride_set_err(err, "out of memory");
			goto fail;
		}
	}
	if (opt->warn)
		fflush(opt->warn);
	if (check_usable(opt, ds, err) < 0)
		goto fail;
	if (opt->log)
		print_summary(ds, opt->log);
	free_jobs(jobs, n_jobs);
	cli_found_free(&found);
	return ds;
fail:
	free_jobs(jobs, n_jobs);
	cli_found_free(&found);
	cli_dataset_free(ds);
	return NULL;
}

int cli_dataset_adopt_val(StrideDataset *ds, StrideDataset *other, char err[STRIDE_ERR_LEN])
{
	if (other->task != ds->task || other->rate != ds->rate) {
		stride_set_err(err, "%s: not the same task and rate as %s", other->dir, ds->dir);
		return -1;
	}
	int *map = calloc((size_t)other->n_classes + 1, sizeof *map);
	int *gmap = calloc((size_t)other->n_groups + 1, sizeof *gmap);
	StrideClip *grown = realloc(ds->clips, (size_t)(ds->n_clips + other->n_clips + 1) * sizeof *grown);
	if (!map || !gmap || !grown) {
		free(map);
		free(gmap);
		if (grown)
			ds->clips = grown;
		stride_set_err(err, "out of memory");
		return -1;
	}
	ds->clips = grown;
	int rc = 0;
	for (int c = 0; c < other->n_classes && rc == 0; c++) {
		map[c] = -1;
		for (int d = 0; d < ds->n_classes; d++)
			if (strcmp(other->classes[c], ds->classes[d]) == 0)
				map[c] = d;
		if (map[c] < 0) {
			stride_set_err(err, "%s: class \"%s\" is not in the training data %s", other->dir,
			               other->classes[c], ds->dir);
			rc = -1;
		}
	}
	for (int g = 0; g < other->n_groups && rc == 0; g++) {
		gmap[g] = intern(&ds->groups, &ds->n_groups, other->groups[g]);
		if (gmap[g] < 0) {
			stride_set_err(err, "out of memory");
			rc = -1;
		}
	}
	if (rc == 0) {
		for (int i = 0; i < other->n_clips; i++) {
			StrideClip c = other->clips[i];
			if (c.label >= 0)
				c.label = map[c.label];
			c.group = gmap[c.group];
			c.use = STRIDE_USE_VAL;
			/* names say where they came from, so reports can tell them apart */
			char *name = cli_join_path(other->dir, c.name);
			if (name) {
				free(c.name);
				c.name = name;
			}
			ds->clips[ds->n_clips++] = c;
		}
		other->n_clips = 0; /* the clips belong to ds now */
	}
	free(map);
	free(gmap);
	return rc;
}
