/* A control's description, PUBLIC API (with stride.h, gate.h, classifier.h,
 * detector.h): one table per DSP object that the plugins clamp with, the TTL
 * generator describes ports from, and the CLI names its flags after, so the
 * three can never disagree. The tables are constant: any thread may read them. */
#ifndef STRIDE_PARAM_INFO_H
#define STRIDE_PARAM_INFO_H

#include <stdbool.h>

typedef struct {
	const char *symbol;  /* LV2 port symbol and CLI flag name */
	const char *name;    /* human name */
	const char *comment; /* one sentence for rdfs:comment and --help */
	const char *unit;    /* LV2 units symbol ("ms", "db", "s") or NULL */
	float min, max, def;
	bool toggle;         /* 0 or 1 */
} StrideParamInfo;

/* v within [min, max]; NaN gives the default, toggles snap to 0 or 1.
 * Real-time safe. */
static inline float stride_param_clamp(const StrideParamInfo *p, float v)
{
	if (!(v == v)) /* NaN */
		return p->def;
	if (v < p->min)
		v = p->min;
	if (v > p->max)
		v = p->max;
	if (p->toggle)
		v = v >= 0.5f ? 1.0f : 0.0f;
	return v;
}

#endif /* STRIDE_PARAM_INFO_H */
