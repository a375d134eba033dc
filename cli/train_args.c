/* `stride train`'s command line (see train_args.h). */
#include "train_args.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aug_flags.h"
#include "optim.h"
#include "options.h"
#include "stride.h"

typedef enum {
	O_STR,       /* a string (a path) */
	O_INT,       /* an int in [lo, hi] */
	O_LONG,      /* a long long in [lo, hi] */
	O_SEED,      /* a long long >= 0 */
	O_DOUBLE,    /* a finite number in [lo, hi] */
	O_LR,        /* --lr: a number, and lr_set */
	O_TASK,      /* gate | classify */
	O_LABEL_AT,  /* centre | end */
	O_OPTIMIZER, /* optim.h's names */
	O_SCHEDULE,
	O_SWITCH,    /* no value: sets an int to 1 */
} OptKind;

typedef struct {
	const char *name;
	OptKind kind;
	size_t field; /* offsetof(TrainArgs, ...) */
	double lo, hi;
} TrainOpt;

#define A(x) offsetof(TrainArgs, x)

/* The options other than augmentation (aug_flags.h). */
static const TrainOpt train_opts[] = {
	{ "--arch", O_STR, A(arch), 0, 0 },
	{ "--data", O_STR, A(data), 0, 0 },
	{ "--out", O_STR, A(out), 0, 0 },
	{ "--task", O_TASK, A(task), 0, 0 },
	{ "--rate", O_INT, A(rate), 8000, 384000 },
	{ "--window", O_INT, A(window), 1, 1 << 24 },
	{ "--hop", O_INT, A(hop), 1, 1 << 24 },
	{ "--label-width", O_INT, A(label_width), 1, 1 << 24 },
	{ "--label-at", O_LABEL_AT, A(label_at_end), 0, 0 },
	{ "--steps", O_INT, A(steps), 1, 4096 },
	{ "--epochs", O_INT, A(epochs), 1, 1000000 },
	{ "--batch", O_INT, A(batch), 1, 65536 },
	{ "--threads", O_INT, A(threads), 1, 256 },
	{ "--patience", O_INT, A(patience), 0, 1000000 },
	{ "--seed", O_SEED, A(seed), 0, 0 },
	{ "--epoch-size", O_LONG, A(epoch_size), 1, (double)(1LL << 40) },
	{ "--lr", O_LR, A(lr), 1e-12, 100.0 },
	{ "--min-lr", O_DOUBLE, A(min_lr), 0.0, 100.0 },
	{ "--momentum", O_DOUBLE, A(momentum), 0.0, 0.999999 },
	{ "--weight-decay", O_DOUBLE, A(weight_decay), 0.0, 10.0 },
	{ "--warmup", O_DOUBLE, A(warmup), 0.0, 1e6 },
	{ "--gamma", O_DOUBLE, A(gamma), 1e-6, 1.0 },
	{ "--step-epochs", O_INT, A(step_epochs), 1, 1000000 },
	{ "--stop-after", O_INT, A(stop_after), 1, 1000000 },
	{ "--val-fraction", O_DOUBLE, A(val_fraction), 0.0, 0.95 },
	{ "--optimizer", O_OPTIMIZER, A(optimizer), 0, 0 },
	{ "--schedule", O_SCHEDULE, A(schedule), 0, 0 },
	{ "--split-list", O_STR, A(val_list), 0, 0 },
	{ "--val-list", O_STR, A(val_list), 0, 0 },
	{ "--train-list", O_STR, A(train_list), 0, 0 },
	{ "--val-data", O_STR, A(val_data), 0, 0 },
	{ "--noise", O_STR, A(noise), 0, 0 },
	{ "--checkpoint", O_STR, A(checkpoint), 0, 0 },
	{ "--resume", O_STR, A(resume), 0, 0 },
	{ "--no-checkpoint", O_SWITCH, A(no_checkpoint), 0, 0 },
};

const char *cli_train_option(int i)
{
	const int n = (int)(sizeof train_opts / sizeof train_opts[0]);
	return i >= 0 && i < n ? train_opts[i].name : NULL;
}

static void defaults(TrainArgs *a)
{
	memset(a, 0, sizeof *a);
	a->task = -1;
	a->epochs = 30;
	a->batch = 64;
	a->threads = cli_default_threads();
	a->patience = 8;
	a->min_lr = 0.0;
	a->momentum = 0.9;
	a->weight_decay = 1e-4;
	a->warmup = 1.0;
	a->gamma = 0.1;
	a->step_epochs = 10;
	a->val_fraction = 0.15;
	a->optimizer = STRIDE_OPT_ADAM;
	a->schedule = STRIDE_SCHED_COSINE;
}

/* Sets o's field of a from v; false for a bad value. */
static bool set_opt(const TrainOpt *o, const char *v, TrainArgs *a)
{
	void *p = (char *)a + o->field;
	int *ip = p;
	switch (o->kind) {
	case O_STR:
		*(const char **)p = v;
		return true;
	case O_INT:
		return cli_parse_int(v, (int)o->lo, (int)o->hi, ip);
	case O_LONG:
		return cli_parse_long(v, (long long)o->lo, (long long)o->hi, p);
	case O_SEED:
		return cli_parse_long(v, 0, INT64_MAX, p);
	case O_DOUBLE:
		return cli_parse_double(v, o->lo, o->hi, p);
	case O_LR:
		return cli_parse_double(v, o->lo, o->hi, p) && (a->lr_set = 1);
	case O_TASK:
		if (!v || (strcmp(v, "gate") != 0 && strcmp(v, "classify") != 0))
			return false;
		*ip = strcmp(v, "gate") == 0 ? STRIDE_TASK_GATE : STRIDE_TASK_CLASSIFY;
		return true;
	case O_LABEL_AT:
		if (!v || (strcmp(v, "centre") != 0 && strcmp(v, "end") != 0))
			return false;
		*ip = strcmp(v, "end") == 0;
		return true;
	case O_OPTIMIZER:
		return v && (*ip = stride_optim_from_name(v)) >= 0;
	case O_SCHEDULE:
		return v && (*ip = stride_schedule_from_name(v)) >= 0;
	case O_SWITCH:
		*ip = 1;
		return true;
	}
	return false;
}

/* Option o with its value v (the next argument, or NULL): *takes says whether
 * it took v. Returns 0, or a usage error. */
static int parse_one(const StrideCommand *cmd, const char *o, const char *v, TrainArgs *a,
                     bool *takes)
{
	bool ok = true;
	*takes = true;
	const CliAugFlag *f = strncmp(o, "--", 2) == 0 ? cli_aug_flag_find(o + 2) : NULL;
	const TrainOpt *t = NULL;
	for (size_t i = 0; !f && i < sizeof train_opts / sizeof train_opts[0]; i++)
		if (strcmp(o, train_opts[i].name) == 0)
			t = &train_opts[i];
	if (f) {
		const int i = (int)(f - cli_aug_flags);
		*takes = f->kind != CLI_AUG_SWITCH;
		StrideAugConfig scratch = cli_aug_defaults(STRIDE_TASK_GATE);
		ok = !*takes || (v && cli_aug_flag_parse(f, v, &scratch) == 0);
		a->aug_given[i] = true;
		a->aug_value[i] = *takes ? v : NULL;
	} else if (t) {
		*takes = t->kind != O_SWITCH;
		ok = set_opt(t, v, a);
	} else {
		return cli_command_usage_error(cmd, "unknown option '%s'", o);
	}
	if (*takes && !v)
		return cli_command_usage_error(cmd, "%s needs a value", o);
	if (!ok)
		return cli_command_usage_error(cmd, "bad value for %s: '%s'", o, v);
	return 0;
}

int cli_train_args_parse(const StrideCommand *cmd, int argc, char **argv, TrainArgs *a)
{
	defaults(a);
	for (int i = 1; i < argc; i++) {
		bool takes;
		int rc = parse_one(cmd, argv[i], i + 1 < argc ? argv[i + 1] : NULL, a, &takes);
		if (rc != 0)
			return rc;
		i += takes;
	}
	if (!a->arch || !a->data || !a->out)
		return cli_command_usage_error(cmd, "--arch, --data and --out are required");
	return 0;
}

StrideAugConfig cli_train_aug_config(const TrainArgs *a, StrideTask task)
{
	StrideAugConfig c = cli_aug_defaults(task);
	for (int i = 0; i < cli_n_aug_flags; i++)
		if (a->aug_given[i])
			cli_aug_flag_parse(&cli_aug_flags[i], a->aug_value[i], &c); /* checked when parsed */
	return c;
}

void cli_train_print_help(FILE *out)
{
	fputs("ARCH: an architecture JSON file (docs/MODEL_FORMAT.md) or a preset:\n"
	      "gate-log (16 kHz, window 3200, hop 160, log band energies: level-\n"
	      "independent, ~14 MFLOP/s), gate-small (the same window and hop, raw\n"
	      "waveform, ~10 MFLOP/s) or genre-small (16 kHz, window 32768, hop 8192,\n"
	      "~9 MFLOP/s), its last layer sized to the classes. DIR: DIR/<label>/\n"
	      "<files> (classifiers). --task gate: DIR/noise/ (or silence/) is what\n"
	      "the gate closes on, other folders are content, mixed\n"
	      "over noise at random levels and SNRs; files with an Audacity label track\n"
	      "beside them (<name>.txt) are content where labelled. Any libsndfile format,\n"
	      "mixed to mono, resampled to --rate; bad files are named and skipped.\n"
	      "\n"
	      "model:  --task gate|classify  --rate HZ (16000)  --window N  --hop N\n"
	      "        (defaults: the preset's, else the receptive field, total stride)\n"
	      "  --label-width N    gates: a window is content when half of the N samples\n"
	      "                     at its centre are (default: the whole window); saved\n"
	      "                     as train.label_region\n"
	      "  --label-at centre|end  gates: where that region sits (centre); at the\n"
	      "                     end, the rest of the window is past context only, and\n"
	      "                     the plugin's lookahead is that of a window of N\n"
	      "  --steps N          gates: N decisions per example, hop apart, a label\n"
	      "                     each (1; needs one output step per hop)\n",
	      out);
	fputs("data:\n"
	      "  --val-fraction X   share of each class's files for validation (0.15)\n"
	      "  --split-list FILE  validation files, a name a line (blues/blues.00012.wav)\n"
	      "                     (--val-list FILE: the same)\n"
	      "  --train-list FILE  train only on these\n"
	      "  --val-data DIR     a separate validation folder\n"
	      "  --noise DIR        extra noise to mix in (any layout)\n"
	      "  --epoch-size N     examples per epoch (default: the audio in windows)\n"
	      "augmentation:\n",
	      out);
	cli_aug_flags_print_help(out);
	fputs("optimisation:\n"
	      "  --epochs N (30)  --batch N (64)  --lr X (adam 1e-3, sgd 1e-2)\n"
	      "  --optimizer adam|sgd (adam = AdamW)  --momentum X (0.9)\n"
	      "  --weight-decay X (1e-4; conv and dense weights)  --schedule\n"
	      "  cosine|step|constant (cosine)  --warmup EPOCHS (1)  --min-lr X (0)\n"
	      "  --step-epochs N (10)  --gamma X (0.1)  --seed N (0)  --threads N (cores)\n"
	      "  --patience N       stop after N epochs without a better validation loss\n"
	      "                     (8; 0: never); the best epoch is what is saved\n"
	      "checkpoints:\n"
	      "  --checkpoint FILE  after every epoch and on Ctrl-C (default: OUT.ckpt)\n"
	      "  --no-checkpoint  --resume FILE\n"
	      "  --stop-after N     end this run after N epochs (model and checkpoint\n"
	      "                     saved; continue with --resume)\n"
	      "\n"
	      "Deterministic for a seed and thread count (a resumed run too). Threads\n"
	      "split each batch; batchnorm takes each thread's share for its statistics.\n"
	      "Exit status: 0, 1 on errors, 2 on usage errors, 130 when interrupted.\n",
	      out);
}
