/*
 * The hub registry: one struct ms_hub per hub, holding everything that
 * differs between ModelScope and Hugging Face (names, hosts, environment
 * variables, token sources, cache root, stores, protocol operations), the
 * way curl keeps each protocol behind one struct Curl_handler.  Nothing
 * outside hub-*.c and store-*.c asks which hub it is: generic code calls
 * through this struct (`make lint` checks it).
 */
#ifndef MSCLI_HUB_H
#define MSCLI_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commit.h"
#include "http.h"
#include "repo.h"
#include "strbuf.h"

struct ms_session;
struct ms_store;

/* How search results are ordered (always most first); NONE: the hub's own order. */
enum ms_search_sort {
	MS_SORT_NONE = 0,
	MS_SORT_DOWNLOADS,
	MS_SORT_LIKES,
	MS_SORT_UPDATED,
};

struct ms_search_query {
	enum ms_repo_type type;
	const char *text;     /* words in the id, or NULL */
	const char *author;   /* the owner (user or organisation), or NULL */
	char *const *filters; /* tags every result has, as the user wrote them */
	size_t nfilters;
	enum ms_search_sort sort;
	size_t limit; /* results wanted in all: the hub sizes its pages by it */
};

/* One page of results; next is where the following page is (a URL, a page number). */
struct ms_search_page {
	struct ms_meta_list results;
	char *next;  /* NULL after the last page */
	bool capped; /* more results exist than the hub will list (ModelScope stops at 3000) */
};

/*
 * A layout of a hub's cache that mscli does not write but the cache commands read and
 * manage (ModelScope: the one modelscope_hub writes).  Its store answers the cache
 * commands' ops (stat, check_list, remove, prune_partials; NULL for the others).
 */
struct ms_cache_layout {
	const char *name; /* "modelscope_hub": `cache ls --json`'s layout */
	/* Its root when --cache-dir does not name one (allocated). */
	char *(*default_root)(void);
	/* Every repo it holds at root, as cache_walk. */
	int (*walk)(const char *root, int (*fn)(void *arg, const struct ms_repo *repo), void *arg,
	            struct ms_error *err);
	struct ms_store *(*store)(const char *root, const struct ms_repo *repo);
};

/* A host that names a hub in a URL; endpoint NULL: the hub's home (options and env decide). */
struct ms_hub_host {
	const char *host;
	const char *endpoint;
};

struct ms_hub {
	const char *name;            /* "modelscope", "hf": --hub, MSCLI_HUB, messages */
	const char *title;           /* "Hugging Face": how prose names it */
	const char *const *aliases;  /* other names --hub accepts; NULL-terminated */
	const char *const *prefixes; /* repo prefixes ("hf:", "hf://"); NULL-terminated */
	const struct ms_hub_host *hosts;
	const char *default_revision;
	/* Repo ids may be one segment ("gpt2"). */
	bool single_segment_ids;
	/* Its web URLs say /models/o/n (else a model is /o/n and only datasets are marked). */
	bool url_models_segment;

	/* --- where things are (options override these) --- */
	/* The endpoint from the environment, or the default (*from_env false). */
	char *(*env_endpoint)(bool *from_env);
	/* The token from the environment; NULL when none. */
	char *(*env_token)(void);
	/* The token a login stored (where the hub's own clients keep it); NULL when none. */
	char *(*stored_token)(void);
	/* Network settings the hub's own clients read from the environment. */
	void (*env_net)(struct ms_net_opts *net, bool stall_given);
	/* The hub's own "offline" variable (HF_HUB_OFFLINE); NULL when it has none. */
	bool (*env_offline)(void);
	char *(*default_cache)(void);
	/* Headers the hub wants on requests to its own origin (after the bearer token). */
	struct curl_slist *(*extra_headers)(const struct ms_auth *auth, struct curl_slist *list);
	const char *hint_token_sent, *hint_no_token;
	/* The variables --help names for --endpoint, --cache-dir and --offline ("HF_ENDPOINT",
	 * "HF_HUB_CACHE, HF_HOME", "HF_HUB_OFFLINE=1"); NULL when there is none. */
	const char *help_endpoint_env, *help_cache_env, *help_offline_env;

	/* --- where files go --- */
	/* The cache layout at root for repo at rev (commit when known). */
	struct ms_store *(*cache_store)(const char *root, const struct ms_repo *repo,
	                                const char *rev, const char *commit);
	/* Plain files in dir (--local-dir). */
	struct ms_store *(*local_store)(const char *dir, const struct ms_repo *repo,
	                                const char *rev, const char *commit);
	/* Every repo cached at root (none when root does not exist), for the cache commands;
	 * a nonzero return of fn stops the walk and is returned. */
	int (*cache_walk)(const char *root, int (*fn)(void *arg, const struct ms_repo *repo),
	                  void *arg, struct ms_error *err);
	/* The name of the layout cache_store writes ("modelscope", "huggingface"). */
	const char *cache_layout;
	/* Other layouts of the hub's cache (NULL-terminated; NULL when none). */
	const struct ms_cache_layout *const *cache_layouts;
	/* What its clients and mscli keep for it inside a folder (a cache, a --local-dir, a
	 * download left there), never published by an upload to any hub: folders (matched as
	 * path segments), file names and endings of file names; NULL-terminated or NULL. */
	const char *const *private_dirs, *const *private_names, *const *private_suffixes;
	/* A directory inside root where mscli stages temporaries (imports), out of the way
	 * of the official clients' scanners (created when create); allocated. */
	char *(*cache_scratch)(const char *root, bool create, struct ms_error *err);

	/* --- the protocol --- */
	/* Turn a branch or tag into a commit (*commit allocated); NULL when the hub's file URLs
	 * take the revision as given. */
	int (*resolve)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	               char **commit, struct ms_error *err);
	/* Every file of repo at rev (commit when resolved), with sizes and digests. */
	int (*list)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	            const char *commit, struct ms_listing *out, struct ms_error *err);
	/*
	 * Metadata of one file without listing the repo (one request); NULL when the hub
	 * has no such call.  Sets out->commit when the hub tells; on "no such file" with a
	 * known commit, out->commit is set too.
	 */
	int (*stat_file)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	                 const char *path, struct ms_listing *out, struct ms_error *err);
	/* The URL whose GET yields the bytes of f (it may redirect to a CDN). */
	char *(*file_url)(struct ms_session *s, const struct ms_repo *repo,
	                  const struct ms_listing *l, const struct ms_file *f);
	/* For hints after a not-found answer (one request): does repo exist (folder NULL), or
	 * does its tree at rev have that folder?  false when unknown. */
	bool (*exists)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	               const char *folder);
	/* When rev was created (epoch s), for caches that record it; NULL when not offered. */
	int (*revision_created_at)(struct ms_session *s, const struct ms_repo *repo,
	                           const char *rev, long *created_at, struct ms_error *err);
	/*
	 * One page of a search (cursor NULL: the first page, else a page's next).  The
	 * author and filters go to the hub; a filter the hub cannot take is MS_EUSAGE.
	 */
	int (*search)(struct ms_session *s, const struct ms_search_query *q, const char *cursor,
	              struct ms_search_page *page, struct ms_error *err);
	/* What the hub tells of repo at rev: counts, dates, visibility, the commit. */
	int (*repo_info)(struct ms_session *s, const struct ms_repo *repo, const char *rev,
	                 struct ms_repo_meta *out, struct ms_error *err);

	/* --- accounts (login, logout, whoami) --- */
	/* Who the session's token belongs to; MS_EAUTH when the hub refuses it. */
	int (*whoami)(struct ms_session *s, struct ms_account *out, struct ms_error *err);
	/* Keep token (accepted for who) where the hub's own clients read it: files 0600 in
	 * folders 0700, written atomically; the paths written are added to written. */
	int (*token_store)(struct ms_session *s, const char *token, const struct ms_account *who,
	                   struct ms_strlist *written, struct ms_error *err);
	/* Erase what token_store wrote; the paths removed are added to removed. */
	int (*token_forget)(struct ms_strlist *removed, struct ms_error *err);
	/* The environment variable that beats a stored token ("HF_TOKEN"). */
	const char *token_env;

	/* --- uploads (upload.c drives them; commit.h has the types) --- */
	/* Create repo when it is missing (private when asked): *created; MS_EAUTH when the
	 * token may not create it there. */
	int (*repo_create)(struct ms_session *s, const struct ms_repo *repo, bool private,
	                   bool *created, struct ms_error *err);
	/* The head commit of branch (*head allocated; NULL for an empty repo), creating the
	 * branch from the default one when create and the hub allows (*created). */
	int (*branch_head)(struct ms_session *s, const struct ms_repo *repo, const char *branch,
	                   bool create, char **head, bool *created, struct ms_error *err);
	/* Each file's mode, the digest the hub names it by, and that digest of the file at
	 * the same path on branch (f->lfs, f->algo, f->remote, f->ignored).  Asked again
	 * after a failed commit, to learn whether it landed. */
	int (*upload_plan)(struct ms_session *s, const struct ms_repo *repo, const char *branch,
	                   struct ms_upfile *files, size_t n, struct ms_error *err);
	/* The digests (MS_HASHES) the plan will surely name f by, known from f alone: those
	 * files are hashed while the hub is asked.  0, or NULL: only the plan can tell. */
	unsigned (*upload_digests)(const struct ms_repo *repo, const struct ms_upfile *f);
	/* For hashed LFS files: where the bytes of each object the hub lacks go (f->put);
	 * at most lfs_batch_max at a time. */
	int (*lfs_batch)(struct ms_session *s, const struct ms_repo *repo, const char *branch,
	                 struct ms_upfile **files, size_t n, struct ms_error *err);
	size_t lfs_batch_max;
	/* After the PUTs of f's object: its answer checked, a multipart upload completed,
	 * the object verified (NULL when there is nothing to do). */
	int (*lfs_finish)(struct ms_session *s, const struct ms_repo *repo, struct ms_upfile *f,
	                  struct ms_error *err);
	/* One commit, sent once: after an error the caller reads the branch to learn whether
	 * it landed.  Regular files go inline (read from disk as the request is sent). */
	int (*commit)(struct ms_session *s, const struct ms_repo *repo, const struct ms_commit *c,
	              struct ms_commit_result *out, struct ms_error *err);
	size_t commit_max; /* files per commit; more are split into several */
	/* Where to see commit id (or the branch, id NULL) on the web (allocated). */
	char *(*commit_url)(struct ms_session *s, const struct ms_repo *repo, const char *branch,
	                    const char *id);
};

/* The registry, in the order hubs are tried and listed; the first is the default. */
extern const struct ms_hub *const ms_hubs[];
const struct ms_hub *ms_hub_default(void);
/* h's place in ms_hubs (the order repos of several hubs are listed in). */
size_t ms_hub_index(const struct ms_hub *h);
/* By name or alias; NULL when unknown. */
const struct ms_hub *ms_hub_find(const char *name);
/* "modelscope or hf", for messages. */
const char *ms_hub_names(void);
/* The hub MSCLI_HUB names (*hub NULL when it is not set); MS_EUSAGE when it names none. */
int ms_hub_from_env(const struct ms_hub **hub, struct ms_error *err);

/* How the hub passed to ms_repo_parse was chosen. */
enum ms_hub_choice {
	MS_CHOSEN_DEFAULT = 0, /* nobody chose: the default hub */
	MS_CHOSEN_BY_ENV,      /* MSCLI_HUB: a default a repo URL or prefix overrides */
	MS_CHOSEN_BY_OPTION,   /* --hub: a URL of the other hub is an error */
};

/*
 * Parse REPO as given on the command line: "o/n", a hub's prefix ("hf:o/n",
 * "hf:datasets/o/n", "hf://o/n@rev/file"), or a hub URL (https://modelscope.cn/models/o/n,
 * https://huggingface.co/o/n, https://huggingface.co/datasets/o/n, a file's page).  A
 * prefix or URL selects the hub (and, for URLs, the type) by itself; otherwise hub and type
 * (-1: not given) apply.  A URL on another host is accepted when a hub was chosen (--hub,
 * MSCLI_HUB) and names the endpoint.
 */
int ms_repo_parse(const char *spec, const struct ms_hub *hub, enum ms_hub_choice hub_given,
                  int type, struct ms_repo *out, struct ms_error *err);

/* One conversation with one hub: endpoint, token, HTTP settings. */
/* Where the session's token came from. */
enum ms_token_source {
	MS_TOKEN_NONE = 0,
	MS_TOKEN_OPTION, /* --token */
	MS_TOKEN_ENV,    /* the hub's environment variable */
	MS_TOKEN_STORED, /* what `mscli login` (or the hub's own client) stored */
	MS_TOKEN_GIVEN,  /* handed to the session (a login being checked) */
};

struct ms_session {
	const struct ms_hub *hub;
	enum ms_token_source token_source;
	char *endpoint;         /* no trailing slash */
	bool endpoint_explicit; /* given by option or env: no cn/intl probing */
	struct ms_auth auth;
	struct ms_net_opts net;
	struct ms_http http;
};

struct ms_session_opts {
	const char *endpoint; /* --endpoint, or a mirror's URL; NULL: the environment */
	const char *token;    /* --token; NULL: the environment and token files */
	struct ms_net_opts net;
	bool stall_given; /* --stall-timeout given: the hub's env variable does not apply */
};

/* Open a session with hub: endpoint and token from o, else the environment. */
int ms_session_open(struct ms_session *s, const struct ms_hub *hub, const struct ms_session_opts *o,
                    struct ms_error *err);
/* Point the session at another endpoint (the token stays bound to the new origin). */
void ms_session_set_endpoint(struct ms_session *s, const char *endpoint);
/* Where the session's token came from, for messages ("HF_TOKEN", "the saved login"). */
const char *ms_session_token_from(const struct ms_session *s);
/*
 * POST req once with body made while it is sent (commit.h), through request (the
 * hub's JSON call: *out its answer).  A file that changed under the body is the error,
 * not the request cut short.
 */
struct cJSON;
typedef int (*ms_json_request_fn)(struct ms_session *s, struct ms_http_request *req, long *status,
                                  struct cJSON **out, struct ms_error *err);
int ms_session_post_body(struct ms_session *s, struct ms_http_request *req, struct ms_body *body,
                         ms_json_request_fn request, struct cJSON **out, struct ms_error *err);
/* Use token (NULL: none) from now on: login checks the token it is given. */
void ms_session_set_token(struct ms_session *s, const char *token);
void ms_session_release(struct ms_session *s);
/* GET url on the session: true on a 200 (*resp filled; the caller releases it). */
bool ms_session_probe(struct ms_session *s, const char *url, struct ms_http_response *resp);

#endif
