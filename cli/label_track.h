/* Audacity label tracks: a text file of "start<TAB>end<TAB>label" lines
 * (seconds) beside an audio file, read as the content regions of a gate's
 * training file (dataset.h). */
#ifndef STRIDE_LABEL_TRACK_H
#define STRIDE_LABEL_TRACK_H

#include <stddef.h>
#include <stdio.h>

#include "stride.h"

typedef struct {
	size_t start, end; /* [start, end) in samples at the dataset rate */
} StrideSpan;

/* Parses an Audacity label track into content spans (samples at rate, clipped to
 * frames; sorted, overlaps merged). Problems are reported one per bad line as
 * "path:line: reason" on warn; returns the number of bad lines (the caller skips
 * the file when > 0), or -1 with err set when the file cannot be read. */
int cli_label_track_read(const char *path, int rate, size_t frames, StrideSpan **spans,
                         int *n_spans, FILE *warn, char err[STRIDE_ERR_LEN]);

#endif /* STRIDE_LABEL_TRACK_H */
