/* fuzz_home.h - a scratch home directory for the fuzz targets that go
 * through the daemon's files (fuzz_http, fuzz_localconf): on tmpfs when
 * there is one (on ext4 each rewrite or fsync waited for the disk, most of
 * the run time), removed at exit (libFuzzer leaves through exit() after
 * -max_total_time). Included once, by the target's .c.
 */
#ifndef NC_FUZZ_HOME_H
#define NC_FUZZ_HOME_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

static char fz_home[64];

static int fz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void fz_cleanup(void)
{
	if (fz_home[0])
		nftw(fz_home, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* fz_home_make() - create fz_home as /dev/shm/NAME.XXXXXX (else in /tmp)
 * and have it removed at exit; aborts if it cannot */
static void fz_home_make(const char *name)
{
	snprintf(fz_home, sizeof(fz_home), "%s/%s.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name);
	if (!mkdtemp(fz_home))
		abort();
	atexit(fz_cleanup);
}

#endif
