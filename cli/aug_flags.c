/* The augmentation flags of `stride train` (see aug_flags.h). */
#include "aug_flags.h"

#include <stdbool.h>
#include <string.h>

#include "options.h"

#define F(x) offsetof(StrideAugConfig, x)

const CliAugFlag cli_aug_flags[] = {
	{ "gain", "A:B", CLI_AUG_RANGE, -120.0, 60.0, F(gain_min_db), F(gain_max_db),
	  "classifiers: gain, dB (-12:6)" },
	{ "level", "A:B", CLI_AUG_RANGE, -120.0, 0.0, F(level_min_db), F(level_max_db),
	  "gates: content RMS level, dBFS (-60:0)" },
	{ "snr", "A:B", CLI_AUG_RANGE, -60.0, 120.0, F(snr_min_db), F(snr_max_db),
	  "noise SNR, dB (gates -5:40, classifiers 10:40)" },
	{ "noise-prob", "P", CLI_AUG_NUMBER, 0.0, 1.0, F(noise_prob), 0,
	  "classifiers: chance of noise (0.25); gates: chance of a\n"
	  "noise-file background (0.8; else white noise or silence)" },
	{ "content-prob", "P", CLI_AUG_NUMBER, 0.0, 1.0, F(content_prob), 0,
	  "gates: chance a mix holds content (0.5)" },
	{ "partial-prob", "P", CLI_AUG_NUMBER, 0.0, 1.0, F(partial_prob), 0,
	  "gates: of those, content starting/stopping inside (0.3)" },
	{ "audible-snr", "DB", CLI_AUG_DB_OFF, -60.0, 60.0, F(audible_db), F(audible),
	  "gate mixes: a window is content only where its content\n"
	  "is audible: not a pause (40 dB under its file's level)\n"
	  "and at least DB over the noise there (e.g. -10;\n"
	  "default off: a content file's whole span is content)" },
	{ "eq", "DB", CLI_AUG_NUMBER, 0.0, 40.0, F(eq_db), 0,
	  "random EQ (shelves and a peak) within +-DB (0: off)" },
	{ "reverb", "P", CLI_AUG_NUMBER, 0.0, 1.0, F(reverb_prob), 0,
	  "chance of a synthetic room on content or crops (0)" },
	{ "band-limit", "P", CLI_AUG_NUMBER, 0.0, 1.0, F(band_prob), 0,
	  "chance of a random lowpass at 2.8-7.6 kHz (0)" },
	{ "silence-cut", "P", CLI_AUG_NUMBER, 0.0, 1.0, F(cut_prob), 0,
	  "gate mixes: chance the noise cuts to silence (0)" },
	{ "splice", "P", CLI_AUG_NUMBER, 0.0, 1.0, F(splice_prob), 0,
	  "gate mixes: chance content replaces the noise (0)" },
	{ "balance", "B", CLI_AUG_NUMBER, 0.0, 1.0, F(balance), 0,
	  "classifiers: share examples out by class, not by audio:\n"
	  "a class with less audio is drawn (most/its)^B times as\n"
	  "often (0: by audio; 1: every class alike)" },
	{ "no-polarity", NULL, CLI_AUG_SWITCH, 0.0, 0.0, F(polarity), 0,
	  "no random polarity flips" },
	{ "no-augment", NULL, CLI_AUG_SWITCH, 0.0, 0.0, F(enabled), 0,
	  "no augmentation at all (plain random crops)" },
};

const int cli_n_aug_flags = (int)(sizeof cli_aug_flags / sizeof cli_aug_flags[0]);

const CliAugFlag *cli_aug_flag_find(const char *name)
{
	for (int i = 0; i < cli_n_aug_flags; i++)
		if (strcmp(cli_aug_flags[i].name, name) == 0)
			return &cli_aug_flags[i];
	return NULL;
}

static double *num(StrideAugConfig *c, size_t off)
{
	return (double *)((char *)c + off);
}

static bool *flag(StrideAugConfig *c, size_t off)
{
	return (bool *)((char *)c + off);
}

int cli_aug_flag_parse(const CliAugFlag *f, const char *value, StrideAugConfig *c)
{
	double a = 0.0, b = 0.0;
	switch (f->kind) {
	case CLI_AUG_RANGE:
		if (!cli_parse_range(value, f->lo, f->hi, &a, &b))
			return -1;
		*num(c, f->field) = a;
		*num(c, f->field2) = b;
		break;
	case CLI_AUG_NUMBER:
		if (!cli_parse_double(value, f->lo, f->hi, &a))
			return -1;
		*num(c, f->field) = a;
		break;
	case CLI_AUG_DB_OFF:
		if (value && strcmp(value, "off") == 0) {
			*flag(c, f->field2) = false;
		} else {
			if (!cli_parse_double(value, f->lo, f->hi, &a))
				return -1;
			*flag(c, f->field2) = true;
			*num(c, f->field) = a;
		}
		break;
	case CLI_AUG_SWITCH:
		*flag(c, f->field) = false;
		break;
	}
	return 0;
}

void cli_aug_flags_print_help(FILE *out)
{
	for (int i = 0; i < cli_n_aug_flags; i++) {
		const CliAugFlag *f = &cli_aug_flags[i];
		char head[64];
		snprintf(head, sizeof head, "--%s%s%s", f->name, f->arg ? " " : "", f->arg ? f->arg : "");
		fprintf(out, "  %-18s ", head);
		for (const char *p = f->help; *p; p++) {
			fputc(*p, out);
			if (*p == '\n')
				fprintf(out, "%21s", "");
		}
		fputc('\n', out);
	}
}
