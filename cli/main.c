/* `stride <command> [args]`: finds the command in the table and runs it. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_print_usage(stderr);
		return STRIDE_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (cli_is_help_flag(name) || (strcmp(name, "help") == 0 && argc == 2)) {
		cli_print_usage(stdout);
		return STRIDE_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("stride %s\n", STRIDE_VERSION);
		return STRIDE_EXIT_OK;
	}
	if (strcmp(name, "help") == 0) {
		const StrideCommand *cmd = cli_command_find(argv[2]);
		if (!cmd || argc > 3) {
			fprintf(stderr, "stride help: %s '%s'\n\n", cmd ? "too many arguments after" : "unknown command",
			        argv[2]);
			cli_print_usage(stderr);
			return STRIDE_EXIT_USAGE;
		}
		cli_command_print_help(cmd, stdout);
		return STRIDE_EXIT_OK;
	}
	const StrideCommand *cmd = cli_command_find(name);
	if (!cmd) {
		fprintf(stderr, "stride: unknown %s '%s'\n\n", name[0] == '-' ? "option" : "command", name);
		cli_print_usage(stderr);
		return STRIDE_EXIT_USAGE;
	}
	/* `stride NAME --help` anywhere before a "--" shows that command's help. */
	for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (cli_is_help_flag(argv[i])) {
			cli_command_print_help(cmd, stdout);
			return STRIDE_EXIT_OK;
		}
	}
	return cmd->run(argc - 1, argv + 1);
}
