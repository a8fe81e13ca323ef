/* svc_netlink.h - rtnetlink helpers for the tap port (svc_netlink.c). */
#ifndef NETCON_SERVICE_SVC_NETLINK_H
#define NETCON_SERVICE_SVC_NETLINK_H

#include <sys/socket.h>

int svc_nl_open(void);
int svc_nl_addr(int fd, int ifindex, int add, const struct sockaddr_storage *a);
int svc_nl_route(int fd, int ifindex, int add, const struct sockaddr_storage *target,
		 const struct sockaddr_storage *via, unsigned metric);

#endif
