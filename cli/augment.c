/* Example generation: crops, gain, noise, polarity, and the gate's mixes. */
#include "augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aug_filters.h"
#include "util.h"

/* Fade length where mixed-in content starts or stops inside a window: real
 * onsets are not clicks, and a click must not be what the gate learns. */
#define EDGE_FADE 80
/* White noise draws from a table of normal values (16-bit indices): drawing a
 * fresh normal per sample would cost as much as the network's training step. */
#define NORMALS_BITS 16
#define NORMALS_SIZE (1 << NORMALS_BITS)

StrideAugConfig cli_aug_defaults(StrideTask task)
{
	StrideAugConfig a;
	a.enabled = true;
	a.gain_min_db = -12.0;
	a.gain_max_db = 6.0;
	a.level_min_db = -60.0;
	a.level_max_db = 0.0;
	a.polarity = true;
	a.eq_db = 0.0;
	a.content_prob = 0.5;
	a.partial_prob = 0.3;
	a.audible = false; /* --audible-snr: opt in (models/README.md) */
	a.audible_db = -10.0;
	a.reverb_prob = 0.0; /* off by default: the shipped recipes rebuild bit for bit */
	a.band_prob = 0.0;
	a.cut_prob = 0.0;
	a.splice_prob = 0.0;
	a.balance = 0.0;
	if (task == STRIDE_TASK_GATE) {
		a.snr_min_db = -5.0;
		a.snr_max_db = 40.0;
		a.noise_prob = 0.8;
	} else {
		a.snr_min_db = 10.0;
		a.snr_max_db = 40.0;
		a.noise_prob = 0.25;
	}
	return a;
}

void cli_label_region(int window, int width, bool at_end, int *start, int *end)
{
	int w = width >= 1 && width < window ? width : window;
	*start = at_end ? window - w : (window - w) / 2;
	*end = *start + w;
}

static bool uses(const StrideExamples *ex, const StrideClip *c)
{
	return c->use == ex->use;
}

static int add_table(const StrideClip ***tab, double **cum, int *n, const StrideClip *c)
{
	const StrideClip **t = realloc((void *)*tab, (size_t)(*n + 1) * sizeof *t);
	if (!t)
		return -1;
	*tab = t;
	double *k = realloc(*cum, (size_t)(*n + 1) * sizeof *k);
	if (!k)
		return -1;
	*cum = k;
	t[*n] = c;
	k[*n] = (*n ? k[*n - 1] : 0.0) + (double)c->frames;
	(*n)++;
	return 0;
}

int cli_examples_init(StrideExamples *ex, const StrideDataset *ds, StrideClipUse use,
                      int window, int region_start, int region_end, const StrideAugConfig *aug,
                      const StrideDataset *extra_noise, char err[STRIDE_ERR_LEN])
{
	memset(ex, 0, sizeof *ex);
	ex->ds = ds;
	ex->use = use;
	ex->window = window;
	ex->aug = *aug;
	ex->region_start = region_start;
	ex->region_end = region_end;
	ex->steps = 1;
	ex->hop = window;
	ex->normals = malloc(NORMALS_SIZE * sizeof *ex->normals);
	if (!ex->normals)
		goto oom;
	StrideRng nr;
	stride_rng_seed(&nr, 0x6e6f726d616c73ULL);
	for (int i = 0; i < NORMALS_SIZE; i++)
		ex->normals[i] = (float)stride_rng_normal(&nr);
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		if (!uses(ex, c))
			continue;
		int rc = 0;
		if (c->kind == STRIDE_CLIP_CONTENT)
			rc = add_table(&ex->content, &ex->content_cum, &ex->n_content, c);
		else if (c->kind == STRIDE_CLIP_NOISE)
			rc = add_table(&ex->noise, &ex->noise_cum, &ex->n_noise, c);
		if (rc < 0)
			goto oom;
	}
	if (extra_noise)
		for (int i = 0; i < extra_noise->n_clips; i++)
			if (add_table(&ex->noise, &ex->noise_cum, &ex->n_noise, &extra_noise->clips[i]) < 0)
				goto oom;
	return 0;
oom:
	cli_examples_free(ex);
	stride_set_err(err, "out of memory");
	return -1;
}

void cli_examples_free(StrideExamples *ex)
{
	free((void *)ex->content);
	free(ex->content_cum);
	free((void *)ex->noise);
	free(ex->noise_cum);
	free(ex->normals);
	memset(ex, 0, sizeof *ex);
}

int cli_examples_set_steps(StrideExamples *ex, int steps, int hop, char err[STRIDE_ERR_LEN])
{
	if (steps < 1 || hop < 1 || (steps > 1 && ex->ds->task != STRIDE_TASK_GATE)) {
		stride_set_err(err, "steps %d, hop %d: steps > 1 need a gate and a hop >= 1", steps, hop);
		return -1;
	}
	const long long span = (long long)ex->window + (long long)(steps - 1) * hop;
	if (ex->steps != 1 || span > (1LL << 24)) {
		stride_set_err(err, "steps %d of hop %d: an example of %lld samples is too long", steps, hop, span);
		return -1;
	}
	ex->steps = steps;
	ex->hop = hop;
	ex->window = (int)span;
	return 0;
}

/* A clip's windows as refs (one per window of audio); 0 for clips no example
 * is cut from. */
static long long clip_windows(const StrideExamples *ex, const StrideClip *c)
{
	if (!uses(ex, c) || c->kind == STRIDE_CLIP_CONTENT || c->kind == STRIDE_CLIP_NOISE ||
	    c->frames < (size_t)ex->window) /* shorter than a multi-step example */
		return 0;
	long long k = (long long)(c->frames / (size_t)ex->window);
	return k < 1 ? 1 : k;
}

/* --balance B: a class with W of the largest class's Wmax windows has its
 * clips' refs repeated (Wmax / W)^B times (rounded), so at B = 1 every class
 * gets about the same share of an epoch, as class weights would give it, while
 * every example is still a real crop at weight 1. factor[label] receives the
 * repeat factor (1 for every class when B is 0 or the task is a gate). */
static int class_factors(const StrideExamples *ex, double *factor)
{
	const StrideDataset *ds = ex->ds;
	for (int l = 0; l < ds->n_classes; l++)
		factor[l] = 1.0;
	if (ds->task != STRIDE_TASK_CLASSIFY || ex->aug.balance <= 0.0)
		return 0;
	double *w = calloc((size_t)ds->n_classes, sizeof *w);
	if (!w)
		return -1;
	double most = 0.0;
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		if (c->label >= 0 && c->label < ds->n_classes)
			w[c->label] += (double)clip_windows(ex, c);
	}
	for (int l = 0; l < ds->n_classes; l++)
		most = w[l] > most ? w[l] : most;
	for (int l = 0; l < ds->n_classes; l++)
		if (w[l] > 0.0)
			factor[l] = pow(most / w[l], ex->aug.balance);
	free(w);
	return 0;
}

int cli_examples_refs(const StrideExamples *ex, int **refs, long long *n)
{
	const StrideDataset *ds = ex->ds;
	long long count = 0, mixes = 0;
	double *factor = malloc((size_t)(ds->n_classes > 0 ? ds->n_classes : 1) * sizeof *factor);
	if (!factor || class_factors(ex, factor) < 0) {
		free(factor);
		return -1;
	}
	for (int pass = 0; pass < 2; pass++) {
		count = 0;
		for (int i = 0; i < ds->n_clips; i++) {
			const StrideClip *c = &ds->clips[i];
			long long k = clip_windows(ex, c);
			if (k > 0 && c->label >= 0 && c->label < ds->n_classes && factor[c->label] != 1.0)
				k = (long long)llround((double)k * factor[c->label]);
			for (long long j = 0; j < k; j++) {
				if (pass)
					(*refs)[count] = i;
				count++;
			}
		}
		if (ds->task == STRIDE_TASK_GATE && pass == 0) {
			double frames = 0.0;
			if (ex->n_content)
				frames += ex->content_cum[ex->n_content - 1];
			for (int i = 0; i < ex->n_noise; i++)
				if (ex->noise[i]->use == ex->use) /* not the extra noise */
					frames += (double)ex->noise[i]->frames;
			mixes = (long long)(frames / ex->window);
			if (mixes < 1 && (ex->n_content || ex->n_noise))
				mixes = 1;
		}
		if (pass) {
			for (long long j = 0; j < mixes; j++)
				(*refs)[count + j] = -1;
		} else {
			*refs = malloc((size_t)(count + mixes + 1) * sizeof **refs);
			if (!*refs) {
				free(factor);
				return -1;
			}
		}
	}
	free(factor);
	*n = count + mixes;
	return 0;
}

static double uniform(StrideRng *r, double lo, double hi)
{
	return lo + (hi - lo) * stride_rng_uniform(r);
}

static double db_to_amp(double db)
{
	return pow(10.0, db / 20.0);
}

/* True with probability p; draws nothing when p is 0, so that a switched-off
 * augmentation leaves the random stream (and a run's examples) as they were. */
static bool chance(StrideRng *r, double p)
{
	return p > 0.0 && stride_rng_uniform(r) < p;
}

/* A clip drawn with chances proportional to length. */
static const StrideClip *pick(StrideRng *r, const StrideClip *const *tab, const double *cum, int n)
{
	double u = stride_rng_uniform(r) * cum[n - 1];
	int lo = 0, hi = n - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (cum[mid] <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return tab[lo];
}

static size_t random_offset(StrideRng *r, const StrideClip *c, int window)
{
	size_t room = c->frames - (size_t)window; /* clips are at least a window long */
	return room ? (size_t)(stride_rng_next(r) % (unsigned long long)(room + 1)) : 0;
}

static double rms_of(const float *x, int n)
{
	double s = 0.0;
	for (int i = 0; i < n; i++)
		s += (double)x[i] * (double)x[i];
	return n ? sqrt(s / n) : 0.0;
}

static double peak_of(const float *x, int n)
{
	double p = 0.0;
	for (int i = 0; i < n; i++) {
		double v = fabs((double)x[i]);
		if (v > p)
			p = v;
	}
	return p;
}

/* The gain that takes `rms` to `target`, held so the peak stays <= 1. */
static double level_gain(double rms, double peak, double target)
{
	if (rms <= 0.0)
		return 0.0;
	double g = target / rms;
	if (peak > 0.0 && g * peak > 1.0)
		g = 1.0 / peak;
	return g;
}

/* Adds noise at `level` (linear RMS) to x: a crop of a noise clip, or white noise. */
static void add_noise(const StrideExamples *ex, StrideRng *r, float *x, double level, bool files)
{
	const int w = ex->window;
	if (level <= 0.0)
		return;
	if (files && ex->n_noise > 0) {
		const StrideClip *c = pick(r, ex->noise, ex->noise_cum, ex->n_noise);
		if (c->frames >= (size_t)w) {
			const float *src = c->x + random_offset(r, c, w);
			double g = level_gain(rms_of(src, w), peak_of(src, w), level);
			for (int i = 0; i < w; i++)
				x[i] += (float)(g * src[i]);
			return;
		}
		/* a clip shorter than a multi-step example: looped from a random
		 * place (the mixes start from silence, so x holds only this) */
		size_t at = (size_t)(stride_rng_next(r) % (unsigned long long)c->frames);
		for (int i = 0; i < w; i++, at = at + 1 < c->frames ? at + 1 : 0)
			x[i] = c->x[at];
		double g = level_gain(rms_of(x, w), peak_of(x, w), level);
		for (int i = 0; i < w; i++)
			x[i] = (float)(g * x[i]);
	} else {
		const float lv = (float)level;
		for (int i = 0; i < w; i += 4) {
			unsigned long long bits = stride_rng_next(r);
			for (int j = 0; j < 4 && i + j < w; j++, bits >>= NORMALS_BITS)
				x[i + j] += lv * ex->normals[bits & (NORMALS_SIZE - 1)];
		}
	}
}

static bool region_is_content(const StrideExamples *ex, size_t content_in_region)
{
	return 2 * content_in_region >= (size_t)(ex->region_end - ex->region_start);
}

int cli_example_label(const StrideExamples *ex, int ref, long long offset)
{
	const StrideClip *c = &ex->ds->clips[ref];
	if (ex->ds->task != STRIDE_TASK_GATE || c->kind != STRIDE_CLIP_TRACKED)
		return c->label;
	size_t a = (size_t)offset + (size_t)ex->region_start;
	size_t b = (size_t)offset + (size_t)ex->region_end;
	return region_is_content(ex, cli_clip_content_overlap(c, a, b)) ? STRIDE_GATE_CONTENT
	                                                                   : STRIDE_GATE_NOISE;
}

/* A content clip's pauses (between words, a rest in the music) sit far under
 * the clip's level: a window that lands in one is noise to the listener, so it
 * is labelled noise. Content more than PAUSE_DB under its clip's RMS is a pause
 * even over digital silence; over noise, content under the noise by more than
 * a->audible_db (local SNR in the label region) is drowned and labelled noise
 * too. Without this, the gate is taught that some windows of pure noise are
 * content, and learns to open on noise now and then. */
#define PAUSE_DB 40.0

static bool content_is_audible(const StrideAugConfig *a, double content_energy,
                               double noise_energy, double clip_rms, int n)
{
	if (!a->audible || n <= 0)
		return true;
	const double content_rms = sqrt(content_energy / n), noise_rms = sqrt(noise_energy / n);
	if (content_rms < clip_rms * db_to_amp(-PAUSE_DB))
		return false;
	return noise_rms <= 0.0 || content_rms >= noise_rms * db_to_amp(a->audible_db);
}

/* Step k of a multi-step example is content when half of its label region,
 * [k * hop + region_start, k * hop + region_end), is inside [lo, hi). */
static void step_labels(const StrideExamples *ex, int lo, int hi, int *labels)
{
	for (int k = 0; k < ex->steps; k++) {
		const int s0 = k * ex->hop + ex->region_start, e0 = k * ex->hop + ex->region_end;
		const int s = lo > s0 ? lo : s0, e = hi < e0 ? hi : e0;
		labels[k] = region_is_content(ex, e > s ? (size_t)(e - s) : 0) ? STRIDE_GATE_CONTENT
		                                                             : STRIDE_GATE_NOISE;
	}
}

/* A gate mix's background at level lc - snr dBFS: a noise clip, white noise
 * or digital silence, cut to silence inside the window at --silence-cut's
 * chance. */
static void mix_background(const StrideExamples *ex, StrideRng *r, float *x, double lc, double snr)
{
	const StrideAugConfig *a = &ex->aug;
	const int w = ex->window;
	memset(x, 0, (size_t)w * sizeof *x);
	double u = stride_rng_uniform(r);
	if (ex->n_noise > 0 && u < a->noise_prob)
		add_noise(ex, r, x, db_to_amp(lc - snr), true);
	else if (u < a->noise_prob + 0.5 * (1.0 - a->noise_prob))
		add_noise(ex, r, x, db_to_amp(lc - snr), false);
	/* else digital silence */
	if (chance(r, a->cut_prob)) {
		/* the background stops dead (or starts) inside the window, as noise
		 * does at the end of a file or when a source is switched off */
		const int edge = (int)(stride_rng_next(r) % (unsigned long long)(w + 1));
		if (stride_rng_uniform(r) < 0.5)
			memset(x + edge, 0, (size_t)(w - edge) * sizeof *x);
		else
			memset(x, 0, (size_t)edge * sizeof *x);
	}
}

/* Where content clip c plays in the window: [*lo, *hi), the whole window or
 * (at --partial-prob's chance) starting or stopping inside it; *shift: the
 * clip's index minus the window's. */
static void place_content(const StrideExamples *ex, StrideRng *r, const StrideClip *c, int *lo,
                          int *hi, long long *shift)
{
	const int w = ex->window;
	const bool fits = c->frames >= (size_t)w;
	*shift = fits ? (long long)random_offset(r, c, w) : 0;
	*lo = 0;
	*hi = w;
	if (stride_rng_uniform(r) < ex->aug.partial_prob) {
		int edge = (int)(stride_rng_next(r) % (unsigned long long)(w + 1));
		if (stride_rng_uniform(r) < 0.5)
			*lo = edge; /* starts inside the window */
		else
			*hi = edge; /* stops inside the window */
	}
	if (!fits) {
		/* a clip shorter than a multi-step example plays once, whole where
		 * it can: from where it starts, up to where it stops, or anywhere */
		const int len = (int)c->frames;
		if (*hi - *lo > len) {
			if (*lo > 0)
				*hi = *lo + len;
			else if (*hi < w)
				*lo = *hi - len;
			else {
				*lo = (int)(stride_rng_next(r) % (unsigned long long)(w - len + 1));
				*hi = *lo + len;
			}
		}
		const int room_in_clip = len - (*hi - *lo);
		*shift = (long long)(stride_rng_next(r) % (unsigned long long)(room_in_clip + 1)) - *lo;
	}
}

/* Content clip c at level lc dBFS through its own recording chain (a room, a
 * band limit) over [lo, hi) of the mix, faded in and out at edges inside the
 * window. Returns the label: content when enough of the label region holds
 * audible content. */
static int add_content(const StrideExamples *ex, StrideRng *r, const StrideClip *c, float *x,
                       int lo, int hi, long long shift, double lc)
{
	const StrideAugConfig *a = &ex->aug;
	const int w = ex->window;
	AugRoom room;
	AugBand band;
	const bool reverb = chance(r, a->reverb_prob), limit = chance(r, 0.5 * a->band_prob);
	if (reverb)
		aug_room_draw(r, ex->ds->rate, &room);
	if (limit)
		aug_band_draw(r, ex->ds->rate, &band);
	double g = level_gain(c->rms, c->peak, db_to_amp(lc));
	int fade = EDGE_FADE < (hi - lo) / 2 ? EDGE_FADE : (hi - lo) / 2;
	int s = lo > ex->region_start ? lo : ex->region_start;
	int e = hi < ex->region_end ? hi : ex->region_end;
	double noise_energy = 0.0, content_energy = 0.0;
	for (int i = s; i < e; i++)
		noise_energy += (double)x[i] * (double)x[i];
	for (int i = lo; i < hi; i++) {
		double env = 1.0;
		if (lo > 0 && i - lo < fade)
			env = 0.5 - 0.5 * cos(3.14159265358979323846 * (i - lo + 0.5) / fade);
		if (hi < w && hi - 1 - i < fade)
			env = 0.5 - 0.5 * cos(3.14159265358979323846 * (hi - i - 0.5) / fade);
		const long long at = i + shift;
		double dry = reverb ? aug_room_sample(&room, c->x, at, 0) : c->x[at];
		if (limit)
			dry = aug_band_step(&band, dry);
		const double v = g * env * dry;
		x[i] += (float)v;
		if (i >= s && i < e)
			content_energy += v * v;
	}
	return region_is_content(ex, e > s ? (size_t)(e - s) : 0) &&
	               content_is_audible(a, content_energy, noise_energy, g * c->rms, e - s)
	       ? STRIDE_GATE_CONTENT
	       : STRIDE_GATE_NOISE;
}

/* A gate mix: a background (a noise clip, white noise or digital silence) with
 * content over all of the window or part of it. Returns step 0's label;
 * labels (NULL when steps is 1) gets every step's. */
static int make_mix(const StrideExamples *ex, StrideRng *r, float *x, int *labels)
{
	const StrideAugConfig *a = &ex->aug;
	const double lc = uniform(r, a->level_min_db, a->level_max_db);
	const double snr = uniform(r, a->snr_min_db, a->snr_max_db);
	mix_background(ex, r, x, lc, snr);
	int label = STRIDE_GATE_NOISE, lo = 0, hi = 0;
	if (ex->n_content > 0 && stride_rng_uniform(r) < a->content_prob) {
		const StrideClip *c = pick(r, ex->content, ex->content_cum, ex->n_content);
		long long shift;
		place_content(ex, r, c, &lo, &hi, &shift);
		if (hi > lo && chance(r, a->splice_prob))
			/* spliced in: the background stops where the content starts and
			 * resumes where it ends, as in an edited recording */
			memset(x + lo, 0, (size_t)(hi - lo) * sizeof *x);
		if (hi > lo)
			label = add_content(ex, r, c, x, lo, hi, shift, lc);
		else
			lo = hi = 0;
	}
	if (labels)
		step_labels(ex, lo, hi, labels);
	return label;
}

int cli_example_make(const StrideExamples *ex, int ref, long long offset, uint64_t seed, float *x,
                     int *labels)
{
	StrideRng r;
	stride_rng_seed(&r, seed);
	const StrideAugConfig *a = &ex->aug;
	const int w = ex->window;
	if (ex->steps == 1)
		labels = NULL;
	int label;
	if (ref < 0 || ex->ds->clips[ref].frames < (size_t)w) {
		label = make_mix(ex, &r, x, labels);
	} else {
		const StrideClip *c = &ex->ds->clips[ref];
		size_t off = offset >= 0 ? (size_t)offset : random_offset(&r, c, w);
		if (off > c->frames - (size_t)w)
			off = c->frames - (size_t)w;
		memcpy(x, c->x + off, (size_t)w * sizeof *x);
		label = cli_example_label(ex, ref, (long long)off);
		for (int k = 0; labels && k < ex->steps; k++)
			labels[k] = cli_example_label(ex, ref, (long long)off + (long long)k * ex->hop);
		if (a->enabled && chance(&r, a->reverb_prob)) {
			AugRoom room;
			aug_room_draw(&r, ex->ds->rate, &room);
			for (int i = 0; i < w; i++)
				x[i] = (float)aug_room_sample(&room, c->x + off, i, (long long)off);
		}
		if (a->enabled) {
			if (ex->ds->task == STRIDE_TASK_GATE) {
				/* tracked files: their content to a random level */
				double g = level_gain(c->rms, peak_of(x, w),
				                      db_to_amp(uniform(&r, a->level_min_db, a->level_max_db)));
				for (int i = 0; i < w; i++)
					x[i] = (float)(g * x[i]);
			} else {
				double g = db_to_amp(uniform(&r, a->gain_min_db, a->gain_max_db));
				double p = peak_of(x, w);
				if (p > 0.0 && g * p > 1.0)
					g = 1.0 / p;
				for (int i = 0; i < w; i++)
					x[i] = (float)(g * x[i]);
				if (stride_rng_uniform(&r) < a->noise_prob) {
					double snr = uniform(&r, a->snr_min_db, a->snr_max_db);
					add_noise(ex, &r, x, rms_of(x, w) * db_to_amp(-snr), true);
				}
			}
		}
	}
	if (a->enabled && a->eq_db > 0.0)
		aug_random_eq(&r, x, w, ex->ds->rate, a->eq_db);
	if (a->enabled && chance(&r, a->band_prob)) {
		AugBand band;
		aug_band_draw(&r, ex->ds->rate, &band);
		aug_band_run(&band, x, w);
	}
	if (a->enabled && a->polarity && stride_rng_uniform(&r) < 0.5)
		for (int i = 0; i < w; i++)
			x[i] = -x[i];
	return label;
}
