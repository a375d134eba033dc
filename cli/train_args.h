/* `stride train`'s command line: its options, their defaults and its help
 * text (the run itself: cmd_train.c). */
#ifndef STRIDE_TRAIN_ARGS_H
#define STRIDE_TRAIN_ARGS_H

#include <stdbool.h>
#include <stdio.h>

#include "augment.h"
#include "commands.h"

/* Augmentation flags a command line may give (aug_flags.h's table). */
#define CLI_MAX_AUG_FLAGS 32

typedef struct {
	const char *arch, *data, *out;
	int task;                 /* -1: from the preset (else classify) */
	int rate, window, hop;    /* 0: from the preset or the network */
	int label_width;          /* gates: 0: the whole window */
	int label_at_end;         /* gates: the label region ends the window */
	int steps;                /* gates: decisions per training example (1) */
	int epochs, batch, threads, patience;
	long long seed, epoch_size;
	double lr, min_lr, momentum, weight_decay, warmup, gamma, val_fraction;
	int lr_set, step_epochs, stop_after;
	int optimizer, schedule;
	const char *val_list, *train_list, *val_data, *noise;
	const char *checkpoint, *resume;
	int no_checkpoint;
	/* augmentation flags given: their values (NULL for a switch), applied
	 * over the task's defaults once the task is known */
	bool aug_given[CLI_MAX_AUG_FLAGS];
	const char *aug_value[CLI_MAX_AUG_FLAGS];
} TrainArgs;

/* Parses argv (argv[0]: "train") into a with the defaults for what it does
 * not give. Returns 0, or STRIDE_EXIT_USAGE after saying what is wrong. */
int cli_train_args_parse(const StrideCommand *cmd, int argc, char **argv, TrainArgs *a);

/* The task's augmentation defaults, then the flags a gave. */
StrideAugConfig cli_train_aug_config(const TrainArgs *a, StrideTask task);

/* The name of option i ("--epochs"; the augmentation flags are aug_flags.h's),
 * or NULL past the last: for tests that the help lists every one. */
const char *cli_train_option(int i);

/* `stride help train`'s text after the usage line. */
void cli_train_print_help(FILE *out);

#endif /* STRIDE_TRAIN_ARGS_H */
