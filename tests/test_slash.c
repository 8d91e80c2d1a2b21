/* The slash-command parser and completion (ui/commands.c). */
#include "tests/tap.h"
#include "ui/commands.h"

static int parse(const char *line, struct ui_command *c)
{
	char err[256];
	int r;

	ui_command_free(c);
	r = ui_cmd_parse(line, c, err, sizeof err);
	if (r < 0)
		diag("%s -> %s", line, err);
	return r;
}

int main(void)
{
	struct ui_command c = { 0 };
	char err[256];
	bool files;

	is_int(parse("hello", &c), 1, "plain text is not a command");
	is_int(parse("//not a command", &c), 1, "a double slash escapes");
	is_int(parse("/quit", &c), 0, "/quit parses");
	is_int(c.id, UI_CMD_QUIT, "...as quit");
	ok(parse("/exit", &c) == 0 && c.id == UI_CMD_QUIT, "/exit is quit's alias");
	ok(parse("  /help  ", &c) == 0 && c.id == UI_CMD_HELP, "surrounding spaces are fine");
	ok(parse("/think on", &c) == 0 && c.id == UI_CMD_THINK && c.flag, "/think on");
	ok(parse("/think off", &c) == 0 && c.id == UI_CMD_THINK && !c.flag, "/think off");
	is_int(parse("/think maybe", &c), -1, "/think maybe is an error");
	is_int(parse("/think", &c), -1, "/think needs an argument");
	ok(parse("/reasoning hide", &c) == 0 && c.id == UI_CMD_REASONING && !c.flag, "/reasoning hide");
	ok(parse("/reasoning show", &c) == 0 && c.flag && c.turn == 0, "/reasoning show: all answers");
	ok(parse("/reasoning show 3", &c) == 0 && c.flag && c.turn == 3, "/reasoning show 3: answer 3");
	ok(parse("/reasoning hide 12 ", &c) == 0 && !c.flag && c.turn == 12, "/reasoning hide 12");
	is_int(parse("/reasoning show 0", &c), -1, "answers count from 1");
	is_int(parse("/reasoning show two", &c), -1, "N must be a number");
	is_int(parse("/reasoning show 2 3", &c), -1, "one N only");
	is_int(parse("/think on 2", &c), -1, "/think takes no number");
	ok(parse("/set temp 0.7", &c) == 0 && c.id == UI_CMD_SET && c.key == UI_SET_TEMP && c.value == 0.7,
	   "/set temp 0.7");
	ok(parse("/set top_k 40", &c) == 0 && c.key == UI_SET_TOP_K && c.value == 40, "/set top_k 40");
	ok(parse("/set max_tokens -1", &c) == 0 && c.key == UI_SET_MAX_TOKENS && c.value == -1,
	   "/set max_tokens -1 (no limit)");
	is_int(parse("/set top_k 4.5", &c), -1, "top_k must be whole");
	is_int(parse("/set top_p 1.5", &c), -1, "top_p above 1 is refused");
	is_int(parse("/set temp abc", &c), -1, "a non-number is refused");
	is_int(parse("/set temp 0.5x", &c), -1, "trailing junk is refused");
	is_int(parse("/set temp nan", &c), -1, "nan is refused");
	is_int(parse("/set color red", &c), -1, "an unknown key is refused");
	is_int(parse("/set temp 1 2", &c), -1, "an extra argument is refused");
	ok(parse("/system You are terse.  ", &c) == 0 && c.id == UI_CMD_SYSTEM && c.text &&
	   !strcmp(c.text, "You are terse."), "/system keeps the rest of the line, trimmed");
	ok(parse("/system", &c) == 0 && c.text == NULL, "/system alone shows the prompt");
	ok(parse("/save", &c) == 0 && c.id == UI_CMD_SAVE && !c.text, "/save without a file");
	ok(parse("/save my chat.json", &c) == 0 && c.text && !strcmp(c.text, "my chat.json"), "/save FILE with a space");
	is_int(parse("/load", &c), -1, "/load needs a file");
	ok(parse("/export out.md", &c) == 0 && c.id == UI_CMD_EXPORT, "/export FILE");
	is_int(parse("/regen now", &c), -1, "/regen takes no arguments");
	ok(parse("/q", &c) == 0 && c.id == UI_CMD_QUIT, "a unique prefix names the command");
	is_int(parse("/s", &c), -1, "an ambiguous prefix is an error");
	is_int(parse("/frobnicate", &c), -1, "an unknown command is an error");
	is_int(parse("/", &c), -1, "a bare slash is an error");
	ui_command_free(&c);
	is_int(ui_cmd_parse("/nope", &c, err, sizeof err), -1, "error text ...");
	ok(strstr(err, "unknown command /nope") != NULL, "...names the command");

	for (size_t i = 0; i < ui_cmd_count; i++)
		ok(ui_cmd_find(ui_cmd_table[i].id) == &ui_cmd_table[i] && ui_cmd_table[i].usage[0] == '/',
		   "/%s has an id and a usage line", ui_cmd_table[i].name);

	/* completion */
	is_str(ui_cmd_complete("/re", 0, "/re", 0, &files), "/reasoning", "/re completes to /reasoning ...");
	is_str(ui_cmd_complete("/re", 0, "/re", 1, &files), "/regen", "...and /regen");
	ok(ui_cmd_complete("/re", 0, "/re", 2, &files) == NULL, "...and nothing else");
	is_str(ui_cmd_complete("/ex", 0, "/ex", 1, &files), "/exit", "aliases complete too");
	is_str(ui_cmd_complete("/think o", 7, "o", 1, &files), "off", "/think argument completes");
	is_str(ui_cmd_complete("/set t", 5, "t", 1, &files), "top_p", "/set key completes");
	ok(ui_cmd_complete("/load f", 6, "f", 0, &files) == NULL && files, "/load asks for file names");
	ok(ui_cmd_complete("hello", 0, "hello", 0, &files) == NULL, "plain text has no completion");
	return done_testing();
}
