/*
 * fuzz_session.c -- the decision engine (core/session.c) as the daemon and
 * milter-guard-replay drive it: any sequence of SMTP events, in any order,
 * with any bytes, under one of four policies.
 *
 * Input: the first byte picks the policy (the defaults; monitor mode; a
 * policy that tags, quarantines and logs with low limits, trusts 127/8 and
 * exempts authenticated clients; an override by country).  Then events,
 * each an opcode byte, a length byte (two for a body chunk) and that many
 * bytes of payload:
 *
 *   HELO, MAIL and RCPT (arguments split at NUL; MAIL authenticated when
 *   the opcode's high bit is set), unknown command, header field (name and
 *   value split at the first ':'), end of headers, body chunk, end of
 *   message, abort (RSET), queue id, close and reconnect (the payload's
 *   first octets give the peer's address and name).
 *
 * Promises checked: every event the engine emits builds into one line of
 * printable ASCII (attacker bytes escaped), with findings inside their
 * buffers; every result has an action in range, a reply of printable
 * ASCII with a 4xx or 5xx code, and "rules=" text of printable ASCII;
 * nothing leaks or crashes (the sanitizers and valgrind see to that).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/session.h"
#include "fuzz.h"

#define H "session"
#define MAX_ARGS 8

enum op {
	OP_HELO, OP_MAIL, OP_RCPT, OP_UNKNOWN, OP_HEADER, OP_EOH, OP_BODY,
	OP_EOM, OP_ABORT, OP_QUEUE_ID, OP_RECONNECT, OP_COUNT
};

static const char *const policies[] = {
	"",
	"Mode monitor\n",
	("Rule header.from_missing action=tag\n"
	 "Rule header.date_missing action=quarantine\n"
	 "Rule header.value_length action=log limit=998\n"
	 "Rule header.count action=tag limit=10\n"
	 "Rule mail.local_part_length action=quarantine limit=8\n"
	 "Rule rcpt.count action=tag limit=100\n"
	 "Rule helo.8bit action=tag\n"
	 "Rule unknown.count action=log limit=1\n"
	 "Rule mime.nesting_depth action=quarantine limit=2\n"
	 "Rule body.smuggling action=tag\n"
	 "Rule header.encoded_word_control action=tag\n"
	 "TrustedNetworks 127.0.0.0/8\n"
	 "ExemptAuthenticated yes\n"
	 "BodyInspectLimit 4096\n"),
	("Override country:GB mail.local_part_length action=reject limit=4\n"
	 "Override asn:64496 header.count action=tempfail limit=10\n"),
};
#define NPOLICIES (sizeof(policies) / sizeof(policies[0]))

static struct cfg *cfgs[NPOLICIES];

static void
load_policies(void)
{
	for (size_t i = 0; i < NPOLICIES; i++) {
		struct cfg_error err;

		if (cfgs[i] != NULL)
			continue;
		if (cfg_load(policies[i], strlen(policies[i]), "fuzz.conf", NULL, &cfgs[i],
			     &err) != 0) {
			char msg[800];

			cfg_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "%s\n", msg);
			fuzz_fail(H, "a harness policy does not load");
		}
	}
}

static void
check_printable(const char *s, size_t len, const char *what)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			fuzz_fail(H, what);
}

static int
emit(void *arg, const struct sess *s, enum rule_stage stage, const struct pol_verdict *v,
     const struct finding_list *f, const struct reply *r)
{
	struct evt_time t = { 1795000000, 123456 };
	struct evt_context e;
	char *line;

	(void)arg;
	fuzz_check_findings(H, f);
	sess_event_context(s, "mx.example.org", &e);
	line = evt_decision(&t, &e, stage, sess_policy(s), v, f, r);
	if (line == NULL)
		return -1;
	fuzz_check_line(H, line);
	free(line);
	return 0;
}

static void
want_queue_id(void *arg, struct sess *s)
{
	(void)arg;
	sess_set_queue_id(s, "4XyZ0\x01\xff", 7);	/* escaped like any MTA bytes */
}

static const struct sess_ops ops = { emit, want_queue_id };

static void
check_result(const struct sess_result *r)
{
	if ((unsigned)r->action >= ACTION_COUNT || (unsigned)r->mark >= ACTION_COUNT)
		fuzz_fail(H, "an action out of range");
	if (r->has_reply) {
		if ((r->reply.code[0] != '4' && r->reply.code[0] != '5') ||
		    strlen(r->reply.code) != 3)
			fuzz_fail(H, "a reply code that is not 4xx or 5xx");
		check_printable(r->reply.text, strnlen(r->reply.text, sizeof(r->reply.text)),
				"a reply holds a byte that is not printable ASCII");
		if (strnlen(r->reply.text, sizeof(r->reply.text)) == sizeof(r->reply.text))
			fuzz_fail(H, "a reply text without its NUL");
	}
	if (strnlen(r->rules, sizeof(r->rules)) == sizeof(r->rules))
		fuzz_fail(H, "rules text without its NUL");
	check_printable(r->rules, strlen(r->rules), "rules text is not printable ASCII");
}

/* Split p[0..len) at NUL into at most MAX_ARGS arguments. */
static size_t
split_args(const char *p, size_t len, struct env_arg *args)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len && n < MAX_ARGS; i++)
		if (i == len || p[i] == '\0') {
			args[n].s = p + start;
			args[n].len = i - start;
			n++;
			start = i + 1;
		}
	return n;
}

static void
connect_peer(struct sess *s, const struct cfg *cfg, const char *p, size_t len)
{
	struct sess_peer peer = { "client.example.net", false, { 0 }, 25, "", 0, NULL };
	static const char *const countries[] = { "", "GB", "US", NULL };
	char name[64];

	if (len >= 1) {
		peer.has_addr = (p[0] & 1) != 0;
		peer.country = countries[((unsigned char)p[0] >> 1) % 4];
		peer.asn = (p[0] & 0x10) ? 64496 : 0;
		peer.as_org = (p[0] & 0x20) ? "Example \"AS\"\n" : NULL;
	}
	if (len >= 17)
		memcpy(peer.addr, p + 1, 16);
	else if (peer.has_addr) {	/* 127.0.0.1, IPv4-mapped: the trusted net */
		static const unsigned char lo[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						      0xff, 0xff, 127, 0, 0, 1 };
		memcpy(peer.addr, lo, 16);
	}
	if (len > 17) {
		size_t n = len - 17 < sizeof(name) - 1 ? len - 17 : sizeof(name) - 1;

		memcpy(name, p + 17, n);
		name[n] = '\0';	/* the MTA's name is a C string */
		peer.name = name;
	}
	sess_connect(s, cfg, &ops, NULL, "fuzz.1", &peer);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sess s;	/* 9 KB: not on the fuzzer's stack */
	const struct cfg *cfg;
	struct sess_result r;
	struct env_arg args[MAX_ARGS];
	size_t i = 1;

	load_policies();
	if (size == 0)
		return 0;
	cfg = cfgs[data[0] % NPOLICIES];
	connect_peer(&s, cfg, NULL, 0);
	while (i < size) {
		unsigned code = data[i++];
		size_t len, n;
		const char *p;

		if (i >= size)
			break;
		len = data[i++];
		if (code % OP_COUNT == OP_BODY && i < size)
			len = len << 8 | data[i++];
		if (len > size - i)
			len = size - i;
		p = (const char *)data + i;
		i += len;
		switch (code % OP_COUNT) {
		case OP_HELO:
			sess_helo(&s, p, len, &r);
			check_result(&r);
			break;
		case OP_MAIL:
			n = split_args(p, len, args);
			sess_mail(&s, args, n, (code & 0x80) != 0, &r);
			check_result(&r);
			break;
		case OP_RCPT:
			n = split_args(p, len, args);
			sess_rcpt(&s, args, n, &r);
			check_result(&r);
			break;
		case OP_UNKNOWN:
			sess_unknown(&s, p, len, &r);
			check_result(&r);
			break;
		case OP_HEADER: {
			const char *colon = memchr(p, ':', len);
			size_t nl = colon ? (size_t)(colon - p) : len;

			(void)sess_header(&s, p, nl, colon ? colon + 1 : p + len,
					  colon ? len - nl - 1 : 0);
			break;
		}
		case OP_EOH:
			if (sess_eoh(&s, &r) == 0)
				check_result(&r);
			break;
		case OP_BODY:
			sess_body(&s, p, len);
			break;
		case OP_EOM:
			sess_eom(&s, &r);
			check_result(&r);
			break;
		case OP_ABORT:
			sess_abort(&s);
			break;
		case OP_QUEUE_ID:
			sess_set_queue_id(&s, p, len);
			break;
		case OP_RECONNECT:
			sess_close(&s);
			connect_peer(&s, cfg, p, len);
			break;
		}
	}
	sess_close(&s);
	return 0;
}
