/*
 * main.c -- milter-guard-replay: real mail through a config, or two
 *
 * Options, sources (maildir, mbox, single files, folders), the text and
 * JSON output, the summary, --compare and --explain.  Everything decided
 * about a message is decided by run.c through the core's session engine;
 * see milter-guard-replay(1).
 */
#include "rp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/esc.h"
#include "core/net.h"
#include "milter/geo.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/milter-guard/milter-guard.conf"
#define CONFIG_FILE_MAX (1024 * 1024)
#define EXIT_CHANGED 1
#define EXIT_TROUBLE 2
#define CHANGES_MAX 256		/* rows of the --compare table */
#define ID_MAX 4200		/* escaped message name */

/* One config's side of the run. */
struct side {
	char path[ID_MAX];	/* the config's name, escaped */
	struct cfg *cfg;
	struct geo *geo;
	struct rp_runner rn;
	unsigned long by_action[ACTION_COUNT];
	unsigned long by_rule[RULE_COUNT];	/* messages with a finding of it */
	struct rp_result res;
};

struct change {
	enum rule_action from, to;
	bool has_rule;
	enum rule_id rule;
	bool new_rule;		/* the rule is the new config's */
	unsigned long count;
};

struct opts {
	struct rp_envelope env;		/* from the options */
	bool envelope_from_options;
	enum rp_mbox_format mbox;
	bool json, explain, quiet, progress, compare;
	const char *client_ip;
};

static struct opts o;
static struct side sides[2];
static size_t nsides = 1;
static unsigned long messages, changed, errors;
static struct change changes[CHANGES_MAX];
static size_t nchanges;
static struct rp_buf unquoted, store;
static struct timespec started, last_progress;
static bool progress_shown;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: milter-guard-replay [-c config] [options] path ...\n"
"       milter-guard-replay --compare old.conf new.conf [options] path ...\n"
"       milter-guard-replay --explain [-c config] [options] message\n"
"paths: maildirs, mbox files, message files, folders of them; - is stdin\n"
"options: --helo NAME --from PATH --rcpt PATH (repeatable) --mail-param P\n"
"         --client-ip ADDR --client-name NAME --country CC --asn N\n"
"         --authenticated --envelope headers|options --mta postfix|raw\n"
"         --mbox-format mboxrd|mboxo --json --quiet --no-progress\n");
}

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* --- configs ---------------------------------------------------------------- */

static int
read_small(const char *path, char **buf_r, size_t *len_r, char *err, size_t errsize)
{
	FILE *f = fopen(path, "rb");
	char *buf, shown[ID_MAX];
	size_t n;

	esc_text(path, strlen(path), shown, sizeof(shown));
	if (f == NULL) {
		snprintf(err, errsize, "%s: cannot open: %s", shown, strerror(errno));
		return -1;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(err, errsize, "%s: out of memory", shown);
		return -1;
	}
	n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	fclose(f);
	if (n > CONFIG_FILE_MAX) {
		free(buf);
		snprintf(err, errsize, "%s: larger than %d octets", shown, CONFIG_FILE_MAX);
		return -1;
	}
	*buf_r = buf;
	*len_r = n;
	return 0;
}

static int
reader_read(void *arg, const char *path, char **buf_r, size_t *len_r, char *err,
	    size_t errsize)
{
	(void)arg;
	return read_small(path, buf_r, len_r, err, errsize);
}

static const struct cfg_reader file_reader = { reader_read, NULL };

static int
load_side(struct side *sd, const char *path)
{
	struct cfg_error cerr;
	char err[1024], *buf;
	size_t len;
	int r;

	esc_text(path, strlen(path), sd->path, sizeof(sd->path));
	if (read_small(path, &buf, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "milter-guard-replay: %s\n", err);
		return -1;
	}
	r = cfg_load(buf, len, path, &file_reader, &sd->cfg, &cerr);
	free(buf);
	if (r < 0) {
		cfg_error_format(&cerr, err, sizeof(err));
		fprintf(stderr, "milter-guard-replay: %s\n", err);
		return -1;
	}
	if (geo_open(sd->cfg->geoip_country_db, sd->cfg->geoip_asn_db, &sd->geo, err,
		     sizeof(err)) < 0) {
		fprintf(stderr, "milter-guard-replay: %s: %s\n", sd->path, err);
		return -1;
	}
	rp_runner_init(&sd->rn, sd->cfg, RP_VIEW_POSTFIX);
	return 0;
}

/* --- output ----------------------------------------------------------------- */

static void
put_escaped(FILE *f, const char *s, size_t len)
{
	char buf[4 * FINDING_SAMPLE_RAW + 1];

	esc_bytes(s, len, buf, sizeof(buf), NULL);
	fputs(buf, f);
}

static void
print_finding(FILE *f, const struct policy *pol, const struct finding *fi)
{
	bool monitored;
	enum rule_action a = pol_rule_action(pol, fi->rule, &monitored);

	fprintf(f, "    %s action=%s%s field=", rule_table[fi->rule].name,
		rule_action_name(a), monitored ? " monitor" : "");
	fputs(fi->field, f);	/* escaped when the finding was made */
	fprintf(f, " length=%zu", fi->length);
	if (fi->limit != RULE_NO_LIMIT)
		fprintf(f, " limit=%lu", fi->limit);
	fprintf(f, " offset=%zu", fi->offset);
	if (fi->detail != NULL)
		fprintf(f, " detail=\"%s\"", fi->detail);
	fputs(" sample=\"", f);
	put_escaped(f, fi->sample, fi->sample_len);
	fputs("\"\n", f);
}

static void
print_verdict(FILE *f, const char *id, const struct side *sd)
{
	const struct rp_result *r = &sd->res;

	fprintf(f, "%s: %s", id, rule_action_name(r->action));
	if (r->intended != r->action)
		fprintf(f, " (would %s)", rule_action_name(r->intended));
	if (r->findings.count + r->findings.dropped > 0)
		fprintf(f, " stage=%s", rule_stage_name(r->stage));
	if (r->has_rule)
		fprintf(f, " rule=%s", rule_table[r->rule].name);
	fputc('\n', f);
	for (size_t i = 0; i < r->findings.count; i++)
		print_finding(f, sess_policy(&sd->rn.sess), &r->findings.items[i]);
	if (r->findings.dropped > 0)
		fprintf(f, "    (%zu more findings)\n", r->findings.dropped);
}

static void
count(struct side *sd)
{
	const struct finding_list *f = &sd->res.findings;

	sd->by_action[sd->res.action]++;
	for (size_t r = 0; r < RULE_COUNT; r++)
		if (finding_list_has(f, (enum rule_id)r) || finding_list_dropped(f, (enum rule_id)r))
			sd->by_rule[r]++;
}

static void
note_change(const struct rp_result *a, const struct rp_result *b)
{
	struct change c = { a->action, b->action, false, RULE_COUNT, true, 1 };

	if (b->has_rule && b->intended >= a->intended) {
		c.has_rule = true;
		c.rule = b->rule;
	} else if (a->has_rule) {
		c.has_rule = true;
		c.rule = a->rule;
		c.new_rule = false;
	}
	for (size_t i = 0; i < nchanges; i++) {
		struct change *x = &changes[i];

		if (x->from == c.from && x->to == c.to && x->has_rule == c.has_rule &&
		    x->rule == c.rule && x->new_rule == c.new_rule) {
			x->count++;
			return;
		}
	}
	if (nchanges < CHANGES_MAX)
		changes[nchanges++] = c;
}

static void
progress(bool last)
{
	struct timespec now;
	double t;

	if (!o.progress)
		return;
	if (last) {		/* the summary takes its place */
		if (progress_shown)
			fputs("\r\033[K", stderr);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (elapsed(&last_progress, &now) < 0.2)
		return;
	last_progress = now;
	t = elapsed(&started, &now);
	fprintf(stderr, "\r%lu messages, %.0f/s\033[K", messages, t > 0 ? messages / t : 0.0);
	progress_shown = true;
}

/* --- one message ------------------------------------------------------------ */

static void
explain(const char *id, const struct side *sd, const struct rp_envelope *env,
	const char *msg, size_t len);

static void
message(const char *id_raw, size_t id_len, const char *msg, size_t len)
{
	char id[ID_MAX];
	struct rp_envelope env = o.env;

	esc_bytes(id_raw, id_len, id, sizeof(id), NULL);
	if (!o.envelope_from_options) {
		if (store.size < 2 * len + 8) {
			char *p = realloc(store.p, 2 * len + 8);

			if (p == NULL) {
				fprintf(stderr, "milter-guard-replay: %s: out of memory\n", id);
				errors++;
				return;
			}
			store.p = p;
			store.size = 2 * len + 8;
		}
		rp_envelope_from_headers(msg, len, &env, store.p);
	}
	messages++;
	for (size_t i = 0; i < nsides; i++) {
		struct side *sd = &sides[i];

		/* the raw name: the event builder escapes the queue id */
		if (rp_run(&sd->rn, &env, msg, len, id_raw, &sd->res) < 0) {
			fprintf(stderr, "milter-guard-replay: %s: out of memory\n", id);
			errors++;
			return;
		}
		count(sd);
	}
	if (o.explain) {
		explain(id, &sides[0], &env, msg, len);
	} else if (o.compare) {
		const struct rp_result *a = &sides[0].res, *b = &sides[1].res;

		if (a->action != b->action || a->intended != b->intended) {
			changed++;
			note_change(a, b);
			if (!o.quiet) {
				printf("%s: %s -> %s", id, rule_action_name(a->action),
				       rule_action_name(b->action));
				if (b->has_rule)
					printf(" by %s", rule_table[b->rule].name);
				if (a->has_rule)
					printf(" (was %s by %s)", rule_action_name(a->intended),
					       rule_table[a->rule].name);
				putchar('\n');
			}
		}
	} else if (!o.json && !o.quiet) {
		print_verdict(stdout, id, &sides[0]);
	}
	if (messages % 256 == 0)
		progress(false);
}

/* A path that cannot be read (its name escaped: it may come from a
   directory listing). */
static void
path_error(const char *path)
{
	char name[ID_MAX];
	const char *why = strerror(errno);

	esc_bytes(path, strlen(path), name, sizeof(name), NULL);
	fprintf(stderr, "milter-guard-replay: %s: %s\n", name, why);
	errors++;
}

/* --- sources ---------------------------------------------------------------- */

static void
mbox(const char *path, const char *buf, size_t len)
{
	size_t pos = 0, n = 0, mlen, plen = strlen(path);
	const char *m;
	char id[ID_MAX];

	while (rp_mbox_next(buf, len, &pos, &m, &mlen)) {
		if (unquoted.size < mlen + 1) {
			char *p = realloc(unquoted.p, mlen + 1);

			if (p == NULL) {
				fprintf(stderr, "milter-guard-replay: %s: out of memory\n",
					esc_text(path, plen, id, sizeof(id)));
				errors++;
				return;
			}
			unquoted.p = p;
			unquoted.size = mlen + 1;
		}
		mlen = rp_mbox_unquote(m, mlen, o.mbox, unquoted.p);
		snprintf(id, sizeof(id), "%.*s:%zu", (int)(plen < 4000 ? plen : 4000), path, ++n);
		message(id, strlen(id), unquoted.p, mlen);
	}
}

static void
file(const char *path, int fd)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	bool mapped = false;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		mapped = buf != MAP_FAILED;
		len = mapped ? (size_t)st.st_size : 0;
		if (!mapped)
			buf = NULL;
	}
	if (!mapped && !(S_ISREG(st.st_mode) && st.st_size == 0)) {	/* a pipe */
		size_t size = 0;
		ssize_t n;

		for (;;) {
			if (len == size) {
				char *p = realloc(buf, size = size ? 2 * size : 65536);

				if (p == NULL)
					break;
				buf = p;
			}
			if ((n = read(fd, buf + len, size - len)) <= 0)
				break;
			len += (size_t)n;
		}
	}
	if (rp_is_mbox(buf, len))
		mbox(path, buf, len);
	else
		message(path, strlen(path), buf ? buf : "", len);
	if (mapped)
		munmap(buf, len);
	else
		free(buf);
}

static void
source(const char *path);

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry of a folder, in name order; maildir tmp/ is not mail yet. */
static void
folder(const char *path, bool maildir)
{
	static const char *const sub[] = { "cur", "new" };
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, size = 0;

	if (maildir) {
		for (size_t i = 0; i < 2; i++) {
			char p[4096];

			snprintf(p, sizeof(p), "%s/%s", path, sub[i]);
			folder(p, false);
		}
		return;
	}
	if ((d = opendir(path)) == NULL) {
		path_error(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == size) {
			char **p = realloc(names, (size = size ? 2 * size : 64) * sizeof(*names));

			if (p == NULL)
				break;
			names = p;
		}
		size_t len = strlen(path) + strlen(e->d_name) + 2;

		if ((names[n] = malloc(len)) != NULL)
			snprintf(names[n++], len, "%s/%s", path, e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		source(names[i]);
		free(names[i]);
	}
	free(names);
}

static void
source(const char *path)
{
	struct stat st;
	int fd;

	if (strcmp(path, "-") == 0) {
		file("-", 0);
		return;
	}
	if (stat(path, &st) < 0) {
		path_error(path);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		char cur[4096], nw[4096];
		struct stat a, b;

		snprintf(cur, sizeof(cur), "%s/cur", path);
		snprintf(nw, sizeof(nw), "%s/new", path);
		folder(path, stat(cur, &a) == 0 && S_ISDIR(a.st_mode) &&
		       stat(nw, &b) == 0 && S_ISDIR(b.st_mode));
		return;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		path_error(path);
		return;
	}
	file(path, fd);
	close(fd);
}

/* --- explain ---------------------------------------------------------------- */

static bool
stage_reached(const struct rp_result *r, enum rule_stage st)
{
	static const int order[STAGE_COUNT] = {
		[STAGE_CONNECT] = 0, [STAGE_HELO] = 1, [STAGE_MAIL] = 2, [STAGE_RCPT] = 3,
		[STAGE_DATA] = 4, [STAGE_HEADER] = 5, [STAGE_EOH] = 6, [STAGE_BODY] = 7,
		[STAGE_EOM] = 8, [STAGE_UNKNOWN] = 99, [STAGE_ABORT] = 8, [STAGE_CLOSE] = 8,
	};

	return order[st] <= order[r->stage];
}

/* Why the session's policy differs from the config's for a rule. */
static void
explain_policy(const struct sess *s, enum rule_id id)
{
	const struct client_rules *cr = &s->cfg->clients;

	if (s->applied.trusted && rule_set_has(&cr->trusted_exempt, id))
		printf(" exempt=trusted");
	if (s->applied.authenticated && rule_set_has(&cr->authenticated_exempt, id))
		printf(" exempt=authenticated");
	for (size_t i = 0; i < s->applied.noverrides; i++) {
		const struct client_override *ov = &cr->override[s->applied.override[i]];

		if (rule_set_has(&ov->rules, id)) {
			printf(" override=\"");
			put_escaped(stdout, ov->text, strlen(ov->text));
			putchar('"');
		}
	}
}

/* True if the message, played by a neutral client (no address, no
   exemption, no override) under pol, has a finding of rule. */
static bool
trips(struct rp_runner *rn, struct cfg *scratch, const struct rp_envelope *env,
      const char *msg, size_t len, enum rule_id rule, unsigned long limit)
{
	static struct rp_result res;

	scratch->policy.limits.limit[rule] = limit;
	if (rp_run(rn, env, msg, len, "measure", &res) < 0)
		return false;
	return finding_list_has(&res.findings, rule) || finding_list_dropped(&res.findings, rule);
}

/* The value a rule measured on the message: the smallest limit it would
   pass (lengths and counts pass when they are not above the limit), found
   by bisection over the rule's configurable range.  Writes " measured=N",
   " measured<=MIN", or nothing for a rule without a limit. */
static void
measure(const struct side *sd, const struct rp_envelope *env, const char *msg,
	size_t len, enum rule_id rule)
{
	static struct cfg scratch;
	static struct rp_runner rn;
	struct rp_envelope neutral = *env;
	unsigned long lo = rule_table[rule].limit_min, hi = rule_table[rule].limit_max;

	if (rule_table[rule].limit == RULE_NO_LIMIT)
		return;
	scratch = *sd->cfg;	/* shallow: only the policy is changed */
	scratch.policy.mode = MODE_MONITOR;
	scratch.policy.rule[rule].action = ACTION_LOG;
	scratch.clients.noverrides = 0;
	neutral.has_addr = false;
	neutral.authenticated = false;
	rp_runner_init(&rn, &scratch, sd->rn.view);
	if (!trips(&rn, &scratch, &neutral, msg, len, rule, lo)) {
		printf(" measured<=%lu", lo);
	} else if (trips(&rn, &scratch, &neutral, msg, len, rule, hi)) {
		printf(" measured>%lu", hi);
	} else {
		while (hi - lo > 1) {	/* trips at lo, passes at hi */
			unsigned long mid = lo + (hi - lo) / 2;

			if (trips(&rn, &scratch, &neutral, msg, len, rule, mid))
				lo = mid;
			else
				hi = mid;
		}
		printf(" measured=%lu", hi);
	}
	rp_runner_free(&rn);
}

static void
explain(const char *id, const struct side *sd, const struct rp_envelope *env,
	const char *msg, size_t len)
{
	const struct rp_result *r = &sd->res;
	const struct sess *s = &sd->rn.sess;
	const struct policy *pol = sess_policy(s);
	char country[4 * sizeof(s->client.country) + 1];

	print_verdict(stdout, id, sd);
	printf("  mode=%s client.ip=%s client.country=%s client.asn=%lu trusted=%s "
	       "authenticated=%s overrides=[", pol_mode_name(pol->mode),
	       s->client_ip[0] ? s->client_ip : "-",
	       s->client.country[0] ? esc_text(s->client.country, strlen(s->client.country),
					       country, sizeof(country)) : "-", s->client.asn,
	       s->applied.trusted ? "true" : "false",
	       s->applied.authenticated ? "true" : "false");
	for (size_t i = 0; i < s->applied.noverrides; i++) {
		const char *t = s->cfg->clients.override[s->applied.override[i]].text;

		printf("%s\"", i ? ", " : "");
		put_escaped(stdout, t, strlen(t));
		putchar('"');
	}
	printf("]\n");
	printf("  every rule (rule stage action limit result measured):\n");
	for (size_t i = 0; i < RULE_COUNT; i++) {
		enum rule_id id_ = (enum rule_id)i;
		bool monitored;
		enum rule_action a = pol_rule_action(pol, id_, &monitored);
		const struct finding *fi = NULL;
		bool reached = rule_table[i].stage != STAGE_UNKNOWN &&
			stage_reached(r, rule_table[i].stage);

		for (size_t j = 0; j < r->findings.count && fi == NULL; j++)
			if (r->findings.items[j].rule == id_)
				fi = &r->findings.items[j];
		printf("  %-38s %-7s action=%s%s", rule_table[i].name,
		       rule_stage_name(rule_table[i].stage), rule_action_name(a),
		       monitored ? " monitor" : "");
		if (pol->limits.limit[i] != RULE_NO_LIMIT)
			printf(" limit=%lu", pol->limits.limit[i]);
		explain_policy(s, id_);
		if (!reached)
			printf(" result=not-reached");
		else if (fi != NULL) {
			printf(" result=found length=%zu offset=%zu field=", fi->length, fi->offset);
			fputs(fi->field, stdout);	/* escaped when the finding was made */
		} else if (finding_list_dropped(&r->findings, id_))
			printf(" result=found (past the finding cap)");
		else if (a == ACTION_ACCEPT)
			printf(" result=off");
		else
			printf(" result=passed");
		if (reached)
			measure(sd, env, msg, len, id_);
		putchar('\n');
	}
}

/* --- main ------------------------------------------------------------------- */

static void
summary(FILE *f, double secs, double cpu)
{
	fprintf(f, "summary: %lu messages in %.2f s (%.0f messages/s; %.0f per CPU second)\n",
		messages, secs, secs > 0 ? messages / secs : 0.0, cpu > 0 ? messages / cpu : 0.0);
	for (size_t i = 0; i < nsides; i++) {
		const struct side *sd = &sides[i];

		if (nsides > 1)
			fprintf(f, "%s:\n", sd->path);
		for (size_t a = 0; a < ACTION_COUNT; a++)
			if (sd->by_action[a] > 0)
				fprintf(f, "  %-12s %lu\n", rp_action_done((enum rule_action)a),
					sd->by_action[a]);
		for (size_t r = 0; r < RULE_COUNT; r++)
			if (sd->by_rule[r] > 0)
				fprintf(f, "  rule %-38s %lu messages\n", rule_table[r].name,
					sd->by_rule[r]);
	}
	if (o.compare) {
		fprintf(f, "changes: %lu of %lu messages\n", changed, messages);
		for (size_t i = 0; i < nchanges; i++) {
			const struct change *c = &changes[i];

			fprintf(f, "  %lu message%s would now be %s", c->count,
				c->count == 1 ? "" : "s", rp_action_done(c->to));
			if (c->has_rule && c->new_rule)
				fprintf(f, " by %s (were %s)\n", rule_table[c->rule].name,
					rp_action_done(c->from));
			else if (c->has_rule)
				fprintf(f, " (were %s by %s)\n", rp_action_done(c->from),
					rule_table[c->rule].name);
			else
				fprintf(f, " (were %s)\n", rp_action_done(c->from));
		}
	}
}

static int
parse_enum(const char *v, const char *a, const char *b, const char *what)
{
	char shown[ID_MAX];

	if (strcmp(v, a) == 0)
		return 0;
	if (strcmp(v, b) == 0)
		return 1;
	fprintf(stderr, "milter-guard-replay: %s: %s or %s, not %s\n", what, a, b,
		esc_text(v, strlen(v), shown, sizeof(shown)));
	exit(EXIT_TROUBLE);
}

enum { O_HELO = 256, O_FROM, O_RCPT, O_PARAM, O_IP, O_NAME, O_COUNTRY, O_ASN, O_AUTH,
	O_ENVELOPE, O_MTA, O_MBOX, O_JSON, O_EXPLAIN, O_COMPARE, O_NOPROGRESS };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "helo", required_argument, NULL, O_HELO },
	{ "from", required_argument, NULL, O_FROM },
	{ "rcpt", required_argument, NULL, O_RCPT },
	{ "mail-param", required_argument, NULL, O_PARAM },
	{ "client-ip", required_argument, NULL, O_IP },
	{ "client-name", required_argument, NULL, O_NAME },
	{ "country", required_argument, NULL, O_COUNTRY },
	{ "asn", required_argument, NULL, O_ASN },
	{ "authenticated", no_argument, NULL, O_AUTH },
	{ "envelope", required_argument, NULL, O_ENVELOPE },
	{ "mta", required_argument, NULL, O_MTA },
	{ "mbox-format", required_argument, NULL, O_MBOX },
	{ "json", no_argument, NULL, O_JSON },
	{ "explain", no_argument, NULL, O_EXPLAIN },
	{ "compare", required_argument, NULL, O_COMPARE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-progress", no_argument, NULL, O_NOPROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
main(int argc, char **argv)
{
	const char *config = DEFAULT_CONFIG, *old_config = NULL;
	enum rp_view view = RP_VIEW_POSTFIX;
	size_t nparams = 0;
	bool no_progress = false;
	struct timespec cpu0, cpu1, end;
	int ch;

	o.env.helo = "localhost";
	o.env.from = "<>";
	while ((ch = getopt_long(argc, argv, "c:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case O_HELO: o.env.helo = optarg; break;
		case O_FROM: o.env.from = optarg; break;
		case O_RCPT:
			if (o.env.nrcpt == RP_RCPT_MAX) {
				fprintf(stderr, "milter-guard-replay: at most %d --rcpt\n", RP_RCPT_MAX);
				return EXIT_TROUBLE;
			}
			o.env.rcpt[o.env.nrcpt++] = optarg;
			break;
		case O_PARAM:
			if (nparams + 1 >= sizeof(o.env.mail_params) / sizeof(o.env.mail_params[0])) {
				fprintf(stderr, "milter-guard-replay: too many --mail-param\n");
				return EXIT_TROUBLE;
			}
			o.env.mail_params[nparams++] = optarg;
			break;
		case O_IP: o.client_ip = optarg; break;
		case O_NAME: o.env.client_name = optarg; break;
		case O_COUNTRY: o.env.country = optarg; break;
		case O_ASN: o.env.asn = strtoul(optarg, NULL, 10); break;
		case O_AUTH: o.env.authenticated = true; break;
		case O_ENVELOPE:
			o.envelope_from_options = parse_enum(optarg, "headers", "options", "--envelope");
			break;
		case O_MTA:
			view = parse_enum(optarg, "postfix", "raw", "--mta") ? RP_VIEW_RAW : RP_VIEW_POSTFIX;
			break;
		case O_MBOX:
			o.mbox = parse_enum(optarg, "mboxrd", "mboxo", "--mbox-format") ? RP_MBOXO : RP_MBOXRD;
			break;
		case O_JSON: o.json = true; break;
		case O_EXPLAIN: o.explain = true; break;
		case O_COMPARE: o.compare = true; old_config = optarg; break;
		case 'q': o.quiet = true; break;
		case O_NOPROGRESS: no_progress = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_TROUBLE;
		}
	}
	if (o.compare && optind < argc)
		config = argv[optind++];
	if (optind >= argc || (o.compare && (o.explain || o.json))) {
		usage(stderr);
		return EXIT_TROUBLE;
	}
	if (o.env.nrcpt == 0)
		o.env.rcpt[o.env.nrcpt++] = "<postmaster@localhost>";
	if (o.client_ip != NULL) {
		struct net n;
		char shown[ID_MAX];

		if (net_parse_addr(o.client_ip, &n) < 0) {
			fprintf(stderr, "milter-guard-replay: --client-ip %s: not an address\n",
				esc_text(o.client_ip, strlen(o.client_ip), shown, sizeof(shown)));
			return EXIT_TROUBLE;
		}
		memcpy(o.env.addr, n.addr, sizeof(o.env.addr));
		o.env.has_addr = true;
	}
	if (o.compare) {
		nsides = 2;
		if (load_side(&sides[0], old_config) < 0)
			return EXIT_TROUBLE;
	}
	if (load_side(&sides[nsides - 1], config) < 0)
		return EXIT_TROUBLE;
	for (size_t i = 0; i < nsides; i++) {
		sides[i].rn.view = view;
		sides[i].rn.json = o.json ? stdout : NULL;
		if (sides[i].geo != NULL && o.env.has_addr && o.env.country == NULL) {
			/* GeoIP for the one client address the options give */
			static struct geo_result g;
			struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

			memcpy(&sa.sin6_addr, o.env.addr, 16);
			geo_lookup(sides[i].geo, (const struct sockaddr *)&sa, &g);
			o.env.country = g.country;
			o.env.asn = g.asn;
			o.env.as_org = g.org;
		}
	}
	o.progress = !no_progress && !o.explain && isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &started);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
	last_progress = started;
	for (; optind < argc; optind++)
		source(argv[optind]);
	progress(true);
	clock_gettime(CLOCK_MONOTONIC, &end);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu1);
	if (!o.explain)
		summary(o.json ? stderr : stdout, elapsed(&started, &end),
			elapsed(&cpu0, &cpu1));
	for (size_t i = 0; i < nsides; i++) {
		rp_runner_free(&sides[i].rn);
		cfg_free(&sides[i].cfg);
		geo_close(&sides[i].geo);
	}
	rp_buf_free(&unquoted);
	rp_buf_free(&store);
	if (errors > 0)
		return EXIT_TROUBLE;
	return o.compare && changed > 0 ? EXIT_CHANGED : 0;
}
