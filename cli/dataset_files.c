/* Finding a dataset's files (see dataset_files.h). */
#include "dataset_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util.h"

/* ------------------------------------------------------------------------ */
/* Small string and path helpers                                            */
/* ------------------------------------------------------------------------ */

char *cli_join_path(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	bool slash = na > 0 && a[na - 1] != '/';
	char *p = malloc(na + nb + 2);
	if (!p)
		return NULL;
	memcpy(p, a, na);
	if (slash)
		p[na++] = '/';
	memcpy(p + na, b, nb + 1);
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool cli_has_ext(const char *name, const char *ext)
{
	size_t n = strlen(name), e = strlen(ext);
	return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* Files that are plainly not audio and sit in datasets (notes, lists, MIDI):
 * passed over quietly instead of being reported as unreadable audio. */
bool cli_is_known_non_audio(const char *name)
{
	static const char *const ext[] = { ".md", ".json", ".csv", ".tsv", ".mid", ".midi", ".lst" };
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (cli_has_ext(name, ext[i]))
			return true;
	return false;
}

/* The sorted names in a folder, hidden ones left out. */
int cli_list_dir(const char *path, char ***names, int *n, char *err)
{
	*names = NULL;
	*n = 0;
	DIR *d = opendir(path);
	if (!d) {
		stride_set_err(err, "%s: cannot open folder: %s", path, strerror(errno));
		return -1;
	}
	int cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 32;
			char **grown = realloc(*names, (size_t)cap * sizeof **names);
			if (!grown)
				goto oom;
			*names = grown;
		}
		if (!((*names)[*n] = stride_dup_string(e->d_name)))
			goto oom;
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(*names, (size_t)*n, sizeof **names, cmp_str);
	return 0;
oom:
	closedir(d);
	stride_free_strings(*names, *n);
	*names = NULL;
	*n = 0;
	stride_set_err(err, "%s: out of memory listing the folder", path);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Finding files                                                            */
/* ------------------------------------------------------------------------ */


static int found_add(FoundList *l, const char *rel, const char *path, int label)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 256;
		Found *g = realloc(l->items, (size_t)cap * sizeof *g);
		if (!g)
			return -1;
		l->items = g;
		l->cap = cap;
	}
	Found *f = &l->items[l->n];
	f->rel = stride_dup_string(rel);
	f->path = stride_dup_string(path);
	f->label = label;
	f->top = label;
	if (!f->rel || !f->path) {
		free(f->rel);
		free(f->path);
		return -1;
	}
	l->n++;
	return 0;
}

void cli_found_free(FoundList *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->items[i].rel);
		free(l->items[i].path);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

/* Every regular file under path (recursively), named relative to DATA. */
int cli_collect_files(const char *path, const char *rel, int label, FoundList *out, int depth,
                      char *err)
{
	if (depth > 32) {
		stride_set_err(err, "%s: folders nested too deep", path);
		return -1;
	}
	char **names;
	int n;
	if (cli_list_dir(path, &names, &n, err) < 0)
		return -1;
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char *full = cli_join_path(path, names[i]);
		char *r = rel[0] ? cli_join_path(rel, names[i]) : stride_dup_string(names[i]);
		struct stat st;
		if (!full || !r) {
			stride_set_err(err, "%s: out of memory", path);
			rc = -1;
		} else if (stat(full, &st) != 0) {
			/* a dangling link or a file that vanished: nothing to read */
		} else if (S_ISDIR(st.st_mode)) {
			rc = cli_collect_files(full, r, label, out, depth + 1, err);
		} else if (S_ISREG(st.st_mode)) {
			if (found_add(out, r, full, label) < 0) {
				stride_set_err(err, "%s: out of memory", path);
				rc = -1;
			}
		}
		free(full);
		free(r);
	}
	stride_free_strings(names, n);
	return rc;
}
