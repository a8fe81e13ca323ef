/* tests/sockaddr.h - socket addresses from text for the in-process stack
 * tests and tools (test_stack, stack_bench, lwip_loss) */
#ifndef NC_TESTS_SOCKADDR_H
#define NC_TESTS_SOCKADDR_H

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

#endif
