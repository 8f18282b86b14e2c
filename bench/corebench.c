/*
 * NAME
 *	corebench 1 - the core checks alone, for instruction counts
 * SYNOPSIS
 *	corebench [-c CONFIG] [-r ROUNDS] ham DIR
 *	corebench [-c CONFIG] [-r ROUNDS] hostile
 * DESCRIPTION
 *	Runs the checks of src/core over messages held in memory, exactly as
 *	the callbacks of src/milter/callbacks.c call them, without libmilter
 *	or any I/O: env_check_helo(), env_check_mail() (MAIL FROM with SIZE
 *	and BODY) and env_check_rcpt(), hdr_check_field() per field,
 *	hdr_check_end(), body_init(), body_feed() in 65,535-octet chunks,
 *	body_finish(), and pol_decide() at each stage that decides.
 *
 *	"ham" takes every *.eml file of DIR (the legitimate corpus). Its
 *	fields are split as test_ham.c and Postfix hand them over: name,
 *	value with its leading space, folded lines joined by "\n", CR of
 *	CRLF dropped, Bcc, Content-Length, Resent-Bcc and Return-Path left
 *	out; the body gets CRLF line ends. "hostile" builds the shapes of
 *	bench/loadgen's hostile mix and a few more: a 2,000-octet MAIL FROM,
 *	an injection-shaped RCPT, a crackaddr-shaped To, 500 extra fields,
 *	a 4,000-octet header line, a 100-level nested multipart, a body with
 *	SMTP smuggling, a long RFC 2231 boundary.
 *
 *	A first round warms up and is not counted (CALLGRIND_ZERO_STATS after
 *	it, when <valgrind/callgrind.h> is there); then ROUNDS rounds.
 *
 *	The work sits in three functions, so that callgrind can count their
 *	instructions apart from loading and parsing:
 *
 *	  valgrind --tool=callgrind --toggle-collect='cb_*' corebench ham DIR
 *	  callgrind_annotate --inclusive=yes callgrind.out.PID
 *
 *	cb_envelope() (HELO, MAIL, RCPT), cb_headers() (fields and end of
 *	headers) and cb_body() (the body walker and the end of message).
 *	bench/corebench-callgrind runs this and divides.
 *
 *	It prints what it ran (messages, fields, body octets), the findings
 *	by rule, the size of the per-message state, and the wall time per
 *	message (machine-dependent; the instruction counts are not).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_ZERO_STATS
#define CALLGRIND_ZERO_STATS
#endif

#include "core/body.h"
#include "core/cfg.h"
#include "core/envelope.h"
#include "core/finding.h"
#include "core/hdr.h"
#include "core/policy.h"
#include "core/rule.h"

#define CB_CHUNK 65535

struct cb_field {
	char *name;
	size_t name_len;
	char *value;
	size_t value_len;
};

struct cb_msg {
	char *label;
	char *helo;
	char *mail[4];		/* NULL-terminated: path, SIZE=, BODY= */
	char *rcpt;
	struct cb_field *f;
	size_t nf;
	char *body;
	size_t body_len;
};

/* What one message's checks need: kept apart from the stack, as the
   daemon keeps it in struct mg_content. */
struct cb_state {
	struct finding_list f, hdr_f, body_f, msg_f;
	struct hdr_state hdr;
	struct body_ctx body;
	struct env_mail_info mail;
};

static const struct policy *g_pol;
static const struct cfg *g_cfg;
static unsigned long g_findings[RULE_COUNT];
static unsigned long g_msgs_with_findings;
static unsigned long g_refused;

/* --- loading ------------------------------------------------------------- */

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		perror("corebench: malloc");
		exit(2);
	}
	return p;
}

static char *
xstrdup(const char *s)
{
	return strcpy(xmalloc(strlen(s) + 1), s);
}

static bool
dropped_by_postfix(const char *name, size_t len)
{
	static const char *const dropped[] = { "Bcc", "Content-Length", "Resent-Bcc",
		"Return-Path" };

	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (strlen(dropped[i]) == len && strncasecmp(dropped[i], name, len) == 0)
			return true;
	return false;
}

static void
add_field(struct cb_msg *m, size_t *cap, const char *name, size_t name_len,
	  const char *value, size_t value_len)
{
	struct cb_field *f;

	if (m->nf == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		m->f = realloc(m->f, *cap * sizeof(*m->f));
		if (m->f == NULL) {
			perror("corebench: realloc");
			exit(2);
		}
	}
	f = &m->f[m->nf++];
	f->name = xmalloc(name_len + 1);
	memcpy(f->name, name, name_len);
	f->name[name_len] = '\0';
	f->name_len = name_len;
	f->value = xmalloc(value_len + 1);
	memcpy(f->value, value, value_len);
	f->value[value_len] = '\0';
	f->value_len = value_len;
}

/* One field from the raw lines [s, e), as test_ham.c sends it. */
static void
split_field(struct cb_msg *m, size_t *cap, const char *s, const char *e)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	char *value;
	size_t o = 0;

	if (colon == NULL || dropped_by_postfix(s, (size_t)(colon - s)))
		return;
	value = xmalloc((size_t)(e - colon) + 1);
	for (const char *p = colon + 1; p < e; p++) {
		if (*p == '\r' && p + 1 < e && p[1] == '\n')
			continue;
		if (*p != '\0')
			value[o++] = *p;
	}
	while (o > 0 && value[o - 1] == '\n')
		o--;
	add_field(m, cap, s, (size_t)(colon - s), value, o);
	free(value);
}

static void
set_envelope(struct cb_msg *m, size_t size)
{
	char buf[64];

	m->helo = xstrdup("mail.sender.example");
	m->mail[0] = xstrdup("<alice@sender.example>");
	snprintf(buf, sizeof(buf), "SIZE=%zu", size);
	m->mail[1] = xstrdup(buf);
	m->mail[2] = xstrdup("BODY=8BITMIME");
	m->mail[3] = NULL;
	m->rcpt = xstrdup("<bob@example.org>");
}

static void
parse_message(struct cb_msg *m, const char *msg, size_t len)
{
	const char *p = msg, *end = msg + len, *field = NULL, *body;
	size_t cap = 0, o = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		bool blank = (next - p == 1) || (next - p == 2 && p[0] == '\r');

		if (blank) {
			if (field)
				split_field(m, &cap, field, p);
			field = NULL;
			p = next;
			break;
		}
		if (p[0] != ' ' && p[0] != '\t') {
			if (field)
				split_field(m, &cap, field, p);
			field = p;
		}
		p = next;
	}
	if (p >= end && field)
		split_field(m, &cap, field, end);
	body = p;
	m->body = xmalloc(2 * (size_t)(end - body) + 2);
	for (const char *q = body; q < end; q++) {
		if (*q == '\n' && (q == body || q[-1] != '\r'))
			m->body[o++] = '\r';
		m->body[o++] = *q;
	}
	m->body_len = o;
	set_envelope(m, len);
}

static char *
read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "corebench: %s: cannot read\n", path);
		exit(2);
	}
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "corebench: %s: short read\n", path);
		exit(2);
	}
	fclose(f);
	buf[n] = '\0';
	*len_r = (size_t)n;
	return buf;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct cb_msg *
load_ham(const char *dir, size_t *n_r)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	struct cb_msg *msgs;

	if (dp == NULL) {
		fprintf(stderr, "corebench: the ham corpus %s is missing\n", dir);
		exit(2);
	}
	while ((e = readdir(dp)) != NULL) {
		size_t l = strlen(e->d_name);

		if (l < 5 || strcmp(e->d_name + l - 4, ".eml") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			names = realloc(names, cap * sizeof(*names));
			if (names == NULL)
				exit(2);
		}
		names[n++] = xstrdup(e->d_name);
	}
	closedir(dp);
	if (n == 0) {
		fprintf(stderr, "corebench: no *.eml in %s\n", dir);
		exit(2);
	}
	qsort(names, n, sizeof(*names), cmp_names);
	msgs = calloc(n, sizeof(*msgs));
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *raw;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		raw = read_file(path, &len);
		msgs[i].label = names[i];
		parse_message(&msgs[i], raw, len);
		free(raw);
	}
	free(names);
	*n_r = n;
	return msgs;
}

/* The ordinary part of a hostile message: loadgen's clean headers. */
static void
base_fields(struct cb_msg *m, size_t *cap, const char *to)
{
	static const char *const f[][2] = {
		{ "Received", " from mail.sender.example (mail.sender.example [192.0.2.10])\n"
		  "\tby mx.example.org (Postfix) with ESMTPS id 4W0001000001\n"
		  "\tfor <bob@example.org>; Mon, 10 Jun 2024 12:00:00 +0000 (UTC)" },
		{ "DKIM-Signature", " v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;\n"
		  "\ts=selector1; t=1718000000;\n\th=from:to:subject:date;\n"
		  "\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n"
		  "\tb=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdEfGhIjKlMnOpQrSt==" },
		{ "From", " \"Alice Example\" <alice@sender.example>" },
		{ "Subject", " Quarterly report" },
		{ "Date", " Mon, 10 Jun 2024 11:59:58 +0000" },
		{ "Message-ID", " <1.bench@sender.example>" },
		{ "MIME-Version", " 1.0" },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		add_field(m, cap, f[i][0], strlen(f[i][0]), f[i][1], strlen(f[i][1]));
	add_field(m, cap, "To", 2, to, strlen(to));
}

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t len = strlen(head) + strlen(unit) * n + strlen(tail);
	char *s = xmalloc(len + 1), *p = s;

	p = stpcpy(p, head);
	for (size_t i = 0; i < n; i++)
		p = stpcpy(p, unit);
	strcpy(p, tail);
	return s;
}

static struct cb_msg *
load_hostile(size_t *n_r)
{
	enum { N = 8 };
	struct cb_msg *msgs = calloc(N, sizeof(*msgs));
	const char *to = " \"Bob\" <bob@example.org>";
	const char *text = "Hello,\r\n\r\nthe figures are attached.\r\n";
	size_t cap[N] = { 0 }, i;
	char *s;

	for (i = 0; i < N; i++) {
		set_envelope(&msgs[i], 4096);
		msgs[i].body = xstrdup(text);
		msgs[i].body_len = strlen(text);
	}
	/* 0: a 2,000-octet MAIL FROM */
	msgs[0].label = "long-sender";
	free(msgs[0].mail[0]);
	msgs[0].mail[0] = repeat("<", "a", 2000 - 2 - 12, "@example.com>");
	base_fields(&msgs[0], &cap[0], to);
	/* 1: injection-shaped RCPT */
	msgs[1].label = "inject-rcpt";
	free(msgs[1].rcpt);
	msgs[1].rcpt = xstrdup("<${run{\\x2Fbin\\x2Fsh\\t-c\\t\\x22id\\x22}}@localhost>");
	base_fields(&msgs[1], &cap[1], to);
	/* 2: crackaddr-shaped To */
	msgs[2].label = "crackaddr-to";
	s = repeat(" ", "(", 40, "x");
	{
		char *t = repeat(s, ")", 40, ""), *u = repeat(t, "<>", 60, " <victim@example.org>");

		base_fields(&msgs[2], &cap[2], u);
		free(t);
		free(u);
	}
	free(s);
	/* 3: 500 extra fields */
	msgs[3].label = "500-fields";
	base_fields(&msgs[3], &cap[3], to);
	for (i = 0; i < 500; i++)
		add_field(&msgs[3], &cap[3], "X-Filler", 8, " filler value", 13);
	/* 4: a 4,000-octet header line */
	msgs[4].label = "long-line";
	base_fields(&msgs[4], &cap[4], to);
	s = repeat(" ", "x", 4000, "");
	add_field(&msgs[4], &cap[4], "X-Long", 6, s, strlen(s));
	free(s);
	/* 5: multipart nested 100 deep */
	msgs[5].label = "nested-multipart";
	base_fields(&msgs[5], &cap[5], to);
	add_field(&msgs[5], &cap[5], "Content-Type", 12, " multipart/mixed; boundary=\"b0\"", 31);
	free(msgs[5].body);
	{
		char *b = xmalloc(100 * 80 + 1), *p = b;

		for (i = 0; i < 100; i++)
			p += sprintf(p, "--b%zu\r\nContent-Type: multipart/mixed; boundary=\"b%zu\"\r\n\r\n",
				     i, i + 1);
		msgs[5].body = b;
		msgs[5].body_len = (size_t)(p - b);
	}
	/* 6: SMTP smuggling in the body */
	msgs[6].label = "smuggling";
	base_fields(&msgs[6], &cap[6], to);
	free(msgs[6].body);
	msgs[6].body = xstrdup("Hello\r\n.\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<x@example.org>\r\n");
	msgs[6].body_len = strlen(msgs[6].body);
	/* 7: RFC 2231 boundary in 100 continuations */
	msgs[7].label = "rfc2231-boundary";
	base_fields(&msgs[7], &cap[7], to);
	s = xmalloc(100 * 32 + 64);
	{
		char *p = s + sprintf(s, " multipart/mixed");

		for (i = 0; i < 100; i++)
			p += sprintf(p, ";\n\tboundary*%zu=\"part%zu\"", i, i);
	}
	add_field(&msgs[7], &cap[7], "Content-Type", 12, s, strlen(s));
	free(s);
	*n_r = N;
	return msgs;
}

/* --- the measured work ------------------------------------------------------ */

static void
count(const struct finding_list *f)
{
	for (size_t i = 0; i < f->count; i++)
		g_findings[f->items[i].rule]++;
}

/* A refusal decided now ends the message, as in the daemon. */
static bool
refused(struct finding_list *f)
{
	struct pol_verdict v;

	count(f);
	if (f->count == 0 && f->dropped == 0)
		return false;
	pol_decide(g_pol, f, &v);
	return v.counted > 0 && pol_is_immediate(v.action);
}

__attribute__((noinline)) int cb_envelope(struct cb_state *s, const struct cb_msg *m);
__attribute__((noinline)) int cb_headers(struct cb_state *s, const struct cb_msg *m);
__attribute__((noinline)) int cb_body(struct cb_state *s, const struct cb_msg *m);

__attribute__((noinline)) int
cb_envelope(struct cb_state *s, const struct cb_msg *m)
{
	const struct limits *lim = &g_pol->limits;
	struct env_arg args[4];
	size_t n = 0;

	finding_list_init(&s->f);
	env_check_helo(lim, m->helo, strlen(m->helo), &s->f);
	if (refused(&s->f))
		return -1;
	for (; m->mail[n] != NULL; n++) {
		args[n].s = m->mail[n];
		args[n].len = strlen(m->mail[n]);
	}
	finding_list_init(&s->f);
	env_check_mail(lim, args, n, &s->f, &s->mail);
	if (refused(&s->f))
		return -1;
	args[0].s = m->rcpt;
	args[0].len = strlen(m->rcpt);
	finding_list_init(&s->f);
	env_check_rcpt(lim, args, 1, &s->mail, 1, &s->f);
	if (refused(&s->f))
		return -1;
	return 0;
}

__attribute__((noinline)) int
cb_headers(struct cb_state *s, const struct cb_msg *m)
{
	const struct limits *lim = &g_pol->limits;

	hdr_init(&s->hdr);
	finding_list_init(&s->hdr_f);
	for (size_t i = 0; i < m->nf; i++)
		hdr_check_field(lim, &s->hdr, m->f[i].name, m->f[i].name_len,
				m->f[i].value, m->f[i].value_len, &s->hdr_f);
	hdr_check_end(lim, &s->hdr, &s->hdr_f);
	return refused(&s->hdr_f) ? -1 : 0;
}

static void
on_part_header(void *arg, const char *name, size_t name_len, const char *value,
	       size_t value_len, size_t value_total, unsigned depth,
	       const struct mime_ct *ct)
{
	struct cb_state *s = arg;

	hdr_check_part_field(&g_pol->limits, name, name_len, value, value_len,
			     value_total, ct, &s->body_f);
}

static void
on_nesting(void *arg, unsigned depth)
{
	struct cb_state *s = arg;

	finding_add(&s->body_f, RULE_MIME_NESTING_DEPTH, "body", NULL, 0, 0, depth,
		    g_pol->limits.limit[RULE_MIME_NESTING_DEPTH], NULL);
}

static void
on_smuggling(void *arg, size_t offset)
{
	struct cb_state *s = arg;

	finding_add(&s->body_f, RULE_BODY_SMUGGLING, "body", NULL, 0, offset, 0,
		    RULE_NO_LIMIT, "smuggling");
}

static const struct body_handler cb_events = { on_part_header, on_nesting,
	on_smuggling, NULL };

__attribute__((noinline)) int
cb_body(struct cb_state *s, const struct cb_msg *m)
{
	finding_list_init(&s->body_f);
	body_init(&s->body, s->hdr.ct_seen ? &s->hdr.ct : NULL,
		  (unsigned)g_pol->limits.limit[RULE_MIME_NESTING_DEPTH],
		  g_cfg->body_inspect_limit);
	for (size_t off = 0; off < m->body_len; off += CB_CHUNK) {
		size_t n = m->body_len - off < CB_CHUNK ? m->body_len - off : CB_CHUNK;

		body_feed(&s->body, m->body + off, n, &cb_events, s);
	}
	body_finish(&s->body, &cb_events, s);
	return refused(&s->body_f) ? -1 : 0;
}

/* --- main ----------------------------------------------------------------- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *mode, *dir = NULL;
	struct cfg *cfg;
	struct cfg_error err;
	struct cb_msg *msgs;
	struct cb_state *s;
	size_t n, fields = 0, body_octets = 0;
	unsigned rounds = 1;
	double t0 = 0, t1;
	int ch;

	while ((ch = getopt(argc, argv, "c:r:")) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'r': rounds = (unsigned)strtoul(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	mode = argv[optind];
	if (strcmp(mode, "ham") == 0 && optind + 2 == argc)
		dir = argv[optind + 1];
	else if (strcmp(mode, "hostile") != 0 || optind + 1 != argc)
		goto usage;
	if (rounds == 0)
		rounds = 1;

	if (config != NULL) {
		size_t len;
		char *buf = read_file(config, &len);

		if (cfg_load(buf, len, config, NULL, &cfg, &err) != 0) {
			char msg[1024];

			cfg_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "corebench: %s\n", msg);
			return 2;
		}
		free(buf);
	} else if (cfg_defaults(&cfg) != 0) {
		fprintf(stderr, "corebench: cannot build the default config\n");
		return 2;
	}
	g_cfg = cfg;
	g_pol = &cfg->policy;
	msgs = dir ? load_ham(dir, &n) : load_hostile(&n);
	for (size_t i = 0; i < n; i++) {
		fields += msgs[i].nf;
		body_octets += msgs[i].body_len;
	}
	s = calloc(1, sizeof(*s));

	/* Round 0 warms up (caches fill); its counts are zeroed and its
	   time not taken. */
	for (unsigned r = 0; r <= rounds; r++) {
		if (r == 1) {
			CALLGRIND_ZERO_STATS;
			t0 = now_s();
		}
		for (size_t i = 0; i < n; i++) {
			int rc = cb_envelope(s, &msgs[i]);

			if (rc == 0)
				rc = cb_headers(s, &msgs[i]);
			if (rc == 0)
				rc = cb_body(s, &msgs[i]);
			if (r == 0 && rc != 0)
				g_refused++;
			if (r == 0 && (s->f.count || s->hdr_f.count || s->body_f.count))
				g_msgs_with_findings++;
			/* reset, so that a refused message leaves nothing */
			s->f.count = s->hdr_f.count = s->body_f.count = 0;
		}
	}
	t1 = now_s();

	printf("corebench %s: %zu messages x %u rounds, %zu fields (%.1f per message), "
	       "%zu body octets (%.0f per message)\n", mode, n, rounds, fields,
	       (double)fields / (double)n, body_octets, (double)body_octets / (double)n);
	printf("refused: %lu; messages with findings: %lu\n", g_refused,
	       g_msgs_with_findings);
	printf("findings by rule (all rounds, warm-up included):");
	for (size_t i = 0; i < RULE_COUNT; i++)
		if (g_findings[i] > 0)
			printf(" %s=%lu", rule_table[i].name, g_findings[i]);
	printf("\nstate sizes: finding_list %zu, hdr_state %zu, body_ctx %zu octets\n",
	       sizeof(struct finding_list), sizeof(struct hdr_state),
	       sizeof(struct body_ctx));
	printf("wall: %.2f us per message (machine-dependent)\n",
	       (t1 - t0) * 1e6 / ((double)n * rounds));
	printf("COREBENCH mode=%s messages=%zu rounds=%u fields=%zu body_octets=%zu\n",
	       mode, n, rounds, fields, body_octets);
	cfg_free(&cfg);
	return 0;
usage:
	fprintf(stderr, "usage: corebench [-c CONFIG] [-r ROUNDS] ham DIR\n"
		"       corebench [-c CONFIG] [-r ROUNDS] hostile\n");
	return 2;
}
