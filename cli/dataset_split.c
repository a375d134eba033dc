/* The validation split of a dataset (see dataset.h): by lists of names or a
 * seeded share of every class, and the counts it prints. */
#include "dataset.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "util.h"

/* Lists of file names larger than this are not lists. */
#define MAX_LIST_BYTES (16u << 20)

uint64_t cli_seed_mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
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

uint64_t cli_fnv1a(const char *s, uint64_t h)
{
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
	uint8_t *bytes;
	size_t len;
	if (stride_read_file(list, MAX_LIST_BYTES, &bytes, &len, err) < 0)
		return -1;
	char *text = (char *)bytes;
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

int cli_dataset_split(StrideDataset *ds, double val_fraction, uint64_t seed,
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
		stride_rng_seed(&r, cli_seed_mix(seed, cli_fnv1a(sname, CLI_FNV1A_BASIS), 0x5a17, 0));
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

void cli_dataset_print_split(const StrideDataset *ds, FILE *out)
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

int cli_dataset_val_folder(StrideDataset *ds, const char *dir, const StrideDatasetOptions *opt,
                           const char *train_list, uint64_t seed, StrideDataset **val_ds,
                           char err[STRIDE_ERR_LEN])
{
	StrideDatasetOptions o = *opt;
	o.need_two_classes = false;
	*val_ds = cli_dataset_load(dir, &o, err);
	const int n_train_clips = ds->n_clips; /* the adopted clips come after these */
	if (!*val_ds || cli_dataset_adopt_val(ds, *val_ds, err) < 0)
		return -1;
	if (train_list && cli_dataset_split(ds, 0.0, seed, NULL, train_list, opt->warn, err) < 0)
		return -1;
	/* the split above reset every clip to training: the adopted ones are validation */
	for (int i = n_train_clips; i < ds->n_clips; i++)
		ds->clips[i].use = STRIDE_USE_VAL;
	return 0;
}
