/*
 * esc.h -- escape attacker bytes for logs, events, replies and terminals
 *
 * The output is printable US-ASCII only: bytes 0x20-0x7E stand for
 * themselves, except the backslash, which becomes "\\"; every other byte
 * (controls, DEL, 8-bit) becomes "\xHH".  The output is capped: it never
 * exceeds the caller's buffer and never ends inside an escape sequence.
 * Nothing in the input terminates it: NUL, CR and LF are data.
 */
#ifndef MG_ESC_H
#define MG_ESC_H

#include <stddef.h>
#include <stdbool.h>

/* Escape in[0..len) into out (size outsize, NUL-terminated).  Returns the
   length written (excluding the NUL); *consumed_r (may be NULL) receives how
   many input bytes it covers, so consumed < len means truncated. */
size_t esc_bytes(const char *in, size_t len, char *out, size_t outsize,
		 size_t *consumed_r);

/* esc_bytes() of in[0..len) into out, returned: the escaped form of
   attacker or command-line bytes as the argument of a message's "%s". */
const char *esc_text(const char *in, size_t len, char *out, size_t outsize);

/* True if c is a byte esc_bytes() writes as itself. */
bool esc_is_plain(unsigned char c);

/* The value of a hex digit (either case), or -1.  Inline: the MIME and
   encoded-word decoders call it per byte. */
static inline int
esc_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
