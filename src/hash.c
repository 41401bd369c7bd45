/* Digests on OpenSSL EVP. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mscli/alloc.h"
#include "mscli/hash.h"
#include "mscli/parse.h"

/*
 * The digests, fetched from their provider once: OpenSSL 3 looks up a digest
 * named by EVP_sha256() again at each init (locks, a property query), a few
 * microseconds each time, and a download inits one or two per file.
 */
static EVP_MD *fetched_sha256, *fetched_sha1;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void)
{
	fetched_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	fetched_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static const EVP_MD *digest(enum ms_hash_algo algo)
{
	pthread_once(&fetch_once, fetch_digests);
	if (algo == MS_HASH_GITSHA1)
		return fetched_sha1 ? fetched_sha1 : EVP_sha1();
	return fetched_sha256 ? fetched_sha256 : EVP_sha256();
}

int ms_hasher_init(struct ms_hasher *h, enum ms_hash_algo algo, uint64_t size)
{
	const EVP_MD *md = digest(algo);

	h->algo = algo;
	if (!h->ctx)
		h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, md, NULL))
		return -1;
	if (algo == MS_HASH_GITSHA1) {
		/* git hashes the object header too: "blob <size>\0" */
		char hdr[48];
		int n = snprintf(hdr, sizeof(hdr), "blob %llu", (unsigned long long)size);

		EVP_DigestUpdate(h->ctx, hdr, (size_t)n + 1);
	}
	return 0;
}

void ms_hasher_update(struct ms_hasher *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

void ms_hasher_final(struct ms_hasher *h, char hex[MS_HEX_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	EVP_DigestFinal_ex(h->ctx, md, &len);
	ms_hex(md, len, hex);
}

void ms_hasher_release(struct ms_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

const char *ms_hash_name(enum ms_hash_algo algo)
{
	switch (algo) {
	case MS_HASH_SHA256:
		return "sha256";
	case MS_HASH_GITSHA1:
		return "git-sha1";
	default:
		return "none";
	}
}

size_t ms_hash_hexlen(enum ms_hash_algo algo)
{
	return algo == MS_HASH_SHA256 ? 64 : algo == MS_HASH_GITSHA1 ? 40 : 0;
}

enum ms_hash_algo ms_hash_algo_for_hex(const char *hex)
{
	size_t n = hex ? strlen(hex) : 0;

	if (n == 64 && ms_is_hex(hex, n))
		return MS_HASH_SHA256;
	if (n == 40 && ms_is_hex(hex, n))
		return MS_HASH_GITSHA1;
	return MS_HASH_NONE;
}

/*
 * Reading for a digest without copying: the bytes are mapped straight from
 * the page cache and SHA-256 reads the cache's own pages.  pread() would copy
 * every byte out first; on 512 MiB in the page cache that copy was a fifth of
 * the hashing CPU (0.395 s with 256 KiB preads, 0.316 s mapped in 4 MiB
 * windows, one core of this 2-core VM).
 *
 * A mapped file cut short under the mapping faults with SIGBUS where pread
 * would just return less.  The fault is caught on the thread that is
 * hashing (sigsetjmp, a thread-local guard) and becomes -EIO: a file that
 * changed while it was read.  A SIGBUS anywhere else keeps its default.
 */
#define MAP_WINDOW (4u << 20)
#define COPY_BLOCK (256u << 10)
/* Less than this is copied: a mapping costs three calls and a fault where pread costs one. */
#define MAP_MIN (64u << 10)

/*
 * Which way is faster depends on the machine: in another VM, this one's
 * successor, mapping made SHA-256 read at 900 MB/s against 1560 MB/s through
 * 256 KiB preads (its page-table walks are dear; a hot buffer is not).  So
 * the first windows a process hashes are read both ways in turn, each timed
 * in its thread's CPU time (what it cost, not how long others ran), and once
 * each way has read LEARN_BYTES the cheaper per byte is kept for the rest of
 * the process.
 */
enum read_way { WAY_LEARNING, WAY_MAPPED, WAY_COPIED };
#define LEARN_BYTES (8u << 20)

static pthread_mutex_t way_lock = PTHREAD_MUTEX_INITIALIZER;
static enum read_way way = WAY_LEARNING;
static uint64_t learnt_ns[2], learnt_bytes[2]; /* [0] mapped, [1] copied */

void ms_hash_read_way(int w)
{
	pthread_mutex_lock(&way_lock);
	way = w == 1 ? WAY_MAPPED : w == 2 ? WAY_COPIED : WAY_LEARNING;
	memset(learnt_ns, 0, sizeof(learnt_ns));
	memset(learnt_bytes, 0, sizeof(learnt_bytes));
	pthread_mutex_unlock(&way_lock);
}

/* The way for the next window; *learning: it is to be timed (learnt()). */
static enum read_way next_way(bool *learning)
{
	enum read_way w;

	pthread_mutex_lock(&way_lock);
	*learning = way == WAY_LEARNING;
	w = !*learning ? way : learnt_bytes[0] <= learnt_bytes[1] ? WAY_MAPPED : WAY_COPIED;
	pthread_mutex_unlock(&way_lock);
	return w;
}

static uint64_t thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void learnt(enum read_way w, uint64_t ns, uint64_t bytes)
{
	int i = w == WAY_MAPPED ? 0 : 1;

	pthread_mutex_lock(&way_lock);
	if (way == WAY_LEARNING && bytes) {
		learnt_ns[i] += ns;
		learnt_bytes[i] += bytes;
		if (learnt_bytes[0] >= LEARN_BYTES && learnt_bytes[1] >= LEARN_BYTES)
			way = (double)learnt_ns[0] / (double)learnt_bytes[0] <=
			                      (double)learnt_ns[1] / (double)learnt_bytes[1]
			              ? WAY_MAPPED
			              : WAY_COPIED;
	}
	pthread_mutex_unlock(&way_lock);
}

static __thread sigjmp_buf *volatile map_guard;
static pthread_once_t map_once = PTHREAD_ONCE_INIT;
static long page;

static void on_sigbus(int sig)
{
	sigjmp_buf *g = map_guard;

	if (g)
		siglongjmp(*g, 1);
	/* not ours (another fault, or a kill -BUS): what SIGBUS does by default */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void map_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	page = sysconf(_SC_PAGESIZE);
}

static void feed(struct ms_hasher *h, int nh, const void *p, size_t n)
{
	for (int i = 0; i < nh; i++)
		ms_hasher_update(&h[i], p, n);
}

/* The copying way, for what cannot be mapped. */
static int64_t feed_copied(struct ms_hasher *h, int nh, int fd, uint64_t off, uint64_t len)
{
	unsigned char *buf = xmalloc(COPY_BLOCK);
	uint64_t done = 0;

	while (done < len) {
		size_t want = len - done < COPY_BLOCK ? (size_t)(len - done) : COPY_BLOCK;
		ssize_t n = pread(fd, buf, want, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				int e = errno;

				free(buf);
				return -e;
			}
			break;
		}
		feed(h, nh, buf, (size_t)n);
		done += (uint64_t)n;
	}
	free(buf);
	return (int64_t)done;
}

/* One window mapped and fed: 0, or -EIO when the file was cut short under it. */
static int feed_mapped(struct ms_hasher *h, int nh, unsigned char *m, size_t mlen, size_t skip)
{
	sigjmp_buf env;

	madvise(m, mlen, MADV_SEQUENTIAL);
	if (sigsetjmp(env, 1)) {
		map_guard = NULL;
		munmap(m, mlen);
		return -EIO; /* the digests saw part of the window */
	}
	map_guard = &env;
	feed(h, nh, m + skip, mlen - skip);
	map_guard = NULL;
	munmap(m, mlen);
	return 0;
}

int64_t ms_hasher_feed_fd(struct ms_hasher *h, int nh, int fd, uint64_t off, uint64_t len)
{
	uint64_t done = 0;
	bool ended = false;

	pthread_once(&map_once, map_setup);
	while (done < len) {
		uint64_t at = off + done, start = at & ~(uint64_t)(page - 1), want = len - done, t0;
		enum read_way w;
		bool learning;
		struct stat st;
		void *m;

		if (fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode))
			break; /* copied */
		if ((uint64_t)st.st_size <= at) {
			ended = true; /* a short count, as pread would say */
			break;
		}
		if (want > (uint64_t)st.st_size - at)
			want = (uint64_t)st.st_size - at;
		if (want > MAP_WINDOW)
			want = MAP_WINDOW;
		if (want < MAP_MIN)
			break; /* copied */
		w = next_way(&learning);
		t0 = learning ? thread_ns() : 0; /* a system call: only while learning */
		if (w == WAY_COPIED) {
			int64_t r = feed_copied(h, nh, fd, at, want);

			if (r < 0)
				return r;
			if (learning)
				learnt(w, thread_ns() - t0, (uint64_t)r);
			done += (uint64_t)r;
			if ((uint64_t)r < want) {
				ended = true;
				break;
			}
			continue;
		}
		m = mmap(NULL, (size_t)(at - start + want), PROT_READ, MAP_SHARED, fd,
		         (off_t)start);
		if (m == MAP_FAILED)
			break; /* copied */
		if (feed_mapped(h, nh, m, (size_t)(at - start + want), (size_t)(at - start)) < 0)
			return -EIO;
		if (learning)
			learnt(w, thread_ns() - t0, want);
		done += want;
	}
	if (done < len && !ended) {
		int64_t r = feed_copied(h, nh, fd, off + done, len - done);

		return r < 0 ? r : r + (int64_t)done;
	}
	return (int64_t)done;
}

int ms_hash_file(const char *path, enum ms_hash_algo algo, char hex[MS_HEX_MAX],
                 struct ms_error *err)
{
	struct ms_hasher h = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int64_t n;
	int ret = 0;

	if (fd < 0)
		return ms_error_errno(err, errno, "cannot open", path);
	if (fstat(fd, &st) < 0 || ms_hasher_init(&h, algo, (uint64_t)st.st_size) < 0) {
		close(fd);
		ms_hasher_release(&h);
		return ms_error_set(err, MS_EFAIL, "cannot hash '%s'", path);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	n = ms_hasher_feed_fd(&h, 1, fd, 0, (uint64_t)st.st_size);
	if (n < 0)
		ret = ms_error_errno(err, (int)-n, "cannot read", path);
	else if ((uint64_t)n != (uint64_t)st.st_size)
		ret = ms_error_set(err, MS_EFAIL, "'%s' changed while it was read", path);
	else
		ms_hasher_final(&h, hex);
	close(fd);
	ms_hasher_release(&h);
	return ret;
}

void ms_sha256_hex(const void *p, size_t n, char hex[MS_HEX_MAX])
{
	unsigned char md[32];
	unsigned int len = sizeof(md);

	EVP_Digest(p, n, md, &len, digest(MS_HASH_SHA256), NULL);
	ms_hex(md, len, hex);
}
