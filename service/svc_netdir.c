/* svc_netdir.c - networks.d/NWID.conf and moons.d/WORLDID.moon: the user's
 * lists of networks and moons.
 *
 * Every NWID.conf present at start is joined. While running, inotify tells
 * us about files created, moved in or closed after writing (join) and files
 * deleted or moved away (leave). `join` and `leave` through the API create
 * and remove the file, so the directory always reflects what we are in.
 * moons.d works the same way: a .moon file appearing is loaded, one removed
 * is deorbited. The engine itself writes moons.d files (state_put) when it
 * fetches a moon; loading that same world again is a no-op in the engine.
 * peers.d/ADDR.peer is the engine's peer cache: at start every cached peer
 * is offered to the engine (zt_node_hint_peer), which HELLOs its cached
 * paths, so that peers find each other again even when no root is up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>

#include "service/svc.h"

/* hex_name() - "<digits hex digits><suffix>" (8056c2e21c000001.conf) -> value;
 * else -EINVAL */
static int hex_name(const char *name, unsigned digits, const char *suffix, uint64_t *v)
{
	char hex[17];

	if (digits > 16 || strlen(name) != digits + strlen(suffix) || strcmp(name + digits, suffix))
		return -EINVAL;
	memcpy(hex, name, digits);
	hex[digits] = 0;
	return svc_hex_u64(hex, digits, v);
}

/* marker_nwid() - "8056c2e21c000001.conf" -> nwid; else -EINVAL */
static int marker_nwid(const char *name, uint64_t *nwid)
{
	return hex_name(name, 16, ".conf", nwid);
}

/* moon_id() - "000000xxxxxxxxxx.moon" -> world id; else -EINVAL */
static int moon_id(const char *name, uint64_t *id)
{
	return hex_name(name, 16, ".moon", id);
}

/*
 * scan_dir() - call @take for every HOME/@sub entry named @digits hex
 * digits + @suffix
 * Return: how many @take accepted (returned 0)
 */
static int scan_dir(struct svc *s, const char *sub, unsigned digits, const char *suffix,
		    int (*take)(struct svc *s, const char *name, uint64_t v))
{
	char p[1024];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", s->home, sub);
	d = opendir(p);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		uint64_t v;

		if (hex_name(de->d_name, digits, suffix, &v) == 0 && take(s, de->d_name, v) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/**
 * svc_netdir_marker() - create or remove networks.d/NWID.conf
 * @create:	1 create (empty, kept if present), 0 remove
 * Return: 0 or -errno
 */
int svc_netdir_marker(struct svc *s, uint64_t nwid, int create)
{
	char p[1024];
	int fd;

	snprintf(p, sizeof(p), "%s/networks.d/%016llx.conf", s->home, (unsigned long long)nwid);
	if (!create)
		return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int take_marker(struct svc *s, const char *name, uint64_t nwid)
{
	return svc_net_join(s, nwid, 0);
}

/**
 * svc_netdir_scan() - join every network with a marker file
 * Return: number joined
 */
int svc_netdir_scan(struct svc *s)
{
	return scan_dir(s, "networks.d", 16, ".conf", take_marker);
}

/* moon_load() - hand moons.d/NAME to the engine; log when it is new to us */
static void moon_load(struct svc *s, const char *name)
{
	uint64_t ids[64], ts[64], id;
	char f[1400], *buf;
	size_t len;
	int n, i, r, known = 0;

	if (moon_id(name, &id) < 0)
		return;
	snprintf(f, sizeof(f), "%s/moons.d/%s", s->home, name);
	buf = svc_file_read_all(f, 65536, &len);
	if (!buf)
		return;
	n = zt_node_moons(s->node, ids, ts, 64);
	for (i = 0; i < n && i < 64; i++)
		known |= ids[i] == id;
	r = zt_node_add_moon(s->node, svc_now(), buf, (unsigned)len);
	free(buf);
	s->deadline = svc_now();
	if (r != ZT_OK)
		svc_log("moon %s rejected (engine code %d)", f, r);
	else if (!known)
		svc_log("moon %016llx loaded", (unsigned long long)id);
}

static int take_moon(struct svc *s, const char *name, uint64_t id)
{
	moon_load(s, name);
	return 0;
}

/**
 * svc_moons_scan() - load every moons.d/WORLDID.moon
 * Return: number of files offered to the engine
 */
int svc_moons_scan(struct svc *s)
{
	return scan_dir(s, "moons.d", 16, ".moon", take_moon);
}

static int take_peer(struct svc *s, const char *name, uint64_t address)
{
	return zt_node_hint_peer(s->node, svc_now(), address) == ZT_OK ? 0 : -1;
}

/**
 * svc_peers_scan() - offer every cached peer (peers.d/ADDR.peer, ADDR ten
 * hex digits) to the engine
 * Return: number the engine took
 */
int svc_peers_scan(struct svc *s)
{
	return scan_dir(s, "peers.d", 10, ".peer", take_peer);
}

/**
 * svc_netdir_start() - watch networks.d
 * Return: 0 or -errno (the daemon then runs without auto-join)
 */
int svc_netdir_start(struct svc *s)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/networks.d", s->home);
	s->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->inofd < 0)
		return -errno;
	s->inowd = inotify_add_watch(s->inofd, p,
				     IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE |
					     IN_MOVED_FROM);
	if (s->inowd < 0) {
		int e = errno;

		close(s->inofd);
		s->inofd = -1;
		return -e;
	}
	snprintf(p, sizeof(p), "%s/moons.d", s->home);
	s->inowd_moons = inotify_add_watch(s->inofd, p, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE |
							       IN_MOVED_FROM);
	return svc_loop_add(s, s->inofd, SVC_EV_INOTIFY, 0, EPOLLIN);
}

/**
 * svc_netdir_event() - inotify readable: join or leave as files come and go
 */
void svc_netdir_event(struct svc *s)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t r = read(s->inofd, buf, sizeof(buf)), off = 0;

		if (r <= 0)
			return;
		while (off + (ssize_t)sizeof(struct inotify_event) <= r) {
			const struct inotify_event *ev = (const void *)(buf + off);
			uint64_t nwid;

			off += (ssize_t)sizeof(*ev) + ev->len;
			if (ev->len && ev->wd == s->inowd_moons) {
				uint64_t id;

				if (moon_id(ev->name, &id) < 0)
					continue;
				if (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE))
					moon_load(s, ev->name);
				else if (zt_node_deorbit(s->node, svc_now(), id) == ZT_OK)
					svc_log("moon %016llx removed", (unsigned long long)id);
				continue;
			}
			if (!ev->len || marker_nwid(ev->name, &nwid) < 0)
				continue;
			if (ev->mask & (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE))
				svc_net_join(s, nwid, 0);
			else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
				svc_net_leave(s, nwid, 0);
		}
	}
}
