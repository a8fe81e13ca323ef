/* udp_gso.c - the daemon's UDP send batch (service/svc_udp.c) on its own:
 * opens the daemon's sockets the way svc_run() does, queues datagrams
 * through svc_udp_send() and sends them with svc_udp_flush(), then prints
 * the counters the daemon exports in /metrics.
 *
 *   udp_gso IP PORT COUNT LEN [REPEAT]
 *	REPEAT (default 1) times: COUNT datagrams of LEN bytes to IP:PORT, and
 *	one of LEN/2 bytes (a shorter last one, which may end a GSO run), then
 *	one flush. Each datagram starts with its number (u32, big-endian) so
 *	a receiver can check what arrived. Prints one line: datagrams sent,
 *	of them as GSO segments, GSO messages, GSO messages refused, datagrams
 *	refused, and whether the IPv4 socket gave GSO up:
 *	"out N gso N messages N refused N errors N gso_off 0|1".
 *
 * tests/integration/udp_gso.sh runs it between network namespaces, over a
 * veth as it comes, without transmit checksum offload (older kernels refuse
 * UDP_SEGMENT there with EIO) and with an MTU below the datagrams (the
 * kernel refuses it with EINVAL): the batch must fall back.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "service/svc.h"

int main(int argc, char **argv)
{
	static uint8_t d[SVC_UDP_TXMAX];
	struct sockaddr_storage to;
	struct sockaddr_in *in = (struct sockaddr_in *)&to;
	struct svc *s;
	int count, len, repeat, r;

	if (argc < 5) {
		fprintf(stderr, "usage: udp_gso IP PORT COUNT LEN [REPEAT]\n");
		return 2;
	}
	count = atoi(argv[3]);
	len = atoi(argv[4]);
	repeat = argc > 5 ? atoi(argv[5]) : 1;
	if (count < 1 || len < 8 || len > SVC_UDP_TXMAX || repeat < 1) {
		fprintf(stderr, "udp_gso: COUNT >= 1, 8 <= LEN <= %d, REPEAT >= 1\n", SVC_UDP_TXMAX);
		return 2;
	}
	memset(&to, 0, sizeof(to));
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &in->sin_addr) != 1) {
		fprintf(stderr, "udp_gso: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	svc_log_open(NULL);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || (r = svc_udp_open(s, 0)) < 0) {
		fprintf(stderr, "udp_gso: cannot open the UDP sockets\n");
		return 1;
	}
	for (uint32_t n = 0, k = 0; k < (uint32_t)repeat; k++) {
		for (int i = 0; i <= count; i++, n++) {
			unsigned l = i < count ? (unsigned)len : (unsigned)len / 2;

			memset(d, (int)(n & 0xff), l);
			d[0] = (uint8_t)(n >> 24);
			d[1] = (uint8_t)(n >> 16);
			d[2] = (uint8_t)(n >> 8);
			d[3] = (uint8_t)n;
			if (svc_udp_send(s, -1, &to, d, l, 0) < 0) {
				fprintf(stderr, "udp_gso: svc_udp_send refused datagram %u\n", n);
				return 1;
			}
		}
		svc_udp_flush(s);
	}
	printf("out %llu gso %llu messages %llu refused %llu errors %llu gso_off %d\n",
	       (unsigned long long)s->udp_datagrams_out, (unsigned long long)s->udp_gso_sends,
	       (unsigned long long)s->udp_gso_sends_msgs, (unsigned long long)s->udp_gso_refused,
	       (unsigned long long)s->udp_send_errors, s->udp[0].no_gso);
	fflush(stdout);
	svc_udp_close(s);
	close(s->epfd);
	free(s);
	return 0;
}
