/* The augmentation flags of `stride train` (--level, --snr, --eq, ...) as one
 * table: name, argument, range, the StrideAugConfig field each sets, and help.
 * `stride train` parses its command line with it, libstride_data.so
 * (data_api.h) parses the same flags with it for python/stride_torch, and
 * `stride help train` prints it, so a new flag is one table entry. */
#ifndef STRIDE_AUG_FLAGS_H
#define STRIDE_AUG_FLAGS_H

#include <stddef.h>
#include <stdio.h>

#include "augment.h"

typedef enum {
	CLI_AUG_RANGE,  /* "A:B" (or "A" for A:A) into two doubles */
	CLI_AUG_NUMBER, /* one double */
	CLI_AUG_DB_OFF, /* a double, or "off"; the bool says which */
	CLI_AUG_SWITCH, /* no value: turns a bool off */
} CliAugKind;

typedef struct {
	const char *name;  /* without the dashes: "level" */
	const char *arg;   /* the value's name in help ("A:B"); NULL for a switch */
	CliAugKind kind;
	double lo, hi;     /* the value's range */
	size_t field;      /* offsetof(StrideAugConfig, ...): the value (a range's low end) or the bool */
	size_t field2;     /* a range's high end; CLI_AUG_DB_OFF: the bool */
	const char *help;  /* one line or several, for `stride help train` */
} CliAugFlag;

/* The table, cli_n_aug_flags entries in the order help lists them. */
extern const CliAugFlag cli_aug_flags[];
extern const int cli_n_aug_flags;

/* The flag called name (without dashes), or NULL. */
const CliAugFlag *cli_aug_flag_find(const char *name);

/* Parses value (NULL for a switch) as `stride train` does and sets the flag's
 * fields in c. Returns 0, or -1 for a missing or bad value (c unchanged). */
int cli_aug_flag_parse(const CliAugFlag *f, const char *value, StrideAugConfig *c);

/* The table as `stride help train` lists it: "  --name ARG   help". */
void cli_aug_flags_print_help(FILE *out);

#endif /* STRIDE_AUG_FLAGS_H */
