// A failing fsync for a real agent process: a small LD_PRELOAD library (compiled here with the C
// compiler) wraps libc's fsync and fdatasync, which libuv calls for Node's fs.fsync/fdatasync.
// Once the file named by COORD_FAIL_FSYNC_WHEN exists, every fsync of a file called log.dat fails
// with EIO, as a disk that lost a write reports it; every other file, and log.dat before then,
// syncs for real. Nothing else in the process changes.
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

const SOURCE = String.raw`#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failing(int fd) {
  const char *trigger = getenv("COORD_FAIL_FSYNC_WHEN");
  if (trigger == NULL || access(trigger, F_OK) != 0) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = 0;
  const char *suffix = "/log.dat";
  size_t len = strlen(suffix);
  return (size_t)n >= len && strcmp(path + n - len, suffix) == 0;
}

int fsync(int fd) {
  if (failing(fd)) { errno = EIO; return -1; }
  int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  return real(fd);
}

int fdatasync(int fd) {
  if (failing(fd)) { errno = EIO; return -1; }
  int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  return real(fd);
}
`

/** Builds the library in `dir`; returns its path, or why it cannot be built here. */
export function buildFsyncFault(dir: string): {library: string} | {unavailable: string} {
  const source = join(dir, 'fsync-fault.c')
  const library = join(dir, 'fsync-fault.so')
  writeFileSync(source, SOURCE)
  const built = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, source, '-ldl'], {encoding: 'utf8', timeout: 60_000})
  if (built.error) return {unavailable: `no C compiler (cc): ${built.error.message}`}
  if (built.status !== 0) return {unavailable: `cc failed: ${built.stderr.trim().split('\n')[0]}`}
  return {library}
}
