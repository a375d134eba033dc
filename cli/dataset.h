/* Training and evaluation data: folders of audio files read into memory, mono,
 * at the model rate.
 *
 * Classifiers: DATA/<label>/<file>, the layout GTZAN and most audio datasets
 * use. Every sub-folder of DATA is a class (sorted by name, or in the order a
 * model's labels give); files in deeper folders belong to their top folder.
 *
 * Gates: the labels are always "noise" (0) and "content" (1). Under DATA:
 *   noise/ or silence/   noise, hum, room tone, silence: never content
 *   any other folder     content (e.g. content/speech, content/music): all of it
 *   <name>.txt beside an audio file <name>.<ext>, anywhere: an Audacity label
 *                        track; every labelled region is content, the rest not
 *                        (lines "start<TAB>end<TAB>label", seconds)
 * The trainer mixes content over noise itself; tracked files are used as they are.
 *
 * Files that cannot be used (unreadable, empty, shorter than the window, all
 * silent, non-finite samples, a label track with bad lines) are named on the
 * warning stream and skipped. Files are read in parallel; results do not
 * depend on the thread count. */
#ifndef STRIDE_DATASET_H
#define STRIDE_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "label_track.h"
#include "stride.h"

#define STRIDE_GATE_NOISE 0
#define STRIDE_GATE_CONTENT 1


typedef enum {
	STRIDE_CLIP_CLASS,   /* classifier: the whole file is its folder's class */
	STRIDE_CLIP_CONTENT, /* gate: all content */
	STRIDE_CLIP_NOISE,   /* gate: no content */
	STRIDE_CLIP_TRACKED, /* gate: content where its label track says */
} StrideClipKind;

typedef enum { STRIDE_USE_TRAIN, STRIDE_USE_VAL, STRIDE_USE_NONE } StrideClipUse;

typedef struct {
	char *name;        /* relative to the dataset folder: "blues/blues.00000.wav" */
	char *path;        /* as opened */
	StrideClipKind kind;
	int label;         /* classifier: class index; gates: the clip's own class (tracked: -1) */
	int group;         /* index into the dataset's groups (the file's folder) */
	StrideClipUse use;
	float *x;          /* mono samples at the dataset rate */
	size_t frames;
	double rms;        /* of the whole file; tracked files: of their content regions */
	double peak;
	StrideSpan *spans; /* tracked: content regions, sorted and merged */
	int n_spans;
} StrideClip;

typedef struct {
	StrideTask task;
	int rate;
	char *dir;
	int n_classes;
	char **classes;
	int n_groups;      /* folders holding files (relative; "." for DATA itself) */
	char **groups;
	StrideClip *clips; /* in name order */
	int n_clips;
	int n_skipped;
	int n_tracks_ignored; /* classifiers: label tracks found (and not used) */
} StrideDataset;

typedef struct {
	StrideTask task;
	int rate;
	int window;        /* shortest usable file, samples at rate */
	int threads;       /* files read in parallel */
	FILE *log;         /* the summary (NULL: none) */
	FILE *warn;        /* skipped files, label-track problems (NULL: none) */
	/* Classifiers: the class order to use (a model's labels), or NULL for the
	 * folder names in sorted order. Folders must then be among these names. */
	const char *const *classes;
	int n_classes;
	/* Classifiers: refuse fewer than two classes with usable files (training).
	 * Gates: refuse a dataset without negatives. */
	bool need_two_classes;
	/* A folder of noise for mixing (--noise): every file under DIR, in any
	 * layout, is a noise clip; label tracks are not looked for. */
	bool noise_only;
} StrideDatasetOptions;

/* Scans and reads DIR. Errors (returning NULL): DIR missing or not a folder,
 * no class folders, one class only, a folder not among the given classes, no
 * usable files (or a class without any when need_two_classes), for gates no
 * content or no negatives. */
StrideDataset *cli_dataset_load(const char *dir, const StrideDatasetOptions *opt,
                                char err[STRIDE_ERR_LEN]);

/* DIR as a folder of noise (--noise: opt with noise_only set; its classes and
 * need_two_classes do not apply). */
StrideDataset *cli_dataset_load_noise(const char *dir, const StrideDatasetOptions *opt,
                                      char err[STRIDE_ERR_LEN]);
void cli_dataset_free(StrideDataset *ds);

/* The same for shard `shard` of `shards` only (shards <= 1: everything): the
 * audio files in name order, every shards-th from the shard-th, so that each
 * process of a distributed run (python/stride_torch) holds its part of a large
 * dataset. */
StrideDataset *cli_dataset_load_shard(const char *dir, const StrideDatasetOptions *opt,
                                      int shard, int shards, char err[STRIDE_ERR_LEN]);

/* The validation split (dataset_split.c), by file:
 * - val_list (a file of names, one a line; blank lines and # comments skipped):
 *   the files named are validation. Names match a clip's relative name
 *   ("blues/blues.00000.wav") or, when unique, its file name. train_list, when
 *   given, restricts training to the files it names (others are not used).
 * - otherwise val_fraction of the files of each class (gates: each folder),
 *   drawn with the seed, at least one per class with two or more files.
 * Every clip starts as training. Returns 0, or -1 when a list cannot be read or
 * names nothing in the dataset. Warnings go to warn. */
int cli_dataset_split(StrideDataset *ds, double val_fraction, uint64_t seed,
                      const char *val_list, const char *train_list, FILE *warn,
                      char err[STRIDE_ERR_LEN]);

/* Moves every clip of `other` (same task and rate) into ds as validation,
 * mapping classes by name. Returns -1 when other has a class ds lacks. */
int cli_dataset_adopt_val(StrideDataset *ds, StrideDataset *other, char err[STRIDE_ERR_LEN]);

/* --val-data DIR: reads DIR as opt says (one class is enough) into *val_ds
 * (the caller frees it) and moves its clips into ds as validation; with
 * train_list, training is restricted to the files it names. Returns 0 or -1. */
int cli_dataset_val_folder(StrideDataset *ds, const char *dir, const StrideDatasetOptions *opt,
                           const char *train_list, uint64_t seed, StrideDataset **val_ds,
                           char err[STRIDE_ERR_LEN]);

/* Counts of clips per use (and seconds of audio) for messages. */
void cli_dataset_print_split(const StrideDataset *ds, FILE *out);

/* Content samples of a tracked or content clip within [a, b). */
size_t cli_clip_content_overlap(const StrideClip *c, size_t a, size_t b);


/* A 64-bit mix of a seed and up to three numbers, for seeding sub-streams. */
uint64_t cli_seed_mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);

/* FNV-1a's offset basis: the h to start cli_fnv1a with. */
#define CLI_FNV1A_BASIS 1469598103934665603ULL

/* The FNV-1a hash of string s continued from h (CLI_FNV1A_BASIS for a fresh
 * one): names into seeds, and the training fingerprint from its parts. */
uint64_t cli_fnv1a(const char *s, uint64_t h);

#endif /* STRIDE_DATASET_H */
