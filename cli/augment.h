/* Training examples: windows cut from the dataset's clips, with augmentation
 * (random crop, gain, noise mixing, polarity), and for gates the content-over-
 * noise mixes with their labels.
 *
 * Equalisation, band limits and synthetic rooms (optional): aug_filters.h.
 *
 * Every example is a pure function of (ref, offset, seed): the trainer seeds
 * each from (run seed, epoch, position in the epoch), so the data a run sees
 * does not depend on the thread count or on where a run was resumed.
 *
 * Gate labels: a window [w, w + window) is content when at least half of its
 * label region [region_start, region_end) is content (a labelled region of a
 * tracked file, or where mixed-in content sits). The region is `label_width`
 * samples at the window's centre, or at its end: then the rest of the window
 * is past context only, and a gate that runs the model waits no longer for a
 * decision than it would for a window of `label_width` (see
 * dsp/gate.c: decision_span). `stride train` uses the whole window by default:
 * a network that pools globally over time cannot tell where in its window
 * content is, only how much of it there is, and for an isolated onset or
 * offset "at least half the window" is exactly "the window's centre". `stride
 * eval` scores against the hop at the centre (frame truth: consecutive
 * decisions' regions tile the stream).
 *
 * Gate levels: content is scaled to a random RMS level in [level_min,
 * level_max] dBFS and the background to that level minus a random SNR, so the
 * level of a window tells nothing about its class and the network has to learn
 * what content sounds like at any level (no per-window normalisation: the
 * plugin runs the raw network on the stream). Backgrounds are noise files,
 * generated white noise or digital silence. Nothing is scaled beyond a peak of 1. */
#ifndef STRIDE_AUGMENT_H
#define STRIDE_AUGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "dataset.h"

typedef struct {
	bool enabled;          /* false: plain crops (validation of files) */
	double gain_min_db;    /* classifiers: random gain on the crop */
	double gain_max_db;
	double level_min_db;   /* gates: content RMS level, dBFS */
	double level_max_db;
	double snr_min_db;     /* noise mixing: content (or crop) RMS over noise RMS */
	double snr_max_db;
	double noise_prob;     /* classifiers: chance of added noise; gates: chance the
	                          background is a noise file (the rest: white noise or
	                          silence, half each) */
	double content_prob;   /* gate mixes: chance a window holds content */
	double partial_prob;   /* gate mixes: share of those where content starts or
	                          stops inside the window */
	bool audible;          /* gate mixes: a window is content only where its
	                          content is audible (not a pause, not drowned) */
	double audible_db;     /* the local SNR (content over noise RMS in the label
	                          region) under which content is drowned */
	double reverb_prob;    /* chance that content (gate mixes) or a crop
	                          (classifiers, tracked files) is heard through a
	                          synthetic room (aug_filters.h) */
	double band_prob;      /* chance that a whole example is band-limited at
	                          random; gate mixes also band-limit the content
	                          alone at half this chance (aug_filters.h) */
	double cut_prob;       /* gate mixes: chance that the background stops (or
	                          starts) inside the window, leaving digital silence */
	double splice_prob;    /* gate mixes: chance that content replaces the
	                          background where it plays (spliced in) instead of
	                          sounding over it */
	bool polarity;         /* random sign flip */
	double eq_db;          /* random equalisation: a low shelf, a high shelf and a
	                          peak, each with a gain in [-eq_db, eq_db] (0: off), so
	                          that a classifier does not learn one recording chain's
	                          (or soundfont's) colour */
	double balance;        /* classifiers: how far examples are shared out by class
	                          rather than by audio (0: every window of audio alike;
	                          1: every class the same share; see cli_examples_refs) */
} StrideAugConfig;

/* Defaults for a task (documented in `stride help train`). */
StrideAugConfig cli_aug_defaults(StrideTask task);

typedef struct {
	const StrideDataset *ds;
	StrideClipUse use;     /* draw only clips of this use */
	int window;            /* an example's length: the model's window, and
	                          (steps - 1) * hop more for multi-step examples */
	int region_start, region_end; /* gate label region inside step 0's window */
	int steps;             /* decisions per example (1, or more: see
	                          cli_examples_set_steps) */
	int hop;               /* samples between them */
	StrideAugConfig aug;
	/* gate mixes draw content and noise clips with chances proportional to length */
	const StrideClip **content;
	double *content_cum;
	int n_content;
	const StrideClip **noise;
	double *noise_cum;
	int n_noise;
	float *normals;        /* a table of standard normal values for fast white noise */
} StrideExamples;

/* Builds the sampling tables. [region_start, region_end): the gate label
 * region (see cli_label_region). extra_noise (may be NULL): more noise clips
 * (all of its clips). Returns 0 or -1 (out of memory). */
int cli_examples_init(StrideExamples *ex, const StrideDataset *ds, StrideClipUse use,
                      int window, int region_start, int region_end, const StrideAugConfig *aug,
                      const StrideDataset *extra_noise, char err[STRIDE_ERR_LEN]);
void cli_examples_free(StrideExamples *ex);

/* Multi-step gate examples: each example is `steps` model windows, `hop`
 * apart (window + (steps - 1) * hop samples), and gets a label per step, the
 * label of the model window at that step. A network whose output has one step
 * per hop (no global pooling) is then trained on every decision of a longer
 * stretch at once: a long causal view costs one pass over the stretch instead
 * of one per decision. Clips shorter than an example still serve: content
 * plays once inside it, noise loops. Gates only; call once, after init.
 * Returns 0 or -1. */
int cli_examples_set_steps(StrideExamples *ex, int steps, int hop, char err[STRIDE_ERR_LEN]);

/* A label region of a window: [*start, *end), `width` samples wide (at most
 * the window; < 1: the whole window), at the window's centre or, at_end, at
 * its end. */
void cli_label_region(int window, int width, bool at_end, int *start, int *end);

/* One pass over the data: clip indices, each clip max(1, frames / window)
 * times, and for gates -1 (a mix) once per window of content and noise audio.
 * *refs is malloc'd. Returns 0 or -1. */
int cli_examples_refs(const StrideExamples *ex, int **refs, long long *n);

/* One example into x[window]; returns its class (step 0's). ref >= 0: a crop
 * of that clip, at `offset` (>= 0) or at random (offset < 0); ref -1 (or a
 * tracked clip shorter than a multi-step example): a gate mix. labels (may be
 * NULL; unused when steps is 1): every step's class. */
int cli_example_make(const StrideExamples *ex, int ref, long long offset, uint64_t seed, float *x,
                     int *labels);

/* The class of the window of clip `ref` at `offset` (gates: by the label region). */
int cli_example_label(const StrideExamples *ex, int ref, long long offset);

#endif /* STRIDE_AUGMENT_H */
