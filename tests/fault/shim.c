/* seqa — fault-injection shim (LD_PRELOAD=build/fault/libseqa_fault.so), for tests only.
 *
 * Allocation failures:
 *   SEQA_FAIL_ALLOC_AT=N      the Nth call of malloc/calloc/realloc/posix_memalign/aligned_alloc
 *                             (counted over all threads from process start) returns NULL, ENOMEM;
 *                             only that one: later allocations succeed again.
 *   SEQA_FAULT_COUNT=FILE     at exit, append "allocs=<count> injected=<0|1>" to FILE (used to
 *                             learn how many allocation points a run has).
 * I/O failures (sticky: once the first matching call failed, every later matching call fails too,
 * as a full disk would):
 *   SEQA_FAIL_IO=OP:ERR:PATTERN[:NTH]
 *       OP      write (write, pwrite, writev, fwrite, fputs, fputc, fflush), fsync (fsync,
 *               fdatasync), close (close, fclose), rename (rename, renameat)
 *       ERR     ENOSPC, EIO, EDQUOT or EROFS
 *       PATTERN substring of the file's path (of the target for rename); "*" = any regular file;
 *               a pattern with '*' or '?' elsewhere is an fnmatch() glob on the whole path
 *       NTH     fail from the NTH matching call on (default 1)
 *   SEQA_FAULT_LOG=FILE       append one line per injected failure ("inject OP PATH") and, with
 *                             SEQA_FAULT_TRACE=1, one line per descriptor written ("path P")
 *                             and per rename ("rename TARGET").
 * Crashes (kill -9 at an exact point):
 *   SEQA_KILL_ON=OP:PATTERN:NTH[:before]
 *       the process SIGKILLs itself right after (or just before) the NTH call of OP (rename,
 *       write, fsync) on a path containing PATTERN ("*" = any).  With rename and ".seqa/stage-"
 *       this lands exactly on a pipeline stage boundary; with write, inside a stage.
 * Paths of descriptors are read from /proc/self/fd.  Only regular files match (never pipes,
 * sockets, terminals or /dev/null), so logging to stderr keeps working.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_ulong n_alloc;
static unsigned long fail_at;      /* 0: off */
static atomic_int injected;
static int inited;

/* ---- I/O configuration ------------------------------------------------------------------ */
enum { OP_NONE, OP_WRITE, OP_FSYNC, OP_CLOSE, OP_RENAME };
static int io_op, io_err;
static char io_pat[512];
static long io_nth = 1;
static atomic_long io_seen;
static atomic_int io_sticky;
static int trace_paths;
static int kill_op, kill_before;
static char kill_pat[512];
static long kill_nth;
static atomic_long kill_seen;
static __thread int in_shim;       /* no recursion through our own stdio/readlink */

static void init(void)
{
	const char *s;
	if (inited) return;
	inited = 1;
	if ((s = getenv("SEQA_FAIL_ALLOC_AT"))) fail_at = strtoul(s, NULL, 10);
	if ((s = getenv("SEQA_FAIL_IO"))) {
		char op[32] = "", er[32] = "";
		long nth = 1;
		if (sscanf(s, "%31[^:]:%31[^:]:%511[^:]:%ld", op, er, io_pat, &nth) >= 3) {
			io_op = !strcmp(op, "write") ? OP_WRITE : !strcmp(op, "fsync") ? OP_FSYNC : !strcmp(op, "close") ? OP_CLOSE
			      : !strcmp(op, "rename") ? OP_RENAME : OP_NONE;
			io_err = !strcmp(er, "EIO") ? EIO : !strcmp(er, "EDQUOT") ? EDQUOT : !strcmp(er, "EROFS") ? EROFS : ENOSPC;
			io_nth = nth > 0 ? nth : 1;
		}
	}
	trace_paths = getenv("SEQA_FAULT_TRACE") != NULL;
	if ((s = getenv("SEQA_KILL_ON"))) {
		char op[32] = "", when[32] = "";
		if (sscanf(s, "%31[^:]:%511[^:]:%ld:%31s", op, kill_pat, &kill_nth, when) >= 3) {
			kill_op = !strcmp(op, "write") ? OP_WRITE : !strcmp(op, "fsync") ? OP_FSYNC : !strcmp(op, "rename") ? OP_RENAME : OP_NONE;
			kill_before = !strcmp(when, "before");
		}
	}
}


/* Raw append to SEQA_FAULT_LOG (no stdio, no interposed calls). */
static void logf_(const char *fmt, ...)
{
	const char *lf = getenv("SEQA_FAULT_LOG");
	char buf[1200];
	va_list ap;
	int n;
	long fd;
	if (!lf) return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n <= 0) return;
	if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
	fd = syscall(SYS_open, lf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) return;
	if (syscall(SYS_write, fd, buf, n) < 0) { /* nothing to do */ }
	syscall(SYS_close, fd);
}

/* ---- allocation ------------------------------------------------------------------------- */
static int alloc_fails(void)
{
	unsigned long k;
	if (!inited) init();
	k = atomic_fetch_add(&n_alloc, 1) + 1;
	if (fail_at && k == fail_at) {
		atomic_store(&injected, 1);
		return 1;
	}
	return 0;
}
void *malloc(size_t n)
{
	if (alloc_fails()) { errno = ENOMEM; return NULL; }
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	if (alloc_fails()) { errno = ENOMEM; return NULL; }
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	if (alloc_fails()) { errno = ENOMEM; return NULL; }
	return __libc_realloc(p, n);
}
int posix_memalign(void **out, size_t al, size_t n)
{
	void *p;
	if (alloc_fails()) return ENOMEM;
	if (!(p = __libc_memalign(al, n))) return ENOMEM;
	*out = p;
	return 0;
}
void *aligned_alloc(size_t al, size_t n)
{
	if (alloc_fails()) { errno = ENOMEM; return NULL; }
	return __libc_memalign(al, n);
}
void *memalign(size_t al, size_t n)
{
	if (alloc_fails()) { errno = ENOMEM; return NULL; }
	return __libc_memalign(al, n);
}

__attribute__((destructor)) static void fini(void)
{
	const char *cf = getenv("SEQA_FAULT_COUNT");
	if (!cf) return;
	char buf[96];
	int n = snprintf(buf, sizeof buf, "allocs=%lu injected=%d pid=%d\n", (unsigned long)atomic_load(&n_alloc),
	                 atomic_load(&injected), (int)getpid());
	long fd = syscall(SYS_open, cf, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) { if (syscall(SYS_write, fd, buf, n) < 0) {} syscall(SYS_close, fd); }
}

/* ---- I/O -------------------------------------------------------------------------------- */
#define REAL(ret, name, args) \
	static ret (*real_##name) args; \
	if (!real_##name) real_##name = (ret (*) args)dlsym(RTLD_NEXT, #name)

/* Path of a descriptor if it is a regular file, else "" */
static void fd_path(int fd, char *out, size_t cap)
{
	char l[64];
	struct stat st;
	long n;
	out[0] = 0;
	if (fd < 0 || syscall(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
	snprintf(l, sizeof l, "/proc/self/fd/%d", fd);
	n = syscall(SYS_readlink, l, out, cap - 1);
	out[n > 0 ? n : 0] = 0;
}

static unsigned char traced[4096];   /* per fd: traced already (writes) */

static int pat_match(const char *pat, const char *path)
{
	if (!strcmp(pat, "*")) return 1;
	if (strpbrk(pat, "*?")) return fnmatch(pat, path, 0) == 0;
	return strstr(path, pat) != NULL;
}

/* SEQA_KILL_ON: 1 if this call is the one; the caller kills before or after doing it. */
static int kill_hit(int op, const char *path)
{
	if (!kill_op || op != kill_op || !path[0]) return 0;
	if (!pat_match(kill_pat, path)) return 0;
	return atomic_fetch_add(&kill_seen, 1) + 1 == kill_nth;
}
static void die(const char *op, const char *path)
{
	logf_("kill %s %s %s\n", kill_before ? "before" : "after", op, path);
	syscall(SYS_kill, syscall(SYS_getpid), 9);
	for (;;) pause();
}

/* 1 if a call of kind op on path must fail now (errno set). */
static int io_fails(int op, const char *path, int fd)
{
	if (!inited) init();
	if (!path[0] || in_shim) return 0;
	if (trace_paths && op == OP_WRITE && fd >= 0 && fd < 4096 && !traced[fd]) {
		traced[fd] = 1;
		logf_("path %s\n", path);
	}
	if (io_op != op) return 0;
	if (!pat_match(io_pat, path)) return 0;
	if (strstr(path, "/proc/") == path) return 0;
	if (!atomic_load(&io_sticky)) {
		if (atomic_fetch_add(&io_seen, 1) + 1 < io_nth) return 0;
		atomic_store(&io_sticky, 1);
	}
	atomic_store(&injected, 1);
	logf_("inject %s %s\n", op == OP_WRITE ? "write" : op == OP_FSYNC ? "fsync" : op == OP_CLOSE ? "close" : "rename", path);
	errno = io_err;
	return 1;
}

static __thread int kill_after;   /* set when the current call must be followed by the kill */
static int fd_fails(int op, int fd)
{
	char p[4096];
	if (!inited) init();
	if (io_op != op && kill_op != op && !(trace_paths && op == OP_WRITE)) return 0;
	if (in_shim) return 0;
	in_shim = 1;
	fd_path(fd, p, sizeof p);
	in_shim = 0;
	if (kill_hit(op, p)) {
		if (kill_before) die(op == OP_WRITE ? "write" : "fsync", p);
		kill_after = 1;
	}
	return io_fails(op, p, fd);
}
/* after the real call: the kill of SEQA_KILL_ON ...:after */
#define AFTER(op) do { if (kill_after) { kill_after = 0; die(op, "(after)"); } } while (0)

ssize_t write(int fd, const void *b, size_t n)
{
	REAL(ssize_t, write, (int, const void *, size_t));
	if (fd_fails(OP_WRITE, fd)) return -1;
	ssize_t r = real_write(fd, b, n);
	AFTER("write");
	return r;
}
ssize_t pwrite(int fd, const void *b, size_t n, off_t o)
{
	REAL(ssize_t, pwrite, (int, const void *, size_t, off_t));
	if (fd_fails(OP_WRITE, fd)) return -1;
	ssize_t r = real_pwrite(fd, b, n, o);
	AFTER("write");
	return r;
}
ssize_t pwrite64(int fd, const void *b, size_t n, off_t o)
{
	REAL(ssize_t, pwrite64, (int, const void *, size_t, off_t));
	if (fd_fails(OP_WRITE, fd)) return -1;
	ssize_t r = real_pwrite64(fd, b, n, o);
	AFTER("write");
	return r;
}
ssize_t writev(int fd, const struct iovec *v, int n)
{
	REAL(ssize_t, writev, (int, const struct iovec *, int));
	if (fd_fails(OP_WRITE, fd)) return -1;
	ssize_t r = real_writev(fd, v, n);
	AFTER("write");
	return r;
}
size_t fwrite(const void *b, size_t sz, size_t n, FILE *fp)
{
	REAL(size_t, fwrite, (const void *, size_t, size_t, FILE *));
	if (fd_fails(OP_WRITE, fileno(fp))) return 0;
	size_t r = real_fwrite(b, sz, n, fp);
	AFTER("write");
	return r;
}
int fputs(const char *s, FILE *fp)
{
	REAL(int, fputs, (const char *, FILE *));
	if (fd_fails(OP_WRITE, fileno(fp))) return EOF;
	int r = real_fputs(s, fp);
	AFTER("write");
	return r;
}
int fputc(int c, FILE *fp)
{
	REAL(int, fputc, (int, FILE *));
	if (fd_fails(OP_WRITE, fileno(fp))) return EOF;
	int r = real_fputc(c, fp);
	AFTER("write");
	return r;
}
int fflush(FILE *fp)
{
	REAL(int, fflush, (FILE *));
	if (fp && fd_fails(OP_WRITE, fileno(fp))) return EOF;
	int r = real_fflush(fp);
	AFTER("write");
	return r;
}
int fsync(int fd)
{
	REAL(int, fsync, (int));
	if (fd_fails(OP_FSYNC, fd)) return -1;
	int r = real_fsync(fd);
	AFTER("fsync");
	return r;
}
int fdatasync(int fd)
{
	REAL(int, fdatasync, (int));
	if (fd_fails(OP_FSYNC, fd)) return -1;
	int r = real_fdatasync(fd);
	AFTER("fsync");
	return r;
}
int close(int fd)
{
	REAL(int, close, (int));
	int f = fd_fails(OP_CLOSE, fd);
	if (fd >= 0 && fd < 4096) traced[fd] = 0;
	int r = real_close(fd);   /* the descriptor is released either way, as the kernel does */
	if (f) { errno = io_err; return -1; }
	return r;
}
int fclose(FILE *fp)
{
	REAL(int, fclose, (FILE *));
	int fd = fp ? fileno(fp) : -1;
	/* a full disk shows at the final flush: fail (and still release the stream) */
	int f = fd_fails(OP_CLOSE, fd) || (io_op == OP_WRITE && fd_fails(OP_WRITE, fd));
	if (fd >= 0 && fd < 4096) traced[fd] = 0;
	int r = real_fclose(fp);
	if (f) { errno = io_err; return EOF; }
	return r;
}
int rename(const char *a, const char *b)
{
	REAL(int, rename, (const char *, const char *));
	if (!inited) init();
	if (trace_paths && b) logf_("rename %s\n", b);
	int k = b && kill_hit(OP_RENAME, b);
	if (k && kill_before) die("rename", b);
	if (io_op == OP_RENAME && b && io_fails(OP_RENAME, b, -1)) return -1;
	int r = real_rename(a, b);
	if (k) die("rename", b);
	return r;
}
int renameat(int da, const char *a, int db, const char *b)
{
	REAL(int, renameat, (int, const char *, int, const char *));
	if (!inited) init();
	if (trace_paths && b) logf_("rename %s\n", b);
	int k = b && kill_hit(OP_RENAME, b);
	if (k && kill_before) die("rename", b);
	if (io_op == OP_RENAME && b && io_fails(OP_RENAME, b, -1)) return -1;
	int r = real_renameat(da, a, db, b);
	if (k) die("rename", b);
	return r;
}
