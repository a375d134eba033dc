/* Scanning dataset folders, reading the audio in parallel, label tracks, and
 * the validation split. */
#include "dataset.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "audio_file.h"
#include "util.h"
#include "workers.h"

/* Below this peak a file counts as silent (about -140 dBFS: under any real
 * converter's noise, above float rounding of digital silence). */
#define SILENT_PEAK 1e-7
/* Label tracks larger than this are not label tracks. */
#define MAX_TRACK_BYTES (16u << 20)
/* A region may start this far past the end of the audio (rounding of times). */
#define TRACK_SLACK_SECONDS 0.01

/* ------------------------------------------------------------------------ */
/* Small string and path helpers                                            */
/* ------------------------------------------------------------------------ */

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static char *join_path(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	bool slash = na > 0 && a[na - 1] != '/';
	char *p = malloc(na + nb + 2);
	if (!p)
		return NULL;
	memcpy(p, a, na);
	if (slash)
		p[na++] = '/';
	memcpy(p + na, b, nb + 1);
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* Files that are plainly not audio and sit in datasets (notes, lists, MIDI):
 * passed over quietly instead of being reported as unreadable audio. */
static bool is_known_non_audio(const char *name)
{
	static const char *const ext[] = { ".md", ".json", ".csv", ".tsv", ".mid", ".midi", ".lst" };
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (has_ext(name, ext[i]))
			return true;
	return false;
}

/* The sorted names in a folder, hidden ones left out. */
static int list_dir(const char *path, char ***names, int *n, char *err)
{
	*names = NULL;
	*n = 0;
	DIR *d = opendir(path);
	if (!d) {
		stride_set_err(err, "%s: cannot open folder: %s", path, strerror(errno));
		return -1;
	}
	int cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			char **grown = realloc(*names, (size_t)cap * sizeof **names);
			if (!grown)
				goto oom;
			*names = grown;
		}
		if (!((*names)[*n] = dup_str(e->d_name)))
			goto oom;
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(*names, (size_t)*n, sizeof **names, cmp_str);
	return 0;
oom:
	closedir(d);
	for (int i = 0; i < *n; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
	*n = 0;
	stride_set_err(err, "%s: out of memory listing the folder", path);
	return -1;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ------------------------------------------------------------------------ */
/* Finding files                                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
	char *rel;   /* relative to DATA */
	char *path;  /* full */
	int label;   /* classifier class, or -1 */
	int top;     /* classifier: class folder index */
} Found;

typedef struct {
	Found *items;
	int n, cap;
} FoundList;

static int found_add(FoundList *l, const char *rel, const char *path, int label)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 256;
		Found *g = realloc(l->items, (size_t)cap * sizeof *g);
		if (!g)
			return -1;
		l->items = g;
		l->cap = cap;
	}
	Found *f = &l->items[l->n];
	f->rel = dup_str(rel);
	f->path = dup_str(path);
	f->label = label;
	f->top = label;
	if (!f->rel || !f->path) {
		free(f->rel);
		free(f->path);
		return -1;
	}
	l->n++;
	return 0;
}

static void found_free(FoundList *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->items[i].rel);
		free(l->items[i].path);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

/* Every regular file under path (recursively), named relative to DATA. */
static int collect(const char *path, const char *rel, int label, FoundList *out, int depth,
                   char *err)
{
	if (depth > 32) {
		stride_set_err(err, "%s: folders nested too deep", path);
		return -1;
	}
	char **names;
	int n;
	if (list_dir(path, &names, &n, err) < 0)
		return -1;
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char *full = join_path(path, names[i]);
		char *r = rel[0] ? join_path(rel, names[i]) : dup_str(names[i]);
		struct stat st;
		if (!full || !r) {
			stride_set_err(err, "%s: out of memory", path);
			rc = -1;
		} else if (stat(full, &st) != 0) {
			/* a dangling link or a file that vanished: nothing to read */
		} else if (S_ISDIR(st.st_mode)) {
			rc = collect(full, r, label, out, depth + 1, err);
		} else if (S_ISREG(st.st_mode)) {
			if (found_add(out, r, full, label) < 0) {
				stride_set_err(err, "%s: out of memory", path);
				rc = -1;
			}
		}
		free(full);
		free(r);
	}
	free_names(names, n);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Label tracks                                                             */
/* ------------------------------------------------------------------------ */

static int cmp_span(const void *a, const void *b)
{
	const StrideSpan *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* A number filling the whole field (spaces around allowed). */
static bool parse_time(const char *s, double *v)
{
	while (*s == ' ')
		s++;
	if (*s == '\0')
		return false;
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (end == s || errno == ERANGE)
		return false;
	while (*end == ' ')
		end++;
	if (*end != '\0' || !isfinite(d))
		return false;
	*v = d;
	return true;
}

static char *read_small_file(const char *path, size_t *len, char *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		stride_set_err(err, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 >= cap) {
			if (cap >= MAX_TRACK_BYTES) {
				stride_set_err(err, "%s: larger than %u bytes: not a label track", path,
				               MAX_TRACK_BYTES);
				free(buf);
				fclose(f);
				return NULL;
			}
			char *g = realloc(buf, cap * 2);
			if (!g)
				break;
			buf = g;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - 1 - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (!buf) {
		stride_set_err(err, "%s: out of memory", path);
		fclose(f);
		return NULL;
	}
	if (ferror(f)) {
		stride_set_err(err, "%s: read error", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int stride_label_track_read(const char *path, int rate, size_t frames, StrideSpan **spans,
                            int *n_spans, FILE *warn, char err[STRIDE_ERR_LEN])
{
	*spans = NULL;
	*n_spans = 0;
	size_t len;
	char *text = read_small_file(path, &len, err);
	if (!text)
		return -1;
	int bad = 0, cap = 0, lineno = 0;
	double duration = (double)frames / rate;
	char *p = text, *end = text + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line_end = nl ? nl : end;
		size_t raw_len = (size_t)(line_end - p);
		*line_end = '\0';
		char *line = p;
		p = nl ? nl + 1 : end;
		lineno++;
		const bool has_nul = strlen(line) != raw_len;
		if (raw_len > 0 && line[raw_len - 1] == '\r')
			line[raw_len - 1] = '\0';

		const char *why = NULL;
		char detail[160] = "";
		bool blank = !has_nul;
		for (const char *q = line; *q; q++)
			if (!isspace((unsigned char)*q))
				blank = false;
		if (blank)
			continue;
		if (line[0] == '\\')
			continue; /* Audacity's frequency line for a spectral selection */
		if (has_nul)
			why = "holds a NUL byte";
		char *tab1 = strchr(line, '\t');
		char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
		double a = 0.0, b = 0.0;
		if (!why && !tab1) {
			why = "expected start<TAB>end<TAB>label";
		} else if (!why) {
			*tab1 = '\0';
			if (tab2)
				*tab2 = '\0';
			if (!parse_time(line, &a)) {
				snprintf(detail, sizeof detail, "start \"%.40s\" is not a number of seconds", line);
			} else if (!parse_time(tab1 + 1, &b)) {
				snprintf(detail, sizeof detail, "end \"%.40s\" is not a number of seconds",
				         tab1 + 1);
			} else if (a < 0.0 || b < 0.0) {
				why = "negative time";
			} else if (b < a) {
				snprintf(detail, sizeof detail, "end %.6g s is before start %.6g s", b, a);
			} else if (a > duration + TRACK_SLACK_SECONDS) {
				snprintf(detail, sizeof detail,
				         "region starts at %.6g s, after the end of the audio (%.6g s)", a,
				         duration);
			}
			if (detail[0])
				why = detail;
		}
		if (why) {
			bad++;
			if (warn)
				fprintf(warn, "%s:%d: %s\n", path, lineno, why);
			continue;
		}
		long long s = llround(a * rate), e = llround(b * rate);
		if (s < 0)
			s = 0;
		if ((size_t)e > frames)
			e = (long long)frames;
		if (e <= s)
			continue; /* a point label or a region rounded away: no content */
		if (*n_spans == cap) {
			cap = cap ? 2 * cap : 16;
			StrideSpan *g = realloc(*spans, (size_t)cap * sizeof *g);
			if (!g) {
				free(text);
				free(*spans);
				*spans = NULL;
				*n_spans = 0;
				stride_set_err(err, "%s: out of memory", path);
				return -1;
			}
			*spans = g;
		}
		(*spans)[*n_spans].start = (size_t)s;
		(*spans)[*n_spans].end = (size_t)e;
		(*n_spans)++;
	}
	free(text);
	if (*n_spans > 1) {
		qsort(*spans, (size_t)*n_spans, sizeof **spans, cmp_span);
		int m = 0;
		for (int i = 1; i < *n_spans; i++) {
			if ((*spans)[i].start <= (*spans)[m].end) {
				if ((*spans)[i].end > (*spans)[m].end)
					(*spans)[m].end = (*spans)[i].end;
			} else {
				(*spans)[++m] = (*spans)[i];
			}
		}
		*n_spans = m + 1;
	}
	return bad;
}

size_t stride_clip_content_overlap(const StrideClip *c, size_t a, size_t b)
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
	if (stride_audio_read_mono(path, opt->rate, &j->audio, err) != 0) {
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
	double sum = 0.0, peak = 0.0;
	const float *x = j->audio.data;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i])) {
			if (msg)
				fprintf(msg, "skipped %s: sample %zu is not a finite number\n", path, i);
			goto done;
		}
		double v = fabs((double)x[i]);
		sum += v * v;
		if (v > peak)
			peak = v;
	}
	if (peak < SILENT_PEAK) {
		if (msg)
			fprintf(msg, "skipped %s: all silent (digital silence)\n", path);
		goto done;
	}
	j->peak = peak;
	j->rms = sqrt(sum / (double)n);
	if (j->track) {
		int bad = stride_label_track_read(j->track, opt->rate, n, &j->spans, &j->n_spans, msg, err);
		if (bad < 0) {
			if (msg)
				fprintf(msg, "skipped %s: its label track: %s\n", path, err);
			goto done;
		}
		if (bad > 0) {
			if (msg)
				fprintf(msg, "skipped %s: its label track %s has %d bad line%s\n", path,
				        j->track, bad, bad == 1 ? "" : "s");
			free(j->spans);
			j->spans = NULL;
			j->n_spans = 0;
			goto done;
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
	}
	j->ok = true;
done:
	if (!j->ok) {
		stride_audio_free(&j->audio);
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

void stride_dataset_free(StrideDataset *ds)
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
	free_names(ds->classes, ds->n_classes);
	free_names(ds->groups, ds->n_groups);
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
		return dup_str(".");
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
	if (!(g[*n] = dup_str(name)))
		return -1;
	return (*n)++;
}

/* Classifier folders: class names from the folders or from opt->classes. */
static int scan_classes(const char *dir, const StrideDatasetOptions *opt, StrideDataset *ds,
                        FoundList *found, char *err)
{
	char **names;
	int n;
	if (list_dir(dir, &names, &n, err) < 0)
		return -1;
	int rc = 0, folders = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char *full = join_path(dir, names[i]);
		struct stat st;
		if (!full) {
			stride_set_err(err, "%s: out of memory", dir);
			rc = -1;
			break;
		}
		if (stat(full, &st) != 0 || !S_ISDIR(st.st_mode)) {
			if (opt->warn && stat(full, &st) == 0 && S_ISREG(st.st_mode) && !has_ext(names[i], ".txt") &&
			    !is_known_non_audio(names[i]))
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
			rc = collect(full, names[i], label, found, 1, err);
		free(full);
	}
	free_names(names, n);
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
		if (has_ext(f->rel, ".txt")) {
			if (opt->task == STRIDE_TASK_CLASSIFY)
				ds->n_tracks_ignored++;
			continue;
		}
		if (is_known_non_audio(f->rel))
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

StrideDataset *stride_dataset_load(const char *dir, const StrideDatasetOptions *opt,
                                   char err[STRIDE_ERR_LEN])
{
	return stride_dataset_load_shard(dir, opt, 0, 1, err);
}

StrideDataset *stride_dataset_load_shard(const char *dir, const StrideDatasetOptions *opt,
                                         int shard, int shards, char err[STRIDE_ERR_LEN])
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
	FoundList found = { 0 };
	Job *jobs = NULL;
	int n_jobs = 0;
	if (!ds || !(ds->dir = dup_str(dir))) {
		stride_set_err(err, "out of memory");
		goto fail;
	}
	ds->task = opt->task;
	ds->rate = opt->rate;
	if (opt->task == STRIDE_TASK_CLASSIFY && !opt->noise_only) {
		if (scan_classes(dir, opt, ds, &found, err) < 0)
			goto fail;
	} else {
		static const char *const gate_labels[] = { "noise", "content" };
		for (int c = 0; c < 2; c++)
			if (intern(&ds->classes, &ds->n_classes, gate_labels[c]) < 0) {
				stride_set_err(err, "out of memory");
				goto fail;
			}
		if (collect(dir, "", -1, &found, 0, err) < 0)
			goto fail;
	}
	if (plan_jobs(opt, shard, shards, ds, &found, &jobs, &n_jobs, err) < 0)
		goto fail;

	LoadCtx ctx = { jobs, n_jobs, opt->threads > 0 ? opt->threads : 1, opt };
	if (ctx.threads > n_jobs)
		ctx.threads = n_jobs > 0 ? n_jobs : 1;
	StrideWorkers *team = stride_workers_new(ctx.threads);
	if (!team) {
		ctx.threads = 1;
		load_job(&ctx, 0);
	} else {
		stride_workers_run(team, load_job, &ctx);
		stride_workers_free(team);
	}

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
		StrideClip *c = &ds->clips[ds->n_clips];
		char *folder = folder_of(j->found->rel);
		c->name = dup_str(j->found->rel);
		c->path = dup_str(j->found->path);
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
		if (!c->name || !c->path || c->group < 0) {
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
	for (int i = 0; i < n_jobs; i++) {
		free(jobs[i].track);
		stride_audio_free(&jobs[i].audio);
		free(jobs[i].spans);
	}
	free(jobs);
	found_free(&found);
	return ds;
fail:
	for (int i = 0; i < n_jobs; i++) {
		free(jobs[i].track);
		free(jobs[i].messages);
		stride_audio_free(&jobs[i].audio);
		free(jobs[i].spans);
	}
	free(jobs);
	found_free(&found);
	stride_dataset_free(ds);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Validation split                                                         */
/* ------------------------------------------------------------------------ */

uint64_t stride_seed_mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	StrideRng r;
	stride_rng_seed(&r, seed ^ 0x5bd1e9955bd1e995ULL);
	uint64_t h = stride_rng_next(&r);
	const uint64_t parts[3] = { a, b, c };
	for (int i = 0; i < 3; i++) {
		stride_rng_seed(&r, h ^ (parts[i] * 0x9E3779B97F4A7C15ULL + (uint64_t)i));
		h = stride_rng_next(&r);
	}
	return h;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Marks the clips a list names; returns how many names matched, or -1. */
static int apply_list(StrideDataset *ds, const char *list, StrideClipUse use, bool *mark,
                      FILE *warn, char *err)
{
	size_t len;
	char *text = read_small_file(list, &len, err);
	if (!text)
		return -1;
	int matched = 0, missing = 0, lineno = 0;
	char first_missing[128] = "";
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		size_t n = strlen(line);
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			line[--n] = '\0';
		while (*line && isspace((unsigned char)*line))
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		int hit = -1, hits = 0;
		for (int i = 0; i < ds->n_clips; i++)
			if (strcmp(ds->clips[i].name, line) == 0) {
				hit = i;
				hits = 1;
				break;
			}
		if (hit < 0) {
			/* a bare file name, or a path whose tail is the clip's name */
			for (int i = 0; i < ds->n_clips; i++) {
				const char *name = ds->clips[i].name;
				const char *base = strrchr(name, '/');
				base = base ? base + 1 : name;
				size_t ln = strlen(line), nn = strlen(name);
				bool tail = ln > nn && strcmp(line + ln - nn, name) == 0 && line[ln - nn - 1] == '/';
				if (strcmp(base, line) == 0 || tail) {
					hit = i;
					hits++;
				}
			}
		}
		if (hits == 1) {
			ds->clips[hit].use = use;
			if (mark)
				mark[hit] = true;
			matched++;
		} else {
			if (hits > 1 && warn)
				fprintf(warn, "%s:%d: \"%s\" matches %d files: give the folder too\n", list,
				        lineno, line, hits);
			if (!missing)
				snprintf(first_missing, sizeof first_missing, "%s", line);
			missing++;
		}
	}
	free(text);
	if (missing && warn)
		fprintf(warn, "%s: %d name%s not in %s (first: %s)\n", list, missing,
		        missing == 1 ? " is" : "s are", ds->dir, first_missing);
	if (matched == 0) {
		stride_set_err(err, "%s: names no file of %s", list, ds->dir);
		return -1;
	}
	return matched;
}

int stride_dataset_split(StrideDataset *ds, double val_fraction, uint64_t seed,
                         const char *val_list, const char *train_list, FILE *warn,
                         char err[STRIDE_ERR_LEN])
{
	for (int i = 0; i < ds->n_clips; i++)
		ds->clips[i].use = STRIDE_USE_TRAIN;
	if (train_list || val_list) {
		bool *in_train = calloc((size_t)ds->n_clips + 1, sizeof *in_train);
		if (!in_train) {
			stride_set_err(err, "out of memory");
			return -1;
		}
		int rc = 0;
		if (train_list && apply_list(ds, train_list, STRIDE_USE_TRAIN, in_train, warn, err) < 0)
			rc = -1;
		if (rc == 0 && train_list)
			for (int i = 0; i < ds->n_clips; i++)
				if (!in_train[i])
					ds->clips[i].use = STRIDE_USE_NONE;
		if (rc == 0 && val_list && apply_list(ds, val_list, STRIDE_USE_VAL, NULL, warn, err) < 0)
			rc = -1;
		free(in_train);
		return rc;
	}
	if (val_fraction <= 0.0)
		return 0;
	/* stratified: the same share of every class (gates: of every folder) */
	int strata = ds->task == STRIDE_TASK_CLASSIFY ? ds->n_classes : ds->n_groups;
	int *idx = malloc(((size_t)ds->n_clips + 1) * sizeof *idx);
	if (!idx) {
		stride_set_err(err, "out of memory");
		return -1;
	}
	for (int s = 0; s < strata; s++) {
		int n = 0;
		for (int i = 0; i < ds->n_clips; i++) {
			int key = ds->task == STRIDE_TASK_CLASSIFY ? ds->clips[i].label : ds->clips[i].group;
			if (key == s)
				idx[n++] = i;
		}
		if (n < 2)
			continue;
		const char *sname = ds->task == STRIDE_TASK_CLASSIFY ? ds->classes[s] : ds->groups[s];
		StrideRng r;
		stride_rng_seed(&r, stride_seed_mix(seed, hash_str(sname), 0x5a17, 0));
		for (int i = n - 1; i > 0; i--) {
			int j = (int)(stride_rng_next(&r) % (unsigned long long)(i + 1));
			int t = idx[i];
			idx[i] = idx[j];
			idx[j] = t;
		}
		int k = (int)lround(val_fraction * n);
		if (k < 1)
			k = 1;
		if (k > n - 1)
			k = n - 1;
		for (int i = 0; i < k; i++)
			ds->clips[idx[i]].use = STRIDE_USE_VAL;
	}
	free(idx);
	return 0;
}

int stride_dataset_adopt_val(StrideDataset *ds, StrideDataset *other, char err[STRIDE_ERR_LEN])
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
			char *name = join_path(other->dir, c.name);
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

void stride_dataset_print_split(const StrideDataset *ds, FILE *out)
{
	int n[3] = { 0 };
	double sec[3] = { 0 };
	for (int i = 0; i < ds->n_clips; i++) {
		n[ds->clips[i].use]++;
		sec[ds->clips[i].use] += (double)ds->clips[i].frames / ds->rate;
	}
	fprintf(out, "split: %d files for training (%.2f min), %d for validation (%.2f min)", n[0],
	        sec[0] / 60.0, n[1], sec[1] / 60.0);
	if (n[2])
		fprintf(out, ", %d not used", n[2]);
	fprintf(out, "\n");
}
