/*
 * net.h -- IPv4 and IPv6 networks in CIDR form, and lists of them
 *
 * Addresses are kept as 16 octets: IPv4 as IPv4-mapped IPv6
 * (::ffff:a.b.c.d), so 10.0.0.0/8 is ::ffff:10.0.0.0/104 and an
 * IPv4-mapped client address matches the IPv4 networks.  A network whose
 * host bits are set (10.0.0.1/8) is refused: it is almost always a typo,
 * and OpenDKIM's silently never matched.
 */
#ifndef MG_NET_H
#define MG_NET_H

#include <stdbool.h>
#include <stddef.h>

#define NET_LIST_MAX 1024
#define NET_TEXT_MAX 64

struct net {
	unsigned char addr[16];
	unsigned prefix;	/* 0..128, counted on the 16-octet form */
};

struct net_list {
	struct net item[NET_LIST_MAX];
	size_t count;
};

/* Parse "a.b.c.d[/n]" or "x:y::z[/n]" (brackets allowed around IPv6).
   Returns 0, or -1 with a message in err. */
int net_parse(const char *s, size_t len, struct net *net_r, char *err, size_t errsize);

/* Parse an address (no prefix) into 16 octets; -1 if it is not one. */
int net_parse_addr(const char *s, struct net *addr_r);

bool net_contains(const struct net *net, const unsigned char addr[16]);
bool net_list_contains(const struct net_list *list, const unsigned char addr[16]);

/* The address in 16-octet form, as text ("192.0.2.1" for mapped IPv4). */
void net_format(const unsigned char addr[16], char *buf, size_t size);

/* True for ::ffff:a.b.c.d. */
bool net_is_v4(const unsigned char addr[16]);

#endif
