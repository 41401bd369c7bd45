#include "mscli/filter.h"
#include "unit.h"

void test_filter(void)
{
	struct ms_filter f = {0};

	/* Python fnmatch semantics: '*' crosses '/', case-sensitive */
	CHECK(ms_glob_match("*.json", "config.json"));
	CHECK(ms_glob_match("*.json", "sub/dir/x.json"));
	CHECK(ms_glob_match("data/*.json", "data/sub/x.json"));
	CHECK(!ms_glob_match("*.JSON", "config.json"));
	CHECK(ms_glob_match("model-0000[1-2]-*", "model-00001-of-00004.safetensors"));
	CHECK(!ms_glob_match("model-0000[!1]-*", "model-00001-of-00004.safetensors"));
	CHECK(ms_glob_match("a\\b", "a\\b")); /* no escapes, like Python */
	/* modelscope_hub accepts regex-style ".*" as "*" */
	CHECK(ms_glob_match(".*\\.bin", "x\\.bin"));
	CHECK(ms_glob_match("model.*", "model.safetensors"));

	CHECK(ms_filter_empty(&f));
	CHECK(ms_filter_match(&f, "anything"));
	ms_filter_add(&f, true, "*.json,*.txt");
	ms_filter_add(&f, true, "onnx/");
	ms_filter_add(&f, false, "secret*");
	CHECK(!ms_filter_empty(&f));
	CHECK(f.ninclude == 3);
	CHECK_STR(f.include[2], "onnx/*");
	CHECK(ms_filter_match(&f, "config.json"));
	CHECK(ms_filter_match(&f, "notes.txt"));
	CHECK(ms_filter_match(&f, "onnx/model.onnx"));
	CHECK(!ms_filter_match(&f, "model.bin"));
	CHECK(!ms_filter_match(&f, "secret.json"));
	ms_filter_release(&f);

	ms_filter_add(&f, false, "*.bin");
	CHECK(ms_filter_match(&f, "a.json"));
	CHECK(!ms_filter_match(&f, "w/a.bin"));
	ms_filter_add(&f, true, " , ,"); /* empty pieces are ignored */
	CHECK(f.ninclude == 0);
	ms_filter_release(&f);
}
