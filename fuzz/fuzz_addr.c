/*
 * fuzz_addr.c -- the RFC 5322 address tokenizer (addr_init(),
 * addr_next()) and its one-pass summary (addr_summarize())
 *
 * Input: an address header value, any bytes.  Checks: every token lies
 * inside the input, after the previous one, with its offset; the walk
 * ends (it moves on each call); an error is final; the summary counts at
 * most the tokens there are and agrees with the tokenizer on errors; and
 * addr_summarize() (its fast path) gives exactly the summary of
 * addr_summarize_full() (the tokenizer), member by member.
 */
#include "fuzz.h"
#include "core/addr.h"

#define H "addr"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct addr_ctx ctx;
	struct addr_token tok;
	struct addr_summary sum, full;
	size_t ntok = 0, end = 0;
	int r;

	addr_init(&ctx, s, size);
	while ((r = addr_next(&ctx, &tok)) == 1) {
		if (tok.s != s + tok.offset || tok.offset < end ||
		    tok.len == 0 || tok.offset + tok.len > size)
			fuzz_fail(H, "token outside the input or out of order");
		if (tok.type == ADDR_COMMENT &&
		    (tok.depth == 0 || tok.depth > ADDR_DEPTH_MAX))
			fuzz_fail(H, "comment depth out of range");
		if (tok.type == ADDR_SPECIAL && tok.special != s[tok.offset])
			fuzz_fail(H, "special is not its byte");
		end = tok.offset + tok.len;
		if (++ntok > size)
			fuzz_fail(H, "more tokens than bytes");
	}
	if (r == -1) {
		if (addr_error(&ctx) == NULL || addr_error_offset(&ctx) > size)
			fuzz_fail(H, "error without a message or past the input");
		if (addr_next(&ctx, &tok) != -1)
			fuzz_fail(H, "an error is not final");
	} else if (r != 0) {
		fuzz_fail(H, "addr_next returned neither 1, 0 nor -1");
	}
	addr_summarize(s, size, &sum);
	if (sum.tokens != ntok)
		fuzz_fail(H, "summary and tokenizer count different tokens");
	if ((sum.error != NULL) != (r == -1))
		fuzz_fail(H, "summary and tokenizer disagree on the error");
	if (sum.angle_open > ntok || sum.angle_close > ntok ||
	    sum.mailboxes > ntok || sum.empty_angle_pairs > sum.angle_open)
		fuzz_fail(H, "summary counts more than there is");
	if (sum.ew_in_addrspec_at != ADDR_NOWHERE && sum.ew_in_addrspec_at + 2 > size)
		fuzz_fail(H, "encoded-word offset past the input");
	addr_summarize_full(s, size, &full);
	if (sum.tokens != full.tokens || sum.max_comment_depth != full.max_comment_depth ||
	    sum.angle_open != full.angle_open || sum.angle_close != full.angle_close ||
	    sum.empty_angle_pairs != full.empty_angle_pairs ||
	    sum.max_angle_depth != full.max_angle_depth ||
	    sum.backslashes != full.backslashes || sum.mailboxes != full.mailboxes ||
	    sum.groups != full.groups || sum.ew_in_addrspec_at != full.ew_in_addrspec_at ||
	    sum.error != full.error || sum.error_offset != full.error_offset)
		fuzz_fail(H, "the fast summary differs from the tokenizer's");
	return 0;
}
