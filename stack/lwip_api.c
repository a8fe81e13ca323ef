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

/**
 * nc_lwip_load() - load a private lwIP and fill the function table
 * @l:		table to fill
 * @path:	liblwip.so to copy (NULL: the installed one)
 * @tmp_dir:	where to put the temporary copy (NULL: use a memfd)
 *
 * Return: 0, or -ENOENT if the library cannot be loaded or lacks a symbol
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
