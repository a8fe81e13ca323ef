/* sock_opts.c - the socket options the stack honours, stored per socket and
 * applied to its pcb (now, or when the pcb is created or accepted).
 *
 * SO_RCVBUF/SO_SNDBUF are stored and reported like Linux does (doubled) but
 * do not change lwIP's fixed window and send buffer.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/tcp.h>	/* not netinet/tcp.h: its TCP_MSS clashes with lwIP's */

#include "stack/stack_internal.h"

/**
 * nc_opts_apply() - push c's options into its pcb (lock held)
 * @st:	stack
 * @c:	socket (no-op without a pcb)
 */
void nc_opts_apply(struct nc_stack *st, struct nc_conn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	(void)st;
	if (!pcb)
		return;
	if (c->reuseaddr)
		ip_set_option(pcb, SOF_REUSEADDR);
	else
		ip_reset_option(pcb, SOF_REUSEADDR);
	if (c->keepalive)
		ip_set_option(pcb, SOF_KEEPALIVE);
	else
		ip_reset_option(pcb, SOF_KEEPALIVE);
	if (c->state == NC_SOCK_LISTENING)
		return;	/* a tcp_pcb_listen has none of the fields below */
	if (c->nodelay)
		tcp_nagle_disable(pcb);
	else
		tcp_nagle_enable(pcb);
	pcb->keep_idle = (u32_t)c->keepidle * 1000u;
	pcb->keep_intvl = (u32_t)c->keepintvl * 1000u;
	pcb->keep_cnt = (u32_t)c->keepcnt;
}

/* opts_int() - read an int option value. Return: 0 or -EINVAL */
static int opts_int(const void *val, socklen_t len, int *out)
{
	if (!val || len < sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/**
 * nc_stack_sock_setopt() - set an option
 * Return: 0, -ENOPROTOOPT (not supported), -EINVAL, -ENOENT
 */
int nc_stack_sock_setopt(struct nc_stack *st, uint64_t id, int level, int name,
			 const void *val, socklen_t len)
{
	struct nc_conn *c;
	int v = 0, err = 0;

	nc_stack_lock(st);
	c = nc_conn_find(st, id);
	if (!c) {
		err = -ENOENT;
		goto out;
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		if (!val || len < sizeof(struct linger)) {
			err = -EINVAL;
			goto out;
		}
		memcpy(&c->linger, val, sizeof(struct linger));
		goto out;
	}
	err = opts_int(val, len, &v);
	if (err)
		goto out;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_KEEPALIVE: c->keepalive = !!v; break;
		case SO_REUSEADDR: c->reuseaddr = !!v; break;
		case SO_RCVBUF: c->rcvbuf = v < 1152 ? 2304 : 2 * v; break;
		case SO_SNDBUF: c->sndbuf = v < 2304 ? 4608 : 2 * v; break;
		default: err = -ENOPROTOOPT;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY: c->nodelay = !!v; break;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
			if (v < 1 || v > 32767) {
				err = -EINVAL;
				break;
			}
			if (name == TCP_KEEPIDLE)
				c->keepidle = v;
			else
				c->keepintvl = v;
			break;
		case TCP_KEEPCNT:
			if (v < 1 || v > 127)
				err = -EINVAL;
			else
				c->keepcnt = v;
			break;
		default: err = -ENOPROTOOPT;
		}
	} else if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && c->family == AF_INET6) {
		if (c->state != NC_SOCK_NEW || c->pcb)
			err = -EINVAL;	/* Linux: only before bind/connect */
		else
			c->v6only = !!v;
	} else {
		err = -ENOPROTOOPT;
	}
	if (!err)
		nc_opts_apply(st, c);
out:
	nc_stack_unlock(st);
	return err;
}

/**
 * nc_stack_sock_getopt() - read an option (ints, or struct linger)
 * Return: 0 (*len updated), -ENOPROTOOPT, -EINVAL, -ENOENT
 */
int nc_stack_sock_getopt(struct nc_stack *st, uint64_t id, int level, int name,
			 void *val, socklen_t *len)
{
	struct nc_conn *c;
	int v = 0, err = 0;

	if (!val || !len)
		return -EINVAL;
	nc_stack_lock(st);
	c = nc_conn_find(st, id);
	if (!c) {
		err = -ENOENT;
		goto out;
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		if (*len < sizeof(struct linger)) {
			err = -EINVAL;
			goto out;
		}
		memcpy(val, &c->linger, sizeof(struct linger));
		*len = sizeof(struct linger);
		goto out;
	}
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_KEEPALIVE: v = c->keepalive; break;
		case SO_REUSEADDR: v = c->reuseaddr; break;
		case SO_RCVBUF: v = c->rcvbuf; break;
		case SO_SNDBUF: v = c->sndbuf; break;
		default: err = -ENOPROTOOPT;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY: v = c->nodelay; break;
		case TCP_KEEPIDLE: v = c->keepidle; break;
		case TCP_KEEPINTVL: v = c->keepintvl; break;
		case TCP_KEEPCNT: v = c->keepcnt; break;
		default: err = -ENOPROTOOPT;
		}
	} else if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY && c->family == AF_INET6) {
		v = c->v6only;
	} else {
		err = -ENOPROTOOPT;
	}
	if (!err) {
		if (*len < sizeof(int)) {
			err = -EINVAL;
		} else {
			memcpy(val, &v, sizeof(int));
			*len = sizeof(int);
		}
	}
out:
	nc_stack_unlock(st);
	return err;
}
