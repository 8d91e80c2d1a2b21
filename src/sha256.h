/* SHA-256 (FIPS 180-4), streaming: downloads are checked against the
 * checksum the model repository publishes while they are written. */
#ifndef GLM_SHA256_H
#define GLM_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t n_bytes;
	uint8_t block[64];
	size_t n_block;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[32]);
/* Lowercase hex, 64 characters and a NUL. */
void sha256_hex(const uint8_t digest[32], char out[65]);
/* Hash a whole file into hex. 0, or -1 with errno set. */
int  sha256_file(const char *path, char out[65]);

#endif
