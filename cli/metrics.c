/* Confusion-matrix bookkeeping and the printed report. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_metrics_init(StrideMetrics *m, int k)
{
	memset(m, 0, sizeof *m);
	if (k < 1)
		return -1;
	m->k = k;
	m->conf = calloc((size_t)k * (size_t)k, sizeof *m->conf);
	return m->conf ? 0 : -1;
}

void cli_metrics_free(StrideMetrics *m)
{
	free(m->conf);
	memset(m, 0, sizeof *m);
}

void cli_metrics_reset(StrideMetrics *m)
{
	memset(m->conf, 0, (size_t)m->k * (size_t)m->k * sizeof *m->conf);
	m->total = 0;
	m->loss_sum = 0.0;
	m->loss_n = 0;
}

void cli_metrics_add(StrideMetrics *m, int truth, int predicted)
{
	if (truth < 0 || truth >= m->k || predicted < 0 || predicted >= m->k)
		return;
	m->conf[(size_t)truth * (size_t)m->k + (size_t)predicted]++;
	m->total++;
}

void cli_metrics_add_probs(StrideMetrics *m, int truth, const float *probs)
{
	int best = 0;
	for (int j = 1; j < m->k; j++)
		if (probs[j] > probs[best])
			best = j;
	cli_metrics_add(m, truth, best);
	if (truth >= 0 && truth < m->k) {
		double p = probs[truth];
		m->loss_sum += p > 1e-30 ? -log(p) : 69.0; /* -log(1e-30) */
		m->loss_n++;
	}
}

double cli_metrics_accuracy(const StrideMetrics *m)
{
	if (m->total == 0)
		return 0.0;
	long long right = 0;
	for (int c = 0; c < m->k; c++)
		right += m->conf[(size_t)c * (size_t)m->k + (size_t)c];
	return (double)right / (double)m->total;
}

double cli_metrics_mean_loss(const StrideMetrics *m)
{
	return m->loss_n ? m->loss_sum / (double)m->loss_n : 0.0;
}

static long long predicted_as(const StrideMetrics *m, int c)
{
	long long s = 0;
	for (int t = 0; t < m->k; t++)
		s += m->conf[(size_t)t * (size_t)m->k + (size_t)c];
	return s;
}

long long cli_metrics_support(const StrideMetrics *m, int c)
{
	long long s = 0;
	for (int p = 0; p < m->k; p++)
		s += m->conf[(size_t)c * (size_t)m->k + (size_t)p];
	return s;
}

double cli_metrics_precision(const StrideMetrics *m, int c)
{
	long long p = predicted_as(m, c);
	return p ? (double)m->conf[(size_t)c * (size_t)m->k + (size_t)c] / (double)p : 0.0;
}

double cli_metrics_recall(const StrideMetrics *m, int c)
{
	long long s = cli_metrics_support(m, c);
	return s ? (double)m->conf[(size_t)c * (size_t)m->k + (size_t)c] / (double)s : 0.0;
}

double cli_metrics_f1(const StrideMetrics *m, int c)
{
	double p = cli_metrics_precision(m, c), r = cli_metrics_recall(m, c);
	return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

double cli_metrics_macro_f1(const StrideMetrics *m)
{
	double s = 0.0;
	for (int c = 0; c < m->k; c++)
		s += cli_metrics_f1(m, c);
	return s / m->k;
}

void cli_metrics_print(const StrideMetrics *m, const char *const *labels, int content_class,
                       const char *title, FILE *out)
{
	int w = 5;
	for (int c = 0; c < m->k; c++) {
		int len = (int)strlen(labels[c]);
		if (len > w)
			w = len;
	}
	if (w > 24)
		w = 24;
	fprintf(out, "%s: %lld decisions, accuracy %.2f%%", title, m->total,
	        100.0 * cli_metrics_accuracy(m));
	if (m->loss_n)
		fprintf(out, ", loss %.4f", cli_metrics_mean_loss(m));
	fprintf(out, "\n");
	if (content_class >= 0 && content_class < m->k)
		fprintf(out, "frame F1 (%s): %.4f\n", labels[content_class],
		        cli_metrics_f1(m, content_class));
	fprintf(out, "  %-*s %9s %9s %9s %9s\n", w, "class", "precision", "recall", "F1", "support");
	for (int c = 0; c < m->k; c++)
		fprintf(out, "  %-*.*s %9.4f %9.4f %9.4f %9lld\n", w, w, labels[c],
		        cli_metrics_precision(m, c), cli_metrics_recall(m, c),
		        cli_metrics_f1(m, c), cli_metrics_support(m, c));
	fprintf(out, "  %-*s %9s %9s %9.4f\n", w, "macro", "", "", cli_metrics_macro_f1(m));

	/* the confusion matrix: columns as wide as the longest count or an abbreviated name */
	int cw = 5;
	for (size_t i = 0; i < (size_t)m->k * (size_t)m->k; i++) {
		char tmp[32];
		int len = snprintf(tmp, sizeof tmp, "%lld", m->conf[i]);
		if (len + 1 > cw)
			cw = len + 1;
	}
	for (int c = 0; c < m->k; c++) {
		int len = (int)strlen(labels[c]) + 1;
		if (len > cw)
			cw = len < 12 ? len : 12;
	}
	fprintf(out, "confusion matrix (rows: true class, columns: predicted):\n  %-*s", w, "");
	for (int c = 0; c < m->k; c++)
		fprintf(out, " %*.*s", cw, cw - 1, labels[c]);
	fprintf(out, "\n");
	for (int t = 0; t < m->k; t++) {
		fprintf(out, "  %-*.*s", w, w, labels[t]);
		for (int p = 0; p < m->k; p++)
			fprintf(out, " %*lld", cw, m->conf[(size_t)t * (size_t)m->k + (size_t)p]);
		fprintf(out, "\n");
	}
}
