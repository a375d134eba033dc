/* Audacity label tracks (see label_track.h). */
#include "label_track.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "util.h"

/* Label tracks larger than this are not label tracks. */
#define MAX_TRACK_BYTES (16u << 20)
/* A region may start this far past the end of the audio (rounding of times). */
#define TRACK_SLACK_SECONDS 0.01

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

/* One line of a track (its newline and a trailing CR removed; has_nul: a NUL
 * byte cut it short). Returns 1 for a region [*a, *b] in
 * seconds, 0 for a line without one (blank, Audacity's frequency line), or -1
 * with the reason in why. */
static int parse_line(char *line, bool has_nul, double duration, double *a, double *b,
                      char why[160])
{
	bool blank = !has_nul;
	for (const char *q = line; *q; q++)
		if (!isspace((unsigned char)*q))
			blank = false;
	if (blank)
		return 0;
	if (line[0] == '\\')
		return 0; /* Audacity's frequency line for a spectral selection */
	why[0] = '\0';
	char *tab1 = strchr(line, '\t');
	char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	if (has_nul) {
		snprintf(why, 160, "holds a NUL byte");
		return -1;
	}
	if (!tab1) {
		snprintf(why, 160, "expected start<TAB>end<TAB>label");
		return -1;
	}
	*tab1 = '\0';
	if (tab2)
		*tab2 = '\0';
	if (!parse_time(line, a))
		snprintf(why, 160, "start \"%.40s\" is not a number of seconds", line);
	else if (!parse_time(tab1 + 1, b))
		snprintf(why, 160, "end \"%.40s\" is not a number of seconds", tab1 + 1);
	else if (*a < 0.0 || *b < 0.0)
		snprintf(why, 160, "negative time");
	else if (*b < *a)
		snprintf(why, 160, "end %.6g s is before start %.6g s", *b, *a);
	else if (*a > duration + TRACK_SLACK_SECONDS)
		snprintf(why, 160, "region starts at %.6g s, after the end of the audio (%.6g s)", *a,
		         duration);
	return why[0] ? -1 : 1;
}

/* Appends [s, e) to the spans. Returns 0, or -1 when out of memory. */
static int add_span(StrideSpan **spans, int *n_spans, int *cap, size_t s, size_t e)
{
	if (*n_spans == *cap) {
		int grown = *cap ? 2 * *cap : 16;
		StrideSpan *g = realloc(*spans, (size_t)grown * sizeof *g);
		if (!g)
			return -1;
		*spans = g;
		*cap = grown;
	}
	(*spans)[*n_spans].start = s;
	(*spans)[*n_spans].end = e;
	(*n_spans)++;
	return 0;
}

/* Sorts the spans and merges those that overlap or touch. */
static void merge_spans(StrideSpan *spans, int *n_spans)
{
	if (*n_spans <= 1)
		return;
	qsort(spans, (size_t)*n_spans, sizeof *spans, cmp_span);
	int m = 0;
	for (int i = 1; i < *n_spans; i++) {
		if (spans[i].start <= spans[m].end) {
			if (spans[i].end > spans[m].end)
				spans[m].end = spans[i].end;
		} else {
			spans[++m] = spans[i];
		}
	}
	*n_spans = m + 1;
}

int cli_label_track_read(const char *path, int rate, size_t frames, StrideSpan **spans,
                         int *n_spans, FILE *warn, char err[STRIDE_ERR_LEN])
{
	*spans = NULL;
	*n_spans = 0;
	uint8_t *bytes;
	size_t len;
	if (stride_read_file(path, MAX_TRACK_BYTES, &bytes, &len, err) < 0)
		return -1;
	char *text = (char *)bytes;
	int bad = 0, cap = 0, lineno = 0;
	const double duration = (double)frames / rate;
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
		double a = 0.0, b = 0.0;
		char why[160];
		int got = parse_line(line, has_nul, duration, &a, &b, why);
		if (got < 0) {
			bad++;
			if (warn)
				fprintf(warn, "%s:%d: %s\n", path, lineno, why);
			continue;
		}
		if (got == 0)
			continue;
		long long s = llround(a * rate), e = llround(b * rate);
		if (s < 0)
			s = 0;
		if ((size_t)e > frames)
			e = (long long)frames;
		if (e <= s)
			continue; /* a point label or a region rounded away: no content */
		if (add_span(spans, n_spans, &cap, (size_t)s, (size_t)e) < 0) {
			free(text);
			free(*spans);
			*spans = NULL;
			*n_spans = 0;
			stride_set_err(err, "%s: out of memory", path);
			return -1;
		}
	}
	free(text);
	merge_spans(*spans, n_spans);
	return bad;
}
