/*
 * fuzz_audit.c -- the audit log reader of milter-guard-audit: the line
 * splitter (alog_lines_*), the event parser (alog_parse()) and the chain's
 * line cutter (chain_split())
 *
 * Input: any bytes, read as a log.  Checks: the lines tile the input up to
 * its rest; every string the parser records lies inside its line; a line
 * the parser accepts is printable ASCII; a refusal has a reason and a
 * column inside the line; a line the chain can cut keeps its canonical
 * bytes inside the line.
 */
#include <string.h>

#include "fuzz.h"
#include "core/alog.h"
#include "core/chain.h"

#define H "audit"

static void
inside(const struct alog_str *s, const char *line, size_t len, const char *what)
{
	if (s->set && s->p != NULL && (s->p < line || s->p + s->len > line + len))
		fuzz_fail(H, what);
}

static void
check_event(const struct alog_event *ev, const char *line, size_t len)
{
	const struct alog_str *strs[] = {
		&ev->time, &ev->type, &ev->host, &ev->session, &ev->queue_id,
		&ev->client_ip, &ev->client_name, &ev->country, &ev->helo,
		&ev->sender, &ev->stage, &ev->action, &ev->applied, &ev->mode,
		&ev->rule, &ev->reason, &ev->sink, &ev->since, &ev->until,
		&ev->prev_mac, &ev->link_reason, &ev->mac,
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		inside(strs[i], line, len, "a member outside its line");
	if (ev->nfindings > ALOG_FINDINGS_MAX || ev->nextra > ALOG_EXTRA_MAX)
		fuzz_fail(H, "more findings or extras than the arrays hold");
	for (size_t i = 0; i < ev->nfindings; i++) {
		inside(&ev->finding[i].rule, line, len, "a finding outside its line");
		inside(&ev->finding[i].stage, line, len, "a finding outside its line");
		inside(&ev->finding[i].action, line, len, "a finding outside its line");
	}
	for (size_t i = 0; i < ev->nextra; i++) {
		inside(&ev->extra[i].key, line, len, "an extra outside its line");
		inside(&ev->extra[i].value, line, len, "an extra outside its line");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *line;
	struct alog_lines it;
	size_t len, seen = 0;

	alog_lines_init(&it, buf, size);
	while (alog_lines_next(&it, &line, &len)) {
		static struct alog_event ev;
		unsigned char mac[CHAIN_MAC_LEN];
		const char *why = NULL;
		size_t col = 0, canon;

		if (line != buf + seen || len > size - seen || line[len] != '\n')
			fuzz_fail(H, "a line that does not follow the previous one");
		seen += len + 1;
		if (alog_parse(line, len, &ev, &why, &col) == 0) {
			for (size_t i = 0; i < len; i++)
				if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e)
					fuzz_fail(H, "an accepted line with a byte that is not printable");
		} else if (why == NULL || col == 0 || col > len + 1) {
			fuzz_fail(H, "a refusal without a reason or a column in the line");
		}
		check_event(&ev, line, len);
		if (chain_split(line, len, &canon, mac) && canon >= len)
			fuzz_fail(H, "canonical bytes past the line");
	}
	if (seen + alog_lines_rest(&it) != size)
		fuzz_fail(H, "the lines and the rest do not tile the input");
	return 0;
}
