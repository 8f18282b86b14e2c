/*
 * hdr.h -- checks of header fields, one at a time and as a block
 *
 * Fields arrive as the MTA hands them to a milter: the name, and the value
 * with its original leading white space (SMFIP_HDR_LEADSPC) and folded
 * lines joined by "\n" followed by SP or HTAB.  hdr_check_field() runs the
 * per-field rules and keeps what the block rules need in a fixed-size
 * state (counts, singletons, the message's Content-Type); hdr_check_end()
 * runs the block rules at end of headers.  MIME part headers from the body
 * get the per-field rules only (hdr_check_part_field()).
 *
 * Nothing here allocates: memory per message is the size of struct
 * hdr_state, whatever the message holds.
 */
#ifndef MG_HDR_H
#define MG_HDR_H

#include <stdbool.h>
#include <stddef.h>

#include "finding.h"
#include "limits.h"
#include "mime.h"

#define HDR_TAG_NAME "X-Milter-Guard"	/* the tag header; forged ones are removed */

enum hdr_singleton {
	HDR_S_DATE, HDR_S_FROM, HDR_S_SENDER, HDR_S_REPLY_TO, HDR_S_TO,
	HDR_S_CC, HDR_S_BCC, HDR_S_MESSAGE_ID, HDR_S_IN_REPLY_TO,
	HDR_S_REFERENCES, HDR_S_SUBJECT, HDR_S_COUNT
};

enum hdr_auth {
	HDR_A_AUTH_RESULTS, HDR_A_DKIM, HDR_A_ARC_SEAL, HDR_A_ARC_MESSAGE,
	HDR_A_ARC_RESULTS, HDR_A_COUNT
};

struct hdr_state {
	unsigned long count;		/* fields */
	unsigned long long block_len;	/* octets, as "name:value\r\n" lines */
	unsigned singleton[HDR_S_COUNT];
	unsigned auth[HDR_A_COUNT];
	size_t from_mailboxes;		/* over every From field */
	unsigned forged_tags;		/* HDR_TAG_NAME fields the sender sent */
	bool ct_seen;
	struct mime_ct ct;		/* the message's first Content-Type */
};

void hdr_init(struct hdr_state *st);

void hdr_check_field(const struct limits *lim, struct hdr_state *st,
		     const char *name, size_t name_len, const char *value,
		     size_t value_len, struct finding_list *out);

/* value may be a capped prefix of a value of value_total octets.  ct, if
   not NULL, is value parsed by mime_parse_content_type() (the body walker
   parses a part's Content-Type for its boundary): used for a Content-Type
   field instead of parsing it again. */
void hdr_check_part_field(const struct limits *lim, const char *name,
			  size_t name_len, const char *value, size_t value_len,
			  size_t value_total, const struct mime_ct *ct,
			  struct finding_list *out);

void hdr_check_end(const struct limits *lim, const struct hdr_state *st,
		   struct finding_list *out);

/* For the unit test of the field-name table: the number of names written
   in a slot their hash does not pick (then never found), and the first
   one's name and right slot. */
size_t hdr_names_misplaced(char *name_r, size_t size, size_t *slot_r);

#endif
