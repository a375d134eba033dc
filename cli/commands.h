/* The `stride` tool's subcommands.
 *
 * Each subcommand lives in its own cli/cmd_NAME.c and exports one StrideCommand;
 * the table in cli/commands.c lists them in the order `stride --help` shows.
 * Adding a command: write cli/cmd_NAME.c, declare it below, add it to the table. */
#ifndef STRIDE_COMMANDS_H
#define STRIDE_COMMANDS_H

#include <stdio.h>

#include "util.h"

/* Exit statuses shared by all commands. */
enum {
	STRIDE_EXIT_OK = 0,
	STRIDE_EXIT_FAIL = 1,  /* the command could not do its job (bad file, ...) */
	STRIDE_EXIT_USAGE = 2, /* the command line itself is wrong */
};

typedef struct {
	const char *name;    /* as typed: `stride NAME ...` */
	const char *args;    /* argument synopsis, e.g. "[--windowed] MODEL INPUT OUTPUT.npy" */
	const char *summary; /* one line for `stride --help` */
	const char *help;    /* the full description for `stride help NAME` */
	/* argv[0] is the command name; returns an exit status (STRIDE_EXIT_*). */
	int (*run)(int argc, char **argv);
	/* when set, prints the description instead of `help` (text built from a
	 * table, or longer than one string literal may be) */
	void (*print_help)(FILE *out);
} StrideCommand;

extern const StrideCommand stride_cmd_info;
extern const StrideCommand stride_cmd_forward;
extern const StrideCommand stride_cmd_train;
extern const StrideCommand stride_cmd_eval;
extern const StrideCommand stride_cmd_predict;
extern const StrideCommand stride_cmd_gate;

/* The table: every command, NULL-terminated. */
extern const StrideCommand *const stride_commands[];

/* The command called `name`, or NULL. */
const StrideCommand *cli_command_find(const char *name);

/* "usage: stride NAME ARGS" and the full help text. */
void cli_command_print_help(const StrideCommand *cmd, FILE *out);

/* The overall usage and command list. */
void cli_print_usage(FILE *out);

/* Report a command-line mistake on stderr ("stride NAME: message" and the
 * command's usage line); returns STRIDE_EXIT_USAGE. */
int cli_command_usage_error(const StrideCommand *cmd, const char *fmt, ...) STRIDE_PRINTF(2, 3);

/* Report a failure on stderr ("stride NAME: message"); returns STRIDE_EXIT_FAIL. */
int cli_command_fail(const StrideCommand *cmd, const char *fmt, ...) STRIDE_PRINTF(2, 3);

/* True for "-h" and "--help". */
int cli_is_help_flag(const char *arg);

#endif /* STRIDE_COMMANDS_H */
