#include "mscli/hub.h"
#include "unit.h"

#define MS_HUB_MODELSCOPE ms_hub_find("modelscope")
#define MS_HUB_HF         ms_hub_find("hf")

static int parse(const char *spec, const struct ms_hub *hub, int type, struct ms_repo *r)
{
	struct ms_error err;

	ms_error_clear(&err);
	return ms_repo_parse(spec, hub, MS_CHOSEN_DEFAULT, type, r, &err);
}

static int parse_given(const char *spec, const struct ms_hub *hub, struct ms_repo *r)
{
	struct ms_error err;

	ms_error_clear(&err);
	return ms_repo_parse(spec, hub, MS_CHOSEN_BY_OPTION, -1, r, &err);
}

/* URLs: the host picks hub and endpoint; the tail picks revision and file */
static void test_repo_urls(void)
{
	struct ms_repo r;

	CHECK(parse("https://huggingface.co/o/n", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_HF && r.endpoint == NULL && r.file == NULL && !r.revision);
	ms_repo_release(&r);
	CHECK(parse("https://hf-mirror.com/o/n", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_HF);
	CHECK_STR(r.endpoint, "https://hf-mirror.com");
	ms_repo_release(&r);
	CHECK(parse("https://huggingface.co/o/n/blob/main/sub/config.json", MS_HUB_MODELSCOPE, -1,
	            &r) == 0);
	CHECK_STR(r.id, "o/n");
	CHECK_STR(r.revision, "main");
	CHECK_STR(r.file, "sub/config.json");
	ms_repo_release(&r);
	CHECK(parse("https://huggingface.co/o/n/resolve/refs%2Fpr%2F1/a%20b.txt", MS_HUB_MODELSCOPE,
	            -1, &r) == 0);
	CHECK_STR(r.revision, "refs/pr/1");
	CHECK_STR(r.file, "a b.txt");
	ms_repo_release(&r);
	CHECK(parse("https://huggingface.co/gpt2/resolve/main/config.json", MS_HUB_MODELSCOPE, -1,
	            &r) == 0);
	CHECK_STR(r.id, "gpt2");
	CHECK_STR(r.file, "config.json");
	ms_repo_release(&r);
	CHECK(parse("https://huggingface.co/datasets/o/n/resolve/main/x/../../e", MS_HUB_HF, -1,
	            &r) == MS_EUSAGE);
	CHECK(parse("https://modelscope.cn/models/o/n/file/view/master/README.md", MS_HUB_HF, -1,
	            &r) == 0);
	CHECK(r.hub == MS_HUB_MODELSCOPE && r.endpoint == NULL);
	CHECK_STR(r.revision, "master");
	CHECK_STR(r.file, "README.md");
	ms_repo_release(&r);
	CHECK(parse("https://www.modelscope.ai/models/o/n", MS_HUB_HF, -1, &r) == 0);
	CHECK_STR(r.endpoint, "https://www.modelscope.ai");
	ms_repo_release(&r);
	CHECK(parse("https://modelscope.cn/models/o/n/summary", MS_HUB_HF, -1, &r) == 0);
	ms_repo_release(&r);
	CHECK(parse("https://modelscope.cn/models/o/n/what", MS_HUB_HF, -1, &r) == MS_EUSAGE);
	/* another host: only when the hub was chosen, and then it is the endpoint */
	CHECK(parse("http://127.0.0.1:8080/o/n", MS_HUB_HF, -1, &r) == MS_EUSAGE);
	CHECK(parse_given("http://127.0.0.1:8080/o/n", MS_HUB_HF, &r) == 0);
	CHECK(r.hub == MS_HUB_HF);
	CHECK_STR(r.endpoint, "http://127.0.0.1:8080");
	CHECK_STR(r.id, "o/n");
	ms_repo_release(&r);
	CHECK(parse_given("https://mirror.example/models/o/n", MS_HUB_MODELSCOPE, &r) == 0);
	CHECK_STR(r.endpoint, "https://mirror.example");
	ms_repo_release(&r);
	CHECK(parse_given("https://huggingface.co/o/n", MS_HUB_MODELSCOPE, &r) == MS_EUSAGE);
	CHECK(parse("ftp://huggingface.co/o/n", MS_HUB_HF, -1, &r) == MS_EUSAGE);
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
	CHECK(parse("datasets/o/n", MS_HUB_HF, -1, &r) == 0);
	CHECK(r.type == MS_REPO_DATASET && r.hub == MS_HUB_HF);
	CHECK_STR(r.id, "o/n");
	ms_repo_release(&r);
	CHECK(parse("models/o/n", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(r.type == MS_REPO_MODEL);
	CHECK_STR(r.id, "o/n");
	ms_repo_release(&r);
	CHECK(parse("hf:datasets/squad", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(r.type == MS_REPO_DATASET);
	CHECK_STR(r.id, "squad");
	ms_repo_release(&r);
	/* an owner called "datasets" with a one-segment path stays an owner */
	CHECK(parse("datasets/x", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK_STR(r.id, "datasets/x");
	ms_repo_release(&r);
	test_repo_urls();
	/* the spellings users paste (issue 9) */
	CHECK(parse("hf://datasets/o/n@main/README.md", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_HF && r.type == MS_REPO_DATASET);
	CHECK_STR(r.revision, "main");
	CHECK_STR(r.file, "README.md");
	ms_repo_release(&r);
	CHECK(parse("hf://o/n/sub/config.json", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK(!r.revision && r.file && !strcmp(r.file, "sub/config.json") && !strcmp(r.id, "o/n"));
	ms_repo_release(&r);
	CHECK(parse("hf:o/n@refs/pr/1/a/b.txt", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK_STR(r.revision, "refs/pr/1");
	CHECK_STR(r.file, "a/b.txt");
	ms_repo_release(&r);
	CHECK(parse("o/n@feature%2Fx", MS_HUB_MODELSCOPE, -1, &r) == 0);
	CHECK_STR(r.revision, "feature/x");
	CHECK(r.file == NULL);
	ms_repo_release(&r);
	CHECK(parse("o/n@main/../../etc/passwd", MS_HUB_MODELSCOPE, -1, &r) == MS_EUSAGE);
	CHECK(parse("https://modelscope.cn/models/o/n/file/view/"
	            "master?fileName=config.json&status=1",
	            MS_HUB_HF, -1, &r) == 0);
	CHECK(r.hub == MS_HUB_MODELSCOPE);
	CHECK_STR(r.revision, "master");
	CHECK_STR(r.file, "config.json");
	ms_repo_release(&r);
	/* MSCLI_HUB is a default a hub's URL overrides; --hub is not */
	{
		struct ms_error err;

		CHECK(ms_repo_parse("https://modelscope.cn/models/o/n", MS_HUB_HF, MS_CHOSEN_BY_ENV,
		                    -1, &r, &err) == 0 &&
		      r.hub == MS_HUB_MODELSCOPE);
		ms_repo_release(&r);
		CHECK(ms_repo_parse("https://modelscope.cn/models/o/n", MS_HUB_HF,
		                    MS_CHOSEN_BY_OPTION, -1, &r, &err) == MS_EUSAGE);
		CHECK(ms_repo_parse("https://mirror.example/o/n", MS_HUB_HF, MS_CHOSEN_BY_ENV, -1,
		                    &r, &err) == 0 &&
		      r.endpoint && !strcmp(r.endpoint, "https://mirror.example"));
		ms_repo_release(&r);
		CHECK(ms_hub_find("HF") == MS_HUB_HF && ms_hub_find("HuggingFace") == MS_HUB_HF);
	}
}
