/* One function per subcommand: argv[0] is the subcommand's name; returns
 * the exit status. The table in main.c maps names to these. */
#ifndef GLM_COMMANDS_H
#define GLM_COMMANDS_H

int cmd_chat(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_print_config(int argc, char **argv);   /* glmchat [chat] --print-config */

#endif
