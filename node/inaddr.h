/* inaddr.h - InetAddress serialization (PROTOCOL.md §4.1). Implemented in node/inaddr.c.
 * In network configs the port field carries a CIDR prefix length.
 */
#ifndef NETCON_NODE_INADDR_H
#define NETCON_NODE_INADDR_H

#include <sys/socket.h>
#include "node/buf.h"

/* zt_inaddr_write() - append; a zeroed/AF_UNSPEC address writes 0x00 */
void zt_inaddr_write(struct zt_wbuf *w, const struct sockaddr_storage *a);
/* zt_inaddr_read() - parse one; unknown/reserved kinds are skipped and give
 * AF_UNSPEC. Return 0, or -1 (and r->err set) when malformed. */
int zt_inaddr_read(struct zt_rbuf *r, struct sockaddr_storage *a);

/* helpers */
unsigned zt_inaddr_port(const struct sockaddr_storage *a);
void zt_inaddr_set_port(struct sockaddr_storage *a, unsigned port);
int zt_inaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b); /* ip+port */
/* zt_inaddr_format_ip() - the IP alone, "1.2.3.4" or "fd00::1"; "" unless IPv4/IPv6 */
char *zt_inaddr_format_ip(const struct sockaddr_storage *a, char *buf, size_t cap);
/* zt_inaddr_format() - "1.2.3.4/9993" or "fd00::1/9993" */
char *zt_inaddr_format(const struct sockaddr_storage *a, char *buf, size_t cap);
/* zt_inaddr_parse() - "IP/port" or "IP" (port 0). Return 0 or -1. */
int zt_inaddr_parse(struct sockaddr_storage *a, const char *s);

#endif
