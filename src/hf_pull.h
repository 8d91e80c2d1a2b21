/* Getting a model from Hugging Face: glmchat pull REPO[:QUANT] and
 * -m hf:REPO[:QUANT] (as llama.cpp's -hf). The repository's file list
 * (/api/models/REPO/tree/main) names the GGUF files and their sha256; the
 * chosen file (or its split parts) is downloaded with libcurl into
 * $XDG_CACHE_HOME/glmchat/OWNER/NAME/, resuming a partial download, checked
 * against the sha256, and split parts are joined into one GGUF. A complete
 * download leaves FILE.gguf and FILE.gguf.json (where it came from); the
 * .json is written last, so its presence means "complete and verified".
 *
 * The server is $GLMCHAT_HF_ENDPOINT, else $HF_ENDPOINT, else
 * https://huggingface.co; $HF_TOKEN (or $HUGGING_FACE_HUB_TOKEN) is sent as
 * a bearer token for gated and private repositories. */
#ifndef GLM_HF_PULL_H
#define GLM_HF_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HF_DEFAULT_QUANT "Q4_K_M"   /* llama.cpp's choice when none is named */

struct hf_spec {
	char repo[200];               /* "owner/name" */
	char quant[64];               /* "" = not given */
};

/* "owner/name[:QUANT]" (an "hf:" prefix is allowed). Names are limited to
 * the characters Hugging Face allows, so nothing can escape the cache
 * directory. 0, or -1 with the reason in err. */
int  hf_parse_spec(const char *s, struct hf_spec *out, char *err, size_t errlen);
bool hf_is_spec(const char *model);            /* starts with "hf:" */

/* $XDG_CACHE_HOME/glmchat (or $GLMCHAT_CACHE); 0 or -1. */
int  hf_cache_dir(char *buf, size_t n);

/* A complete download of spec already in the cache: its path. 0 found, -1 not. */
int  hf_find_cached(const struct hf_spec *spec, char *path, size_t n);

struct hf_pull_opts {
	bool progress;                /* a live progress bar on stderr (a terminal) */
	bool force;                   /* download again even when cached */
};

/* Make spec available locally: the cached file, else download it. path
 * receives the GGUF's path. 0, or -1 with a one-line message. */
int  hf_pull(const struct hf_spec *spec, const struct hf_pull_opts *o, char *path, size_t n,
             char *err, size_t errlen);

/* Pure helpers, exposed for tests. */
/* Progress line: "NAME  42% [=====>    ] 1.2/2.9 GB  85.3 MB/s  ETA 20s". */
void hf_format_progress(char *buf, size_t n, const char *name, uint64_t done, uint64_t total,
                        double bytes_per_s, int width);
/* Split part name: "X-00002-of-00005.gguf" -> part 2 of 5, stem "X". 0 or -1. */
int  hf_split_name(const char *name, int *part, int *count, size_t *stem_len);

#endif
