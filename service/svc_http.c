/* svc_http.c - the local API's HTTP/1.1 server: non-blocking, bounded.
 *
 * Theory of operation. Each connection owns an http_parser fed with whatever
 * read() returns. The parser callbacks collect the URL, the auth headers and
 * the body, each bounded (SVC_HTTP_MAX_HEADER for URL+headers, 400 beyond;
 * SVC_HTTP_MAX_BODY for the body, 413 beyond). When a message completes it
 * is answered at once (svc_api_handle) into the connection's output buffer;
 * while output is pending the connection waits for EPOLLOUT and reads
 * nothing more, which bounds memory per client. Keep-alive follows the
 * request; errors close after the response is written.
 * Slots carry a generation number in their epoll index so a stale event for
 * a closed slot reused within one epoll batch is ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <http_parser.h>

#include "service/svc.h"

struct svc_http_conn {
	int fd;
	int slot;
	uint16_t gen;
	struct svc *svc;
	http_parser parser;
	size_t head_bytes;
	char *url;
	size_t url_len;
	char hfield[64];
	size_t hfield_len;
	int hval_target;	/* 0 none, 1 X-ZT1-Auth, 2 Authorization */
	char auth_hdr[256];
	size_t auth_len;
	char bearer[256];
	size_t bearer_len;
	int last_was_value;
	char *body;
	size_t body_len;
	int error_status;	/* set when a limit is hit */
	char *out;
	size_t out_len, out_off;
	int close_after;
	int keepalive;
	int64_t last_active;	/* ms; idle clients are closed by svc_http_reap() */
};

static const char *status_text(int st)
{
	switch (st) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

static uint32_t conn_idx(const struct svc_http_conn *c)
{
	return ((uint32_t)c->gen << 16) | (uint32_t)c->slot;
}

static void conn_reset_req(struct svc_http_conn *c)
{
	free(c->url);
	free(c->body);
	c->url = NULL;
	c->body = NULL;
	c->url_len = c->body_len = c->head_bytes = 0;
	c->hfield_len = c->auth_len = c->bearer_len = 0;
	c->hval_target = 0;
	c->last_was_value = 0;
}

static void conn_close(struct svc *s, struct svc_http_conn *c)
{
	svc_loop_del(s, c->fd);
	close(c->fd);
	conn_reset_req(c);
	free(c->out);
	s->http[c->slot] = NULL;
	free(c);
}

static int grow_append(char **buf, size_t *len, const char *at, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	if (!nb)
		return -ENOMEM;
	memcpy(nb + *len, at, n);
	*len += n;
	nb[*len] = 0;
	*buf = nb;
	return 0;
}

static int head_account(struct svc_http_conn *c, size_t n)
{
	c->head_bytes += n;
	if (c->head_bytes > SVC_HTTP_MAX_HEADER) {
		c->error_status = 400;
		return -1;
	}
	return 0;
}

static int on_message_begin(http_parser *p)
{
	conn_reset_req(p->data);
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct svc_http_conn *c = p->data;

	if (head_account(c, n) < 0)
		return -1;
	return grow_append(&c->url, &c->url_len, at, n) < 0 ? -1 : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct svc_http_conn *c = p->data;

	if (head_account(c, n) < 0)
		return -1;
	if (c->last_was_value) {
		c->hfield_len = 0;
		c->last_was_value = 0;
	}
	if (c->hfield_len + n < sizeof(c->hfield)) {
		memcpy(c->hfield + c->hfield_len, at, n);
		c->hfield_len += n;
	} else {
		c->hfield_len = sizeof(c->hfield);	/* too long: matches nothing */
	}
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct svc_http_conn *c = p->data;
	char *dst = NULL;
	size_t *dlen = NULL, cap = 0;

	if (head_account(c, n) < 0)
		return -1;
	if (!c->last_was_value) {
		c->last_was_value = 1;
		c->hval_target = 0;
		if (c->hfield_len == 10 && !strncasecmp(c->hfield, "X-ZT1-Auth", 10)) {
			c->hval_target = 1;
			c->auth_len = 0;
		} else if (c->hfield_len == 13 && !strncasecmp(c->hfield, "Authorization", 13)) {
			c->hval_target = 2;
			c->bearer_len = 0;
		}
	}
	if (c->hval_target == 1) {
		dst = c->auth_hdr;
		dlen = &c->auth_len;
		cap = sizeof(c->auth_hdr);
	} else if (c->hval_target == 2) {
		dst = c->bearer;
		dlen = &c->bearer_len;
		cap = sizeof(c->bearer);
	}
	if (dst && *dlen + n < cap) {
		memcpy(dst + *dlen, at, n);
		*dlen += n;
		dst[*dlen] = 0;
	}
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct svc_http_conn *c = p->data;

	if ((p->flags & F_CONTENTLENGTH) && p->content_length > SVC_HTTP_MAX_BODY) {
		c->error_status = 413;
		return -1;
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct svc_http_conn *c = p->data;

	if (c->body_len + n > SVC_HTTP_MAX_BODY) {
		c->error_status = 413;
		return -1;
	}
	return grow_append(&c->body, &c->body_len, at, n) < 0 ? -1 : 0;
}

static void conn_queue(struct svc_http_conn *c, int status, const char *ctype, const char *body,
		       size_t blen)
{
	char head[512];
	int hl;
	char *nb;

	hl = snprintf(head, sizeof(head),
		      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Cache-Control: no-cache\r\nConnection: %s\r\n\r\n",
		      status, status_text(status), ctype, blen,
		      c->close_after || !c->keepalive ? "close" : "keep-alive");
	nb = realloc(c->out, c->out_len + (size_t)hl + blen);
	if (!nb) {
		c->close_after = 1;
		return;
	}
	memcpy(nb + c->out_len, head, (size_t)hl);
	memcpy(nb + c->out_len + hl, body, blen);
	c->out = nb;
	c->out_len += (size_t)hl + blen;
}

/* query_auth() - value of auth= in the query string, copied into buf */
static const char *query_auth(const char *q, char *buf, size_t cap)
{
	while (q && *q) {
		const char *amp = strchr(q, '&');
		size_t n = amp ? (size_t)(amp - q) : strlen(q);

		if (n > 5 && !strncmp(q, "auth=", 5) && n - 5 < cap) {
			memcpy(buf, q + 5, n - 5);
			buf[n - 5] = 0;
			return buf;
		}
		q = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static int on_message_complete(http_parser *p)
{
	struct svc_http_conn *c = p->data;
	struct svc *s = c->svc;
	struct svc_http_req rq;
	char qa[256], *body = NULL;
	const char *ctype = "application/json";
	int st;

	memset(&rq, 0, sizeof(rq));
	snprintf(rq.method, sizeof(rq.method), "%s", http_method_str(p->method));
	rq.path = c->url ? c->url : (char *)"/";
	rq.query = strchr(rq.path, '?');
	if (rq.query)
		*rq.query++ = 0;
	rq.body = c->body ? c->body : (char *)"";
	rq.body_len = c->body_len;
	if (c->auth_len)
		rq.auth = c->auth_hdr;
	else if (c->bearer_len > 7 && !strncasecmp(c->bearer, "Bearer ", 7))
		rq.auth = c->bearer + 7;
	else
		rq.auth = query_auth(rq.query, qa, sizeof(qa));
	c->keepalive = http_should_keep_alive(p);
	s->http_requests++;
	st = svc_api_handle(s, &rq, &body, &ctype);
	if (st >= 400)
		s->http_errors++;
	conn_queue(c, st, ctype, body ? body : "", body ? strlen(body) : 0);
	free(body);
	if (!c->keepalive)
		c->close_after = 1;
	return 0;
}

static const http_parser_settings svc_http_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static int listen_one(struct svc *s, int family, const char *ip)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)s->port);
		inet_pton(AF_INET6, ip, &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)s->port);
		inet_pton(AF_INET, ip, &a->sin_addr);
		sl = sizeof(*a);
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	s->listen_fd[s->n_listen] = fd;
	svc_loop_add(s, fd, SVC_EV_HTTP_LISTEN, (uint32_t)s->n_listen, EPOLLIN);
	s->n_listen++;
	return 0;
}

/**
 * svc_http_listen() - listen on 127.0.0.1 and ::1 at s->port (or on every
 * address when local.conf allows management from other networks)
 * Return: 0, or -errno if the IPv4 listener could not be bound
 */
int svc_http_listen(struct svc *s)
{
	int wide = s->conf.n_mgmt > 0, r;

	r = listen_one(s, AF_INET, wide ? "0.0.0.0" : "127.0.0.1");
	if (r < 0)
		return r;
	/* no IPv6 (loopback) here: IPv4 is enough */
	(void)listen_one(s, AF_INET6, wide ? "::" : "::1");
	return 0;
}

static int peer_allowed(struct svc *s, const struct sockaddr_storage *a)
{
	struct svc_cidr lo4, lo6, m6;
	int i;

	svc_parse_cidr("127.0.0.0/8", &lo4);
	svc_parse_cidr("::1/128", &lo6);
	svc_parse_cidr("::ffff:127.0.0.0/104", &m6);
	if (svc_cidr_match(&lo4, a) || svc_cidr_match(&lo6, a) || svc_cidr_match(&m6, a))
		return 1;
	for (i = 0; i < s->conf.n_mgmt; i++)
		if (svc_cidr_match(&s->conf.mgmt[i], a))
			return 1;
	return 0;
}

/**
 * svc_http_adopt() - serve an accepted API connection fd (non-blocking) from
 * peer. The fd is the daemon's from here on: closed when refused or when the
 * connection ends. Return: 0 served, -1 refused (peer not allowed, table full
 * (answered 503), or no memory).
 */
int svc_http_adopt(struct svc *s, int fd, const struct sockaddr_storage *peer)
{
	struct svc_http_conn *c;
	int slot;

	if (!peer_allowed(s, peer)) {
		close(fd);
		return -1;
	}
	for (slot = 0; slot < SVC_MAX_HTTP && s->http[slot]; slot++)
		;
	c = slot < SVC_MAX_HTTP ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
					   "Content-Length: 0\r\nConnection: close\r\n\r\n";
		ssize_t w = write(fd, busy, sizeof(busy) - 1);

		(void)w;
		close(fd);
		return -1;
	}
	c->fd = fd;
	c->last_active = svc_now();
	c->slot = slot;
	c->gen = ++s->http_gen;
	c->svc = s;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	s->http[slot] = c;
	if (!s->http_next_reap)
		s->http_next_reap = c->last_active + 5000;
	if (svc_loop_add(s, fd, SVC_EV_HTTP_CONN, conn_idx(c), EPOLLIN | EPOLLRDHUP) < 0) {
		conn_close(s, c);
		return -1;
	}
	return 0;
}

/**
 * svc_http_accept() - accept every pending connection on listener idx
 */
void svc_http_accept(struct svc *s, int idx)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(s->listen_fd[idx], (struct sockaddr *)&peer, &pl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		(void)svc_http_adopt(s, fd, &peer);
	}
}

/* conn_flush() - write pending output. Return: 1 done, 0 pending, -1 closed */
static int conn_flush(struct svc *s, struct svc_http_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				svc_loop_mod(s, c->fd, SVC_EV_HTTP_CONN, conn_idx(c), EPOLLOUT);
				return 0;
			}
			conn_close(s, c);
			return -1;
		}
		c->out_off += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->close_after) {
		conn_close(s, c);
		return -1;
	}
	svc_loop_mod(s, c->fd, SVC_EV_HTTP_CONN, conn_idx(c), EPOLLIN | EPOLLRDHUP);
	return 1;
}

static void conn_read(struct svc *s, struct svc_http_conn *c)
{
	char buf[16384];

	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof(buf));
		size_t used;

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(s, c);
			return;
		}
		used = http_parser_execute(&c->parser, &svc_http_settings, buf, (size_t)r);
		if (r == 0) {
			/* EOF: answer what was complete, then close */
			c->close_after = 1;
			break;
		}
		if (c->parser.http_errno != HPE_OK || used != (size_t)r) {
			int st = c->error_status ? c->error_status : 400;
			char msg[160];

			snprintf(msg, sizeof(msg), "{\"error\":\"%s\"}",
				 st == 413 ? "request too large"
					   : st == 400 && c->error_status ? "request headers too large"
									  : "malformed HTTP request");
			c->close_after = 1;
			s->http_errors++;
			conn_queue(c, st, "application/json", msg, strlen(msg));
			break;
		}
		if (c->out_len)
			break;	/* answer before reading more */
	}
	if (c->out_len || c->close_after) {
		if (c->out_len)
			conn_flush(s, c);
		else
			conn_close(s, c);
	}
}

/**
 * svc_http_event() - readiness on a connection
 * @idx:	generation << 16 | slot
 */
void svc_http_event(struct svc *s, int idx, uint32_t events)
{
	int slot = idx & 0xffff;
	struct svc_http_conn *c;

	if (slot >= SVC_MAX_HTTP)
		return;
	c = s->http[slot];
	if (!c || c->gen != (uint16_t)((uint32_t)idx >> 16))
		return;
	c->last_active = svc_now();
	if (c->out_len) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			if (conn_flush(s, c) <= 0)
				return;
		if (c->out_len)
			return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(s, c);
}

/**
 * svc_http_reap() - close clients idle for SVC_HTTP_IDLE_MS (stalled or
 * forgotten keep-alive connections must not hold slots forever)
 * Return: the number of open connections left
 */
int svc_http_reap(struct svc *s, int64_t now)
{
	int i, n = 0;

	for (i = 0; i < SVC_MAX_HTTP; i++) {
		struct svc_http_conn *c = s->http[i];

		if (!c)
			continue;
		if (now - c->last_active > SVC_HTTP_IDLE_MS)
			conn_close(s, c);
		else
			n++;
	}
	return n;
}

/**
 * svc_http_close_all() - close listeners and clients (shutdown)
 */
void svc_http_close_all(struct svc *s)
{
	int i;

	for (i = 0; i < SVC_MAX_HTTP; i++)
		if (s->http[i])
			conn_close(s, s->http[i]);
	for (i = 0; i < s->n_listen; i++)
		if (s->listen_fd[i] >= 0) {
			svc_loop_del(s, s->listen_fd[i]);
			close(s->listen_fd[i]);
			s->listen_fd[i] = -1;
		}
	s->n_listen = 0;
}
