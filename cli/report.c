/* Scores over window sets, per window and per file. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

static void file_scores(const StrideWindowSet *set, const float *probs, int k, const int *truth_map,
                        const char *const *labels, const StrideDataset *ds, FILE *out)
{
	if (!ds || ds->n_clips == 0)
		return;
	float *sum = calloc((size_t)ds->n_clips * (size_t)k, sizeof *sum);
	int *count = calloc((size_t)ds->n_clips, sizeof *count);
	int *truth = malloc((size_t)ds->n_clips * sizeof *truth);
	StrideMetrics fm;
	if (!sum || !count || !truth || cli_metrics_init(&fm, k) < 0) {
		free(sum);
		free(count);
		free(truth);
		return;
	}
	int files = 0;
	long long windows = 0;
	for (long long i = 0; i < set->n; i++) {
		int f = set->file[i];
		if (f < 0 || f >= ds->n_clips)
			continue;
		for (int j = 0; j < k; j++)
			sum[(size_t)f * k + j] += probs[(size_t)i * k + j];
		truth[f] = truth_map ? truth_map[set->y[i]] : set->y[i];
		count[f]++;
		windows++;
	}
	for (int f = 0; f < ds->n_clips; f++) {
		if (!count[f])
			continue;
		files++;
		for (int j = 0; j < k; j++)
			sum[(size_t)f * k + j] /= (float)count[f];
		cli_metrics_add_probs(&fm, truth[f], sum + (size_t)f * k);
	}
	/* only worth a table when files hold several windows */
	if (files > 0 && windows > files) {
		char title[96];
		snprintf(title, sizeof title, "per file (%d files, window probabilities averaged)", files);
		cli_metrics_print(&fm, labels, -1, title, out);
	}
	cli_metrics_free(&fm);
	free(sum);
	free(count);
	free(truth);
}

void cli_report(const StrideWindowSet *set, const float *probs, int k, const int *truth_map,
                const char *const *labels, int content_class, const StrideDataset *ds,
                StrideMetrics *m, const char *title, FILE *out)
{
	cli_metrics_reset(m);
	for (long long i = 0; i < set->n; i++) {
		int t = truth_map ? truth_map[set->y[i]] : set->y[i];
		cli_metrics_add_probs(m, t, probs + (size_t)i * k);
	}
	cli_metrics_print(m, labels, content_class, title, out);
	if (content_class < 0)
		file_scores(set, probs, k, truth_map, labels, ds, out);
}
