/* Downloading GGUF models from Hugging Face; see hf_pull.h. */
#include "config.h"
#include "src/hf_pull.h"
#include "src/atomic_write.h"
#include "src/gguf_merge.h"
#include "src/sha256.h"
#include "src/xdg.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HF_ENDPOINT "https://huggingface.co"
/* The file list is small; a server sending more is not a model repository. */
#define LIST_MAX_BYTES (16u << 20)

struct hf_file {
	char *path;                   /* in the repository */
	uint64_t size;
	char sha256[65];              /* "" when the repository gives none */
	int part, count;              /* split part k of n; 0/0 when not split */
};

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- names ---- */

static bool name_char(int c)
{
	return isalnum(c) || c == '-' || c == '_' || c == '.';
}

/* A repository or quant name part: HF's characters, not "." or "..". */
static bool valid_name(const char *s, size_t len)
{
	if (!len || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char((unsigned char)s[i]))
			return false;
	return true;
}

bool hf_is_spec(const char *model)
{
	return model && !strncmp(model, "hf:", 3);
}

int hf_parse_spec(const char *s, struct hf_spec *out, char *err, size_t errlen)
{
	const char *slash, *colon;
	size_t rlen;

	memset(out, 0, sizeof *out);
	if (hf_is_spec(s))
		s += 3;
	colon = strchr(s, ':');
	rlen = colon ? (size_t)(colon - s) : strlen(s);
	slash = memchr(s, '/', rlen);
	if (!slash || !valid_name(s, (size_t)(slash - s)) ||
	    !valid_name(slash + 1, rlen - (size_t)(slash - s) - 1) || rlen >= sizeof out->repo)
		return fail(err, errlen, "'%s' is not a Hugging Face repository (expected OWNER/NAME[:QUANT], "
		            "e.g. unsloth/GLM-4.7-Flash-GGUF:UD-Q4_K_XL)", s);
	memcpy(out->repo, s, rlen);
	if (colon) {
		if (!valid_name(colon + 1, strlen(colon + 1)) || strlen(colon + 1) >= sizeof out->quant)
			return fail(err, errlen, "'%s' is not a quantization name (e.g. Q4_K_M, UD-Q4_K_XL)", colon + 1);
		strcpy(out->quant, colon + 1);
	}
	return 0;
}

int hf_split_name(const char *name, int *part, int *count, size_t *stem_len)
{
	size_t len = strlen(name);
	const char *p;

	/* "-00001-of-00003.gguf": 20 characters */
	if (len <= 20 || strcasecmp(name + len - 5, ".gguf"))
		return -1;
	p = name + len - 20;
	if (p[0] != '-' || strncmp(p + 6, "-of-", 4))
		return -1;
	for (int i = 0; i < 5; i++)
		if (!isdigit((unsigned char)p[1 + i]) || !isdigit((unsigned char)p[10 + i]))
			return -1;
	*part = atoi(p + 1);
	*count = atoi(p + 10);
	if (*part < 1 || *count < 1 || *part > *count)
		return -1;
	*stem_len = (size_t)(p - name);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Does the file carry the quant tag? The tag ends the file's stem after a
 * separator (GLM-4.7-Flash-UD-Q4_K_XL.gguf), or names its folder
 * (UD-Q4_K_XL/GLM-...-00001-of-00002.gguf). */
static bool quant_matches(const struct hf_file *f, const char *quant)
{
	const char *base = base_name(f->path);
	size_t stem = strlen(base) - 5, q = strlen(quant), dir = (size_t)(base - f->path);
	int part, count;

	hf_split_name(base, &part, &count, &stem);
	if (dir > 1 && dir - 1 == q && !strncasecmp(f->path, quant, q))
		return true;
	if (dir > q + 1 && !strncasecmp(base - 1 - q, quant, q) && base[-2 - (int)q] == '/')
		return true;
	if (stem < q || strncasecmp(base + stem - q, quant, q))
		return false;
	return stem == q || strchr("-._", base[stem - q - 1]);
}

/* ---- HTTP ---- */

static const char *endpoint(void)
{
	const char *e = getenv("GLMCHAT_HF_ENDPOINT");

	if (!e || !*e)
		e = getenv("HF_ENDPOINT");
	return e && *e ? e : HF_ENDPOINT;
}

static struct curl_slist *auth_header(void)
{
	const char *tok = getenv("HF_TOKEN");
	char h[1024];

	if (!tok || !*tok)
		tok = getenv("HUGGING_FACE_HUB_TOKEN");
	if (!tok || !*tok || strlen(tok) > 900)
		return NULL;
	/* curl sends a custom Authorization header to the first host only, not
	 * to the storage host a download is redirected to. */
	snprintf(h, sizeof h, "Authorization: Bearer %s", tok);
	return curl_slist_append(NULL, h);
}

static CURL *easy(const char *url, struct curl_slist *hdr)
{
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer (under 1 KB/s for a minute) ends; the next pull resumes */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "glmchat/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (hdr)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	return c;
}

/* One line for a failed transfer: offline, refused, or what the server said. */
static int http_error(CURL *c, CURLcode rc, const char *what, const char *curl_msg, char *err, size_t errlen)
{
	long code = 0;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return fail(err, errlen, "%s: cannot reach %s (offline?): %s", what, endpoint(),
		            curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
	case CURLE_HTTP_RETURNED_ERROR:
		if (code == 401 || code == 403)
			return fail(err, errlen, "%s: HTTP %ld: access denied; for a gated or private repository "
			            "accept its terms on the website and set HF_TOKEN", what, code);
		if (code == 404)
			return fail(err, errlen, "%s: HTTP 404: no such repository or file", what);
		return fail(err, errlen, "%s: HTTP %ld from the server", what, code);
	default:
		return fail(err, errlen, "%s: %s", what, curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
	}
}

struct membuf { char *p; size_t n; bool too_big; };

static size_t mem_write(char *data, size_t size, size_t nmemb, void *user)
{
	struct membuf *b = user;
	size_t len = size * nmemb;
	char *np;

	if (b->n + len > LIST_MAX_BYTES) {
		b->too_big = true;
		return 0;
	}
	if (!(np = realloc(b->p, b->n + len + 1)))
		return 0;
	b->p = np;
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

/* ---- the repository's file list ---- */

static void files_free(struct hf_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].path);
	free(f);
}

static bool safe_repo_path(const char *p)
{
	/* relative, no "." or ".." components, no odd characters */
	if (!*p || *p == '/')
		return false;
	for (const char *s = p; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == '\\')
			return false;
	for (const char *s = p; s; s = strchr(s, '/') ? strchr(s, '/') + 1 : NULL)
		if (s[0] == '.' && (s[1] == '/' || !s[1] || (s[1] == '.' && (s[2] == '/' || !s[2]))))
			return false;
	return !strstr(p, "//") && p[strlen(p) - 1] != '/';
}

/* GGUF files of the repository (mmproj vision towers left out). */
static int list_files(const struct hf_spec *spec, struct curl_slist *hdr, struct hf_file **out,
                      size_t *n_out, char *err, size_t errlen)
{
	char url[1024], msg[CURL_ERROR_SIZE] = "";
	struct membuf b = {0};
	struct hf_file *files = NULL;
	size_t n = 0;
	const cJSON *it;
	cJSON *root;
	CURLcode rc;
	CURL *c;

	snprintf(url, sizeof url, "%s/api/models/%s/tree/main?recursive=true", endpoint(), spec->repo);
	if (!(c = easy(url, hdr)))
		return fail(err, errlen, "%s: cannot start libcurl", spec->repo);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mem_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, msg);
	rc = curl_easy_perform(c);
	if (rc) {
		if (b.too_big)
			fail(err, errlen, "%s: the file list is larger than %u MiB", spec->repo, LIST_MAX_BYTES >> 20);
		else
			http_error(c, rc, spec->repo, msg, err, errlen);
		curl_easy_cleanup(c);
		free(b.p);
		return -1;
	}
	curl_easy_cleanup(c);
	root = cJSON_ParseWithLength(b.p ? b.p : "", b.n);
	free(b.p);
	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return fail(err, errlen, "%s: the server's file list is not a JSON array", spec->repo);
	}
	if (!(files = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *files))) {
		cJSON_Delete(root);
		return fail(err, errlen, "%s: out of memory", spec->repo);
	}
	cJSON_ArrayForEach(it, root) {
		const cJSON *path = cJSON_GetObjectItemCaseSensitive(it, "path");
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
		const cJSON *size = cJSON_GetObjectItemCaseSensitive(it, "size");
		const cJSON *lfs = cJSON_GetObjectItemCaseSensitive(it, "lfs");
		const cJSON *oid = cJSON_GetObjectItemCaseSensitive(lfs, "oid");
		const char *base;
		size_t len;

		if (!cJSON_IsString(path) || (cJSON_IsString(type) && strcmp(type->valuestring, "file")))
			continue;
		base = base_name(path->valuestring);
		len = strlen(base);
		if (len < 6 || strcasecmp(base + len - 5, ".gguf") || strcasestr(base, "mmproj"))
			continue;
		if (!safe_repo_path(path->valuestring) || !cJSON_IsNumber(size) || size->valuedouble < 0) {
			files_free(files, n);
			cJSON_Delete(root);
			return fail(err, errlen, "%s: the file list has a bad entry", spec->repo);
		}
		files[n].path = strdup(path->valuestring);
		files[n].size = (uint64_t)size->valuedouble;
		if (cJSON_IsString(oid) && strlen(oid->valuestring) == 64)
			for (int k = 0; k <= 64; k++)
				files[n].sha256[k] = (char)tolower((unsigned char)oid->valuestring[k]);
		hf_split_name(base, &files[n].part, &files[n].count, &len);
		if (!files[n].path) {
			files_free(files, n);
			cJSON_Delete(root);
			return fail(err, errlen, "%s: out of memory", spec->repo);
		}
		n++;
	}
	cJSON_Delete(root);
	*out = files;
	*n_out = n;
	return 0;
}

/* The logical model a file belongs to: its path less any split suffix. */
static size_t group_key_len(const struct hf_file *f)
{
	size_t stem;
	int part, count;

	if (hf_split_name(base_name(f->path), &part, &count, &stem))
		return strlen(f->path);
	return (size_t)(base_name(f->path) - f->path) + stem;
}

static bool same_group(const struct hf_file *a, const struct hf_file *b)
{
	size_t la = group_key_len(a), lb = group_key_len(b);
	return la == lb && !strncmp(a->path, b->path, la) && a->count == b->count;
}

/* Choose the files of the wanted quant: sel[] gets their indexes in part
 * order. Among several matching models the shortest name wins
 * (X-Q4_K_M.gguf over X-UD-Q4_K_M.gguf for "Q4_K_M"). */
static int select_files(const struct hf_spec *spec, const struct hf_file *f, size_t n, size_t *sel,
                        size_t *n_sel, char *err, size_t errlen)
{
	const char *quant = spec->quant[0] ? spec->quant : HF_DEFAULT_QUANT;
	size_t best = n, k = 0;
	char avail[512] = "";

	for (size_t i = 0; i < n; i++)
		if (quant_matches(&f[i], quant) && (best == n || group_key_len(&f[i]) < group_key_len(&f[best])))
			best = i;
	if (best == n && !spec->quant[0]) {
		/* no default quant: a repository with one model needs no name */
		for (size_t i = 0; i < n; i++) {
			if (best == n) {
				best = i;
			} else if (!same_group(&f[i], &f[best])) {
				best = n;
				break;
			}
		}
	}
	if (best == n) {
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(avail);
			if (f[i].part > 1 || len > sizeof avail - 80)
				continue;
			/* the file's name less ".gguf" and any split suffix */
			snprintf(avail + len, sizeof avail - len, "%s%.*s", len ? ", " : "",
			         (int)(group_key_len(&f[i]) - (size_t)(base_name(f[i].path) - f[i].path) -
			               (f[i].count ? 0 : 5)),
			         base_name(f[i].path));
		}
		if (!n)
			return fail(err, errlen, "%s: the repository has no GGUF files", spec->repo);
		return fail(err, errlen, "%s: no GGUF file for '%s'; the repository has: %s", spec->repo,
		            quant, avail);
	}
	for (int part = f[best].count ? 1 : 0; part <= f[best].count; part++) {
		size_t i;
		for (i = 0; i < n; i++)
			if (same_group(&f[i], &f[best]) && f[i].part == part)
				break;
		if (i == n)
			return fail(err, errlen, "%s: split part %d of %d of %s is missing", spec->repo, part,
			            f[best].count, f[best].path);
		sel[k++] = i;
	}
	*n_sel = k;
	return 0;
}

/* ---- the cache ---- */

int hf_cache_dir(char *buf, size_t n)
{
	const char *env = getenv("GLMCHAT_CACHE");

	if (env && env[0] == '/')
		return (size_t)snprintf(buf, n, "%s", env) >= n ? -1 : 0;
	return xdg_app_dir(XDG_CACHE, buf, n);
}

static int repo_dir(const struct hf_spec *spec, char *buf, size_t n)
{
	char cache[4096];

	if (hf_cache_dir(cache, sizeof cache))
		return -1;
	return (size_t)snprintf(buf, n, "%s/%s", cache, spec->repo) >= n ? -1 : 0;
}

/* The local name of the selected model: its file name less any split suffix. */
static void local_name(const struct hf_file *first, char *buf, size_t n)
{
	const char *base = base_name(first->path);
	size_t stem;
	int part, count;

	if (hf_split_name(base, &part, &count, &stem))
		snprintf(buf, n, "%s", base);
	else
		snprintf(buf, n, "%.*s.gguf", (int)stem, base);
}

int hf_find_cached(const struct hf_spec *spec, char *path, size_t n)
{
	char dir[4096], meta[4096 + 256], buf[8192];
	struct dirent *de;
	int found = -1;
	DIR *d;

	if (repo_dir(spec, dir, sizeof dir) || !(d = opendir(dir)))
		return -1;
	while (found && (de = readdir(d))) {
		size_t len = strlen(de->d_name), got;
		const cJSON *q, *sz, *part0;
		cJSON *root;
		bool same;
		struct stat st;
		FILE *f;

		if (de->d_name[0] == '.' || len <= 10 || strcmp(de->d_name + len - 10, ".gguf.json"))
			continue;
		snprintf(meta, sizeof meta, "%s/%s", dir, de->d_name);
		if (!(f = fopen(meta, "r")))
			continue;
		got = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[got] = '\0';
		root = cJSON_Parse(buf);
		q = cJSON_GetObjectItemCaseSensitive(root, "quant");
		sz = cJSON_GetObjectItemCaseSensitive(root, "size");
		part0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(root, "parts"), 0), "path");
		/* the quant as it was asked for, or any name that selects the same file */
		same = cJSON_IsString(q) && !strcasecmp(q->valuestring, spec->quant);
		if (!same && spec->quant[0] && cJSON_IsString(part0)) {
			struct hf_file f0 = {.path = part0->valuestring};
			same = quant_matches(&f0, spec->quant);
		}
		meta[strlen(meta) - 5] = '\0';          /* the .gguf beside it */
		if (same && cJSON_IsNumber(sz) &&
		    stat(meta, &st) == 0 && (double)st.st_size == sz->valuedouble &&
		    (size_t)snprintf(path, n, "%s", meta) < n)
			found = 0;
		cJSON_Delete(root);
	}
	closedir(d);
	return found;
}

static int write_sidecar(const struct hf_spec *spec, const struct hf_file *f, const size_t *sel,
                         size_t n_sel, const char *gguf, uint64_t size, char *err, size_t errlen)
{
	cJSON *root = cJSON_CreateObject(), *parts;
	char path[4800], now[32];
	time_t t = time(NULL);
	struct tm tm;
	char *text;
	int rc;

	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(root, "repo", spec->repo);
	cJSON_AddStringToObject(root, "quant", spec->quant);
	cJSON_AddStringToObject(root, "file", base_name(gguf));
	cJSON_AddNumberToObject(root, "size", (double)size);
	cJSON_AddStringToObject(root, "endpoint", endpoint());
	cJSON_AddStringToObject(root, "downloaded", now);
	parts = cJSON_AddArrayToObject(root, "parts");
	for (size_t i = 0; i < n_sel; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddItemToArray(parts, p);
		cJSON_AddStringToObject(p, "path", f[sel[i]].path);
		cJSON_AddNumberToObject(p, "size", (double)f[sel[i]].size);
		cJSON_AddStringToObject(p, "sha256", f[sel[i]].sha256);
	}
	text = cJSON_Print(root);
	cJSON_Delete(root);
	snprintf(path, sizeof path, "%s.json", gguf);
	if (!text)
		return fail(err, errlen, "%s: out of memory", path);
	rc = atomic_write_file(path, text, strlen(text), 0644, err, errlen);
	free(text);
	return rc;
}

/* ---- progress ---- */

static void human(char *buf, size_t n, double bytes)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;

	while (bytes >= 1000 && u < 4) {
		bytes /= 1000;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

void hf_format_progress(char *buf, size_t n, const char *name, uint64_t done, uint64_t total,
                        double bytes_per_s, int width)
{
	char d[16], t[16], s[16], eta[16] = "--", tail[96], bar[128];
	int pct = total ? (int)(done * 100 / total) : 0, barw, fill;

	if (done > total)
		done = total;
	human(d, sizeof d, (double)done);
	human(t, sizeof t, (double)total);
	human(s, sizeof s, bytes_per_s);
	if (bytes_per_s > 0 && total >= done) {
		double secs = (double)(total - done) / bytes_per_s;
		if (secs < 60)
			snprintf(eta, sizeof eta, "%.0fs", secs);
		else if (secs < 3600)
			snprintf(eta, sizeof eta, "%dm%02ds", (int)secs / 60, (int)secs % 60);
		else if (secs < 100 * 3600)
			snprintf(eta, sizeof eta, "%dh%02dm", (int)secs / 3600, (int)secs / 60 % 60);
	}
	snprintf(tail, sizeof tail, " %3d%% %s/%s %s/s ETA %s", pct, d, t, s, eta);
	/* the bar takes what the name and numbers leave, at most 40 */
	barw = width - (int)strlen(tail) - (int)strlen(name) - 4;
	if (barw > 40)
		barw = 40;
	if (barw < 5) {
		snprintf(buf, n, "%s%s", name, tail);
		return;
	}
	fill = total ? (int)((double)done / (double)total * barw) : 0;
	for (int i = 0; i < barw; i++)
		bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
	bar[barw] = '\0';
	snprintf(buf, n, "%s [%s]%s", name, bar, tail);
}

struct progress {
	const char *name;
	bool live;
	uint64_t total, base;         /* all parts; bytes before this transfer */
	uint64_t session_start;       /* bytes present when this run began */
	struct timespec t0, last;
	bool shown;                   /* a line is on the screen */
};

static double since(const struct timespec *a)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - a->tv_sec) + (double)(now.tv_nsec - a->tv_nsec) * 1e-9;
}

/* Redraw the line (at most 10 times a second unless forced); the caller
 * ends it with a newline once all parts are done or one failed. */
static void progress_show(struct progress *p, uint64_t done, bool force)
{
	char line[512];
	double el = since(&p->t0);
	double rate = el > 0 ? (double)(done - p->session_start) / el : 0;

	if (!p->live)
		return;
	if (!force && since(&p->last) < 0.1)
		return;
	p->shown = true;
	clock_gettime(CLOCK_MONOTONIC, &p->last);
	struct winsize ws;
	int cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;

	/* one column short of the width: a full line would wrap on some terminals */
	hf_format_progress(line, sizeof line, p->name, done, p->total, rate, cols - 1);
	fprintf(stderr, "\r%s\x1b[K", line);
	fflush(stderr);
}

/* ---- one file ---- */

struct sink {
	int fd;
	uint64_t offset;              /* bytes in the file */
	struct sha256 sha;
	CURL *curl;
	bool checked_status, failed;
	int saved_errno;
	struct progress *pg;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *user)
{
	struct sink *s = user;
	size_t len = size * nmemb, left = len;
	const char *p = data;

	if (!s->checked_status) {
		long code = 0;
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
		s->checked_status = true;
		/* A server that ignores Range sends the whole file: start over. */
		if (code == 200 && s->offset) {
			if (ftruncate(s->fd, 0) || lseek(s->fd, 0, SEEK_SET)) {
				s->failed = true;
				s->saved_errno = errno;
				return 0;
			}
			s->offset = 0;
			sha256_init(&s->sha);
			s->pg->session_start = s->pg->base;
		}
	}
	while (left) {
		ssize_t w = write(s->fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->failed = true;
			s->saved_errno = errno;
			return 0;
		}
		p += w;
		left -= (size_t)w;
	}
	sha256_update(&s->sha, data, len);
	s->offset += len;
	progress_show(s->pg, s->pg->base + s->offset, false);
	return len;
}

/* Hash what an earlier, interrupted run left, so the checksum covers the
 * whole file without reading it twice at the end. */
static int hash_existing(int fd, uint64_t len, struct sha256 *sha)
{
	static uint8_t buf[1 << 16];
	uint64_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, buf, sizeof buf, (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if ((uint64_t)r > len - done)
			r = (ssize_t)(len - done);
		sha256_update(sha, buf, (size_t)r);
		done += (uint64_t)r;
	}
	return 0;
}

static char *file_url(const struct hf_spec *spec, const char *path)
{
	CURL *c = curl_easy_init();
	char *url = NULL, *seg;
	size_t cap = strlen(endpoint()) + strlen(spec->repo) + 3 * strlen(path) + 32;
	const char *p = path;

	if (!c || !(url = malloc(cap))) {
		curl_easy_cleanup(c);
		free(url);
		return NULL;
	}
	snprintf(url, cap, "%s/%s/resolve/main", endpoint(), spec->repo);
	/* escape each path segment, keeping the slashes */
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		seg = curl_easy_escape(c, p, (int)len);
		if (!seg) {
			free(url);
			url = NULL;
			break;
		}
		strcat(url, "/");
		strcat(url, seg);
		curl_free(seg);
		p += len + (e != NULL);
	}
	curl_easy_cleanup(c);
	return url;
}

/* Download f to dest (through dest.part, resumed when present), checking
 * size and sha256. */
static int download(const struct hf_spec *spec, const struct hf_file *f, const char *dest,
                    struct curl_slist *hdr, struct progress *pg, char *err, size_t errlen)
{
	char part[4200], msg[CURL_ERROR_SIZE] = "", hex[65];
	struct sink s = {.fd = -1, .pg = pg};
	uint8_t digest[32];
	struct stat st;
	char *url = NULL;
	CURLcode rc;
	int ret = -1;

	snprintf(part, sizeof part, "%s.part", dest);
	s.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s.fd < 0 || fstat(s.fd, &st))
		return fail(err, errlen, "%s: %s", part, strerror(errno));
	sha256_init(&s.sha);
	s.offset = (uint64_t)st.st_size;
	if (s.offset > f->size || (s.offset && hash_existing(s.fd, s.offset, &s.sha))) {
		/* longer than the file, or unreadable: not a partial download of it */
		if (ftruncate(s.fd, 0)) {
			fail(err, errlen, "%s: %s", part, strerror(errno));
			goto out;
		}
		s.offset = 0;
		sha256_init(&s.sha);
	}
	if (lseek(s.fd, (off_t)s.offset, SEEK_SET) < 0) {
		fail(err, errlen, "%s: %s", part, strerror(errno));
		goto out;
	}
	pg->session_start = pg->base + s.offset;
	clock_gettime(CLOCK_MONOTONIC, &pg->t0);
	if (s.offset < f->size) {
		char range[32];
		if (!(url = file_url(spec, f->path)) || !(s.curl = easy(url, hdr))) {
			fail(err, errlen, "%s: cannot start libcurl", f->path);
			goto out;
		}
		curl_easy_setopt(s.curl, CURLOPT_WRITEFUNCTION, sink_write);
		curl_easy_setopt(s.curl, CURLOPT_WRITEDATA, &s);
		curl_easy_setopt(s.curl, CURLOPT_ERRORBUFFER, msg);
		if (s.offset) {
			snprintf(range, sizeof range, "%llu-", (unsigned long long)s.offset);
			curl_easy_setopt(s.curl, CURLOPT_RANGE, range);
		}
		rc = curl_easy_perform(s.curl);
		progress_show(pg, pg->base + s.offset, true);
		if (s.failed) {
			fail(err, errlen, "%s: write failed: %s", part, strerror(s.saved_errno));
			goto out;
		}
		if (rc) {
			char what[512];
			snprintf(what, sizeof what, "%s", f->path);
			http_error(s.curl, rc, what, msg, err, errlen);
			if (rc == CURLE_PARTIAL_FILE || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR)
				snprintf(err + strlen(err), errlen - strlen(err),
				         " (%llu of %llu bytes kept: run it again to resume)",
				         (unsigned long long)s.offset, (unsigned long long)f->size);
			goto out;
		}
	}
	if (s.offset != f->size) {
		fail(err, errlen, "%s: got %llu bytes, the repository lists %llu", f->path,
		     (unsigned long long)s.offset, (unsigned long long)f->size);
		if (s.offset > f->size)
			unlink(part);
		goto out;
	}
	sha256_final(&s.sha, digest);
	sha256_hex(digest, hex);
	if (f->sha256[0] && strcmp(hex, f->sha256)) {
		/* a corrupt download cannot be resumed into a good one */
		unlink(part);
		fail(err, errlen, "%s: sha256 mismatch: the repository lists %s, the download is %s "
		     "(deleted; run it again)", f->path, f->sha256, hex);
		goto out;
	}
	if (!f->sha256[0])
		fprintf(stderr, "glmchat: %s: the repository lists no sha256; not verified\n", f->path);
	if (fsync(s.fd) || rename(part, dest)) {
		fail(err, errlen, "%s: %s", dest, strerror(errno));
		goto out;
	}
	fsync_parent_dir(dest);
	ret = 0;
out:
	if (s.curl)
		curl_easy_cleanup(s.curl);
	free(url);
	if (s.fd >= 0)
		close(s.fd);
	return ret;
}

/* ---- pull ---- */

static int fetch_selected(const struct hf_spec *spec, const struct hf_file *files, const size_t *sel,
                          size_t n_sel, const char *dir, const char *gguf, struct curl_slist *hdr,
                          const struct hf_pull_opts *o, char *err, size_t errlen)
{
	struct progress pg = {.live = o->progress};
	char **paths = calloc(n_sel, sizeof *paths);
	int rc = -1;

	if (!paths)
		return fail(err, errlen, "%s: out of memory", gguf);
	pg.name = base_name(gguf);
	for (size_t i = 0; i < n_sel; i++)
		pg.total += files[sel[i]].size;
	for (size_t i = 0; i < n_sel; i++) {
		const struct hf_file *f = &files[sel[i]];
		struct stat st;

		if (n_sel == 1)
			paths[i] = strdup(gguf);
		else if (asprintf(&paths[i], "%s/%s", dir, base_name(f->path)) < 0)
			paths[i] = NULL;
		if (!paths[i]) {
			fail(err, errlen, "%s: out of memory", gguf);
			goto out;
		}
		/* a split part finished by an earlier run was verified then */
		if (n_sel == 1 || stat(paths[i], &st) || (uint64_t)st.st_size != f->size) {
			if (!o->progress)
				fprintf(stderr, "glmchat: downloading %s (%.1f MB)\n", f->path, (double)f->size / 1e6);
			if (download(spec, f, paths[i], hdr, &pg, err, errlen))
				goto out;
		}
		pg.base += f->size;
	}
	if (n_sel > 1) {
		if (!o->progress)
			fprintf(stderr, "glmchat: joining %zu split parts into %s\n", n_sel, base_name(gguf));
		if (gguf_merge((const char *const *)paths, n_sel, gguf, err, errlen))
			goto out;
		for (size_t i = 0; i < n_sel; i++)
			unlink(paths[i]);
	}
	rc = 0;
out:
	if (pg.shown)
		fputc('\n', stderr);
	for (size_t i = 0; i < n_sel; i++)
		free(paths[i]);
	free(paths);
	return rc;
}

int hf_pull(const struct hf_spec *spec, const struct hf_pull_opts *o, char *path, size_t n,
            char *err, size_t errlen)
{
	static bool curl_ready;
	char dir[4096], name[512], gguf[4700];
	struct hf_file *files = NULL;
	struct curl_slist *hdr = NULL;
	size_t n_files = 0, n_sel = 0, *sel = NULL;
	struct stat st;
	int rc = -1;

	if (!o->force && hf_find_cached(spec, path, n) == 0)
		return 0;
	if (repo_dir(spec, dir, sizeof dir))
		return fail(err, errlen, "%s: no cache directory (set HOME or XDG_CACHE_HOME)", spec->repo);
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return fail(err, errlen, "%s: cannot start libcurl", spec->repo);
		curl_ready = true;
	}
	hdr = auth_header();
	if (list_files(spec, hdr, &files, &n_files, err, errlen))
		goto out;
	if (!(sel = calloc(n_files + 1, sizeof *sel))) {
		fail(err, errlen, "%s: out of memory", spec->repo);
		goto out;
	}
	if (select_files(spec, files, n_files, sel, &n_sel, err, errlen))
		goto out;
	if (mkdir_p(dir, 0700)) {
		fail(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	local_name(&files[sel[0]], name, sizeof name);
	snprintf(gguf, sizeof gguf, "%s/%s", dir, name);
	if (fetch_selected(spec, files, sel, n_sel, dir, gguf, hdr, o, err, errlen))
		goto out;
	if (stat(gguf, &st) || write_sidecar(spec, files, sel, n_sel, gguf, (uint64_t)st.st_size, err, errlen))
		goto out;
	if ((size_t)snprintf(path, n, "%s", gguf) >= n) {
		fail(err, errlen, "%s: path too long", gguf);
		goto out;
	}
	rc = 0;
out:
	curl_slist_free_all(hdr);
	files_free(files, n_files);
	free(sel);
	return rc;
}
