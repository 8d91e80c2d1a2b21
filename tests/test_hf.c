/* The pure parts of glmchat pull: repository names (nothing may escape the
 * cache directory), split-file names, and the progress line. */
#include "config.h"
#include "tests/tap.h"
#include "src/hf_pull.h"

int main(void)
{
	struct hf_spec s;
	char err[512], line[256];
	int part, count;
	size_t stem;

	ok(hf_parse_spec("unsloth/GLM-4.7-Flash-GGUF:UD-Q4_K_XL", &s, err, sizeof err) == 0 &&
	   !strcmp(s.repo, "unsloth/GLM-4.7-Flash-GGUF") && !strcmp(s.quant, "UD-Q4_K_XL"), "REPO:QUANT");
	ok(hf_parse_spec("hf:owner/name", &s, err, sizeof err) == 0 && !strcmp(s.repo, "owner/name") &&
	   s.quant[0] == '\0', "hf:REPO, no quant");
	ok(hf_is_spec("hf:a/b") && !hf_is_spec("/models/hf:a.gguf") && !hf_is_spec(NULL), "hf_is_spec");
	{
		static const char *const bad[] = {
			"", "name", "a/b/c", "../a", "a/..", "./b", "a/.hidden", "a/b:", "a/b:../x", "a/b:x/y",
			"/a/b", "a b/c", "a/b:Q4 K", "a\n/b", "a/b:.x",
		};
		int rejected = 0;
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
			rejected += hf_parse_spec(bad[i], &s, err, sizeof err) == -1;
		is_int(rejected, (int)(sizeof bad / sizeof bad[0]), "every unsafe or malformed name is refused");
	}
	ok(hf_parse_spec("owner", &s, err, sizeof err) == -1 && strstr(err, "OWNER/NAME"),
	   "the message says what is expected: %s", err);

	ok(hf_split_name("GLM-4.7-Flash-BF16-00002-of-00003.gguf", &part, &count, &stem) == 0 &&
	   part == 2 && count == 3 && stem == strlen("GLM-4.7-Flash-BF16"), "split part 2 of 3");
	ok(hf_split_name("model-Q8_0.gguf", &part, &count, &stem) == -1, "not a split name");
	ok(hf_split_name("m-00004-of-00003.gguf", &part, &count, &stem) == -1, "part beyond the count");
	ok(hf_split_name("m-00000-of-00003.gguf", &part, &count, &stem) == -1, "part 0");
	ok(hf_split_name("m-0001x-of-00003.gguf", &part, &count, &stem) == -1, "not digits");

	hf_format_progress(line, sizeof line, "model.gguf", 4500000000ull, 18000000000ull, 100e6, 100);
	ok(strstr(line, "model.gguf") && strstr(line, " 25% ") && strstr(line, "4.5 GB/18.0 GB") &&
	   strstr(line, "100.0 MB/s") && strstr(line, "ETA 2m15s") && strstr(line, "[==========>"),
	   "progress line: %s", line);
	ok((int)strlen(line) <= 100, "fits the width (%zu)", strlen(line));
	hf_format_progress(line, sizeof line, "model.gguf", 0, 18000000000ull, 0, 100);
	ok(strstr(line, "  0% ") && strstr(line, "ETA --"), "no speed yet: no ETA (%s)", line);
	hf_format_progress(line, sizeof line, "model.gguf", 18000000000ull, 18000000000ull, 50e6, 100);
	ok(strstr(line, "100% ") && strstr(line, "ETA 0s"), "done: %s", line);
	hf_format_progress(line, sizeof line, "a-very-long-model-name-that-takes-the-room.gguf", 1, 2, 1, 40);
	ok(!strchr(line, '[') && strstr(line, "50%"), "a narrow terminal drops the bar: %s", line);
	return done_testing();
}
