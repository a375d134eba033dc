/* The subcommand table and the messages every command prints the same way. */
#include "commands.h"

#include <stdarg.h>
#include <string.h>

const StrideCommand *const stride_commands[] = {
	&stride_cmd_info,
	&stride_cmd_forward,
	&stride_cmd_train,
	&stride_cmd_eval,
	&stride_cmd_predict,
	&stride_cmd_gate,
	NULL,
};

const StrideCommand *cli_command_find(const char *name)
{
	for (int i = 0; stride_commands[i]; i++)
		if (strcmp(stride_commands[i]->name, name) == 0)
			return stride_commands[i];
	return NULL;
}

void cli_command_print_help(const StrideCommand *cmd, FILE *out)
{
	fprintf(out, "usage: stride %s %s\n\n%s\n\n", cmd->name, cmd->args, cmd->summary);
	if (cmd->print_help)
		cmd->print_help(out);
	else
		fputs(cmd->help, out);
}

void cli_print_usage(FILE *out)
{
	fputs("usage: stride <command> [args]\n"
	      "       stride help <command>\n"
	      "       stride --help | --version\n"
	      "\n"
	      "commands:\n",
	      out);
	for (int i = 0; stride_commands[i]; i++)
		fprintf(out, "  %-10s %s\n", stride_commands[i]->name, stride_commands[i]->summary);
}

int cli_command_usage_error(const StrideCommand *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "stride %s: ", cmd->name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: stride %s %s\n(see `stride help %s`)\n", cmd->name, cmd->args,
	        cmd->name);
	return STRIDE_EXIT_USAGE;
}

int cli_command_fail(const StrideCommand *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "stride %s: ", cmd->name);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return STRIDE_EXIT_FAIL;
}

int cli_is_help_flag(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}
