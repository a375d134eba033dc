/* Finding a dataset's files: every file under a folder in name order, named
 * relative to the dataset, with the string and path helpers dataset.c shares.
 * Internal to cli/dataset*.c. */
#ifndef STRIDE_DATASET_FILES_H
#define STRIDE_DATASET_FILES_H

#include <stdbool.h>

#include "stride.h"

typedef struct {
	char *rel;   /* relative to DATA */
	char *path;  /* full */
	int label;   /* classifier class, or -1 */
	int top;     /* classifier: class folder index */
} Found;

typedef struct {
	Found *items;
	int n, cap;
} FoundList;

/* "a/b" (NULL when out of memory). */
char *cli_join_path(const char *a, const char *b);
/* Whether name ends in ext (ignoring case). */
bool cli_has_ext(const char *name, const char *ext);
/* Files that are plainly not audio and sit in datasets (notes, lists, MIDI). */
bool cli_is_known_non_audio(const char *name);

/* The sorted names in a folder, hidden ones left out (free them with
 * stride_free_strings). Returns 0 or -1. */
int cli_list_dir(const char *path, char ***names, int *n, char *err);

/* Every regular file under path (recursively) into out, named relative to
 * the dataset (rel: path's own name there), with label. Returns 0 or -1. */
int cli_collect_files(const char *path, const char *rel, int label, FoundList *out, int depth,
                      char *err);
void cli_found_free(FoundList *l);

#endif /* STRIDE_DATASET_FILES_H */
