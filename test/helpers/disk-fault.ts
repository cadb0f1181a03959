// Disk faults for a real agent process: a small LD_PRELOAD library (compiled here with the C
// compiler) wraps libc's fsync, fdatasync, write and ftruncate, which libuv calls for Node's
// fs.fsync/fdatasync, FileHandle.write and FileHandle.truncate. Only a file called log.dat (the
// Raft log) is affected, and only once the trigger file named by an environment variable exists:
// - COORD_FAIL_FSYNC_WHEN: every fsync/fdatasync fails with EIO, as a disk that lost a write says.
// - COORD_FAIL_APPEND_WHEN: the first write lands half its bytes (a short write), every later
//   write fails with ENOSPC, and every ftruncate fails with EIO: an append torn by a full disk
//   whose partial record cannot be cut off again.
// Every other file, and log.dat before its trigger exists, behaves normally.
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

const SOURCE = String.raw`#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int failing(const char *variable, int fd) {
  const char *trigger = getenv(variable);
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
  if (failing("COORD_FAIL_FSYNC_WHEN", fd)) { errno = EIO; return -1; }
  int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  return real(fd);
}

int fdatasync(int fd) {
  if (failing("COORD_FAIL_FSYNC_WHEN", fd)) { errno = EIO; return -1; }
  int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  return real(fd);
}

static int torn_once = 0;

ssize_t write(int fd, const void *buf, size_t count) {
  ssize_t (*real)(int, const void *, size_t) = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
  if (count > 1 && failing("COORD_FAIL_APPEND_WHEN", fd)) {
    if (!__atomic_exchange_n(&torn_once, 1, __ATOMIC_SEQ_CST)) return real(fd, buf, count / 2);
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count);
}

static int failing_truncate(int fd) {
  return failing("COORD_FAIL_APPEND_WHEN", fd);
}

int ftruncate(int fd, off_t length) {
  if (failing_truncate(fd)) { errno = EIO; return -1; }
  int (*real)(int, off_t) = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
  return real(fd, length);
}

int ftruncate64(int fd, off_t length) {
  if (failing_truncate(fd)) { errno = EIO; return -1; }
  int (*real)(int, off_t) = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate64");
  return real(fd, length);
}
`

/** Builds the library in `dir`; returns its path, or why it cannot be built here. */
export function buildDiskFault(dir: string): {library: string} | {unavailable: string} {
  const source = join(dir, 'disk-fault.c')
  const library = join(dir, 'disk-fault.so')
  writeFileSync(source, SOURCE)
  const built = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, source, '-ldl'], {encoding: 'utf8', timeout: 60_000})
  if (built.error) return {unavailable: `no C compiler (cc): ${built.error.message}`}
  if (built.status !== 0) return {unavailable: `cc failed: ${built.stderr.trim().split('\n')[0]}`}
  return {library}
}
