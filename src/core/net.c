/*
 * net.c -- CIDR networks (see net.h)
 */
#include "net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "esc.h"

static const unsigned char v4_prefix[12] = { [10] = 0xff, [11] = 0xff };

bool
net_is_v4(const unsigned char addr[16])
{
	return memcmp(addr, v4_prefix, 12) == 0;
}

int
net_parse_addr(const char *s, struct net *a)
{
	unsigned char v4[4];
	size_t len = strlen(s);
	char buf[NET_TEXT_MAX];

	memset(a, 0, sizeof(*a));
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']' && len - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		s = buf;
	}
	if (inet_pton(AF_INET, s, v4) == 1) {
		memcpy(a->addr, v4_prefix, 12);
		memcpy(a->addr + 12, v4, 4);
		a->prefix = 128;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->addr) == 1) {
		a->prefix = 128;
		return 0;
	}
	return -1;
}

int
net_parse(const char *s, size_t len, struct net *net, char *err, size_t errsize)
{
	char text[NET_TEXT_MAX], shown[4 * NET_TEXT_MAX + 1];
	const char *slash;
	unsigned long prefix = 0;
	bool v4;

	if (len == 0 || len >= sizeof(text)) {
		snprintf(err, errsize, "\"%s\" is not an address or network",
			 esc_text(s, len > 60 ? 60 : len, shown, sizeof(shown)));
		return -1;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash != NULL) {
		const char *p = slash + 1;

		if (*p == '\0')
			goto bad;
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9' || prefix > 128)
				goto bad;
			prefix = prefix * 10 + (unsigned long)(*p - '0');
		}
		text[slash - text] = '\0';
	}
	if (net_parse_addr(text, net) < 0)
		goto bad;
	v4 = net_is_v4(net->addr);
	if (slash == NULL)
		prefix = v4 ? 32 : 128;
	if (prefix > (v4 ? 32UL : 128UL))
		goto bad;
	net->prefix = (unsigned)prefix + (v4 ? 96 : 0);
	for (unsigned bit = net->prefix; bit < 128; bit++) {
		if (net->addr[bit / 8] & (0x80 >> (bit % 8))) {
			char fixed[NET_TEXT_MAX];
			struct net clean = *net;

			for (unsigned b = net->prefix; b < 128; b++)
				clean.addr[b / 8] &= (unsigned char)~(0x80 >> (b % 8));
			net_format(clean.addr, fixed, sizeof(fixed));
			snprintf(err, errsize, "\"%s\" has host bits set (did you mean %s/%lu?)",
				 esc_text(s, len, shown, sizeof(shown)), fixed, prefix);
			return -1;
		}
	}
	return 0;
bad:
	snprintf(err, errsize, "\"%s\" is not an address or network (a.b.c.d/n or x:y::z/n)",
		 esc_text(s, len > 60 ? 60 : len, shown, sizeof(shown)));
	return -1;
}

bool
net_contains(const struct net *net, const unsigned char addr[16])
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;

	if (memcmp(net->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net->addr[full] ^ addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool
net_list_contains(const struct net_list *list, const unsigned char addr[16])
{
	for (size_t i = 0; i < list->count; i++)
		if (net_contains(&list->item[i], addr))
			return true;
	return false;
}

void
net_format(const unsigned char addr[16], char *buf, size_t size)
{
	if (net_is_v4(addr))
		inet_ntop(AF_INET, addr + 12, buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, addr, buf, (socklen_t)size);
}
