/* icept_syscall.c - the syscall() hook.
 *
 * Some programs reach the socket calls through syscall(SYS_accept4, ...)
 * instead of the libc wrappers (libuv does on some builds). Those numbers go
 * to the same hooks as the wrappers; every other number goes to the real
 * syscall() with all six argument registers, as libc's own does.
 */
#include "icept.h"

#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

ICEPT_EXPORT long syscall(long n, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (icept_enabled()) {
		switch (n) {
		case SYS_socket:
			return icept_socket((int)a[0], (int)a[1], (int)a[2]);
		case SYS_bind:
			return icept_bind((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
		case SYS_listen:
			return icept_listen((int)a[0], (int)a[1]);
		case SYS_accept:
			return icept_accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2], 0);
		case SYS_accept4:
			return icept_accept4((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2],
					     (int)a[3]);
		case SYS_connect:
			return icept_connect((int)a[0], (const struct sockaddr *)a[1], (socklen_t)a[2]);
		case SYS_getsockname:
			return icept_getsockname((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
		case SYS_getpeername:
			return icept_getpeername((int)a[0], (struct sockaddr *)a[1], (socklen_t *)a[2]);
		case SYS_setsockopt:
			return icept_setsockopt((int)a[0], (int)a[1], (int)a[2], (const void *)a[3],
						(socklen_t)a[4]);
		case SYS_getsockopt:
			return icept_getsockopt((int)a[0], (int)a[1], (int)a[2], (void *)a[3],
						(socklen_t *)a[4]);
		case SYS_shutdown:
			return icept_shutdown((int)a[0], (int)a[1]);
		case SYS_close:
			return icept_close((int)a[0]);
		case SYS_close_range:
			return icept_close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
		}
	}
	return icept_real()->syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
