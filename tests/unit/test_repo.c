#include "mscli/hub.h"
#include "unit.h"

static int parse(const char *spec, enum ms_hub_kind hub, int type, struct ms_repo *r)
{
	struct ms_error err;

	ms_error_clear(&err);
	return ms_repo_parse(spec, hub, type, r, &err);
}

void test_repo(void)
{
	struct ms_repo r;

	CHECK(parse("Qwen/Qwen2.5-0.5B-Instruct", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_MODELSCOPE && r.type == MS_REPO_MODEL);
	CHECK_STR(r.owner, "Qwen");
	CHECK_STR(r.name, "Qwen2.5-0.5B-Instruct");
	CHECK_STR(r.id, "Qwen/Qwen2.5-0.5B-Instruct");
	CHECK(r.revision == NULL);
	ms_repo_release(&r);

	CHECK(parse("hf:org/name", MS_HUB_MODELSCOPE, -1, &r) == 0 && r.hub == MS_HUB_HF);
	ms_repo_release(&r);
	CHECK(parse("hf:datasets/org/ds@v1.0", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_HF && r.type == MS_REPO_DATASET);
	CHECK_STR(r.revision, "v1.0");
	ms_repo_release(&r);
	CHECK(parse("hf://datasets/org/ds", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_HF && r.type == MS_REPO_DATASET);
	ms_repo_release(&r);
	CHECK(parse("ms:o/n", MS_HUB_HF, 1, &r) == 0);
	CHECK(r.hub == MS_HUB_MODELSCOPE && r.type == MS_REPO_DATASET);
	ms_repo_release(&r);
	CHECK(parse("https://modelscope.cn/models/o/n", MS_HUB_HF, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_MODELSCOPE && r.type == MS_REPO_MODEL);
	ms_repo_release(&r);
	CHECK(parse("https://www.modelscope.cn/datasets/o/n/files", MS_HUB_HF, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_MODELSCOPE && r.type == MS_REPO_DATASET);
	ms_repo_release(&r);
	CHECK(parse("https://huggingface.co/datasets/o/n/tree/dev", MS_HUB_MODELSCOPE, -1, &r) ==
	      0);
	CHECK(r.hub == MS_HUB_HF && r.type == MS_REPO_DATASET);
	CHECK_STR(r.revision, "dev");
	ms_repo_release(&r);
	CHECK(parse("gpt2", MS_HUB_HF, -1, &r) == 0);
	CHECK(r.owner == NULL);
	CHECK_STR(r.id, "gpt2");
	ms_repo_release(&r);

	CHECK(parse("gpt2", MS_HUB_MODELSCOPE, -1, &r) == MS_EUSAGE);
	CHECK(parse("o/n/x", MS_HUB_MODELSCOPE, -1, &r) == MS_EUSAGE);
	CHECK(parse("o/..", MS_HUB_MODELSCOPE, -1, &r) == MS_EUSAGE);
	CHECK(parse("o/n;rm -rf", MS_HUB_MODELSCOPE, -1, &r) == MS_EUSAGE);
	CHECK(parse("/n", MS_HUB_MODELSCOPE, -1, &r) == MS_EUSAGE);
	CHECK(parse("https://evil.example/o/n", MS_HUB_MODELSCOPE, -1, &r) == MS_EUSAGE);
	CHECK(parse("hf:datasets/o/n", MS_HUB_MODELSCOPE, 0, &r) == MS_EUSAGE);
}
