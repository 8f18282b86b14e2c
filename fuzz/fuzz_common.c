/*
 * fuzz_common.c -- checks the harnesses share (see fuzz.h)
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/event.h"
#include "core/reply.h"

void
fuzz_fail(const char *harness, const char *what)
{
	fprintf(stderr, "fuzz %s: %s\n", harness, what);
	abort();
}

void
fuzz_check_findings(const char *harness, const struct finding_list *f)
{
	if (f->count > FINDING_LIST_MAX)
		fuzz_fail(harness, "finding list past its cap");
	for (size_t i = 0; i < f->count; i++) {
		const struct finding *x = &f->items[i];

		if ((unsigned)x->rule >= RULE_COUNT)
			fuzz_fail(harness, "finding with a rule out of range");
		if (x->sample_len > sizeof(x->sample) ||
		    x->sample_offset + x->sample_len > x->value_len)
			fuzz_fail(harness, "finding sample outside its value");
		if (memchr(x->field, '\0', sizeof(x->field)) == NULL)
			fuzz_fail(harness, "finding field not terminated");
	}
}

void
fuzz_check_event(const char *harness, enum rule_stage stage,
		 const struct policy *pol, const struct finding_list *f,
		 const char *helo, size_t helo_len, const char *sender,
		 size_t sender_len)
{
	struct evt_time t = { 1795000000, 123456 };
	struct evt_context ctx = { 0 };
	struct pol_verdict v;
	struct reply r;
	bool has_reply;
	char *line;

	fuzz_check_findings(harness, f);
	pol_decide(pol, f, &v);
	has_reply = rpl_build(pol, v.action, stage, v.has_rule, v.applied_rule, &r);
	ctx.host = "mx.example.org";
	ctx.session = "S1";
	ctx.client_ip = "192.0.2.1";
	ctx.client_name = sender;
	ctx.client_name_len = sender_len;
	ctx.helo = helo;
	ctx.helo_len = helo_len;
	ctx.sender = sender;
	ctx.sender_len = sender_len;
	ctx.sample_max = 64;
	line = evt_decision(&t, &ctx, stage, pol, &v, f, has_reply ? &r : NULL);
	if (line == NULL)
		return;
	fuzz_check_line(harness, line);
	free(line);
}

void
fuzz_check_line(const char *harness, const char *line)
{
	size_t len = strlen(line);

	if (len == 0 || line[len - 1] != '\n')
		fuzz_fail(harness, "event does not end in a newline");
	for (size_t i = 0; i + 1 < len; i++)
		if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
			fuzz_fail(harness, "event holds a byte that is not printable ASCII");
}
