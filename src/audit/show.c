/*
 * show.c -- milter-guard-audit show: the events that match, one a line
 *
 * Filters: a time range (--since inclusive, --until exclusive, compared on
 * the fixed-width UTC times, so a prefix such as "2026-11-23" or
 * "2026-11-23T20" stands for its start), the rule (the deciding rule or
 * any finding's), the action applied, the client address (an address or a
 * CIDR network), the queue id and the event type.  --json prints the
 * matching lines exactly as they are; the text form prints one line per
 * event with every string as it stands in the log (JSON-escaped printable
 * ASCII: nothing is unescaped to the terminal).
 */
#include "audit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "core/net.h"

struct filter {
	const char *since;
	const char *until;
	const char *rule;
	const char *action;
	const char *queue_id;
	const char *type;
	bool has_net;
	struct net net;
	bool json;
	unsigned long long shown;
};

/* A time bound: a prefix of "YYYY-MM-DDTHH:MM:SS.ffffff", optionally
   ended by "Z". */
static bool
time_bound_valid(char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddddd";
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == 'Z')
		s[--len] = '\0';
	if (len == 0 || len > sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	return true;
}

static bool
rule_matches(const struct alog_event *ev, const char *rule)
{
	if (alog_str_is(&ev->rule, rule))
		return true;
	for (size_t i = 0; i < ev->nfindings; i++)
		if (alog_str_is(&ev->finding[i].rule, rule))
			return true;
	return false;
}

static bool
client_matches(const struct alog_event *ev, const struct net *net)
{
	char buf[NET_TEXT_MAX];
	struct net addr;

	if (!ev->client_ip.set || ev->client_ip.p == NULL || ev->client_ip.len >= sizeof(buf))
		return false;
	memcpy(buf, ev->client_ip.p, ev->client_ip.len);
	buf[ev->client_ip.len] = '\0';
	return net_parse_addr(buf, &addr) == 0 && net_contains(net, addr.addr);
}

static bool
matches(const struct filter *f, const struct alog_event *ev)
{
	if (f->since != NULL && strncmp(ev->time.p, f->since, strlen(f->since)) < 0)
		return false;
	if (f->until != NULL && strncmp(ev->time.p, f->until, strlen(f->until)) >= 0)
		return false;
	if (f->type != NULL && !alog_str_is(&ev->type, f->type))
		return false;
	if (f->rule != NULL && !rule_matches(ev, f->rule))
		return false;
	if (f->action != NULL && !alog_str_is(&ev->applied, f->action))
		return false;
	if (f->queue_id != NULL && !alog_str_is(&ev->queue_id, f->queue_id))
		return false;
	if (f->has_net && !client_matches(ev, &f->net))
		return false;
	return true;
}

static void
put_member(const char *label, const struct alog_str *s)
{
	if (!s->set || s->p == NULL)
		return;
	printf(" %s=", label);
	put_str(stdout, s);
}

static void
print_decision(const struct alog_event *ev)
{
	printf(" ");
	put_str(stdout, &ev->stage);
	printf(" ");
	put_str(stdout, &ev->applied);
	printf(" ");
	put_str(stdout, &ev->rule);
	if (ev->action.len != ev->applied.len ||
	    memcmp(ev->action.p, ev->applied.p, ev->action.len) != 0)
		put_member("would", &ev->action);
	put_member("client", &ev->client_ip);
	put_member("country", &ev->country);
	put_member("name", &ev->client_name);
	put_member("helo", &ev->helo);
	put_member("sender", &ev->sender);
	put_member("queue_id", &ev->queue_id);
	put_member("session", &ev->session);
	if (ev->nfindings > 0) {
		printf(" findings=");
		for (size_t i = 0; i < ev->nfindings; i++) {
			if (i > 0)
				printf(",");
			put_str(stdout, &ev->finding[i].rule);
			if (ev->finding[i].monitor.set && ev->finding[i].monitor.v)
				printf("(monitor)");
		}
		if (ev->findings_over > 0)
			printf(",+%zu", ev->findings_over);
	}
}

static void
print_other(const struct alog_event *ev)
{
	static const struct {
		const char *label;
		size_t off;
	} strs[] = {
		{ "reason", offsetof(struct alog_event, reason) },
		{ "mode", offsetof(struct alog_event, mode) },
		{ "session", offsetof(struct alog_event, session) },
		{ "stage", offsetof(struct alog_event, stage) },
		{ "action", offsetof(struct alog_event, action) },
		{ "sink", offsetof(struct alog_event, sink) },
		{ "since", offsetof(struct alog_event, since) },
		{ "until", offsetof(struct alog_event, until) },
	};

	put_member("host", &ev->host);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		put_member(strs[i].label,
			   (const struct alog_str *)((const char *)ev + strs[i].off));
	if (ev->events.set)
		printf(" events=%llu", ev->events.v);
	if (ev->lost.set)
		printf(" lost=%llu", ev->lost.v);
	for (size_t i = 0; i < ev->nextra; i++) {
		printf(" ");
		put_str(stdout, &ev->extra[i].key);
		printf("=");
		put_str(stdout, &ev->extra[i].value);
	}
}

static int
show_event(void *ctx, const struct alog_event *ev, const char *line, size_t len)
{
	struct filter *f = ctx;

	if (!matches(f, ev))
		return AUDIT_OK;
	f->shown++;
	if (f->json) {
		fwrite(line, 1, len, stdout);
		putchar('\n');
		return AUDIT_OK;
	}
	fwrite(ev->time.p, 1, ev->time.len, stdout);
	printf(" ");
	put_str(stdout, &ev->type);
	if (alog_str_is(&ev->type, "decision"))
		print_decision(ev);
	else
		print_other(ev);
	if (ev->seq.set)
		printf(" seq=%llu", ev->seq.v);
	printf("\n");
	return AUDIT_OK;
}

static const struct option show_opts[] = {
	{ "since", required_argument, NULL, 'S' },
	{ "until", required_argument, NULL, 'U' },
	{ "rule", required_argument, NULL, 'r' },
	{ "action", required_argument, NULL, 'a' },
	{ "client", required_argument, NULL, 'c' },
	{ "queue-id", required_argument, NULL, 'q' },
	{ "type", required_argument, NULL, 't' },
	{ "json", no_argument, NULL, 'j' },
	{ "as-given", no_argument, NULL, 'g' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_show(int argc, char **argv)
{
	struct filter f = { 0 };
	unsigned long long bad;
	bool as_given = false;
	char err[128];
	const char **paths;
	size_t n;
	int c, ret;

	while ((c = getopt_long(argc, argv, "S:U:r:a:c:q:t:jg", show_opts, NULL)) != -1) {
		switch (c) {
		case 'S':
		case 'U':
			if (!time_bound_valid(optarg)) {
				fprintf(stderr, "%s: --%s: not a UTC time like 2026-11-23T20:41:00Z "
					"or a prefix of one\n", progname, c == 'S' ? "since" : "until");
				return AUDIT_TROUBLE;
			}
			*(c == 'S' ? &f.since : &f.until) = optarg;
			break;
		case 'r':
			f.rule = optarg;
			break;
		case 'a':
			f.action = optarg;
			break;
		case 'q':
			f.queue_id = optarg;
			break;
		case 't':
			f.type = optarg;
			break;
		case 'c':
			if (net_parse(optarg, strlen(optarg), &f.net, err, sizeof(err)) < 0) {
				fprintf(stderr, "%s: --client: %s\n", progname, err);
				return AUDIT_TROUBLE;
			}
			f.has_net = true;
			break;
		case 'j':
			f.json = true;
			break;
		case 'g':
			as_given = true;
			break;
		default:
			return AUDIT_TROUBLE;
		}
	}
	if (optind >= argc)
		return command_usage(stderr, "show");
	paths = (const char **)argv + optind;
	n = (size_t)(argc - optind);
	if (!as_given && files_order(paths, n) < 0)
		return AUDIT_TROUBLE;
	ret = each_event(paths, n, show_event, &f, &bad);
	if (fflush(stdout) != 0 && ret == AUDIT_OK)
		ret = AUDIT_TROUBLE;
	return ret;
}
