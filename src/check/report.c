/*
 * report.c -- results of milter-guard-check: states, aggregation, output
 *
 * See report.h.  Text is built in a growing buffer (struct sbuf) that fails
 * cleanly when memory runs out; JSON goes through jansson, which sees only
 * escaped (printable ASCII) strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/esc.h"
#include "report.h"

static const char *const state_names[] = {
	[REPORT_OK] = "OK",
	[REPORT_WARNING] = "WARNING",
	[REPORT_CRITICAL] = "CRITICAL",
	[REPORT_UNKNOWN] = "UNKNOWN",
};

/* How bad a state is, for the aggregate: CRITICAL > WARNING > UNKNOWN > OK. */
static const int state_rank[] = {
	[REPORT_OK] = 0,
	[REPORT_UNKNOWN] = 1,
	[REPORT_WARNING] = 2,
	[REPORT_CRITICAL] = 3,
};

/* Perfdata labels of the counts, in output order. */
static const struct {
	const char *label;
	enum report_state state;
} count_labels[] = {
	{ "critical", REPORT_CRITICAL },
	{ "warning", REPORT_WARNING },
	{ "unknown", REPORT_UNKNOWN },
	{ "ok", REPORT_OK },
};

#define NCOUNTS (sizeof(count_labels) / sizeof(count_labels[0]))

/* Grow *p (of *cap elements of size sz) to hold n + 1; -1 on failure. */
static int
grow(void **p, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 8 : *cap * 2;
	np = realloc(*p, ncap * sz);
	if (np == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

/* The pipe written for a '|' of the text: in monitoring-plugin output a
   '|' on any line starts performance data, so a banner holding one could
   feed the monitoring system values of its own. */
static const char pipe_escape[] = "\\x7c";

/* esc_bytes() of src, with each '|' as pipe_escape; never cut inside an
   escape. */
static void
copy_escaped(char *dst, size_t size, const char *src, size_t len)
{
	size_t at = 0, used, done;
	const char *bar;

	for (;;) {
		bar = memchr(src, '|', len);
		used = esc_bytes(src, bar != NULL ? (size_t)(bar - src) : len, dst + at,
				 size - at, &done);
		at += used;
		if (bar == NULL || src + done != bar ||
		    size - at < sizeof(pipe_escape))
			return;
		memcpy(dst + at, pipe_escape, sizeof(pipe_escape));
		at += sizeof(pipe_escape) - 1;
		len -= (size_t)(bar - src) + 1;
		src = bar + 1;
	}
}

void
report_init(struct report *r, const char *check)
{
	memset(r, 0, sizeof(*r));
	copy_escaped(r->check, sizeof(r->check), check, strlen(check));
}

void
report_deinit(struct report *r)
{
	free(r->results);
	free(r->facts);
	free(r->perf);
	memset(r, 0, sizeof(*r));
}

int
report_add(struct report *r, enum report_state state, const char *id,
	   const char *fix, const char *fmt, ...)
{
	struct report_result *res;
	char raw[REPORT_TEXT_MAX];
	va_list ap;
	int n;

	if (grow((void **)&r->results, &r->results_cap, r->nresults, sizeof(*res)) < 0) {
		r->lost = 1;
		return -1;
	}
	res = &r->results[r->nresults++];
	memset(res, 0, sizeof(*res));
	res->state = state <= REPORT_UNKNOWN ? state : REPORT_UNKNOWN;
	copy_escaped(res->id, sizeof(res->id), id, strlen(id));
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		raw[0] = '\0';
	copy_escaped(res->msg, sizeof(res->msg), raw, strlen(raw));
	if (fix != NULL)
		copy_escaped(res->fix, sizeof(res->fix), fix, strlen(fix));
	return 0;
}

int
report_fact(struct report *r, const char *name, const char *value, size_t len)
{
	struct report_fact *f;

	if (grow((void **)&r->facts, &r->facts_cap, r->nfacts, sizeof(*f)) < 0)
		return -1;
	f = &r->facts[r->nfacts++];
	copy_escaped(f->name, sizeof(f->name), name, strlen(name));
	copy_escaped(f->value, sizeof(f->value), value, len);
	return 0;
}

int
report_perf(struct report *r, const char *label, double value, const char *uom)
{
	struct report_perf *p;
	size_t i;

	if (grow((void **)&r->perf, &r->perf_cap, r->nperf, sizeof(*p)) < 0)
		return -1;
	p = &r->perf[r->nperf++];
	copy_escaped(p->label, sizeof(p->label), label, strlen(label));
	/* perfdata labels: no blanks, quotes or '=' */
	for (i = 0; p->label[i] != '\0'; i++)
		if (p->label[i] == ' ' || p->label[i] == '\'' || p->label[i] == '=')
			p->label[i] = '_';
	p->value = value;
	copy_escaped(p->uom, sizeof(p->uom), uom, strlen(uom));
	return 0;
}

enum report_state
report_state(const struct report *r)
{
	enum report_state worst = REPORT_OK;
	size_t i;

	if (r->nresults == 0)
		return REPORT_UNKNOWN;
	for (i = 0; i < r->nresults; i++)
		if (state_rank[r->results[i].state] > state_rank[worst])
			worst = r->results[i].state;
	if (r->lost && worst == REPORT_OK)
		worst = REPORT_UNKNOWN;
	return worst;
}

const char *
report_state_name(enum report_state s)
{
	return s <= REPORT_UNKNOWN ? state_names[s] : "UNKNOWN";
}

size_t
report_count(const struct report *r, enum report_state s)
{
	size_t i, n = 0;

	for (i = 0; i < r->nresults; i++)
		n += r->results[i].state == s;
	return n;
}

/* ---- a growing string ------------------------------------------------ */

struct sbuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t need;
	char *ns;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	need = b->len + (size_t)n + 1;
	if (need > b->cap) {
		ns = realloc(b->s, need * 2);
		if (ns == NULL) {
			b->failed = 1;
			return;
		}
		b->s = ns;
		b->cap = need * 2;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static char *
sb_finish(struct sbuf *b)
{
	if (b->failed || b->s == NULL) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

static void
upper(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = (char)(src[i] >= 'a' && src[i] <= 'z' ? src[i] - 32 : src[i]);
	dst[i] = '\0';
}

/* The first result in the worst state: what the summary line names. */
static const struct report_result *
headline(const struct report *r)
{
	enum report_state worst = report_state(r);
	size_t i;

	for (i = 0; i < r->nresults; i++)
		if (r->results[i].state == worst)
			return &r->results[i];
	return NULL;
}

static void
summary(struct sbuf *b, const struct report *r)
{
	const struct report_result *h = headline(r);
	char check[REPORT_NAME_MAX];
	size_t i;

	upper(check, sizeof(check), r->check);
	sb_printf(b, "MILTER-GUARD %s %s - ", check, report_state_name(report_state(r)));
	if (h == NULL && r->lost)
		sb_printf(b, "out of memory: results were lost");
	else if (h == NULL)
		sb_printf(b, "nothing was checked");
	else if (report_state(r) == REPORT_OK)
		sb_printf(b, "%zu checks passed", r->nresults);
	else
		sb_printf(b, "%s", h->msg);
	sb_printf(b, " (%zu critical, %zu warning, %zu unknown, %zu ok) |",
		  report_count(r, REPORT_CRITICAL), report_count(r, REPORT_WARNING),
		  report_count(r, REPORT_UNKNOWN), report_count(r, REPORT_OK));
	for (i = 0; i < NCOUNTS; i++)
		sb_printf(b, " %s=%zu;;;0", count_labels[i].label,
			  report_count(r, count_labels[i].state));
	for (i = 0; i < r->nperf; i++)
		sb_printf(b, " %s=%g%s;;;", r->perf[i].label, r->perf[i].value, r->perf[i].uom);
}

char *
report_summary_r(const struct report *r)
{
	struct sbuf b = { 0 };

	summary(&b, r);
	return sb_finish(&b);
}

char *
report_text_r(const struct report *r)
{
	struct sbuf b = { 0 };
	size_t i;

	summary(&b, r);
	sb_printf(&b, "\n");
	for (i = 0; i < r->nresults; i++) {
		const struct report_result *res = &r->results[i];

		sb_printf(&b, "%-8s  %s: %s\n", report_state_name(res->state), res->id, res->msg);
		if (res->fix[0] != '\0')
			sb_printf(&b, "%-8s  fix: %s\n", "", res->fix);
	}
	return sb_finish(&b);
}

char *
report_json_r(const struct report *r)
{
	json_t *o = json_object(), *results = json_array(), *facts = json_object();
	json_t *perf = json_object();
	char *line = report_summary_r(r), *out = NULL, *s;
	enum report_state st = report_state(r);
	size_t i, len;

	if (o == NULL || results == NULL || facts == NULL || perf == NULL || line == NULL)
		goto done;
	json_object_set_new(o, "check", json_string(r->check));
	json_object_set_new(o, "status", json_string(report_state_name(st)));
	json_object_set_new(o, "exit_code", json_integer((json_int_t)st));
	json_object_set_new(o, "summary", json_string(line));
	for (i = 0; i < r->nresults; i++) {
		const struct report_result *res = &r->results[i];
		json_t *j = json_object();

		if (j == NULL)
			goto done;
		json_object_set_new(j, "id", json_string(res->id));
		json_object_set_new(j, "status", json_string(report_state_name(res->state)));
		json_object_set_new(j, "message", json_string(res->msg));
		if (res->fix[0] != '\0')
			json_object_set_new(j, "fix", json_string(res->fix));
		json_array_append_new(results, j);
	}
	for (i = 0; i < NCOUNTS; i++)
		json_object_set_new(perf, count_labels[i].label,
				    json_integer((json_int_t)report_count(r, count_labels[i].state)));
	for (i = 0; i < r->nperf; i++)
		json_object_set_new(perf, r->perf[i].label, json_real(r->perf[i].value));
	for (i = 0; i < r->nfacts; i++)
		json_object_set_new(facts, r->facts[i].name, json_string(r->facts[i].value));
	json_object_set(o, "results", results);
	json_object_set(o, "perfdata", perf);
	if (r->nfacts > 0)
		json_object_set(o, "versions", facts);
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL) {
		len = strlen(s);
		out = malloc(len + 2);
		if (out != NULL) {
			memcpy(out, s, len);
			memcpy(out + len, "\n", 2);
		}
		free(s);
	}
done:
	json_decref(o);
	json_decref(results);
	json_decref(facts);
	json_decref(perf);
	free(line);
	return out;
}
