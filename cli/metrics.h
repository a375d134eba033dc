/* Classification scores: accuracy, per-class precision / recall / F1, the
 * confusion matrix, and for gates the frame F1 of the content class. */
#ifndef STRIDE_METRICS_H
#define STRIDE_METRICS_H

#include <stdio.h>

typedef struct {
	int k;            /* classes */
	long long *conf;  /* k x k: conf[truth * k + predicted] */
	long long total;
	double loss_sum;  /* cross-entropy summed over the items added with a loss */
	long long loss_n;
} StrideMetrics;

/* Returns 0, or -1 when out of memory. */
int cli_metrics_init(StrideMetrics *m, int k);
void cli_metrics_free(StrideMetrics *m);
void cli_metrics_reset(StrideMetrics *m);

/* One decision. truth and predicted in [0, k). */
void cli_metrics_add(StrideMetrics *m, int truth, int predicted);

/* One decision from probabilities (argmax, first wins ties); adds -log p[truth] to the loss. */
void cli_metrics_add_probs(StrideMetrics *m, int truth, const float *probs);

double cli_metrics_accuracy(const StrideMetrics *m);
double cli_metrics_mean_loss(const StrideMetrics *m);
/* Per class; 0 when undefined (no predictions or no items of the class). */
double cli_metrics_precision(const StrideMetrics *m, int c);
double cli_metrics_recall(const StrideMetrics *m, int c);
double cli_metrics_f1(const StrideMetrics *m, int c);
double cli_metrics_macro_f1(const StrideMetrics *m);
long long cli_metrics_support(const StrideMetrics *m, int c);

/* The report: accuracy, a table of precision, recall, F1 and support per
 * class, and the confusion matrix (rows: truth, columns: predicted). With
 * content_class >= 0 (gates) the frame F1 of that class is stated as well. */
void cli_metrics_print(const StrideMetrics *m, const char *const *labels, int content_class,
                       const char *title, FILE *out);

#endif /* STRIDE_METRICS_H */
