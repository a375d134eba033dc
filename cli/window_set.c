/* Window sets: the fixed windows validation and evaluation score (see
 * window_set.h). */
#include "window_set.h"

#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "util.h"

/* Sub-stream tag for cli_seed_mix: the validation mixes. */
#define TAG_VAL 0x76616cULL
/* Validation: windows per classifier file, and the count of gate mixes. */
#define VAL_WINDOWS_PER_FILE 16
#define VAL_MIXES_MIN 500
#define VAL_MIXES_MAX 4000

void cli_windows_free(StrideWindowSet *set)
{
	free(set->x);
	free(set->y);
	free(set->file);
	memset(set, 0, sizeof *set);
}

/* Offsets of the windows scored in one clip. */
static long long clip_windows(const StrideExamples *ex, const StrideClip *c, int max_per_file,
                              int step, long long j, bool count_only)
{
	const long long room = (long long)c->frames - ex->window;
	if (room < 0) /* a clip shorter than a window (multi-step training keeps them) */
		return 0;
	if (ex->ds->task == STRIDE_TASK_GATE && c->kind == STRIDE_CLIP_TRACKED) {
		long long n = room / step + 1;
		return count_only ? n : j * step;
	}
	long long n = room / ex->window + 1; /* non-overlapping at most */
	if (max_per_file > 0 && n > max_per_file)
		n = max_per_file;
	if (count_only)
		return n;
	return n > 1 ? (room * j) / (n - 1) : room / 2;
}

int cli_windows_build(const StrideExamples *ex, int max_per_file, int step, long long mixes,
                      uint64_t seed, StrideWindowSet *set, char err[STRIDE_ERR_LEN])
{
	memset(set, 0, sizeof *set);
	set->window = ex->window;
	const StrideDataset *ds = ex->ds;
	if (step < 1)
		step = 1;
	long long n = 0;
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		if (c->use != ex->use || c->kind == STRIDE_CLIP_CONTENT || c->kind == STRIDE_CLIP_NOISE)
			continue;
		n += clip_windows(ex, c, max_per_file, step, 0, true);
	}
	if (ds->task != STRIDE_TASK_GATE || (ex->n_content == 0 && ex->n_noise == 0))
		mixes = 0;
	n += mixes;
	size_t floats;
	if (!stride_mul_size((size_t)n, (size_t)ex->window, &floats) ||
	    !(set->x = malloc((floats ? floats : 1) * sizeof *set->x)) ||
	    !(set->y = malloc((size_t)(n + 1) * sizeof *set->y)) ||
	    !(set->file = malloc((size_t)(n + 1) * sizeof *set->file))) {
		cli_windows_free(set);
		stride_set_err(err, "out of memory for %lld windows of %d samples", n, ex->window);
		return -1;
	}
	/* plain crops: no augmentation on files */
	StrideExamples plain = *ex;
	plain.aug.enabled = false;
	long long k = 0;
	for (int i = 0; i < ds->n_clips; i++) {
		const StrideClip *c = &ds->clips[i];
		if (c->use != ex->use || c->kind == STRIDE_CLIP_CONTENT || c->kind == STRIDE_CLIP_NOISE)
			continue;
		long long m = clip_windows(ex, c, max_per_file, step, 0, true);
		for (long long j = 0; j < m; j++, k++) {
			long long off = clip_windows(ex, c, max_per_file, step, j, false);
			set->y[k] = cli_example_make(&plain, i, off, 0, set->x + (size_t)k * ex->window, NULL);
			set->file[k] = i;
		}
	}
	/* mixes keep their augmentation: that is what makes them */
	for (long long j = 0; j < mixes; j++, k++) {
		set->y[k] = cli_example_make(ex, -1, -1, cli_seed_mix(seed, TAG_VAL, (uint64_t)j, 0),
		                             set->x + (size_t)k * ex->window, NULL);
		set->file[k] = -1;
	}
	set->n = k;
	return 0;
}

int cli_val_windows(const StrideExamples *val, int hop, uint64_t seed, StrideWindowSet *set,
                    char err[STRIDE_ERR_LEN])
{
	long long mixes = 0;
	if (val->ds->task == STRIDE_TASK_GATE) {
		int *refs = NULL;
		long long n = 0;
		if (cli_examples_refs(val, &refs, &n) == 0) {
			for (long long i = 0; i < n; i++)
				mixes += refs[i] < 0;
			free(refs);
		}
		if (mixes > 0 && mixes < VAL_MIXES_MIN)
			mixes = VAL_MIXES_MIN;
		if (mixes > VAL_MIXES_MAX)
			mixes = VAL_MIXES_MAX;
	}
	const int window = val->window;
	int step = window / 2 > hop ? window / 2 : hop;
	return cli_windows_build(val, VAL_WINDOWS_PER_FILE, step, mixes,
	                         cli_seed_mix(seed, TAG_VAL, 0, 0), set, err);
}
