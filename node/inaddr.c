/* inaddr.c - InetAddress wire form (PROTOCOL.md §4.1) and small helpers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/inaddr.h"

/* zt_inaddr_write() - 0x00, 0x04 ip4 port, or 0x06 ip6 port */
void zt_inaddr_write(struct zt_wbuf *w, const struct sockaddr_storage *a)
{
	if (a && a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;
		zt_wbuf_u8(w, 0x04);
		zt_wbuf_put(w, &s->sin_addr.s_addr, 4);
		zt_wbuf_u16(w, ntohs(s->sin_port));
	} else if (a && a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
		zt_wbuf_u8(w, 0x06);
		zt_wbuf_put(w, s->sin6_addr.s6_addr, 16);
		zt_wbuf_u16(w, ntohs(s->sin6_port));
	} else {
		zt_wbuf_u8(w, 0x00);
	}
}

/* zt_inaddr_read() - see inaddr.h */
int zt_inaddr_read(struct zt_rbuf *r, struct sockaddr_storage *a)
{
	uint8_t t = zt_rbuf_u8(r);
	memset(a, 0, sizeof(*a));
	if (r->err)
		return -1;
	switch (t) {
	case 0x00:
		return 0;
	case 0x04: {
		struct sockaddr_in *s = (struct sockaddr_in *)a;
		if (zt_rbuf_copy(r, &s->sin_addr.s_addr, 4) < 0)
			return -1;
		s->sin_port = htons(zt_rbuf_u16(r));
		if (r->err)
			return -1;
		s->sin_family = AF_INET;
		return 0;
	}
	case 0x06: {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)a;
		if (zt_rbuf_copy(r, s->sin6_addr.s6_addr, 16) < 0)
			return -1;
		s->sin6_port = htons(zt_rbuf_u16(r));
		if (r->err)
			return -1;
		s->sin6_family = AF_INET6;
		return 0;
	}
	case 0x01:
	case 0x02:
		zt_rbuf_take(r, 6);
		return r->err ? -1 : 0;
	case 0x03: {
		unsigned l = zt_rbuf_u16(r);
		zt_rbuf_take(r, l);
		return r->err ? -1 : 0;
	}
	default:
		r->err = 1;
		return -1;
	}
}

/* zt_inaddr_port() - host-order port, 0 for other families */
unsigned zt_inaddr_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return 0;
}

/* zt_inaddr_set_port() - set the port (or prefix length) */
void zt_inaddr_set_port(struct sockaddr_storage *a, unsigned port)
{
	if (a->ss_family == AF_INET)
		((struct sockaddr_in *)a)->sin_port = htons((uint16_t)port);
	else if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons((uint16_t)port);
}

/* zt_inaddr_equal() - same family, IP and port */
int zt_inaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
		return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a, *y = (const struct sockaddr_in6 *)b;
		return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
	}
	return a->ss_family == 0;
}

/* zt_inaddr_format_ip() - the IP without port; "" for other families */
char *zt_inaddr_format_ip(const struct sockaddr_storage *a, char *buf, size_t cap)
{
	if (!cap)
		return buf;
	buf[0] = 0;
	if (a->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, buf, (socklen_t)cap);
	else if (a->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, buf, (socklen_t)cap);
	return buf;
}

/* zt_inaddr_format() - "IP/port"; "" for AF_UNSPEC */
char *zt_inaddr_format(const struct sockaddr_storage *a, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (!cap)
		return buf;
	buf[0] = 0;
	if (a->ss_family != AF_INET && a->ss_family != AF_INET6)
		return buf;
	zt_inaddr_format_ip(a, ip, sizeof(ip));
	snprintf(buf, cap, "%s/%u", ip, zt_inaddr_port(a));
	return buf;
}

/* zt_inaddr_parse() - "IP/port" or "IP" */
int zt_inaddr_parse(struct sockaddr_storage *a, const char *s)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strrchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long port = 0;

	memset(a, 0, sizeof(*a));
	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = 0;
	if (slash) {
		char *end;
		if (!slash[1])
			return -1;
		port = strtoul(slash + 1, &end, 10);
		if (*end || port > 65535)
			return -1;
	}
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)a)->sin_addr) == 1) {
		a->ss_family = AF_INET;
	} else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)a)->sin6_addr) == 1) {
		a->ss_family = AF_INET6;
	} else {
		memset(a, 0, sizeof(*a));
		return -1;
	}
	zt_inaddr_set_port(a, (unsigned)port);
	return 0;
}
