/*
 * auditgen.c -- write audit logs as the daemon does, for the tests
 *
 *   auditgen [--key FILE] [--events N] [--seed N] [--interval N] [--no-stop]
 *            [--state FILE] [--restart-at N] [--gap-at N:LOST[:MODE]] FILE...
 *
 * Builds decision events with the core (pol_decide, evt_decision) from a
 * seeded random choice of clients, rules and policies, lifecycle events with
 * evt_lifecycle, and, with a key, seals each with chain_seal_r: a start
 * event linked to seq 0, a checkpoint every --interval chained events, a
 * "reopen" checkpoint closing each FILE but the last and a "reopen" link
 * opening the next, and at the end a stop event and a "stop" checkpoint
 * (unless --no-stop).  --state writes the last checkpoint line there, as
 * the daemon keeps <AuditLog>.chain.  --restart-at stops and starts again
 * after N decisions; --gap-at loses LOST events after N decisions and then
 * writes a sink_failure event: MODE "sealed" (the default) seals the lost
 * events and links the sink_failure to the last of them, "plain" seals
 * them and gives the sink_failure no link, "unsealed" never seals them.
 * Output is the same for the same arguments.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/chain.h"
#include "core/event.h"
#include "core/keyfile.h"
#include "core/policy.h"
#include "core/reply.h"

#define BASE_TIME 1795392000LL	/* 2026-11-23T00:00:00Z */

static const enum rule_id rules[] = {
	RULE_HELO_8BIT, RULE_HELO_INJECTION, RULE_MAIL_LOCAL_PART_LENGTH,
	RULE_MAIL_INJECTION, RULE_MAIL_SYNTAX, RULE_RCPT_INJECTION,
	RULE_RCPT_COUNT, RULE_UNKNOWN_COUNT, RULE_HEADER_BARE_LF,
	RULE_HEADER_INVALID_UTF8, RULE_HEADER_FROM_MULTIPLE, RULE_BODY_SMUGGLING,
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

/* The action each rule gets in the enforcing policy, and which are monitored. */
static const struct {
	enum rule_action action;
	bool monitor;
} setting[NRULES] = {
	{ ACTION_LOG, false }, { ACTION_REJECT, false }, { ACTION_LOG, false },
	{ ACTION_REJECT, false }, { ACTION_TEMPFAIL, true }, { ACTION_REJECT, false },
	{ ACTION_DISCARD, false }, { ACTION_TEMPFAIL, false }, { ACTION_REJECT, true },
	{ ACTION_TAG, false }, { ACTION_QUARANTINE, false }, { ACTION_QUARANTINE, true },
};

static const char *const countries[] = { "GB", "SE", "US", "CN", "RU", "BR", NULL, NULL };
/* Names with bytes the core must escape: a quote, a backslash, ESC, CR LF, 8-bit. */
static const char *const names[] = {
	"mail.client.example", "mx\"quote\".example", "back\\slash.example",
	"esc\x1b[31mred.example", "crlf\r\nRCPT.example", "caf\xe9.example", "",
};

static unsigned long long rng = 88172645463325252ULL;

static unsigned long long
rnd(unsigned long long n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

struct gen {
	unsigned char key[CHAIN_KEY_MAX];
	size_t keylen;		/* 0: no key, no chain */
	struct chain_state st;
	enum chain_link link;	/* for the next event sealed */
	unsigned long long since_cp;
	unsigned long interval;
	FILE *out;
	char *state_path;
	char last_cp[4096];
	struct evt_time t;
	bool drop;		/* seal but do not write (a failing sink) */
	unsigned long long lost;
	bool unsealed;		/* lose without sealing */
};

static void
tick(struct gen *g)
{
	g->t.usec += 1000 + (long)rnd(2000000);
	g->t.sec += g->t.usec / 1000000;
	g->t.usec %= 1000000;
}

static void emit_checkpoint(struct gen *g, const char *reason);

/* Seal (with a key) and write one event line; consumes line. */
static void
emit(struct gen *g, char *line, bool is_checkpoint)
{
	size_t len = strlen(line);
	char *buf = malloc(len + CHAIN_SEAL_EXTRA);

	if (buf == NULL)
		exit(2);
	memcpy(buf, line, len);
	free(line);
	if (g->drop) {
		g->lost++;
		if (g->unsealed || g->keylen == 0) {
			free(buf);
			return;
		}
	}
	if (g->keylen > 0) {
		len = chain_seal_r(g->key, g->keylen, &g->st, g->link, buf, len);
		if (len == 0) {
			fprintf(stderr, "auditgen: chain_seal_r failed\n");
			exit(2);
		}
		g->link = CHAIN_LINK_NONE;
	}
	if (!g->drop)
		fwrite(buf, 1, len, g->out);
	if (is_checkpoint && len < sizeof(g->last_cp)) {
		memcpy(g->last_cp, buf, len);
		g->last_cp[len] = '\0';
	}
	free(buf);
	if (g->keylen > 0 && !is_checkpoint && ++g->since_cp >= g->interval)
		emit_checkpoint(g, "interval");
}

/* A lifecycle-shaped event with members written as given (numbers stay
   numbers): the daemon's checkpoint and sink_failure events. */
static char *
raw_event(struct gen *g, const char *type, const char *members)
{
	char ts[40], *line = malloc(strlen(members) + 200);

	if (line == NULL)
		exit(2);
	evt_format_time(&g->t, ts, sizeof(ts));
	sprintf(line, "{\"schema\":%d,\"time\":\"%s\",\"type\":\"%s\",\"host\":\"mx.example.org\"%s}\n",
		EVT_SCHEMA, ts, type, members);
	return line;
}

static void
emit_checkpoint(struct gen *g, const char *reason)
{
	char members[128];

	if (g->keylen == 0)
		return;
	snprintf(members, sizeof(members), ",\"reason\":\"%s\",\"events\":%llu", reason,
		 g->since_cp);
	g->since_cp = 0;
	emit(g, raw_event(g, "checkpoint", members), true);
}

static void
emit_lifecycle(struct gen *g, const char *type, const char *const *kv)
{
	tick(g);
	emit(g, evt_lifecycle(&g->t, "mx.example.org", type, kv), false);
}

static void
emit_decision(struct gen *g, unsigned long n)
{
	struct policy pol;
	struct finding_list fl;
	struct pol_verdict v;
	struct reply reply;
	struct evt_context ctx = { 0 };
	char ip[64], session[32], qid[32];
	const char *name = names[rnd(sizeof(names) / sizeof(names[0]))];
	size_t nf = 1 + rnd(3);
	enum rule_stage stage = STAGE_EOM;
	bool has_reply;

	pol_init(&pol);
	for (size_t i = 0; i < NRULES; i++) {
		pol.rule[rules[i]].action = setting[i].action;
		pol.rule[rules[i]].monitor = setting[i].monitor;
	}
	if (rnd(10) == 0)
		pol.mode = MODE_MONITOR;
	finding_list_init(&fl);
	for (size_t i = 0; i < nf; i++) {
		enum rule_id r = rules[rnd(NRULES)];
		static const char value[] = "<;sleep${IFS}66;@\x01\xff\\x.example>";

		finding_add(&fl, r, "sender", value, sizeof(value) - 1, 1, sizeof(value) - 1,
			    RULE_NO_LIMIT, NULL);
	}
	pol_decide(&pol, &fl, &v);
	if (pol_is_immediate(v.action))
		stage = fl.items[0].stage;
	has_reply = rpl_build(&pol, v.action, stage, v.has_rule, v.applied_rule, &reply);
	if (rnd(4) == 0)
		snprintf(ip, sizeof(ip), "2001:db8::%llx", rnd(64) + 1);
	else
		snprintf(ip, sizeof(ip), "%s.%llu", rnd(2) ? "198.51.100" : "203.0.113", rnd(200) + 1);
	snprintf(session, sizeof(session), "6a3d.%lu", n);
	snprintf(qid, sizeof(qid), "4FqZ%05lu", n);
	ctx.host = "mx.example.org";
	ctx.session = session;
	ctx.queue_id = stage == STAGE_EOM ? qid : NULL;
	ctx.client_ip = ip;
	ctx.client_port = 1024 + (unsigned)rnd(60000);
	ctx.client_name = name;
	ctx.client_name_len = strlen(name);
	ctx.helo = name;
	ctx.helo_len = strlen(name);
	ctx.sender = "<;sleep 66;>";
	ctx.sender_len = 12;
	ctx.recipients = 1;
	ctx.message = 1;
	ctx.sample_max = 80;
	ctx.country = countries[rnd(sizeof(countries) / sizeof(countries[0]))];
	tick(g);
	emit(g, evt_decision(&g->t, &ctx, stage, &pol, &v, &fl, has_reply ? &reply : NULL), false);
}

static void
read_key(struct gen *g, const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(2);
	}
	n = fread(g->key, 1, sizeof(g->key), f);
	fclose(f);
	g->keylen = keyfile_key_len((const char *)g->key, n);
}

static void
start(struct gen *g)
{
	static const char *const kv[] = { "version", "0.1.0", "config", "/etc/milter-guard.conf",
					   "mode", "enforce", NULL };

	g->link = CHAIN_LINK_START;
	emit_lifecycle(g, "start", kv);
}

static void
stop(struct gen *g)
{
	static const char *const kv[] = { "reason", "SIGTERM", NULL };

	emit_lifecycle(g, "stop", kv);
	emit_checkpoint(g, "stop");
}

/* A sink failure after the events lost. */
static void
recover(struct gen *g, const char *mode, const char *since)
{
	char members[512], until[40];

	g->drop = false;
	evt_format_time(&g->t, until, sizeof(until));
	snprintf(members, sizeof(members),
		 ",\"sink\":\"file\",\"path\":\"/var/log/milter-guard/audit.json\","
		 "\"error\":\"No space left on device\",\"lost\":%llu,\"since\":\"%s\",\"until\":\"%s\"",
		 g->lost, since, until);
	if (strcmp(mode, "sealed") == 0)
		g->link = CHAIN_LINK_REOPEN;
	tick(g);
	emit(g, raw_event(g, "sink_failure", members), false);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "events", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "no-stop", no_argument, NULL, 'x' },
		{ "state", required_argument, NULL, 'S' },
		{ "restart-at", required_argument, NULL, 'r' },
		{ "gap-at", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 }
	};
	struct gen g = { .interval = 1000, .t = { BASE_TIME, 0 } };
	unsigned long events = 100, restart_at = 0, gap_at = 0, gap_lost = 0;
	char gap_mode[16] = "sealed", since[40];
	bool do_stop = true;
	size_t nfiles;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': read_key(&g, optarg); break;
		case 'n': events = strtoul(optarg, NULL, 10); break;
		case 's': rng ^= strtoull(optarg, NULL, 10) * 0x9e3779b97f4a7c15ULL; break;
		case 'i': g.interval = strtoul(optarg, NULL, 10); break;
		case 'x': do_stop = false; break;
		case 'S': g.state_path = optarg; break;
		case 'r': restart_at = strtoul(optarg, NULL, 10); break;
		case 'g':
			if (sscanf(optarg, "%lu:%lu:%15s", &gap_at, &gap_lost, gap_mode) < 2)
				return 2;
			break;
		default: return 2;
		}
	}
	nfiles = (size_t)(argc - optind);
	if (nfiles == 0 || g.interval == 0) {
		fprintf(stderr, "usage: auditgen [options] FILE...\n");
		return 2;
	}
	g.unsealed = strcmp(gap_mode, "unsealed") == 0;
	for (size_t f = 0; f < nfiles; f++) {
		unsigned long from = events * f / nfiles, to = events * (f + 1) / nfiles;

		g.out = fopen(argv[optind + f], "w");
		if (g.out == NULL) {
			perror(argv[optind + f]);
			return 2;
		}
		if (f == 0)
			start(&g);
		for (unsigned long n = from; n < to; n++) {
			if (restart_at != 0 && n == restart_at) {
				stop(&g);
				start(&g);
			}
			if (gap_at != 0 && n == gap_at) {
				g.drop = true;
				evt_format_time(&g.t, since, sizeof(since));
			}
			emit_decision(&g, n + 1);
			if (g.drop && g.lost >= gap_lost)
				recover(&g, gap_mode, since);
		}
		if (f + 1 < nfiles) {
			emit_checkpoint(&g, "reopen");
			g.link = CHAIN_LINK_REOPEN;
		} else if (do_stop) {
			stop(&g);
		}
		if (fclose(g.out) != 0)
			return 2;
	}
	if (g.state_path != NULL && g.last_cp[0] != '\0') {
		FILE *s = fopen(g.state_path, "w");

		if (s == NULL || fputs(g.last_cp, s) == EOF || fclose(s) != 0)
			return 2;
	}
	return 0;
}
