/*
 * .msc and .mdl of the ModelScope cache are Python pickles
 * (modelscope-protocol.md §4.1).  We write protocol 2 without memo, which
 * pickle.loads accepts, and read the subset CPython writes for a list of
 * dicts of strings (protocols 2-5).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mscli/alloc.h"
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

enum node_kind { N_STR, N_LIST, N_DICT, N_OTHER, N_MARK };

struct node {
	enum node_kind kind;
	char *s;             /* N_STR */
	struct node **items; /* N_LIST: values; N_DICT: key, value, key, value... */
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
	if (container->kind != N_DICT && container->kind != N_LIST)
		return -1;
	if (!n)
		return 0;
	ms_grow((void **)&container->items, &container->cap, container->n + n,
	        sizeof(*container->items));
	memcpy(container->items + container->n, items, n * sizeof(*items));
	container->n += n;
	return 0;
}

/* One opcode per case: the switch is the whole machine, and reads best whole (a longer
 * function on purpose, like CPython's own load loop). */
static int run(struct vm *vm, struct node **result)
{
	const unsigned char *b;

	while (vm->p < vm->end) {
		unsigned char op = *vm->p++;
		long mark;
		struct node *n;

		/* A pickle that keeps allocating is not an .msc of sane size. */
		if (vm->nodes > 10000000)
			return -1;
		switch (op) {
		case 0x80: /* PROTO */
			if (take(vm, 1, &b))
				return -1;
			break;
		case 0x95: /* FRAME */
			if (take(vm, 8, &b))
				return -1;
			break;
		case ']': /* EMPTY_LIST */
			push(vm, new_node(vm, N_LIST));
			break;
		case '}': /* EMPTY_DICT */
			push(vm, new_node(vm, N_DICT));
			break;
		case '(': /* MARK */
			push(vm, new_node(vm, N_MARK));
			break;
		case 'N':  /* NONE */
		case 0x88: /* NEWTRUE */
		case 0x89: /* NEWFALSE */
			push(vm, new_node(vm, N_OTHER));
			break;
		case 'K': /* BININT1 */
		case 'M': /* BININT2 */
		case 'J': /* BININT */
			if (take(vm, op == 'K' ? 1 : op == 'M' ? 2 : 4, &b))
				return -1;
			push(vm, new_node(vm, N_OTHER));
			break;
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
			break;
		}
		case 0x94: /* MEMOIZE */
		{
			size_t idx = 0;

			while (idx < vm->memo_cap && vm->memo[idx])
				idx++;
			if (memo_put(vm, idx))
				return -1;
			break;
		}
		case 'q': /* BINPUT */
		case 'r': /* LONG_BINPUT */
			if (take(vm, op == 'q' ? 1 : 4, &b) ||
			    memo_put(vm, le(b, op == 'q' ? 1 : 4)))
				return -1;
			break;
		case 'h': /* BINGET */
		case 'j': /* LONG_BINGET */
			if (take(vm, op == 'h' ? 1 : 4, &b) ||
			    memo_get(vm, le(b, op == 'h' ? 1 : 4)))
				return -1;
			break;
		case 's': /* SETITEM */
			if (vm->sp < 3 ||
			    add_items(vm->stack[vm->sp - 3], &vm->stack[vm->sp - 2], 2))
				return -1;
			vm->sp -= 2;
			break;
		case 'a': /* APPEND */
			if (vm->sp < 2 ||
			    add_items(vm->stack[vm->sp - 2], &vm->stack[vm->sp - 1], 1))
				return -1;
			vm->sp -= 1;
			break;
		case 'u': /* SETITEMS */
		case 'e': /* APPENDS */
			mark = find_mark(vm);
			if (mark < 1 || add_items(vm->stack[mark - 1], &vm->stack[mark + 1],
			                          vm->sp - (size_t)mark - 1))
				return -1;
			vm->sp = (size_t)mark;
			break;
		case '.': /* STOP */
			if (vm->sp != 1)
				return -1;
			*result = vm->stack[0];
			return 0;
		default:
			return -1;
		}
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
	while (vm.allocs) {
		struct node *n = vm.allocs;

		vm.allocs = n->next_alloc;
		free(n->s);
		free(n->items);
		free(n);
	}
	free(vm.stack);
	free(vm.memo);
	return ret;
}
