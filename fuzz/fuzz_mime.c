/*
 * fuzz_mime.c -- the Content-Type and RFC 2231 parameter parser
 * (mime_parse_content_type(), mime_param_init(), mime_param_next(),
 * mime_param_value())
 *
 * Input: a Content-Type value, any bytes.  Checks: the parse of the whole
 * value keeps what it says it keeps (NUL-terminated type and subtype,
 * boundary_len against what is kept, offsets in the input); every
 * parameter's pieces lie in the input; a decoded value has the same
 * length into no buffer, a small one or a large one, and a cut decoding
 * is a prefix of the whole one.
 */
#include <string.h>

#include "fuzz.h"
#include "core/mime.h"

#define H "mime"

static char whole[1 << 17];
static char part[64];

static void
in_input(const char *s, size_t size, const char *p, size_t len, const char *what)
{
	if (p != NULL && (p < s || p + len > s + size))
		fuzz_fail(H, what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct mime_ct ct;
	struct mime_param_iter it;
	struct mime_param p;
	size_t n = 0;

	mime_parse_content_type(s, size, &ct);
	if (memchr(ct.type, '\0', sizeof(ct.type)) == NULL ||
	    memchr(ct.subtype, '\0', sizeof(ct.subtype)) == NULL)
		fuzz_fail(H, "type or subtype not terminated");
	if (ct.boundary_kept && ct.boundary_len > MIME_BOUNDARY_KEEP)
		fuzz_fail(H, "boundary kept longer than its buffer");
	if (ct.boundary_kept && ct.boundary[ct.boundary_len] != '\0')
		fuzz_fail(H, "kept boundary not terminated");
	if (ct.boundary_bad_at != MIME_NOWHERE && ct.boundary_len > 0 &&
	    ct.boundary_bad_at >= ct.boundary_len)
		fuzz_fail(H, "bad boundary byte past the boundary");
	if (ct.error != NULL && ct.error_offset > size)
		fuzz_fail(H, "error offset past the input");

	mime_param_init(&it, s, size, 0);
	while (mime_param_next(&it, &p)) {
		size_t l0, l1, l2;

		in_input(s, size, p.name, p.name_len, "name outside the input");
		in_input(s, size, p.raw, p.raw_len, "raw value outside the input");
		in_input(s, size, p.text, p.text_len, "text outside the input");
		in_input(s, size, p.charset, p.charset_len, "charset outside the input");
		in_input(s, size, p.lang, p.lang_len, "language outside the input");
		l0 = mime_param_value(&p, NULL, 0);
		l1 = mime_param_value(&p, part, sizeof(part));
		l2 = mime_param_value(&p, whole, sizeof(whole));
		if (l0 != l1 || l1 != l2 || l2 > p.raw_len)
			fuzz_fail(H, "decoded length depends on the buffer");
		if (memcmp(part, whole, l1 < sizeof(part) ? l1 : sizeof(part)) != 0)
			fuzz_fail(H, "a cut value is not a prefix of the whole one");
		if (++n > size)
			fuzz_fail(H, "more parameters than bytes");
	}
	if (it.error != NULL && it.error_offset > size)
		fuzz_fail(H, "iterator error offset past the input");
	return 0;
}
