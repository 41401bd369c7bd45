/* --json: one object per line on stdout, built with cJSON. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "mscli/alloc.h"
#include "mscli/render.h"

struct ms_json {
	cJSON *o;
	struct ms_json **kids; /* ms_json_push's objects: freed with their parent */
	size_t nkids;
};

struct ms_json *ms_json_begin(const char *event)
{
	struct ms_json *j = xmalloc(sizeof(*j));

	j->o = cJSON_CreateObject();
	j->kids = NULL;
	j->nkids = 0;
	cJSON_AddStringToObject(j->o, "event", event);
	return j;
}

struct ms_json *ms_json_push(struct ms_json *j, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(j->o, key);
	struct ms_json *kid = xcalloc(1, sizeof(*kid));

	if (!a)
		a = cJSON_AddArrayToObject(j->o, key);
	kid->o = cJSON_CreateObject();
	cJSON_AddItemToArray(a, kid->o);
	j->kids = xrealloc(j->kids, (j->nkids + 1) * sizeof(*j->kids));
	j->kids[j->nkids++] = kid;
	return kid;
}

static void free_kids(struct ms_json *j)
{
	for (size_t i = 0; i < j->nkids; i++) {
		free_kids(j->kids[i]);
		free(j->kids[i]);
	}
	free(j->kids);
}

void ms_json_str(struct ms_json *j, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(j->o, key, value);
	else
		cJSON_AddNullToObject(j->o, key);
}

void ms_json_num(struct ms_json *j, const char *key, double value)
{
	cJSON_AddNumberToObject(j->o, key, value);
}

void ms_json_bool(struct ms_json *j, const char *key, bool value)
{
	cJSON_AddBoolToObject(j->o, key, value);
}

void ms_json_strv(struct ms_json *j, const char *key, char *const *values, size_t n)
{
	cJSON *a = cJSON_AddArrayToObject(j->o, key);

	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(values[i]));
}

void ms_json_raw(struct ms_json *j, const char *key, const char *json)
{
	cJSON *v = json ? cJSON_Parse(json) : NULL;

	cJSON_AddItemToObject(j->o, key, v ? v : cJSON_CreateNull());
}

void ms_json_emit(struct ms_json *j, FILE *out)
{
	char *s = cJSON_PrintUnformatted(j->o);

	if (s) {
		fputs(s, out);
		fputc('\n', out);
		fflush(out);
		cJSON_free(s);
	}
	cJSON_Delete(j->o);
	free_kids(j);
	free(j);
}

void ms_json_error(struct ms_json *j, int status, const struct ms_error *err)
{
	ms_json_str(j, "code", ms_err_name(status));
	ms_json_num(j, "exit_code", ms_err_exit_code(status));
	ms_json_str(j, "message", err->msg);
}

void ms_json_engine_event(FILE *out, const struct ms_event *ev)
{
	struct ms_json *j;

	switch (ev->type) {
	case MS_EV_PLAN:
		/* once, before any transfer: what is to be fetched (resumed files count whole) */
		j = ms_json_begin("transfer");
		ms_json_num(j, "files", (double)ev->nfiles);
		ms_json_num(j, "bytes", (double)ev->total_size);
		break;
	case MS_EV_START:
		j = ms_json_begin("start");
		ms_json_str(j, "path", ev->job->name);
		ms_json_num(j, "size", (double)ev->job->size);
		ms_json_num(j, "resumed_from", (double)ev->job->resumed_from);
		break;
	case MS_EV_PROGRESS:
		j = ms_json_begin("progress");
		if (ev->job) {
			ms_json_str(j, "path", ev->job->name);
			ms_json_num(j, "bytes", (double)ev->job_done);
			ms_json_num(j, "size", (double)ev->job->size);
		}
		ms_json_num(j, "total_bytes", (double)ev->total_done);
		ms_json_num(j, "total_size", (double)ev->total_size);
		break;
	case MS_EV_RETRY:
		j = ms_json_begin("retry");
		ms_json_str(j, "path", ev->job->name);
		ms_json_num(j, "attempt", ev->attempt);
		ms_json_num(j, "delay", ev->delay);
		ms_json_str(j, "reason", ev->reason);
		break;
	case MS_EV_ERROR:
		j = ms_json_begin("error");
		ms_json_str(j, "path", ev->job->name);
		ms_json_str(j, "code", ms_err_name(ev->job->status));
		ms_json_num(j, "exit_code", ms_err_exit_code(ev->job->status));
		ms_json_str(j, "message", ev->job->err->msg);
		break;
	default:
		return;
	}
	ms_json_emit(j, out);
}
