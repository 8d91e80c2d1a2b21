/* The command-line number and id parsers reject what they must. */
#include "config.h"
#include "tests/tap.h"
#include "src/cli.h"

int main(void)
{
	int64_t v = 0;
	float f = 0;
	int32_t *ids = NULL;
	size_t n = 0;

	ok(cli_parse_i64("42", 0, 100, &v) == 0 && v == 42, "plain integer");
	ok(cli_parse_i64("101", 0, 100, &v) == -1, "out of range");
	ok(cli_parse_i64("4x", 0, 100, &v) == -1, "trailing junk");
	ok(cli_parse_i64("", 0, 100, &v) == -1, "empty");
	ok(cli_parse_i64("99999999999999999999999", 0, INT64_MAX, &v) == -1, "overflow");
	ok(cli_parse_float("0.95", 0, 1, &f) == 0 && f > 0.949f && f < 0.951f, "float");
	ok(cli_parse_float("nan", 0, 1, &f) == -1, "nan rejected");
	ok(cli_parse_ids("1,2, 3", &ids, &n) == 0 && n == 3 && ids[2] == 3, "id list");
	free(ids);
	ok(cli_parse_ids("1,-2", &ids, &n) == -1, "negative id rejected");
	ok(cli_parse_ids("1;2", &ids, &n) == -1, "bad separator rejected");
	return done_testing();
}
