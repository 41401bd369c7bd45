#include "mscli/cmd-cache.h"
static int stub(struct ms_ctx *ctx, void *state, struct ms_error *err)
{
	(void)ctx;
	(void)state;
	return ms_error_set(err, MS_EFAIL, "not yet");
}
const struct ms_cmd ms_cmd_cache_verify = {
        .name = "verify", .summary = "x", .usage = "verify", .max_args = -1, .exec = stub};
