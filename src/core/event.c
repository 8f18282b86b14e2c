/*
 * event.c -- audit events as JSON lines (see event.h)
 */
#include "event.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esc.h"

void
evt_format_time(const struct evt_time *t, char *buf, size_t size)
{
	struct tm tm;
	time_t sec = (time_t)t->sec;

	if (gmtime_r(&sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, t->usec);
}

/* Set key to the escaped bytes, capped to cap output octets; a NULL value
   is left out.  Returns -1 on allocation failure. */
static int
set_escaped(json_t *obj, const char *key, const char *s, size_t len, size_t cap)
{
	char buf[EVT_FIELD_MAX * 4 + 1];

	if (s == NULL)
		return 0;
	if (cap + 1 > sizeof(buf))
		cap = sizeof(buf) - 1;
	esc_bytes(s, len, buf, cap + 1, NULL);
	return json_object_set_new(obj, key, json_string(buf));
}

static int
set_str(json_t *obj, const char *key, const char *s)
{
	return s == NULL ? 0 : set_escaped(obj, key, s, strlen(s), EVT_FIELD_MAX);
}

static int
set_int(json_t *obj, const char *key, unsigned long long v)
{
	return json_object_set_new(obj, key, json_integer((json_int_t)v));
}

static json_t *
event_head(const struct evt_time *t, const char *host, const char *type)
{
	json_t *ev = json_object();
	char ts[40];

	if (ev == NULL)
		return NULL;
	evt_format_time(t, ts, sizeof(ts));
	if (set_int(ev, "schema", EVT_SCHEMA) < 0 ||
	    json_object_set_new(ev, "time", json_string(ts)) < 0 ||
	    json_object_set_new(ev, "type", json_string(type)) < 0 ||
	    set_str(ev, "host", host) < 0) {
		json_decref(ev);
		return NULL;
	}
	return ev;
}

/* The line being dumped.  A failed write is remembered: jansson can go
   on after a write it was refused (an allocation failing in json_dumps()
   gave a line with the key "time" missing and no error), so only a dump
   with no failed write at all is an event. */
struct evt_buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static int
dump_cb(const char *buf, size_t size, void *arg)
{
	struct evt_buf *b = arg;

	if (!b->failed && b->cap - b->len < size + 2) {
		size_t cap = b->cap ? b->cap : 1024;
		char *s;

		while (cap - b->len < size + 2)
			cap *= 2;
		if ((s = realloc(b->s, cap)) == NULL)
			b->failed = true;
		else {
			b->s = s;
			b->cap = cap;
		}
	}
	if (b->failed)
		return -1;
	memcpy(b->s + b->len, buf, size);
	b->len += size;
	return 0;
}

/* Dump ev as one line with a trailing newline; consumes ev. */
static char *
event_line(json_t *ev)
{
	struct evt_buf b = { NULL, 0, 0, false };
	int r;

	if (ev == NULL)
		return NULL;
	r = json_dump_callback(ev, dump_cb, &b, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	if (r != 0 || b.failed || b.s == NULL) {
		free(b.s);
		return NULL;
	}
	b.s[b.len] = '\n';
	b.s[b.len + 1] = '\0';
	return b.s;
}

static json_t *
finding_json(const struct policy *pol, const struct finding *f, size_t sample_max)
{
	json_t *o = json_object();
	char hex[FINDING_SHA256_LEN * 2 + 1];
	bool monitored;
	enum rule_action a = pol_rule_action(pol, f->rule, &monitored);
	int r = 0;

	if (o == NULL)
		return NULL;
	r |= set_str(o, "rule", rule_table[f->rule].name);
	r |= set_str(o, "stage", rule_stage_name(f->stage));
	/* already escaped when the finding was made (names are attacker bytes) */
	r |= json_object_set_new(o, "field", json_string(f->field));
	r |= set_int(o, "length", f->length);
	if (f->limit != RULE_NO_LIMIT)
		r |= set_int(o, "limit", f->limit);
	r |= set_str(o, "standard", rule_table[f->rule].standard);
	if (f->detail != NULL)
		r |= set_str(o, "detail", f->detail);
	r |= set_str(o, "action", rule_action_name(a));
	r |= json_object_set_new(o, "monitor", json_boolean(monitored));
	r |= set_int(o, "offset", f->offset);
	r |= set_escaped(o, "sample", f->sample, f->sample_len, sample_max);
	r |= set_int(o, "sample_offset", f->sample_offset);
	r |= set_int(o, "value_length", f->value_len);
	if (f->has_sha256) {
		for (size_t i = 0; i < FINDING_SHA256_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", f->sha256[i]);
		r |= set_str(o, "sha256", hex);
	}
	if (r != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
add_findings(json_t *ev, const struct policy *pol, const struct finding_list *f,
	     size_t sample_max)
{
	json_t *arr = json_array();

	if (arr == NULL || json_object_set_new(ev, "findings", arr) < 0)
		return -1;
	for (size_t i = 0; i < f->count; i++) {
		bool monitored;

		if (pol_rule_action(pol, f->items[i].rule, &monitored) == ACTION_ACCEPT)
			continue;	/* the rule is off */
		if (json_array_append_new(arr, finding_json(pol, &f->items[i],
							    sample_max)) < 0)
			return -1;
	}
	if (f->dropped > 0 && set_int(ev, "findings_dropped", f->dropped) < 0)
		return -1;
	return 0;
}

static int
add_context(json_t *ev, const struct evt_context *ctx)
{
	json_t *client = json_object();
	int r = 0;

	r |= set_str(ev, "session", ctx->session);
	if (ctx->message > 0)
		r |= set_int(ev, "message", ctx->message);
	if (ctx->queue_id != NULL && ctx->queue_id[0] != '\0')
		r |= set_str(ev, "queue_id", ctx->queue_id);
	else
		r |= json_object_set_new(ev, "queue_id", json_null());
	if (client == NULL || json_object_set_new(ev, "client", client) < 0)
		return -1;
	r |= set_str(client, "ip", ctx->client_ip);
	if (ctx->client_port > 0)
		r |= set_int(client, "port", ctx->client_port);
	r |= set_escaped(client, "name", ctx->client_name, ctx->client_name_len,
			 EVT_FIELD_MAX);
	if (ctx->country != NULL)
		r |= set_str(client, "country", ctx->country);
	if (ctx->asn != 0)
		r |= set_int(client, "asn", ctx->asn);
	if (ctx->as_org != NULL)
		r |= set_str(client, "as_org", ctx->as_org);
	if (ctx->trusted || ctx->authenticated || ctx->noverrides > 0) {
		json_t *pol = json_object(), *ovr = json_array();

		if (pol == NULL || ovr == NULL) {
			json_decref(pol);	/* not attached yet: ours to free */
			json_decref(ovr);
			return -1;
		}
		if (json_object_set_new(ev, "policy", pol) < 0) {
			json_decref(ovr);
			return -1;
		}
		/* fill ovr while it is ours: a failed set below frees it */
		for (size_t i = 0; i < ctx->noverrides && i < EVT_OVERRIDES_MAX; i++) {
			char buf[EVT_FIELD_MAX + 1];

			esc_bytes(ctx->overrides[i], strlen(ctx->overrides[i]), buf, sizeof(buf), NULL);
			r |= json_array_append_new(ovr, json_string(buf));
		}
		r |= json_object_set_new(pol, "trusted", json_boolean(ctx->trusted));
		r |= json_object_set_new(pol, "authenticated", json_boolean(ctx->authenticated));
		r |= json_object_set_new(pol, "overrides", ovr);
	}
	r |= set_escaped(ev, "helo", ctx->helo, ctx->helo_len, EVT_FIELD_MAX);
	r |= set_escaped(ev, "sender", ctx->sender, ctx->sender_len, EVT_FIELD_MAX);
	r |= set_int(ev, "recipients", ctx->recipients);
	if (ctx->body_seen) {
		json_t *body = json_object();

		if (body == NULL || json_object_set_new(ev, "body", body) < 0)
			return -1;
		r |= set_int(body, "scanned", ctx->body_scanned);
		r |= json_object_set_new(body, "truncated", json_boolean(ctx->body_truncated));
	}
	return r != 0 ? -1 : 0;
}

char *
evt_decision(const struct evt_time *t, const struct evt_context *ctx,
	     enum rule_stage stage, const struct policy *pol,
	     const struct pol_verdict *v, const struct finding_list *f,
	     const struct reply *reply)
{
	json_t *ev = event_head(t, ctx->host, "decision");
	int r = 0;

	if (ev == NULL)
		return NULL;
	r |= add_context(ev, ctx);
	r |= set_str(ev, "stage", rule_stage_name(stage));
	r |= set_str(ev, "action", rule_action_name(v->intended));
	r |= set_str(ev, "applied", rule_action_name(v->action));
	r |= set_str(ev, "mode", pol_mode_name(pol->mode));
	if (v->has_rule)
		r |= set_str(ev, "rule", rule_table[v->rule].name);
	if (reply != NULL) {
		json_t *rp = json_object();

		if (rp == NULL || json_object_set_new(ev, "reply", rp) < 0)
			r = -1;
		else {
			r |= set_str(rp, "code", reply->code);
			r |= set_str(rp, "xcode", reply->xcode);
			r |= set_str(rp, "text", reply->text);
		}
	}
	r |= add_findings(ev, pol, f, ctx->sample_max);
	if (r != 0) {
		json_decref(ev);
		return NULL;
	}
	return event_line(ev);
}

char *
evt_lifecycle(const struct evt_time *t, const char *host, const char *type,
	      const char *const *kv)
{
	json_t *ev = event_head(t, host, type);

	if (ev == NULL)
		return NULL;
	for (size_t i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2) {
		if (set_escaped(ev, kv[i], kv[i + 1], strlen(kv[i + 1]),
				EVT_DETAIL_MAX) < 0) {
			json_decref(ev);
			return NULL;
		}
	}
	return event_line(ev);
}

char *
evt_checkpoint(const struct evt_time *t, const char *host, const char *reason,
	       unsigned long long events)
{
	json_t *ev = event_head(t, host, "checkpoint");

	if (ev == NULL)
		return NULL;
	if (set_str(ev, "reason", reason) < 0 || set_int(ev, "events", events) < 0) {
		json_decref(ev);
		return NULL;
	}
	return event_line(ev);
}

char *
evt_sink_failure(const struct evt_time *t, const char *host,
		 const struct evt_sink_failure *sf)
{
	json_t *ev = event_head(t, host, "sink_failure");
	char since[40];
	int r = 0;

	if (ev == NULL)
		return NULL;
	evt_format_time(&sf->since, since, sizeof(since));
	r |= set_str(ev, "sink", sf->sink);
	r |= set_escaped(ev, "path", sf->path, strlen(sf->path), EVT_DETAIL_MAX);
	r |= set_escaped(ev, "error", sf->error, strlen(sf->error), EVT_DETAIL_MAX);
	r |= set_int(ev, "lost", sf->lost);
	if (sf->first_seq > 0) {
		r |= set_int(ev, "first_seq", sf->first_seq);
		r |= set_int(ev, "last_seq", sf->last_seq);
	}
	r |= set_str(ev, "since", since);
	if (r != 0) {
		json_decref(ev);
		return NULL;
	}
	return event_line(ev);
}
