/* Allocation, buffers, files, environment, numbers. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mscli/util.h"

static void oom(size_t n)
{
	fprintf(stderr, "mscli: out of memory (allocating %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *xvasprintf(const char *fmt, va_list ap, int *len) MS_PRINTF(1, 0);

static char *xvasprintf(const char *fmt, va_list ap, int *len)
{
	char *p;
	int n = vasprintf(&p, fmt, ap);

	if (n < 0)
		oom(0);
	if (len)
		*len = n;
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap, NULL);
	va_end(ap);
	return p;
}

void ms_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return;
	while (c < need)
		c *= 2;
	*p = xrealloc(*p, c * size);
	*cap = c;
}

void ms_buf_add(struct ms_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 256;

		while (c < b->len + n + 1)
			c *= 2;
		b->data = xrealloc(b->data, c);
		b->cap = c;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void ms_buf_adds(struct ms_buf *b, const char *s)
{
	ms_buf_add(b, s, strlen(s));
}

void ms_buf_addch(struct ms_buf *b, char c)
{
	ms_buf_add(b, &c, 1);
}

void ms_buf_addf(struct ms_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap, &n);
	va_end(ap);
	ms_buf_add(b, p, (size_t)n);
	free(p);
}

char *ms_buf_detach(struct ms_buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void ms_buf_release(struct ms_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *ms_path_join(const char *a, const char *b)
{
	size_t al = strlen(a);

	if (al && a[al - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

int ms_mkdirs(const char *path, mode_t mode, struct ms_error *err)
{
	char *p = xstrdup(path);
	int ret = 0;

	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			ret = ms_error_errno(err, errno, "cannot create directory", p);
			break;
		}
		if (!c)
			break;
		*s = c;
	}
	if (!ret && !ms_is_dir(path))
		ret = ms_error_set(err, MS_ESTORAGE, "'%s' exists and is not a directory", path);
	free(p);
	return ret;
}

bool ms_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ms_write_all(int fd, const void *data, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int ms_copy_fd(int in, int out)
{
	char buf[1 << 16];
	ssize_t n;

	/* in the kernel where it can (reflinks on some filesystems) */
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) != 0) {
		if (n > 0 || errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP &&
		    errno != EBADF)
			return -2;
		/* a pipe, another filesystem, an old kernel: read and write */
		while ((n = read(in, buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			if (ms_write_all(out, buf, (size_t)n) < 0)
				return -2;
		}
		break;
	}
	return 0;
}

int ms_copy_file_atomic(const char *src, const char *dst, struct ms_error *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out, ret = 0, r;
	char *tmp;

	if (in < 0)
		return ms_error_errno(err, errno, "cannot open", src);
	tmp = ms_temp_beside(dst);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		ret = ms_error_errno(err, errno, "cannot create", tmp);
		goto out;
	}
	r = ms_copy_fd(in, out);
	if (r)
		ret = ms_error_errno(err, errno, r == -1 ? "cannot read" : "cannot write",
		                     r == -1 ? src : tmp);
	if (close(out) < 0 && !ret)
		ret = ms_error_errno(err, errno, "cannot write", tmp);
	if (!ret && rename(tmp, dst) < 0)
		ret = ms_error_errno(err, errno, "cannot rename to", dst);
	if (ret)
		unlink(tmp);
out:
	close(in);
	free(tmp);
	return ret;
}

char *ms_temp_beside(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t dirlen = base ? (size_t)(base - path) + 1 : 0, blen = strlen(path + dirlen);
	char rnd[33];

	ms_random_hex(rnd);
	if (blen > NAME_MAX - 14) /* ".xxxxxxxx.tmp" and room to spare */
		blen = NAME_MAX - 14;
	return xasprintf("%.*s%.*s.%.8s.tmp", (int)dirlen, path, (int)blen, path + dirlen, rnd);
}

int ms_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct ms_error *err)
{
	char *tmp;
	int fd, ret = 0;

	tmp = ms_temp_beside(path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		ret = ms_error_errno(err, errno, "cannot create", tmp);
		goto out;
	}
	if (ms_write_all(fd, data, len) < 0)
		ret = ms_error_errno(err, errno, "cannot write", tmp);
	/* The data must be durable before the name points at it. */
	if (!ret && fsync(fd) < 0)
		ret = ms_error_errno(err, errno, "cannot sync", tmp);
	if (close(fd) < 0 && !ret)
		ret = ms_error_errno(err, errno, "cannot write", tmp);
	if (!ret && rename(tmp, path) < 0)
		ret = ms_error_errno(err, errno, "cannot rename to", path);
	if (ret)
		unlink(tmp);
out:
	free(tmp);
	return ret;
}

int ms_read_file(const char *path, size_t max, char **out, size_t *len, struct ms_error *err)
{
	struct ms_buf b = MS_BUF_INIT;
	char tmp[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return ms_error_errno(err, errno, "cannot open", path);
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			ms_buf_release(&b);
			return ms_error_errno(err, e, "cannot read", path);
		}
		if (b.len + (size_t)n > max) {
			close(fd);
			ms_buf_release(&b);
			return ms_error_set(err, MS_EFAIL, "'%s' is larger than %zu bytes", path,
			                    max);
		}
		ms_buf_add(&b, tmp, (size_t)n);
	}
	close(fd);
	if (len)
		*len = b.len;
	*out = ms_buf_detach(&b);
	return 0;
}

void ms_rmdir_upwards(const char *dir, const char *stop)
{
	char *p = xstrdup(dir);
	size_t sl = strlen(stop);

	while (strlen(p) > sl && strncmp(p, stop, sl) == 0) {
		char *slash;

		if (rmdir(p) < 0 && errno != ENOENT)
			break;
		slash = strrchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(p);
}

void ms_prune_empty_dirs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char *sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = ms_path_join(dir, de->d_name);
		ms_prune_empty_dirs(sub);
		free(sub);
	}
	closedir(d);
	rmdir(dir); /* fails, harmlessly, when something is left */
}

int ms_remove_tree(const char *path, struct ms_error *err)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : ms_error_errno(err, errno, "cannot stat", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return ms_error_errno(err, errno, "cannot remove", path);
		return 0;
	}
	d = opendir(path);
	if (!d)
		return ms_error_errno(err, errno, "cannot open directory", path);
	while (!ret && (de = readdir(d)) != NULL) {
		char *sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = ms_path_join(path, de->d_name);
		ret = ms_remove_tree(sub, err);
		free(sub);
	}
	closedir(d);
	if (!ret && rmdir(path) < 0 && errno != ENOENT)
		ret = ms_error_errno(err, errno, "cannot remove directory", path);
	return ret;
}

const char *ms_getenv(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

bool ms_env_true(const char *name)
{
	const char *v = ms_getenv(name);

	return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
	             !strcasecmp(v, "true"));
}

char *ms_home_path(const char *rel)
{
	const char *home = ms_getenv("HOME");

	return ms_path_join(home ? home : "/", rel);
}

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211u;
	return h;
}

/* The slot holding key k, or the empty slot where it would go. */
static size_t *index_slot(const struct ms_index *x, const void *base, ms_index_key_fn key,
                          const char *k)
{
	size_t m = x->cap - 1;

	for (size_t i = str_hash(k) & m;; i = (i + 1) & m)
		if (!x->slots[i] || !strcmp(key(base, x->slots[i] - 1), k))
			return &x->slots[i];
}

size_t ms_index_find(struct ms_index *x, const void *base, size_t n, ms_index_key_fn key,
                     const char *k)
{
	size_t *slot;

	if (n < x->indexed || 2 * n >= x->cap) {
		/* the array was reset, or the table is half full: rebuild */
		size_t cap = 64;

		while (cap <= 2 * n)
			cap *= 2;
		free(x->slots);
		x->slots = xcalloc(cap, sizeof(*x->slots));
		x->cap = cap;
		x->indexed = 0;
	}
	for (; x->indexed < n; x->indexed++) {
		slot = index_slot(x, base, key, key(base, x->indexed));
		if (!*slot)
			*slot = x->indexed + 1;
	}
	slot = index_slot(x, base, key, k);
	return *slot ? *slot - 1 : SIZE_MAX;
}

void ms_index_release(struct ms_index *x)
{
	free(x->slots);
	memset(x, 0, sizeof(*x));
}

char *ms_expand_path(const char *v)
{
	struct ms_buf b = MS_BUF_INIT;

	/* $VAR and ${VAR} (left as written when unset), as os.path.expandvars */
	for (const char *p = v; *p;) {
		const char *name = p + 1, *end;
		bool braced = *name == '{';
		char *key, *val;

		if (*p != '$') {
			ms_buf_addch(&b, *p++);
			continue;
		}
		if (braced)
			name++;
		for (end = name; isalnum((unsigned char)*end) || *end == '_'; end++)
			;
		if (end == name || (braced && *end != '}')) {
			ms_buf_addch(&b, *p++);
			continue;
		}
		key = xstrndup(name, (size_t)(end - name));
		val = getenv(key);
		free(key);
		if (braced)
			end++;
		if (val)
			ms_buf_adds(&b, val);
		else
			ms_buf_addf(&b, "%.*s", (int)(end - p), p);
		p = end;
	}
	if (!b.data)
		ms_buf_adds(&b, "");
	/* then a leading ~ or ~/, as os.path.expanduser (not ~user) */
	if (b.data[0] == '~' && (b.data[1] == '/' || !b.data[1])) {
		const char *home = ms_getenv("HOME");
		char *out = b.data[1] ? ms_home_path(b.data + 2) : xstrdup(home ? home : "/");

		ms_buf_release(&b);
		return out;
	}
	return b.data;
}

char *ms_absolute_path(const char *path)
{
	char *cwd, *out;
	size_t n;

	if (path[0] == '/' || !(cwd = getcwd(NULL, 0))) {
		out = xstrdup(path);
	} else {
		while (path[0] == '.' && (path[1] == '/' || !path[1])) {
			path += 1;
			path += strspn(path, "/");
		}
		out = *path ? ms_path_join(cwd, path) : xstrdup(cwd);
		free(cwd);
	}
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	return out;
}

int ms_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int ms_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	uint64_t mult = 1;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || v < 0)
		return -1;
	while (*end == ' ')
		end++;
	if (*end) {
		static const struct {
			const char *suffix;
			uint64_t mult;
		} units[] = {
		        {"b", 1},
		        {"k", 1ULL << 10},
		        {"kib", 1ULL << 10},
		        {"kb", 1000ULL},
		        {"m", 1ULL << 20},
		        {"mib", 1ULL << 20},
		        {"mb", 1000000ULL},
		        {"g", 1ULL << 30},
		        {"gib", 1ULL << 30},
		        {"gb", 1000000000ULL},
		        {"t", 1ULL << 40},
		        {"tib", 1ULL << 40},
		        {"tb", 1000000000000ULL},
		};
		size_t i;

		for (i = 0; i < MS_ARRAY_SIZE(units); i++)
			if (!strcasecmp(end, units[i].suffix))
				break;
		if (i == MS_ARRAY_SIZE(units))
			return -1;
		mult = units[i].mult;
	}
	if (v * (double)mult > 1.8e19)
		return -1;
	*out = (uint64_t)(v * (double)mult);
	return 0;
}

int ms_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < 0 || v != v)
		return -1;
	*out = v;
	return 0;
}

void ms_format_size(uint64_t n, char *out, size_t outlen)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < MS_ARRAY_SIZE(unit)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else
		snprintf(out, outlen, "%.1f %s", v, unit[u]);
}

void ms_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

bool ms_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[n] == '\0';
}

void ms_lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static volatile sig_atomic_t interrupted_flag;

void ms_set_interrupted(void)
{
	interrupted_flag = 1;
}

bool ms_interrupted(void)
{
	return interrupted_flag != 0;
}

double ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ms_sleep(double seconds)
{
	struct timespec ts;

	if (seconds <= 0)
		return;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !ms_interrupted())
		;
}

static uint64_t rng_state;

double ms_random01(void)
{
	/* xorshift64*: jitter needs spread, not secrecy */
	if (!rng_state) {
		if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
			rng_state = (uint64_t)time(NULL) ^ (uint64_t)getpid();
		rng_state |= 1;
	}
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

void ms_random_hex(char out[33])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)(ms_random01() * 256);
	ms_hex(b, sizeof(b), out);
}
