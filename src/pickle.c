/*
 * .msc and .mdl of the ModelScope cache are Python pickles
 * (modelscope-protocol.md §4.1), and so is the cookie jar where both
 * ModelScope clients keep a login (§3.4).  We write protocol 2 without memo,
 * which pickle.loads accepts, and read the subset CPython writes for these
 * objects (protocols 2-5).  Reading never runs anything: a GLOBAL is only a
 * name, checked against the three classes a cookie jar is made of.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
#include "mscli/common.h"
#include "mscli/index.h"
#include "mscli/pickle.h"
#include "mscli/strbuf.h"

void ms_msc_set(struct ms_msc *m, const char *path, const char *revision)
{
	struct ms_msc_entry *e = ms_msc_find(m, path);

	if (!e) {
		if (!m->index)
			m->index = xcalloc(1, sizeof(*m->index));
		ms_grow((void **)&m->v, &m->cap, m->n + 1, sizeof(*m->v));
		e = &m->v[m->n++];
		e->path = xstrdup(path);
		e->revision = NULL;
	}
	free(e->revision);
	e->revision = revision ? xstrdup(revision) : NULL;
}

static const char *entry_key(const void *base, size_t i)
{
	return ((const struct ms_msc_entry *)base)[i].path;
}

struct ms_msc_entry *ms_msc_find(const struct ms_msc *m, const char *path)
{
	size_t i;

	/* every entry comes through ms_msc_set, which keeps the index */
	if (!m->n || !m->index)
		return NULL;
	i = ms_index_find(m->index, m->v, m->n, entry_key, path);
	return i == SIZE_MAX ? NULL : &m->v[i];
}

void ms_msc_remove(struct ms_msc *m, const char *path)
{
	struct ms_msc_entry *e = ms_msc_find(m, path);
	size_t i;

	if (!e)
		return;
	i = (size_t)(e - m->v);
	free(e->path);
	free(e->revision);
	memmove(e, e + 1, (m->n - i - 1) * sizeof(*e));
	m->n--; /* fewer entries than indexed: the next lookup rebuilds the index */
}

void ms_msc_release(struct ms_msc *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].path);
		free(m->v[i].revision);
	}
	free(m->v);
	if (m->index)
		ms_index_release(m->index);
	free(m->index);
	memset(m, 0, sizeof(*m));
}

static void put_str(struct ms_buf *out, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	unsigned char hdr[5] = {'X', (unsigned char)n, (unsigned char)(n >> 8),
	                        (unsigned char)(n >> 16), (unsigned char)(n >> 24)};

	ms_buf_add(out, hdr, sizeof(hdr));
	ms_buf_add(out, s, n);
}

void ms_pickle_encode_msc(const struct ms_msc *m, struct ms_buf *out)
{
	/* PROTO 2, EMPTY_LIST, MARK */
	ms_buf_add(out, "\x80\x02](", 4);
	for (size_t i = 0; i < m->n; i++) {
		ms_buf_add(out, "}(", 2); /* EMPTY_DICT, MARK */
		put_str(out, "Path");
		put_str(out, m->v[i].path);
		put_str(out, "Revision");
		if (m->v[i].revision)
			put_str(out, m->v[i].revision);
		else
			ms_buf_addch(out, 'N');
		ms_buf_addch(out, 'u'); /* SETITEMS */
	}
	ms_buf_add(out, "e.", 2); /* APPENDS, STOP */
}

void ms_pickle_encode_mdl(const char *id, struct ms_buf *out)
{
	ms_buf_add(out, "\x80\x02}(", 4);
	put_str(out, "id");
	put_str(out, id);
	ms_buf_add(out, "u.", 2);
}

/* ---- decoding ---- */

enum node_kind { N_STR, N_LIST, N_DICT, N_OTHER, N_MARK, N_INT, N_TUPLE, N_GLOBAL, N_OBJ };

struct node {
	enum node_kind kind;
	char *s;             /* N_STR; N_GLOBAL, N_OBJ: "module.name" */
	int64_t i;           /* N_INT */
	struct node **items; /* N_LIST, N_TUPLE: values; N_DICT: key, value...; N_OBJ: its state */
	size_t n, cap;
	struct node *next_alloc;
};

struct vm {
	const unsigned char *p, *end;
	struct node **stack;
	size_t sp, stack_cap;
	struct node **memo;
	size_t memo_cap;
	struct node *allocs;
	size_t nodes;
};

static struct node *new_node(struct vm *vm, enum node_kind kind)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->next_alloc = vm->allocs;
	vm->allocs = n;
	vm->nodes++;
	return n;
}

static void push(struct vm *vm, struct node *n)
{
	ms_grow((void **)&vm->stack, &vm->stack_cap, vm->sp + 1, sizeof(*vm->stack));
	vm->stack[vm->sp++] = n;
}

static int take(struct vm *vm, size_t n, const unsigned char **out)
{
	if ((size_t)(vm->end - vm->p) < n)
		return -1;
	*out = vm->p;
	vm->p += n;
	return 0;
}

static uint64_t le(const unsigned char *b, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = (v << 8) | b[i];
	return v;
}

static int memo_put(struct vm *vm, uint64_t idx)
{
	if (!vm->sp || idx > (1u << 24))
		return -1;
	if (idx >= vm->memo_cap) {
		size_t old = vm->memo_cap;

		ms_grow((void **)&vm->memo, &vm->memo_cap, idx + 1, sizeof(*vm->memo));
		memset(vm->memo + old, 0, (vm->memo_cap - old) * sizeof(*vm->memo));
	}
	vm->memo[idx] = vm->stack[vm->sp - 1];
	return 0;
}

static int memo_get(struct vm *vm, uint64_t idx)
{
	if (idx >= vm->memo_cap || !vm->memo[idx])
		return -1;
	push(vm, vm->memo[idx]);
	return 0;
}

/* Index of the topmost MARK on the stack, or -1. */
static long find_mark(struct vm *vm)
{
	for (size_t i = vm->sp; i-- > 0;)
		if (vm->stack[i]->kind == N_MARK)
			return (long)i;
	return -1;
}

static int add_items(struct node *container, struct node **items, size_t n)
{
	if (container->kind == N_DICT && n % 2)
		return -1;
	if (container->kind != N_DICT && container->kind != N_LIST && container->kind != N_TUPLE)
		return -1;
	if (!n)
		return 0;
	ms_grow((void **)&container->items, &container->cap, container->n + n,
	        sizeof(*container->items));
	memcpy(container->items + container->n, items, n * sizeof(*items));
	container->n += n;
	return 0;
}

static int64_t signed_le(const unsigned char *b, size_t n)
{
	uint64_t v = le(b, n);

	if (n && n < 8 && (b[n - 1] & 0x80))
		v |= ~(uint64_t)0 << (8 * n); /* sign-extend */
	return (int64_t)v;
}

/* The items from stack[from] to the top become one tuple. */
static int make_tuple(struct vm *vm, size_t from)
{
	struct node *t;

	if (from > vm->sp)
		return -1;
	t = new_node(vm, N_TUPLE);
	if (add_items(t, &vm->stack[from], vm->sp - from))
		return -1;
	vm->sp = from;
	push(vm, t);
	return 0;
}

/* Only the classes a requests cookie jar is made of: anything else is not ours to read. */
static const char *const known_globals[] = {
        "requests.cookies.RequestsCookieJar",
        "http.cookiejar.DefaultCookiePolicy",
        "http.cookiejar.Cookie",
};

static int push_global(struct vm *vm, const char *module, size_t ml, const char *name, size_t nl)
{
	struct node *g;
	char *full = xasprintf("%.*s.%.*s", (int)ml, module, (int)nl, name);

	for (size_t i = 0; i < MS_ARRAY_SIZE(known_globals); i++) {
		if (!strcmp(full, known_globals[i])) {
			g = new_node(vm, N_GLOBAL);
			g->s = full;
			push(vm, g);
			return 0;
		}
	}
	free(full);
	return -1;
}

static int global_inline(struct vm *vm)
{
	const unsigned char *nl1 = memchr(vm->p, '\n', (size_t)(vm->end - vm->p)), *nl2;

	if (!nl1 || !(nl2 = memchr(nl1 + 1, '\n', (size_t)(vm->end - nl1 - 1))))
		return -1;
	if (push_global(vm, (const char *)vm->p, (size_t)(nl1 - vm->p), (const char *)nl1 + 1,
	                (size_t)(nl2 - nl1 - 1)))
		return -1;
	vm->p = nl2 + 1;
	return 0;
}

static int global_stack(struct vm *vm)
{
	struct node *m, *n;

	if (vm->sp < 2)
		return -1;
	m = vm->stack[vm->sp - 2];
	n = vm->stack[vm->sp - 1];
	if (m->kind != N_STR || n->kind != N_STR)
		return -1;
	vm->sp -= 2;
	return push_global(vm, m->s, strlen(m->s), n->s, strlen(n->s));
}

/* The opcodes of objects (the cookie jar): classes by name only, never called. 0 done,
 * -1 an error or an opcode this reader does not take. */
static int object_op(struct vm *vm, unsigned char op)
{
	const unsigned char *b;
	struct node *n;
	long mark;

	switch (op) {
	case 0x8a: /* LONG1: little-endian two's complement */
		if (take(vm, 1, &b) || *b > 8 || take(vm, *b, &b))
			return -1;
		n = new_node(vm, N_INT);
		n->i = signed_le(b, (size_t)b[-1]);
		push(vm, n);
		break;
	case 'G': /* BINFLOAT */
		if (take(vm, 8, &b))
			return -1;
		push(vm, new_node(vm, N_OTHER));
		break;
	case ')': /* EMPTY_TUPLE */
		push(vm, new_node(vm, N_TUPLE));
		break;
	case 0x85: /* TUPLE1 */
	case 0x86: /* TUPLE2 */
	case 0x87: /* TUPLE3 */
		if (make_tuple(vm, vm->sp - (size_t)(op - 0x84)))
			return -1;
		break;
	case 't': /* TUPLE */
		mark = find_mark(vm);
		if (mark < 0 || make_tuple(vm, (size_t)mark + 1))
			return -1;
		vm->stack[mark] = vm->stack[vm->sp - 1];
		vm->sp = (size_t)mark + 1;
		break;
	case 'c':  /* GLOBAL module\nname\n */
	case 0x93: /* STACK_GLOBAL */
		if (op == 'c' ? global_inline(vm) : global_stack(vm))
			return -1;
		break;
	case 0x81: /* NEWOBJ: cls args */
		if (vm->sp < 2 || vm->stack[vm->sp - 2]->kind != N_GLOBAL)
			return -1;
		n = new_node(vm, N_OBJ);
		n->s = xstrdup(vm->stack[vm->sp - 2]->s);
		vm->sp -= 2;
		push(vm, n);
		break;
	case 'b': /* BUILD: obj state */
		if (vm->sp < 2 || vm->stack[vm->sp - 2]->kind != N_OBJ || vm->stack[vm->sp - 2]->n)
			return -1;
		n = vm->stack[vm->sp - 2];
		ms_grow((void **)&n->items, &n->cap, 1, sizeof(*n->items));
		n->items[n->n++] = vm->stack[--vm->sp];
		break;
	default:
		return -1;
	}
	return 0;
}

/* Opcodes that push a value (or only set the protocol up).  1: not one of them. */
static int value_op(struct vm *vm, unsigned char op)
{
	const unsigned char *b;
	struct node *n;

	switch (op) {
	case 0x80: /* PROTO */
		return take(vm, 1, &b) ? -1 : 0;
	case 0x95: /* FRAME */
		return take(vm, 8, &b) ? -1 : 0;
	case ']': /* EMPTY_LIST */
		push(vm, new_node(vm, N_LIST));
		return 0;
	case '}': /* EMPTY_DICT */
		push(vm, new_node(vm, N_DICT));
		return 0;
	case '(': /* MARK */
		push(vm, new_node(vm, N_MARK));
		return 0;
	case 'N':  /* NONE */
	case 0x88: /* NEWTRUE */
	case 0x89: /* NEWFALSE */
		push(vm, new_node(vm, N_OTHER));
		return 0;
	case 'K': /* BININT1 */
	case 'M': /* BININT2 */
	case 'J': /* BININT */
		if (take(vm, op == 'K' ? 1 : op == 'M' ? 2 : 4, &b))
			return -1;
		n = new_node(vm, N_INT);
		n->i = op == 'J' ? (int32_t)le(b, 4) : (int64_t)le(b, op == 'K' ? 1 : 2);
		push(vm, n);
		return 0;
	case 0x8c: /* SHORT_BINUNICODE */
	case 'X':  /* BINUNICODE */
	case 0x8d: /* BINUNICODE8 */
	{
		size_t lw = op == 0x8c ? 1 : op == 'X' ? 4 : 8;
		uint64_t len;

		if (take(vm, lw, &b))
			return -1;
		len = le(b, lw);
		if (len > (uint64_t)(vm->end - vm->p) || take(vm, (size_t)len, &b))
			return -1;
		n = new_node(vm, N_STR);
		n->s = xstrndup((const char *)b, (size_t)len);
		push(vm, n);
		return 0;
	}
	default:
		return 1;
	}
}

/* The memo and filling containers.  1: not one of them. */
static int container_op(struct vm *vm, unsigned char op)
{
	const unsigned char *b;
	long mark;

	switch (op) {
	case 0x94: /* MEMOIZE */
	{
		size_t idx = 0;

		while (idx < vm->memo_cap && vm->memo[idx])
			idx++;
		return memo_put(vm, idx) ? -1 : 0;
	}
	case 'q': /* BINPUT */
	case 'r': /* LONG_BINPUT */
		return take(vm, op == 'q' ? 1 : 4, &b) || memo_put(vm, le(b, op == 'q' ? 1 : 4))
		               ? -1
		               : 0;
	case 'h': /* BINGET */
	case 'j': /* LONG_BINGET */
		return take(vm, op == 'h' ? 1 : 4, &b) || memo_get(vm, le(b, op == 'h' ? 1 : 4))
		               ? -1
		               : 0;
	case 's': /* SETITEM */
		if (vm->sp < 3 || add_items(vm->stack[vm->sp - 3], &vm->stack[vm->sp - 2], 2))
			return -1;
		vm->sp -= 2;
		return 0;
	case 'a': /* APPEND */
		if (vm->sp < 2 || add_items(vm->stack[vm->sp - 2], &vm->stack[vm->sp - 1], 1))
			return -1;
		vm->sp -= 1;
		return 0;
	case 'u': /* SETITEMS */
	case 'e': /* APPENDS */
		mark = find_mark(vm);
		if (mark < 1 ||
		    add_items(vm->stack[mark - 1], &vm->stack[mark + 1], vm->sp - (size_t)mark - 1))
			return -1;
		vm->sp = (size_t)mark;
		return 0;
	default:
		return 1;
	}
}

static int run(struct vm *vm, struct node **result)
{
	while (vm->p < vm->end) {
		unsigned char op = *vm->p++;
		int r;

		/* A pickle that keeps allocating is not an .msc of sane size. */
		if (vm->nodes > 10000000)
			return -1;
		if (op == '.') { /* STOP */
			if (vm->sp != 1)
				return -1;
			*result = vm->stack[0];
			return 0;
		}
		if ((r = value_op(vm, op)) == 1 && (r = container_op(vm, op)) == 1)
			r = object_op(vm, op);
		if (r)
			return -1;
	}
	return -1;
}

static const char *dict_str(const struct node *d, const char *key)
{
	for (size_t i = 0; i + 1 < d->n; i += 2)
		if (d->items[i]->kind == N_STR && !strcmp(d->items[i]->s, key))
			return d->items[i + 1]->kind == N_STR ? d->items[i + 1]->s : NULL;
	return NULL;
}

static void vm_release(struct vm *vm)
{
	while (vm->allocs) {
		struct node *n = vm->allocs;

		vm->allocs = n->next_alloc;
		free(n->s);
		free(n->items);
		free(n);
	}
	free(vm->stack);
	free(vm->memo);
}

int ms_pickle_decode_msc(const void *data, size_t len, struct ms_msc *out)
{
	struct vm vm = {.p = data, .end = (const unsigned char *)data + len};
	struct node *root = NULL;
	int ret = run(&vm, &root);

	if (!ret && root->kind != N_LIST)
		ret = -1;
	for (size_t i = 0; !ret && i < root->n; i++) {
		const struct node *d = root->items[i];
		const char *path;

		if (d->kind != N_DICT)
			continue;
		path = dict_str(d, "Path");
		if (path)
			ms_msc_set(out, path, dict_str(d, "Revision"));
	}
	vm_release(&vm);
	return ret;
}

/* ---- the cookie jar (modelscope-protocol.md §3.4) ---- */

static void put_int(struct ms_buf *out, int64_t v)
{
	unsigned char b[10];

	if (v >= INT32_MIN && v <= INT32_MAX) {
		uint32_t u = (uint32_t)(int32_t)v;

		b[0] = 'J';
		for (int i = 0; i < 4; i++)
			b[1 + i] = (unsigned char)(u >> (8 * i));
		ms_buf_add(out, b, 5);
		return;
	}
	b[0] = 0x8a; /* LONG1, 8 bytes */
	b[1] = 8;
	for (int i = 0; i < 8; i++)
		b[2 + i] = (unsigned char)((uint64_t)v >> (8 * i));
	ms_buf_add(out, b, 10);
}

/* GLOBAL, EMPTY_TUPLE, NEWOBJ, EMPTY_DICT, MARK: an object whose state follows. */
static void put_object(struct ms_buf *out, const char *module, const char *name)
{
	ms_buf_addf(out, "c%s\n%s\n)\x81}(", module, name);
}

static void put_key(struct ms_buf *out, const char *key, const char *raw)
{
	put_str(out, key);
	ms_buf_adds(out, raw);
}

/* What `pickle.dump(resp.cookies)` of a login writes, byte for byte the same objects:
 * a RequestsCookieJar with its DefaultCookiePolicy and one host-only Cookie. */
void ms_pickle_encode_cookie_jar(const char *host, const char *name, const char *value,
                                 int64_t expires, int64_t now, struct ms_buf *out)
{
	ms_buf_add(out, "\x80\x02", 2);
	put_object(out, "requests.cookies", "RequestsCookieJar");
	put_str(out, "_policy");
	put_object(out, "http.cookiejar", "DefaultCookiePolicy");
	put_key(out, "netscape", "\x88");
	put_key(out, "rfc2965", "\x89");
	put_key(out, "rfc2109_as_netscape", "N");
	put_key(out, "hide_cookie2", "\x89");
	put_key(out, "strict_domain", "\x89");
	put_key(out, "strict_rfc2965_unverifiable", "\x88");
	put_key(out, "strict_ns_unverifiable", "\x89");
	put_str(out, "strict_ns_domain");
	ms_buf_add(out, "K\0", 2);
	put_key(out, "strict_ns_set_initial_dollar", "\x89");
	put_key(out, "strict_ns_set_path", "\x89");
	put_str(out, "secure_protocols");
	put_str(out, "https");
	put_str(out, "wss");
	ms_buf_addch(out, (char)0x86); /* TUPLE2 */
	put_key(out, "_blocked_domains", ")");
	put_key(out, "_allowed_domains", "N");
	ms_buf_add(out, "ub", 2);
	/* _cookies: {host: {"/": {name: Cookie}}} */
	put_str(out, "_cookies");
	ms_buf_addch(out, '}');
	put_str(out, host);
	ms_buf_addch(out, '}');
	put_str(out, "/");
	ms_buf_addch(out, '}');
	put_str(out, name);
	put_object(out, "http.cookiejar", "Cookie");
	put_str(out, "version");
	ms_buf_add(out, "K\0", 2);
	put_str(out, "name");
	put_str(out, name);
	put_str(out, "value");
	put_str(out, value);
	put_key(out, "port", "N");
	put_key(out, "port_specified", "\x89");
	put_str(out, "domain");
	put_str(out, host);
	put_key(out, "domain_specified", "\x89");
	put_key(out, "domain_initial_dot", "\x89");
	put_str(out, "path");
	put_str(out, "/");
	put_key(out, "path_specified", "\x88");
	put_key(out, "secure", "\x89");
	put_str(out, "expires");
	put_int(out, expires);
	put_key(out, "discard", "\x89");
	put_key(out, "comment", "N");
	put_key(out, "comment_url", "N");
	put_key(out, "rfc2109", "\x89");
	put_key(out, "_rest", "}");
	ms_buf_add(out, "ubsss", 5); /* the Cookie built, then the three nested dicts */
	put_str(out, "_now");
	put_int(out, now);
	ms_buf_add(out, "ub.", 3);
}

static const struct node *dict_get(const struct node *d, const char *key)
{
	if (!d || d->kind != N_DICT)
		return NULL;
	for (size_t i = 0; i + 1 < d->n; i += 2)
		if (d->items[i]->kind == N_STR && !strcmp(d->items[i]->s, key))
			return d->items[i + 1];
	return NULL;
}

/* Depth-first through dicts, lists and object states for the Cookie named name.  The
 * depth is bounded: memo references can make a graph of what should be a tree. */
static const struct node *find_cookie(const struct node *n, const char *name, int depth)
{
	const struct node *v;

	if (!n || depth > 12)
		return NULL;
	if (n->kind == N_OBJ && !strcmp(n->s, "http.cookiejar.Cookie") && n->n) {
		v = dict_get(n->items[0], "name");
		if (v && v->kind == N_STR && !strcmp(v->s, name))
			return n->items[0];
		return NULL;
	}
	if (n->kind != N_DICT && n->kind != N_LIST && n->kind != N_TUPLE && n->kind != N_OBJ)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if ((v = find_cookie(n->items[i], name, depth + 1)) != NULL)
			return v;
	return NULL;
}

int ms_pickle_decode_cookie(const void *data, size_t len, const char *name, char **value,
                            int64_t *expires)
{
	struct vm vm = {.p = data, .end = (const unsigned char *)data + len};
	struct node *root = NULL;
	const struct node *c, *v, *e;
	int ret = run(&vm, &root);

	*value = NULL;
	*expires = -1;
	if (ret)
		goto out;
	if (root->kind != N_OBJ || strcmp(root->s, "requests.cookies.RequestsCookieJar")) {
		ret = -1;
		goto out;
	}
	c = find_cookie(root, name, 0);
	v = dict_get(c, "value");
	e = dict_get(c, "expires");
	if (!v || v->kind != N_STR) {
		ret = 1;
		goto out;
	}
	*value = xstrdup(v->s);
	if (e && e->kind == N_INT)
		*expires = e->i;
out:
	vm_release(&vm);
	return ret;
}
