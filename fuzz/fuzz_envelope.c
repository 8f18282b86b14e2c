/*
 * fuzz_envelope.c -- the SMTP envelope checks: env_parse_path(),
 * env_check_helo(), env_check_mail(), env_check_rcpt(),
 * env_check_unknown(), and the decision event built from their findings
 *
 * Input: one selector byte, then the command's arguments.
 *   selector & 3: 0 HELO, 1 MAIL, 2 RCPT, 3 unknown command
 *   selector & 4: RCPT after a MAIL FROM with SMTPUTF8
 *   selector >> 3: the recipient's or unknown command's number, less one
 * HELO and unknown commands take the rest whole (NUL is data); MAIL and
 * RCPT split it at NUL bytes into the path and its ESMTP parameters, as
 * libmilter hands over C strings.  Every path is also parsed alone.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "core/envelope.h"
#include "core/limits.h"

#define H "envelope"
#define ARGS_MAX 64

static void
check_path(const char *s, size_t len)
{
	struct env_path p;

	env_parse_path(s, len, &p);
	if (p.local != NULL && (p.local < s || p.local + p.local_len > s + len))
		fuzz_fail(H, "local part outside the argument");
	if (p.domain != NULL && (p.domain < s || p.domain + p.domain_len > s + len))
		fuzz_fail(H, "domain outside the argument");
	if (p.route != NULL && (p.route < s || p.route + p.route_len > s + len))
		fuzz_fail(H, "route outside the argument");
	if (p.syntax_error != NULL && p.syntax_offset > len)
		fuzz_fail(H, "syntax error offset past the argument");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy pol;
	static int ready;
	struct finding_list f;
	struct env_arg args[ARGS_MAX];
	struct env_mail_info mail = { 0 };
	const char *s = (const char *)data + 1;
	size_t len, nargs = 0;
	unsigned sel;

	if (size < 1)
		return 0;
	if (!ready) {
		pol_init(&pol);
		ready = 1;
	}
	sel = data[0];
	len = size - 1;
	finding_list_init(&f);
	switch (sel & 3) {
	case 0:
		env_check_helo(&pol.limits, s, len, &f);
		fuzz_check_event(H, STAGE_HELO, &pol, &f, s, len, NULL, 0);
		return 0;
	case 3:
		env_check_unknown(&pol.limits, s, len, (sel >> 3) + 1, &f);
		fuzz_check_event(H, STAGE_UNKNOWN, &pol, &f, NULL, 0, NULL, 0);
		return 0;
	}
	for (size_t i = 0; i <= len && nargs < ARGS_MAX;) {
		const char *nul = memchr(s + i, '\0', len - i);
		size_t l = nul ? (size_t)(nul - (s + i)) : len - i;

		args[nargs].s = s + i;
		args[nargs].len = l;
		nargs++;
		i += l + 1;
	}
	check_path(args[0].s, args[0].len);
	if ((sel & 3) == 1) {
		env_check_mail(&pol.limits, args, nargs, &f, &mail);
		fuzz_check_event(H, STAGE_MAIL, &pol, &f, NULL, 0, args[0].s,
				 args[0].len);
	} else {
		mail.smtputf8 = (sel & 4) != 0;
		env_check_rcpt(&pol.limits, args, nargs, &mail, (sel >> 3) + 1, &f);
		fuzz_check_event(H, STAGE_RCPT, &pol, &f, NULL, 0, NULL, 0);
	}
	return 0;
}
