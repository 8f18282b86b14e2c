/*
 * procnet.h -- lines of /proc/net/tcp and /proc/net/tcp6
 *
 *   sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
 *    0: 0100007F:2775 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4711 ...
 *
 * The kernel prints each 32-bit word of an address as the hexadecimal value
 * of the word in network byte order read as a host integer, so a word is
 * parsed as a number and stored back in host order: the bytes come out in
 * network order on any machine.  The port is plain hexadecimal.  Pure: the
 * shell reads the file and hands the lines over.
 */
#ifndef MG_CHECK_PROCNET_H
#define MG_CHECK_PROCNET_H

#include <stdbool.h>
#include <stddef.h>

#define PROCNET_STATE_LISTEN 0x0A
#define PROCNET_ADDR_TEXT 48	/* INET6_ADDRSTRLEN and some */

struct procnet_entry {
	int family;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];		/* network order; 4 bytes for AF_INET */
	unsigned port;
	unsigned state;			/* PROCNET_STATE_* (TCP_LISTEN = 0x0A) */
	unsigned long uid;
	unsigned long inode;
	char text[PROCNET_ADDR_TEXT];	/* "127.0.0.1", "::", "2001:db8::1" */
};

/* Parse one line (without its newline).  Returns 1 with *e_r filled, 0 for
   the header line, -1 for a line that does not parse (err says why). */
int procnet_parse_line(const char *line, size_t len, struct procnet_entry *e_r,
		       char *err, size_t errsize);

/* 0.0.0.0 or :: (every address of the host). */
bool procnet_is_wildcard(const struct procnet_entry *e);
/* 127.0.0.0/8, ::1, and ::ffff:127.0.0.0/104. */
bool procnet_is_loopback(const struct procnet_entry *e);

#endif
