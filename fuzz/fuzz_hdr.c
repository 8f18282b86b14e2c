/*
 * fuzz_hdr.c -- the header checks: every field of a raw header block
 * through hdr_check_field() and hdr_check_part_field(), the block rules
 * of hdr_check_end(), and the decision event built from the findings
 *
 * Input: a header block as sent (lines, folded or not, CRLF or LF); it
 * ends at the first empty line or at the end.  Fields are split as
 * fuzz/msg.h says (as an MTA hands them to a milter).
 */
#include <string.h>

#include "fuzz.h"
#include "msg.h"
#include "core/hdr.h"

#define H "hdr"

static char value[1 << 17];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct policy pol;
	static int ready;
	struct hdr_state st;
	struct finding_list f, part;
	struct fmsg m;
	struct fmsg_field fld;

	if (!ready) {
		pol_init(&pol);
		ready = 1;
	}
	hdr_init(&st);
	finding_list_init(&f);
	fmsg_init(&m, (const char *)data, size);
	while (fmsg_next(&m, value, sizeof(value), &fld) == 1) {
		hdr_check_field(&pol.limits, &st, fld.name, fld.name_len,
				fld.value, fld.value_len, &f);
		finding_list_init(&part);
		hdr_check_part_field(&pol.limits, fld.name, fld.name_len,
				     fld.value, fld.value_len, fld.value_total,
				     NULL, &part);
		fuzz_check_findings(H, &part);
	}
	hdr_check_end(&pol.limits, &st, &f);
	fuzz_check_event(H, STAGE_EOH, &pol, &f, NULL, 0, NULL, 0);
	return 0;
}
