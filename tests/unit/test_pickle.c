#include <stdbool.h>
#include <stdlib.h>

#include "mscli/pickle.h"
#include "mscli/strbuf.h"
#include "unit.h"

static size_t unhex(const char *hex, unsigned char *out)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = (unsigned char)v;
	}
	return n;
}

/* What CPython 3.11 writes for [{'Path':'a.bin','Revision':'abc'},
 * {'Path':'b/c.json','Revision':'abc'}, {'Path':'d','Revision':None}]. */
static const char *const cpython[] = {
        /* protocol 2: BINPUT memo */
        "80025d7100287d71012858040000005061746871025805000000612e62696e710358080000005265766973"
        "696f6e710458030000006162637105757d71062868025808000000622f632e6a736f6e710768046805757d"
        "7108286802580100000064710968044e75652e",
        /* protocol 4: FRAME, MEMOIZE, SHORT_BINUNICODE, BINGET */
        "8004954b000000000000005d94287d94288c0450617468948c05612e62696e948c085265766973696f6e94"
        "8c0361626394757d942868028c08622f632e6a736f6e9468046805757d942868028c01649468044e75652e",
        /* protocol 5 */
        "8005954b000000000000005d94287d94288c0450617468948c05612e62696e948c085265766973696f6e94"
        "8c0361626394757d942868028c08622f632e6a736f6e9468046805757d942868028c01649468044e75652e",
};

void test_pickle(void)
{
	unsigned char bin[512];
	struct ms_msc m = {0}, back = {0};
	struct ms_buf b = MS_BUF_INIT;
	static const unsigned char empty[] = {0x80, 0x02, ']', '(', 'e', '.'};
	static const unsigned char mdl[] =
	        "\x80\x02}(X\x02\x00\x00\x00idX\x07\x00\x00\x00o/n___xu.";

	for (size_t i = 0; i < sizeof(cpython) / sizeof(cpython[0]); i++) {
		size_t n = unhex(cpython[i], bin);

		ms_msc_release(&m);
		CHECK(ms_pickle_decode_msc(bin, n, &m) == 0);
		CHECK(m.n == 3);
		if (m.n == 3) {
			CHECK_STR(m.v[0].path, "a.bin");
			CHECK_STR(m.v[0].revision, "abc");
			CHECK_STR(m.v[1].path, "b/c.json");
			CHECK_STR(m.v[1].revision, "abc"); /* a memo reference (BINGET) */
			CHECK_STR(m.v[2].path, "d");
			CHECK(m.v[2].revision == NULL);
		}
		/* every truncation is rejected, never a crash */
		for (size_t cut = 0; cut < n; cut++) {
			struct ms_msc t = {0};

			CHECK(ms_pickle_decode_msc(bin, cut, &t) == -1);
			ms_msc_release(&t);
		}
	}

	/* Our encoding is the reference's byte layout (modelscope-protocol.md §4.1). */
	ms_pickle_encode_msc(&back, &b);
	CHECK(b.len == sizeof(empty) && !memcmp(b.data, empty, sizeof(empty)));
	ms_buf_release(&b);
	ms_pickle_encode_mdl("o/n___x", &b);
	CHECK(b.len == sizeof(mdl) - 1 && !memcmp(b.data, mdl, sizeof(mdl) - 1));
	ms_buf_release(&b);

	ms_msc_set(&back, "x/y.bin", "0123456789abcdef0123456789abcdef01234567");
	ms_msc_set(&back, "z", NULL);
	ms_msc_set(&back, "x/y.bin", "feed"); /* replaces, keeps order */
	CHECK(back.n == 2);
	ms_pickle_encode_msc(&back, &b);
	{
		static const unsigned char want[] =
		        "\x80\x02]("
		        "}(X\x04\x00\x00\x00PathX\x07\x00\x00\x00x/y.bin"
		        "X\x08\x00\x00\x00RevisionX\x04\x00\x00\x00"
		        "feedu"
		        "}(X\x04\x00\x00\x00PathX\x01\x00\x00\x00z"
		        "X\x08\x00\x00\x00RevisionNu"
		        "e.";

		CHECK(b.len == sizeof(want) - 1 && !memcmp(b.data, want, sizeof(want) - 1));
	}
	ms_msc_release(&m);
	CHECK(ms_pickle_decode_msc(b.data, b.len, &m) == 0 && m.n == 2);
	CHECK_STR(m.v[0].revision, "feed");
	CHECK(m.v[1].revision == NULL);

	/* not a list of dicts; unknown opcodes; garbage */
	ms_msc_release(&m);
	CHECK(ms_pickle_decode_msc("\x80\x02}(u.", 6, &m) == -1);
	CHECK(ms_pickle_decode_msc("\x80\x02]c__builtin__\neval\n.", 23, &m) == -1);
	CHECK(ms_pickle_decode_msc("garbage", 7, &m) == -1);
	CHECK(ms_pickle_decode_msc("\x80\x02]h\x05.", 6, &m) == -1); /* memo miss */

	ms_buf_release(&b);
	ms_msc_release(&m);
	ms_msc_release(&back);
}
