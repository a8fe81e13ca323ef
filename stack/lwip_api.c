/* lwip_api.c - load a private copy of liblwip.so and resolve its entry points.
 *
 * Why a copy: the dynamic loader shares one instance of a library per file
 * (it matches by device and inode), and lwIP keeps its whole state in
 * globals. Each stack therefore copies the library to a fresh file, dlopens
 * that file RTLD_NOW|RTLD_LOCAL (so nothing else can bind to its symbols and
 * its own references resolve to itself: this process exports no lwIP
 * symbols) and unlinks it at once; the mapping stays. When no writable
 * tmp_dir is usable (or it is mounted noexec) an anonymous memfd is used
 * instead.
 *
 * Which library: the service passes HOME/liblwip.so, else the one next to
 * its binary or in PREFIX/lib/netcon (the Makefile's build of Debian's lwip
 * source with stack/lwipopts.h), else Debian's packaged one. A netcon build
 * exports netcon_lwip_info (stack/lwip_info.c): its options and the sizes of
 * the structures we share with it, checked here against the headers this
 * file was compiled with; a mismatch refuses the library rather than
 * corrupting memory. Debian's library has no such record and is taken to
 * match its own headers. Either way l->desc says what was loaded, for the
 * daemon's log.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stack/stack_internal.h"
#include "lwip/timeouts.h"
#include "stack/lwip_info.h"

/* IGMP and MLD timer period in the copy (lwIP's is 100 ms) */
#define NC_LWIP_GROUP_TMR_MS 1000

#define NC_LWIP_DEFAULT "/usr/lib/x86_64-linux-gnu/liblwip.so.0"

/* lwip_copy_fd() - copy the file at src into fd. Return: 0 or -errno */
static int lwip_copy_fd(const char *src, int fd)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (in < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ssize_t off = 0;
		while (off < n) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0) {
				int e = -errno;
				close(in);
				return e;
			}
			off += w;
		}
	}
	n = n < 0 ? -errno : 0;
	close(in);
	return (int)n;
}

/* lwip_open_copy() - dlopen a private copy of src. Return: handle or NULL */
static void *lwip_open_copy(const char *src, const char *tmp_dir)
{
	char path[4096];
	void *dl = NULL;
	int fd;

	if (tmp_dir && *tmp_dir) {
		snprintf(path, sizeof(path), "%s/.netcon-lwip-XXXXXX", tmp_dir);
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0) {
			if (lwip_copy_fd(src, fd) == 0)
				dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
			unlink(path);
			close(fd);
			if (dl)
				return dl;
		}
	}
	fd = memfd_create("netcon-lwip", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (lwip_copy_fd(src, fd) == 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	close(fd);
	return dl;
}

/* lwip_prot_of() - protection bits of the mapping holding addr, from
 * /proc/self/maps. Return: PROT_* bits or -1 */
static int lwip_prot_of(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512], perm[5];
	unsigned long lo, hi;
	int prot = -1;

	if (!f)
		return -1;
	while (prot < 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) != 3 || addr < lo || addr >= hi)
			continue;
		prot = (perm[0] == 'r' ? PROT_READ : 0) | (perm[1] == 'w' ? PROT_WRITE : 0) |
		       (perm[2] == 'x' ? PROT_EXEC : 0);
	}
	fclose(f);
	return prot;
}

/* lwip_slow_group_timers() - before tcpip_init: make the copy's IGMP and
 * MLD cyclic timers run every NC_LWIP_GROUP_TMR_MS instead of 100 ms.
 *
 * lwIP runs igmp_tmr and mld6_tmr every 100 ms for the life of the stack
 * (IGMP_TMR_INTERVAL/MLD6_TMR_INTERVAL are fixed #defines, not options), so
 * an idle stack's tcpip thread woke 10 times a second. The period is read
 * from the (RELRO, so made writable for the store) lwip_cyclic_timers[]
 * table each time a timer is re-armed; at 1000 ms the group timers fire
 * with ARP's, ND's and reassembly's, one wake-up per second. Joins still
 * report at once; only the repeat reports and query answers, which
 * ZeroTier does not need (groups travel as MULTICAST_LIKEs), come 10x
 * later. Entries are patched only if they hold exactly igmp_tmr/mld6_tmr
 * at 100 ms, so a library built otherwise is left alone. */
static void lwip_slow_group_timers(void *dl)
{
	struct lwip_cyclic_timer *t = dlsym(dl, "lwip_cyclic_timers");
	const int *n = dlsym(dl, "lwip_num_cyclic_timers");
	void *igmp = dlsym(dl, "igmp_tmr"), *mld = dlsym(dl, "mld6_tmr");
	long pg = sysconf(_SC_PAGESIZE);

	if (!t || !n || *n <= 0 || *n > 64 || pg <= 0)
		return;
	for (int i = 0; i < *n; i++) {
		uintptr_t a = (uintptr_t)&t[i].interval_ms;
		void *page = (void *)(a & ~(uintptr_t)(pg - 1)), *h;
		int prot;

		memcpy(&h, &t[i].handler, sizeof(h));
		if (!h || (h != igmp && h != mld) || t[i].interval_ms != 100)
			continue;
		prot = lwip_prot_of(a);
		if (prot < 0 || (!(prot & PROT_WRITE) &&
				 mprotect(page, (size_t)pg, prot | PROT_WRITE) != 0))
			return;
		t[i].interval_ms = NC_LWIP_GROUP_TMR_MS;
		if (!(prot & PROT_WRITE))
			mprotect(page, (size_t)pg, prot);
	}
}

/* lwip_check_info() - describe the loaded library in l->desc, set its slow
 * timer's period (tcp_ticks' unit: a netcon build says its TCP_TMR_INTERVAL,
 * Debian's is the installed headers') and check a netcon build's record
 * against our headers. Return: 0 or -ENOEXEC */
static int lwip_check_info(struct nc_lwip *l, const char *path)
{
	const struct nc_lwip_info *i = dlsym(l->dl, "netcon_lwip_info");

	l->slow_ms = i ? 2 * i->tcp_tmr_interval : TCP_SLOW_INTERVAL;
	if (!i) {
		snprintf(l->desc, sizeof(l->desc),
			 "%s (no netcon build record: Debian's packaged build, options as in the "
			 "installed headers: TCP timer %u ms, MSL %lu ms)",
			 path, (unsigned)TCP_TMR_INTERVAL, (unsigned long)TCP_MSL);
		return 0;
	}
	if (i->magic != NC_LWIP_INFO_MAGIC || i->size != sizeof(*i)) {
		snprintf(l->desc, sizeof(l->desc), "%s (unreadable netcon build record)", path);
		return -ENOEXEC;
	}
	snprintf(l->desc, sizeof(l->desc),
		 "%s (netcon build of Debian lwip %.*s: TCP timer %u ms, MSL %u ms, MSS %u, "
		 "window %u << %u, send buffer %u)",
		 path, (int)sizeof(i->deb_version), i->deb_version, i->tcp_tmr_interval, i->tcp_msl,
		 i->tcp_mss, i->tcp_wnd, i->tcp_rcv_scale, i->tcp_snd_buf);
	/* the layouts we share, and the options stack/tcp_bridge.c computes
	 * with (windows, send buffer, queue length) */
	if (i->sizeof_tcp_pcb != sizeof(struct tcp_pcb) || i->sizeof_pbuf != sizeof(struct pbuf) ||
	    i->sizeof_netif != sizeof(struct netif) || i->sizeof_ip_addr != sizeof(ip_addr_t) ||
	    i->tcp_mss != TCP_MSS || i->tcp_wnd != TCP_WND || i->tcp_rcv_scale != TCP_RCV_SCALE ||
	    i->tcp_snd_buf != TCP_SND_BUF || i->tcp_snd_queuelen < TCP_SND_QUEUELEN) {
		fprintf(stderr, "stack: %s was built with layouts or window options other than the "
				"headers netcon was compiled with; not used\n", path);
		return -ENOEXEC;
	}
	return 0;
}

/**
 * nc_lwip_load() - load a private lwIP and fill the function table
 * @l:		table to fill
 * @path:	liblwip.so to copy (NULL: the installed one)
 * @tmp_dir:	where to put the temporary copy (NULL: use a memfd)
 *
 * Return: 0, -ENOENT if the library cannot be loaded or lacks a symbol, or
 * -ENOEXEC if it is a netcon build that does not match our headers
 */
int nc_lwip_load(struct nc_lwip *l, const char *path, const char *tmp_dir)
{
	memset(l, 0, sizeof(*l));
	if (!path || !*path || access(path, R_OK) != 0)
		path = NC_LWIP_DEFAULT;
	l->dl = lwip_open_copy(path, tmp_dir);
	if (!l->dl) {
		fprintf(stderr, "stack: cannot load %s: %s\n", path, dlerror());
		return -ENOENT;
	}
#define NC_LWIP_RESOLVE(name)                                               \
	*(void **)(&l->name) = dlsym(l->dl, #name);                         \
	if (!l->name) {                                                     \
		fprintf(stderr, "stack: %s lacks %s\n", path, #name);       \
		dlclose(l->dl);                                             \
		l->dl = NULL;                                               \
		return -ENOENT;                                             \
	}
	NC_LWIP_FUNCS(NC_LWIP_RESOLVE)
#undef NC_LWIP_RESOLVE
	if (lwip_check_info(l, path) < 0) {
		dlclose(l->dl);
		l->dl = NULL;
		return -ENOEXEC;
	}
	l->pcb_lists = dlsym(l->dl, "tcp_pcb_lists");
	l->tw_pcbs = dlsym(l->dl, "tcp_tw_pcbs");
	l->ticks = dlsym(l->dl, "tcp_ticks");
	lwip_slow_group_timers(l->dl);
	return 0;
}

/**
 * nc_lwip_unload() - unmap the copy. Its tcpip thread must be gone.
 * @l:	table filled by nc_lwip_load()
 *
 * Under AddressSanitizer the copy stays mapped: the little memory lwIP keeps
 * in its own globals after shutdown (its mbox, timeout list) would otherwise
 * be reported as leaked.
 */
void nc_lwip_unload(struct nc_lwip *l)
{
	if (!l->dl)
		return;
#if !defined(__SANITIZE_ADDRESS__)
	dlclose(l->dl);
#endif
	l->dl = NULL;
}

/**
 * nc_stack_lwip_desc() - which library the stack loaded, from where
 * @st:	the stack
 *
 * Return: a description that lives as long as @st
 */
const char *nc_stack_lwip_desc(const struct nc_stack *st)
{
	return st->L.desc;
}
