/*
 * A disk cache that a power loss empties, for one process (LD_PRELOAD).
 *
 * A kill -9 of Redis loses nothing that Redis wrote: the kernel keeps written pages and puts them
 * on disk later. Only a crash of the machine loses what was written but not yet fsynced, and a
 * test cannot crash the machine. This library makes a kill -9 behave like that crash for the
 * files whose path contains LAZY_DISK_MATCH (default ".incr.aof", the AOF Redis appends to):
 * write() keeps the bytes in memory and reports them written; fsync()/fdatasync() puts them in
 * the file and then syncs it; close() puts them in the file too (a clean close loses nothing).
 * A process killed with SIGKILL therefore leaves exactly the bytes it had fsynced.
 * Buffers are per file descriptor of this process; a forked child starts with none.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FDS 4096

struct held {
    int lazy;
    char *data;
    size_t size;
    size_t capacity;
};

static struct held files[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_close)(int);
static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);

static void resolve(void) {
    if (real_write) return;
    real_open = dlsym(RTLD_NEXT, "open");
    real_openat = dlsym(RTLD_NEXT, "openat");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_close = dlsym(RTLD_NEXT, "close");
    real_write = dlsym(RTLD_NEXT, "write");
}

static void track(int fd, const char *path) {
    const char *match = getenv("LAZY_DISK_MATCH");
    if (fd < 0 || fd >= MAX_FDS || path == NULL) return;
    pthread_mutex_lock(&lock);
    files[fd].lazy = strstr(path, match ? match : ".incr.aof") != NULL;
    files[fd].size = 0;
    pthread_mutex_unlock(&lock);
}

/* Puts the held bytes of fd in its file; the caller holds the lock. */
static int spill(int fd) {
    struct held *f = &files[fd];
    size_t done = 0;
    while (done < f->size) {
        ssize_t n = real_write(fd, f->data + done, f->size - done);
        if (n < 0) return -1;
        done += (size_t)n;
    }
    f->size = 0;
    return 0;
}

/* A forked child (an RDB save for a replica, an AOF rewrite) must neither write the parent's
 * held bytes nor wait for a lock some parent thread held at the fork. */
static void forget_in_child(void) {
    pthread_mutex_init(&lock, NULL);
    for (int fd = 0; fd < MAX_FDS; fd++) {
        files[fd].lazy = 0;
        files[fd].size = 0;
    }
}

__attribute__((constructor)) static void install(void) {
    resolve();
    pthread_atfork(NULL, NULL, forget_in_child);
}

static int mode_of(int flags, va_list args) {
    return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(args, int) : 0;
}

int open(const char *path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    int mode = mode_of(flags, args);
    va_end(args);
    resolve();
    int fd = real_open(path, flags, mode);
    track(fd, path);
    return fd;
}

int open64(const char *path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    int mode = mode_of(flags, args);
    va_end(args);
    resolve();
    int fd = real_open(path, flags, mode);
    track(fd, path);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    int mode = mode_of(flags, args);
    va_end(args);
    resolve();
    int fd = real_openat(dirfd, path, flags, mode);
    track(fd, path);
    return fd;
}

ssize_t write(int fd, const void *buf, size_t count) {
    resolve();
    if (fd < 0 || fd >= MAX_FDS || !files[fd].lazy) return real_write(fd, buf, count);
    pthread_mutex_lock(&lock);
    struct held *f = &files[fd];
    if (f->size + count > f->capacity) {
        size_t wanted = (f->size + count) * 2;
        char *grown = realloc(f->data, wanted);
        if (grown == NULL) {
            pthread_mutex_unlock(&lock);
            return real_write(fd, buf, count);
        }
        f->data = grown;
        f->capacity = wanted;
    }
    memcpy(f->data + f->size, buf, count);
    f->size += count;
    pthread_mutex_unlock(&lock);
    return (ssize_t)count;
}

static int flush_then(int fd, int (*sync)(int)) {
    resolve();
    if (fd >= 0 && fd < MAX_FDS && files[fd].lazy) {
        pthread_mutex_lock(&lock);
        int failed = spill(fd);
        pthread_mutex_unlock(&lock);
        if (failed) return -1;
    }
    return sync(fd);
}

int fsync(int fd) { resolve(); return flush_then(fd, real_fsync); }

int fdatasync(int fd) { resolve(); return flush_then(fd, real_fdatasync); }

int close(int fd) {
    resolve();
    if (fd >= 0 && fd < MAX_FDS && files[fd].lazy) {
        pthread_mutex_lock(&lock);
        spill(fd);
        files[fd].lazy = 0;
        pthread_mutex_unlock(&lock);
    }
    return real_close(fd);
}
