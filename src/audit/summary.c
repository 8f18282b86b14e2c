/*
 * summary.c -- milter-guard-audit summary: what happened, counted
 *
 * Decision events are counted by the action applied, by the rule that
 * decided, by client (address, else name), country and hour; findings by
 * rule; clients by refusals (reject, tempfail, discard: the top
 * offenders); and, for tuning monitor mode, the decisions whose action
 * differs from what was applied and the findings marked "monitor": true,
 * by rule and the action they would have had.  Every string is printed as
 * it stands in the log: JSON-escaped printable ASCII.
 */
#include "audit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"

/* The would-be actions, one counter column each; the last is any other. */
static const char *const actions[] = {
	"reject", "tempfail", "discard", "quarantine", "tag", "log", "other"
};
#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

/* Applied actions that refuse the command or message. */
static const char *const refusals[] = { "reject", "tempfail", "discard" };

enum { C_EVENTS, C_REFUSED, C_MONITOR = 1 };

struct summary {
	unsigned long long events;
	unsigned long long decisions;
	char first[ALOG_TIME_LEN + 1];
	char last[ALOG_TIME_LEN + 1];
	struct tally types;
	struct tally applied;
	struct tally rules;
	struct tally findings;
	struct tally clients;
	struct tally countries;
	struct tally hours;
	struct tally would;		/* decisions: action != applied */
	struct tally monitored;		/* findings: monitor true */
	bool oom;
};

static size_t
action_col(const struct alog_str *s)
{
	for (size_t i = 0; i + 1 < NACTIONS; i++)
		if (alog_str_is(s, actions[i]))
			return i;
	return NACTIONS - 1;
}

static bool
is_refusal(const struct alog_str *s)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (alog_str_is(s, refusals[i]))
			return true;
	return false;
}

/* The entry for a string member ("-" when absent or null). */
static struct tally_ent *
get(struct summary *sm, struct tally *t, const struct alog_str *s)
{
	struct tally_ent *e;

	if (!s->set || s->p == NULL || s->len == 0)
		e = tally_get(t, "-", 1);
	else
		e = tally_get(t, s->p, s->len);
	if (e == NULL)
		sm->oom = true;
	return e;
}

static void
count_decision(struct summary *sm, const struct alog_event *ev)
{
	bool refused = is_refusal(&ev->applied);
	const struct alog_str *client = ev->client_ip.set && ev->client_ip.p != NULL
					? &ev->client_ip : &ev->client_name;
	struct alog_str hour = { ev->time.p, 13, true };
	struct tally_ent *e;

	sm->decisions++;
	if ((e = get(sm, &sm->applied, &ev->applied)) != NULL)
		e->n[C_EVENTS]++;
	if ((e = get(sm, &sm->rules, &ev->rule)) != NULL) {
		e->n[C_EVENTS]++;
		e->n[C_REFUSED] += refused;
	}
	if ((e = get(sm, &sm->clients, client)) != NULL) {
		e->n[C_EVENTS]++;
		e->n[C_REFUSED] += refused;
		if (e->note == NULL && ev->client_name.set && ev->client_name.p != NULL &&
		    tally_note(e, ev->client_name.p, ev->client_name.len) < 0)
			sm->oom = true;
	}
	if ((e = get(sm, &sm->countries, &ev->country)) != NULL)
		e->n[C_EVENTS]++;
	if ((e = get(sm, &sm->hours, &hour)) != NULL)
		e->n[C_EVENTS]++;
	if (ev->action.p != NULL && ev->applied.p != NULL &&
	    (ev->action.len != ev->applied.len ||
	     memcmp(ev->action.p, ev->applied.p, ev->action.len) != 0) &&
	    (e = get(sm, &sm->would, &ev->rule)) != NULL)
		e->n[action_col(&ev->action)]++;
	for (size_t i = 0; i < ev->nfindings; i++) {
		const struct alog_finding *f = &ev->finding[i];
		bool mon = f->monitor.set && f->monitor.v;

		if ((e = get(sm, &sm->findings, &f->rule)) != NULL) {
			e->n[C_EVENTS]++;
			e->n[C_MONITOR] += mon;
		}
		if (mon && (e = get(sm, &sm->monitored, &f->rule)) != NULL)
			e->n[action_col(&f->action)]++;
	}
}

static int
count_event(void *ctx, const struct alog_event *ev, const char *line, size_t len)
{
	struct summary *sm = ctx;
	struct tally_ent *e;

	(void)line;
	(void)len;
	sm->events++;
	if (sm->first[0] == '\0' || memcmp(ev->time.p, sm->first, ALOG_TIME_LEN) < 0)
		memcpy(sm->first, ev->time.p, ALOG_TIME_LEN);
	if (memcmp(ev->time.p, sm->last, ALOG_TIME_LEN) > 0)
		memcpy(sm->last, ev->time.p, ALOG_TIME_LEN);
	if ((e = get(sm, &sm->types, &ev->type)) != NULL)
		e->n[C_EVENTS]++;
	if (alog_str_is(&ev->type, "decision"))
		count_decision(sm, ev);
	return sm->oom ? AUDIT_TROUBLE : AUDIT_OK;
}

/* --- text -------------------------------------------------------------- */

static void
text_table(const char *title, const struct tally *t, int sort, size_t ncols,
	   const char *const *heads, size_t top)
{
	struct tally_ent **v = tally_sorted(t, sort);
	size_t shown = t->count < top ? t->count : top;

	printf("\n%s\n", title);
	for (size_t c = 0; c < ncols; c++)
		printf("%9s", heads[c]);
	printf("  %s\n", heads[ncols]);
	for (size_t i = 0; i < shown && v != NULL; i++) {
		for (size_t c = 0; c < ncols; c++)
			printf("%9llu", v[i]->n[c]);
		printf("  %s", v[i]->key);
		if (v[i]->note != NULL && v[i]->note_len > 0 && (v[i]->note_len != v[i]->klen ||
					   memcmp(v[i]->note, v[i]->key, v[i]->klen) != 0))
			printf("  %s", v[i]->note);
		printf("\n");
	}
	if (t->count > shown)
		printf("%9s  (%zu more)\n", "...", t->count - shown);
	free(v);
}

/* Rule by would-be action: only the columns that have a count. */
static void
text_actions(const char *title, const struct tally *t, size_t top)
{
	struct tally_ent **v = tally_sorted(t, -1);
	bool used[NACTIONS] = { false };

	printf("\n%s\n", title);
	for (size_t i = 0; i < t->count && v != NULL; i++)
		for (size_t c = 0; c < NACTIONS; c++)
			used[c] |= v[i]->n[c] > 0;
	for (size_t c = 0; c < NACTIONS; c++)
		if (used[c])
			printf("%11s", actions[c]);
	printf("  rule\n");
	for (size_t i = 0; i < t->count && i < top && v != NULL; i++) {
		for (size_t c = 0; c < NACTIONS; c++)
			if (used[c])
				printf("%11llu", v[i]->n[c]);
		printf("  %s\n", v[i]->key);
	}
	if (t->count == 0)
		printf("%9s\n", "none");
	else if (t->count > top)
		printf("%11s  (%zu more)\n", "...", t->count - top);
	free(v);
}

static void
summary_text(const struct summary *sm, size_t nfiles, unsigned long long bad, size_t top)
{
	static const char *const h_n[] = { "events", "type" };
	static const char *const h_app[] = { "events", "applied" };
	static const char *const h_rule[] = { "events", "refused", "rule" };
	static const char *const h_find[] = { "findings", "monitor", "rule" };
	static const char *const h_cli[] = { "events", "refused", "client  name" };
	static const char *const h_cc[] = { "events", "country" };
	static const char *const h_hour[] = { "events", "hour (UTC)" };

	printf("%llu events in %zu file%s, %llu lines skipped\n", sm->events, nfiles,
	       nfiles == 1 ? "" : "s", bad);
	if (sm->events > 0)
		printf("from %s to %s\n", sm->first, sm->last);
	printf("%llu decisions\n", sm->decisions);
	text_table("events by type", &sm->types, C_EVENTS, 1, h_n, top);
	text_table("decisions by action applied", &sm->applied, C_EVENTS, 1, h_app, top);
	text_table("decisions by rule (the rule that decided)", &sm->rules, C_EVENTS, 2, h_rule, top);
	text_table("findings by rule", &sm->findings, C_EVENTS, 2, h_find, top);
	text_table("decisions by client", &sm->clients, C_EVENTS, 2, h_cli, top);
	text_table("decisions by country", &sm->countries, C_EVENTS, 1, h_cc, top);
	text_table("decisions by hour", &sm->hours, -1, 1, h_hour, (size_t)-1);
	text_table("top offenders (clients by refused events)", &sm->clients, C_REFUSED, 2,
		   h_cli, top);
	text_actions("would have (decisions where action differs from applied), by rule",
		     &sm->would, top);
	text_actions("monitored findings (\"monitor\": true), by rule and action", &sm->monitored, top);
}

/* --- JSON -------------------------------------------------------------- */

static void
json_counts(const char *name, const struct tally *t, int sort, const char *const *cols,
	    size_t ncols, bool last)
{
	struct tally_ent **v = tally_sorted(t, sort);

	printf("\"%s\":{", name);
	for (size_t i = 0; i < t->count && v != NULL; i++) {
		printf("%s\"%s\":", i ? "," : "", v[i]->key);
		if (cols == NULL) {
			printf("%llu", v[i]->n[C_EVENTS]);
			continue;
		}
		printf("{");
		for (size_t c = 0, k = 0; c < ncols; c++) {
			if (cols == actions && v[i]->n[c] == 0)
				continue;
			printf("%s\"%s\":%llu", k++ ? "," : "", cols[c], v[i]->n[c]);
		}
		printf("}");
	}
	printf("}%s", last ? "" : ",");
	free(v);
}

static void
summary_json(const struct summary *sm, size_t nfiles, unsigned long long bad, size_t top)
{
	static const char *const c_rule[] = { "events", "refused" };
	static const char *const c_find[] = { "findings", "monitor" };
	struct tally_ent **v;
	size_t shown = 0;

	printf("{\"events\":%llu,\"files\":%zu,\"skipped\":%llu,\"decisions\":%llu,",
	       sm->events, nfiles, bad, sm->decisions);
	if (sm->events > 0)
		printf("\"first\":\"%s\",\"last\":\"%s\",", sm->first, sm->last);
	json_counts("types", &sm->types, C_EVENTS, NULL, 0, false);
	json_counts("applied", &sm->applied, C_EVENTS, NULL, 0, false);
	json_counts("rules", &sm->rules, C_EVENTS, c_rule, 2, false);
	json_counts("findings", &sm->findings, C_EVENTS, c_find, 2, false);
	json_counts("clients", &sm->clients, C_EVENTS, c_rule, 2, false);
	json_counts("countries", &sm->countries, C_EVENTS, NULL, 0, false);
	json_counts("hours", &sm->hours, -1, NULL, 0, false);
	printf("\"offenders\":[");
	v = tally_sorted(&sm->clients, C_REFUSED);
	for (size_t i = 0; i < sm->clients.count && shown < top && v != NULL; i++) {
		if (v[i]->n[C_REFUSED] == 0)
			break;
		printf("%s{\"client\":\"%s\",\"refused\":%llu,\"events\":%llu}", shown++ ? "," : "",
		       v[i]->key, v[i]->n[C_REFUSED], v[i]->n[C_EVENTS]);
	}
	free(v);
	printf("],");
	json_counts("would_have", &sm->would, -1, actions, NACTIONS, false);
	json_counts("monitored_findings", &sm->monitored, -1, actions, NACTIONS, true);
	printf("}\n");
}

static const struct option summary_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "top", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_summary(int argc, char **argv)
{
	struct summary *sm = calloc(1, sizeof(*sm));
	unsigned long long bad = 0;
	bool json = false;
	size_t top = 10;
	int c, ret;

	if (sm == NULL)
		return AUDIT_TROUBLE;
	while ((c = getopt_long(argc, argv, "jt:", summary_opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			top = strtoul(optarg, &end, 10);
			if (*end != '\0' || top == 0) {
				fprintf(stderr, "%s: --top takes a number from 1\n", progname);
				free(sm);
				return AUDIT_TROUBLE;
			}
			break;
		default:
			free(sm);
			return AUDIT_TROUBLE;
		}
	}
	if (optind >= argc) {
		free(sm);
		return command_usage(stderr, "summary");
	}
	ret = each_event((const char **)argv + optind, (size_t)(argc - optind), count_event,
			 sm, &bad);
	if (ret == AUDIT_OK) {
		if (json)
			summary_json(sm, (size_t)(argc - optind), bad, top);
		else
			summary_text(sm, (size_t)(argc - optind), bad, top);
	} else if (sm->oom) {
		fprintf(stderr, "%s: out of memory\n", progname);
	}
	tally_free(&sm->types);
	tally_free(&sm->applied);
	tally_free(&sm->rules);
	tally_free(&sm->findings);
	tally_free(&sm->clients);
	tally_free(&sm->countries);
	tally_free(&sm->hours);
	tally_free(&sm->would);
	tally_free(&sm->monitored);
	free(sm);
	return ret;
}
