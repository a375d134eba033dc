/* The end-of-training and `stride eval` report over a set of scored windows:
 * accuracy, per-class precision / recall / F1, the confusion matrix, the frame
 * F1 of gates, and for classifiers the per-file accuracy (window probabilities
 * averaged over each file). */
#ifndef STRIDE_REPORT_H
#define STRIDE_REPORT_H

#include <stdio.h>

#include "dataset.h"
#include "metrics.h"
#include "train_loop.h"

/* probs: set->n x k. truth_map maps the set's classes to output indices (NULL:
 * identity). content_class: gates' content output, -1 for classifiers. Fills
 * m (initialised by the caller with k classes) with the window scores. */
void cli_report(const StrideWindowSet *set, const float *probs, int k, const int *truth_map,
                const char *const *labels, int content_class, const StrideDataset *ds,
                StrideMetrics *m, const char *title, FILE *out);


#endif /* STRIDE_REPORT_H */
