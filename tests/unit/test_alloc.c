/*
 * test_alloc.c -- every allocation of the core fails in turn
 *
 * The program is linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc,--wrap=strdup,--wrap=free (fuzz/fuzz.am), so every
 * allocation the core makes goes through fa_*() below; jansson's go there
 * through json_set_alloc_funcs().  The core hashes with its own SHA-256
 * (src/core/sha256.c), which allocates nothing.  No allocation of the core
 * is rewritten.
 *
 * A walk runs one piece of work once to count its allocations (after a
 * warm-up run, so that lazily built tables exist), then again for every N
 * from 1 to that count with the N-th allocation failing.
 * Every run must either come back with an error -- the error the daemon
 * maps to OnInternalError for a message, or keeps the running config for a
 * reload -- or give exactly what the run without a failure gave; no run
 * may crash, and every block a run allocated must be freed when it ends
 * (the wrappers track the live blocks).  The pieces of work:
 *   - a whole message through the core as the daemon drives it: HELO,
 *     MAIL, RCPT checks, every header field, the end of headers, the body
 *     walk with the part header checks, pol_decide() and rpl_build() at
 *     each stage, and a decision event (evt_decision()) wherever there are
 *     findings and at the end of the message;
 *   - a config load (cfg_load()) with a TrustedNetworks file, the socket
 *     from -p (cfg_set_socket()) and cfg_free().
 * Messages: tests/data/alloc/hostile.eml (a finding at every stage) and
 * two messages of the ham corpus; envelopes: tests/data/alloc/envelope.tsv.
 */
#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tu.h"
#include "../../fuzz/msg.h"
#include "core/body.h"
#include "core/cfg.h"
#include "core/envelope.h"
#include "core/event.h"
#include "core/finding.h"
#include "core/hdr.h"
#include "core/policy.h"
#include "core/reply.h"

/* --- the failing allocator --------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t m, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

#define FA_LIVE_MAX 65536	/* open addressing: a power of two */

static struct {
	bool armed;		/* counting and tracking */
	unsigned long count;	/* allocations since armed */
	unsigned long fail_at;	/* 0: none fails */
	unsigned long failed;	/* allocations refused */
	void *live[FA_LIVE_MAX];	/* blocks allocated while armed */
	size_t nlive;
} fa;

static size_t
fa_slot(const void *p)
{
	return ((uintptr_t)p >> 4) * 2654435761u & (FA_LIVE_MAX - 1);
}

static void
fa_track(void *p)
{
	size_t i = fa_slot(p);

	if (p == NULL || !fa.armed)
		return;
	if (fa.nlive + 1 >= FA_LIVE_MAX)
		abort();	/* the table is for a test's few thousand blocks */
	while (fa.live[i] != NULL)
		i = (i + 1) & (FA_LIVE_MAX - 1);
	fa.live[i] = p;
	fa.nlive++;
}

/* Forget p; true if it was tracked. */
static bool
fa_untrack(void *p)
{
	size_t i = fa_slot(p);

	if (p == NULL || fa.nlive == 0)
		return false;
	while (fa.live[i] != NULL) {
		if (fa.live[i] == p) {
			/* re-insert the rest of the cluster */
			fa.live[i] = NULL;
			fa.nlive--;
			for (size_t j = (i + 1) & (FA_LIVE_MAX - 1); fa.live[j] != NULL;
			     j = (j + 1) & (FA_LIVE_MAX - 1)) {
				void *q = fa.live[j];
				size_t k = fa_slot(q);

				fa.live[j] = NULL;
				while (fa.live[k] != NULL)
					k = (k + 1) & (FA_LIVE_MAX - 1);
				fa.live[k] = q;
			}
			return true;
		}
		i = (i + 1) & (FA_LIVE_MAX - 1);
	}
	return false;
}

/* True if this allocation is the one that fails. */
static bool
fa_fails(void)
{
	if (!fa.armed)
		return false;
	if (++fa.count == fa.fail_at) {
		fa.failed++;
		return true;
	}
	return false;
}

void *
__wrap_malloc(size_t n)
{
	void *p;

	if (fa_fails())
		return NULL;
	p = __real_malloc(n);
	fa_track(p);
	return p;
}

void *
__wrap_calloc(size_t m, size_t n)
{
	void *p;

	if (fa_fails())
		return NULL;
	p = __real_calloc(m, n);
	fa_track(p);
	return p;
}

void *
__wrap_realloc(void *p, size_t n)
{
	void *q;

	if (fa_fails())
		return NULL;
	q = __real_realloc(p, n);
	if (q != NULL) {
		bool was = fa_untrack(p);

		if (was || p == NULL)
			fa_track(q);
	}
	return q;
}

char *
__wrap_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = __wrap_malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

void
__wrap_free(void *p)
{
	fa_untrack(p);
	__real_free(p);
}

static void
fa_arm(unsigned long fail_at)
{
	memset(fa.live, 0, sizeof(fa.live));
	fa.nlive = 0;
	fa.armed = true;
	fa.count = 0;
	fa.failed = 0;
	fa.fail_at = fail_at;
}

static void
fa_disarm(void)
{
	fa.armed = false;
}

/* --- a whole message through the core ------------------------------------ */

struct walk_msg {
	const char *label;
	const char *msg;
	size_t len;
	struct tu_case *env;
	size_t nenv;
};

/* What one run produced: every event line, or the error. */
struct outcome {
	int error;		/* -1: an internal error (OnInternalError) */
	char *events;		/* the event lines, concatenated */
	size_t len;
};

struct run {
	const struct policy *pol;
	struct outcome *out;
	struct finding_list f;	/* the current stage's */
	struct finding_list part;	/* from the body's part headers */
	const char *helo, *sender;
	size_t helo_len, sender_len;
	struct hdr_state hdr;
	struct body_ctx body;
	char value[1 << 16];
};

static void
outcome_add(struct outcome *o, const char *line)
{
	size_t n = strlen(line);
	char *e = __real_realloc(o->events, o->len + n + 1);

	ck_assert_ptr_nonnull(e);
	memcpy(e + o->len, line, n + 1);
	o->events = e;
	o->len += n;
}

/* outcome_add() with the allocator neither counting nor failing. */
static void
outcome_add_quiet(struct outcome *o, const char *line)
{
	bool armed = fa.armed;

	fa.armed = false;
	outcome_add(o, line);
	fa.armed = armed;
}

/* Decide the stage, build its event: what callbacks.c does at a stage. */
static int
decide(struct run *r, enum rule_stage stage, bool always)
{
	struct evt_time t = { 1795000000, 0 };
	struct evt_context ctx = { 0 };
	struct pol_verdict v;
	struct reply rp;
	bool has_reply;
	char *line;

	if (r->f.count == 0 && r->f.dropped == 0 && !always)
		return 0;
	pol_decide(r->pol, &r->f, &v);
	has_reply = rpl_build(r->pol, v.action, stage, v.has_rule, v.applied_rule, &rp);
	ctx.host = "mx.example.org";
	ctx.session = "S1";
	ctx.client_ip = "192.0.2.1";
	ctx.client_port = 25;
	ctx.helo = r->helo;
	ctx.helo_len = r->helo_len;
	ctx.sender = r->sender;
	ctx.sender_len = r->sender_len;
	ctx.message = 1;
	ctx.sample_max = 64;
	ctx.trusted = true;
	ctx.overrides[0] = "country:GB mail.* action=reject";
	ctx.noverrides = 1;
	ctx.country = "GB";
	ctx.asn = 1221;
	ctx.as_org = "Example AS";
	ctx.body_seen = stage == STAGE_EOM;
	ctx.body_scanned = body_scanned(&r->body);
	line = evt_decision(&t, &ctx, stage, r->pol, &v, &r->f, has_reply ? &rp : NULL);
	if (line == NULL)
		return -1;
	outcome_add_quiet(r->out, line);
	free(line);
	finding_list_init(&r->f);
	return 0;
}

static void
on_part_header(void *arg, const char *name, size_t name_len, const char *value,
	       size_t value_len, size_t value_total_len, unsigned depth,
	       const struct mime_ct *ct)
{
	struct run *r = arg;

	hdr_check_part_field(&r->pol->limits, name, name_len, value, value_len,
			     value_total_len, ct, &r->part);
}

static void
on_nesting(void *arg, unsigned depth)
{
	struct run *r = arg;

	finding_add(&r->part, RULE_MIME_NESTING_DEPTH, "body", NULL, 0, 0, depth,
		    r->pol->limits.limit[RULE_MIME_NESTING_DEPTH], NULL);
}

static void
on_smuggling(void *arg, size_t offset)
{
	struct run *r = arg;

	finding_add(&r->part, RULE_BODY_SMUGGLING, "body", NULL, 0, offset, 0,
		    RULE_NO_LIMIT, NULL);
}

static const struct body_handler handler = { on_part_header, on_nesting,
	on_smuggling, NULL };

static int
run_message(const struct policy *pol, const struct walk_msg *m,
	    struct outcome *out, struct run *r)
{
	struct env_mail_info mail = { 0 };
	struct env_arg args[TU_COLS_MAX];
	unsigned long rcpt_no = 0;
	struct fmsg fm;
	struct fmsg_field fld;
	const char *body;
	size_t body_len;

	memset(r, 0, offsetof(struct run, value));
	r->pol = pol;
	r->out = out;
	finding_list_init(&r->f);
	finding_list_init(&r->part);
	for (size_t i = 0; i < m->nenv; i++) {
		const struct tu_case *c = &m->env[i];
		const char *stage = c->col[0].s;
		size_t nargs = c->ncols - 1;

		for (size_t a = 0; a < nargs; a++) {
			args[a].s = c->col[a + 1].s;
			args[a].len = c->col[a + 1].len;
		}
		if (strcmp(stage, "helo") == 0) {
			r->helo = args[0].s;
			r->helo_len = args[0].len;
			env_check_helo(&pol->limits, args[0].s, args[0].len, &r->f);
			if (decide(r, STAGE_HELO, false) < 0)
				return -1;
		} else if (strcmp(stage, "mail") == 0) {
			r->sender = args[0].s;
			r->sender_len = args[0].len;
			env_check_mail(&pol->limits, args, nargs, &r->f, &mail);
			if (decide(r, STAGE_MAIL, false) < 0)
				return -1;
		} else {
			env_check_rcpt(&pol->limits, args, nargs, &mail, ++rcpt_no, &r->f);
			if (decide(r, STAGE_RCPT, false) < 0)
				return -1;
		}
	}
	hdr_init(&r->hdr);
	fmsg_init(&fm, m->msg, m->len);
	while (fmsg_next(&fm, r->value, sizeof(r->value), &fld) == 1)
		hdr_check_field(&pol->limits, &r->hdr, fld.name, fld.name_len,
				fld.value, fld.value_len, &r->f);
	hdr_check_end(&pol->limits, &r->hdr, &r->f);
	if (decide(r, STAGE_EOH, false) < 0)
		return -1;
	body = fmsg_body(&fm, &body_len);
	body_init(&r->body, r->hdr.ct_seen ? &r->hdr.ct : NULL, 20, 0);
	body_feed(&r->body, body, body_len, &handler, r);
	body_finish(&r->body, &handler, r);
	finding_list_append(&r->f, &r->part);
	return decide(r, STAGE_EOM, true);
}

/* --- a config load ------------------------------------------------------- */

static const char trusted_file[] = "192.0.2.0/24\n2001:db8::/32\n198.51.100.7\n";

static int
read_trusted(void *arg, const char *path, char **buf_r, size_t *len_r,
	     char *err, size_t errsize)
{
	*buf_r = malloc(sizeof(trusted_file));
	if (*buf_r == NULL) {
		snprintf(err, errsize, "%s: out of memory", path);
		return -1;
	}
	memcpy(*buf_r, trusted_file, sizeof(trusted_file));
	*len_r = sizeof(trusted_file) - 1;
	return 0;
}

static int
run_config(const char *text, size_t len, struct outcome *out)
{
	struct cfg_reader reader = { read_trusted, NULL };
	struct cfg_error err;
	struct cfg *cfg;
	char buf[1024];

	if (cfg_load(text, len, "alloc.conf", &reader, &cfg, &err) < 0 ||
	    cfg_set_socket(cfg, "unix:/run/milter-guard/test.sock", &err) < 0) {
		ck_assert_msg(err.msg[0] != '\0', "a failed load without a message");
		cfg_free(&cfg);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s %s %s %s %lu %zu %zu %d\n", cfg->socket,
		 cfg->user, cfg->audit_log, cfg->syslog_facility,
		 cfg->sample_length, cfg->clients.trusted.count,
		 cfg->clients.noverrides, (int)cfg->policy.on_internal_error);
	outcome_add_quiet(out, buf);
	cfg_free(&cfg);
	return 0;
}

/* --- the walks ------------------------------------------------------------ */

static void
outcome_free(struct outcome *o)
{
	__real_free(o->events);
	memset(o, 0, sizeof(*o));
}

/* Run work with allocation fail_at failing (0: none); check that what it
   allocated is freed. */
typedef int (*work_fn)(void *arg, struct outcome *out);

static int
run_once(work_fn work, void *arg, unsigned long fail_at, struct outcome *out,
	 unsigned long *count_r)
{
	memset(out, 0, sizeof(*out));
	fa_arm(fail_at);
	out->error = work(arg, out);
	fa_disarm();
	if (count_r != NULL)
		*count_r = fa.count;
	ck_assert_msg(fa.nlive == 0, "allocation %lu failing: %zu blocks not freed",
		      fail_at, fa.nlive);
	return out->error;
}

/* Returns the number of allocations walked. */
static unsigned long
walk(const char *label, work_fn work, void *arg)
{
	struct outcome clean, o;
	unsigned long total, errors = 0;

	memset(&clean, 0, sizeof(clean));		/* warm-up, not tracked */
	ck_assert_int_eq(work(arg, &clean), 0);
	outcome_free(&clean);
	ck_assert_int_eq(run_once(work, arg, 0, &clean, &total), 0);
	ck_assert_msg(total > 0, "%s: no allocation to fail", label);
	for (unsigned long n = 1; n <= total; n++) {
		run_once(work, arg, n, &o, NULL);
		ck_assert_msg(fa.failed == 1, "%s: allocation %lu never came", label, n);
		if (o.error < 0)
			errors++;
		else
			ck_assert_msg(o.len == clean.len &&
				      memcmp(o.events, clean.events, clean.len) == 0,
				      "%s: allocation %lu of %lu failed, no error came "
				      "back, and the result differs", label, n, total);
		outcome_free(&o);
	}
	/* one past the last: nothing fails, the same result */
	run_once(work, arg, total + 1, &o, NULL);
	ck_assert_int_eq(o.error, 0);
	ck_assert_msg(o.len == clean.len && memcmp(o.events, clean.events, clean.len) == 0,
		      "%s: the result changes from run to run", label);
	outcome_free(&o);
	outcome_free(&clean);
	printf("%s: %lu allocations failed in turn, %lu errors, no crash, no leak\n",
	       label, total, errors);
	return total;
}

struct msg_work {
	struct policy pol;
	struct walk_msg m;
	struct run r;
};

static int
message_work(void *arg, struct outcome *out)
{
	struct msg_work *w = arg;

	return run_message(&w->pol, &w->m, out, &w->r);
}

static void
walk_message(const char *path, const char *label)
{
	struct msg_work *w = __real_calloc(1, sizeof(*w));

	ck_assert_ptr_nonnull(w);
	pol_init(&w->pol);
	w->m.label = label;
	w->m.msg = tu_read(path, &w->m.len);
	w->m.nenv = tu_cases(tu_data_path("alloc/envelope.tsv"), &w->m.env);
	ck_assert_uint_gt(walk(label, message_work, w), 10);
	tu_cases_free(w->m.env, w->m.nenv);
	free((void *)w->m.msg);
	__real_free(w);
}

static const char *
ham_path(const char *name)
{
	static char path[4096];
	const char *shared = getenv("SHARED_DIR");

	ck_assert_msg(shared != NULL, "SHARED_DIR is not set");
	snprintf(path, sizeof(path), "%s/corpus/ham/%s", shared, name);
	return path;
}

START_TEST(every_allocation_of_a_hostile_message_fails_cleanly)
{
	walk_message(tu_data_path("alloc/hostile.eml"), "hostile.eml");
}
END_TEST

START_TEST(every_allocation_of_ham_messages_fails_cleanly)
{
	walk_message(ham_path("cpython--data_msg_46.txt.eml"), "ham msg_46 (message/rfc822)");
	walk_message(ham_path("cpython--data_msg_02.txt.eml"), "ham msg_02 (multipart)");
}
END_TEST

START_TEST(hashing_a_finding_allocates_nothing)
{
	static struct finding_list list;
	static char value[70000];
	struct finding *f;

	memset(value, 'x', sizeof(value));
	finding_list_init(&list);
	fa_arm(1);		/* the first allocation would fail */
	f = finding_add(&list, RULE_MAIL_PATH_LENGTH, "sender", value,
			sizeof(value), 300, sizeof(value), 256, NULL);
	fa_disarm();		/* (Check's assertions allocate) */
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fa.count, 0);
	ck_assert(list.items[0].has_sha256);
}
END_TEST

struct cfg_work {
	char *text;
	size_t len;
};

static int
config_work(void *arg, struct outcome *out)
{
	struct cfg_work *w = arg;

	return run_config(w->text, w->len, out);
}

START_TEST(every_allocation_of_a_config_load_fails_cleanly)
{
	struct cfg_work w;

	w.text = tu_read(tu_data_path("alloc/config.conf"), &w.len);
	ck_assert_uint_gt(walk("config.conf", config_work, &w), 5);
	free(w.text);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("failing allocations");

	/* before anything allocates through them */
	json_set_alloc_funcs(__wrap_malloc, __wrap_free);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, every_allocation_of_a_hostile_message_fails_cleanly);
	tcase_add_test(tc, every_allocation_of_ham_messages_fails_cleanly);
	tcase_add_test(tc, every_allocation_of_a_config_load_fails_cleanly);
	tcase_add_test(tc, hashing_a_finding_allocates_nothing);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
