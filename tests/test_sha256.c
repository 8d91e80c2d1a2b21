/* SHA-256 against the FIPS 180-4 / NIST CAVP example vectors, fed whole
 * and in awkward pieces (the streaming path a download takes). */
#include "config.h"
#include "tests/tap.h"
#include "src/sha256.h"

#include <unistd.h>

static const char *hash_str(const char *msg, size_t len, size_t piece)
{
	static char hex[65];
	struct sha256 s;
	uint8_t d[32];

	sha256_init(&s);
	for (size_t i = 0; i < len; i += piece)
		sha256_update(&s, msg + i, len - i < piece ? len - i : piece);
	sha256_final(&s, d);
	sha256_hex(d, hex);
	return hex;
}

int main(void)
{
	static const struct { const char *msg, *hex; } v[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
		{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	};
	static char million[1000000];
	char path[] = "/tmp/glmchat-sha-XXXXXX", hex[65];
	int fd;

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t len = strlen(v[i].msg);
		is_str(hash_str(v[i].msg, len, len ? len : 1), v[i].hex, "vector %zu whole", i);
		is_str(hash_str(v[i].msg, len, 1), v[i].hex, "vector %zu byte by byte", i);
		is_str(hash_str(v[i].msg, len, 7), v[i].hex, "vector %zu in 7-byte pieces", i);
	}
	/* Lengths around the padding boundary (55, 56, 63, 64 bytes). */
	is_str(hash_str("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55, 55),
	       "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318", "55 bytes");
	is_str(hash_str("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56, 56),
	       "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a", "56 bytes");
	is_str(hash_str("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64, 13),
	       "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb", "64 bytes");

	memset(million, 'a', sizeof million);
	is_str(hash_str(million, sizeof million, 4093),
	       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", "one million 'a'");

	/* the file helper */
	if ((fd = mkstemp(path)) < 0 || write(fd, "abc", 3) != 3)
		bail_out("temp file");
	close(fd);
	ok(sha256_file(path, hex) == 0, "sha256_file");
	is_str(hex, v[1].hex, "file hash");
	unlink(path);
	ok(sha256_file("/nonexistent/x", hex) == -1, "missing file is an error");
	return done_testing();
}
