/* tests/stack_util.h - what the in-process stack tests and tools
 * (test_stack, stack_bench, lwip_loss) share: socket addresses from text,
 * and taking a connection the stack hands to a listener */
#ifndef NC_TESTS_STACK_UTIL_H
#define NC_TESTS_STACK_UTIL_H

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "stack/stack.h"

/* mk4() - IPv4 address ip (dotted quad), port */
static inline struct sockaddr_storage mk4(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return ss;
}

/* mk6() - IPv6 address ip (text form), port */
static inline struct sockaddr_storage mk6(const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, ip, &s6->sin6_addr);
	return ss;
}

/* accept_rec() - the fd of the next connection the stack passed on a
 * listener's socket pair (an nc_accept_rec with the fd attached), or -1 */
static inline int accept_rec(int lfd)
{
	struct nc_accept_rec rec;
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { &rec, sizeof(rec) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	int fd = -1;

	if (recvmsg(lfd, &mh, 0) != sizeof(rec) || !CMSG_FIRSTHDR(&mh))
		return -1;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	return fd;
}

#endif
