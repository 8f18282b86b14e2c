/*
 * fuzz_ew.c -- the RFC 2047 encoded-word scanner (ew_scan_init(),
 * ew_scan_next()) and B/Q decoder (ew_decode())
 *
 * Input: a header value, any bytes.  Every word found is decoded three
 * ways: to validate only (no buffer), into a buffer of a size taken from
 * the word, and into one large enough.  Checks: words lie in the input,
 * in order, each scan moves on; the output never passes its buffer; a cut
 * output is a prefix of the whole one and says it was cut; the three agree
 * on the result and the reason.
 */
#include <string.h>

#include "fuzz.h"
#include "core/ew.h"

#define H "ew"

static char whole[1 << 17];
static char part[1 << 17];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct ew_scan sc;
	struct ew_word w;
	size_t end = 0, nwords = 0;

	ew_scan_init(&sc, s, size);
	while (ew_scan_next(&sc, &w) == 1) {
		size_t n0 = 0, n1 = 0, n2 = 0, small;
		bool t0 = false, t1 = false, t2 = false;
		const char *e0 = NULL, *e1 = NULL, *e2 = NULL;
		int r0, r1, r2;

		if (w.offset < end || w.offset + w.len > size ||
		    memcmp(s + w.offset, "=?", 2) != 0)
			fuzz_fail(H, "word outside the input or out of order");
		if (w.text < s || w.text + w.text_len > s + w.offset + w.len ||
		    w.charset < s || w.charset + w.charset_len > s + size)
			fuzz_fail(H, "charset or text outside the word");
		if (++nwords > size)
			fuzz_fail(H, "more words than bytes");
		end = w.offset + 2;
		r0 = ew_decode(&w, NULL, 0, &n0, &t0, &e0);
		small = w.text_len / 3;
		r1 = ew_decode(&w, part, small, &n1, &t1, &e1);
		r2 = ew_decode(&w, whole, sizeof(whole), &n2, &t2, &e2);
		if (n0 != 0 || n1 > small || n2 > w.text_len)
			fuzz_fail(H, "decoded more than the buffer or the text");
		if (t2)
			fuzz_fail(H, "a buffer larger than the text was not enough");
		if (r0 != r2 || r1 != r2 ||
		    (r2 < 0 && (e0 != e2 || e1 != e2 || e2 == NULL)))
			fuzz_fail(H, "the result depends on the buffer size");
		if (memcmp(part, whole, n1) != 0 || (n1 < n2) != t1 ||
		    (n2 > 0) != t0)
			fuzz_fail(H, "a cut output is not a prefix of the whole one");
	}
	return 0;
}
