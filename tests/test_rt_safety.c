/* Real-time safety of the built plugins, proven by interception.
 *
 * This program defines malloc, calloc, realloc, free, posix_memalign,
 * aligned_alloc, memalign, the pthread mutex, condition and semaphore calls,
 * thread creation, and the usual I/O and sleeping calls (write, read, open,
 * fopen, printf, nanosleep, mmap, ...). It is linked with -rdynamic, so a
 * dlopen'ed plugin (and the libraries it uses: libsamplerate, libm) calls these
 * definitions instead of libc's. Each counts itself while a flag is set around
 * the plugin's run() and work_response() (the audio thread's calls), then hands
 * over to libc. Under ASan, whose allocator must stay in charge, allocations are
 * counted through its malloc and free hooks instead.
 *
 * Every plugin, every host rate from 22.05 to 192 kHz, many block sizes (1 to
 * 8192 frames), with and without a worker, with model swaps (patch:Set of the
 * shipped models, of a missing file, of the other plugin's model) and patch:Get
 * on the control port, random and out-of-range control values, NaN and
 * infinite input, Ardour's inline display offered (run() records its frames and
 * calls queue_draw): not one call. Instantiating starts no thread (the process's
 * /proc/self/task entries before and after), and the interception is shown to
 * work by counting the plugin's own allocations and file opens during
 * instantiation. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lv2_host.h"
#include "ports.h"

/* ------------------------------------------------------------------------ */
/* Counting                                                                  */
/* ------------------------------------------------------------------------ */

static volatile int counting; /* set around the audio thread's calls */
static volatile int setup_counting; /* set around instantiation (the self-check) */
/* volatile: the compiler takes malloc for a function that touches no global
 * it can see, and would keep a counter in a register across the call */
static volatile int n_alloc, n_lock, n_io, n_thread;
static volatile int setup_alloc, setup_io;
static char offender[64];

static bool under_valgrind(void)
{
	return getenv("STRIDE_UNDER_VALGRIND") != NULL;
}

static void note(const char *what, volatile int *counter)
{
	if (counting) {
		(*counter)++;
		if (!offender[0])
			snprintf(offender, sizeof offender, "%s", what);
	}
}

static void note_alloc(const char *what)
{
	note(what, &n_alloc);
	if (setup_counting)
		setup_alloc++;
}

static void note_io(const char *what)
{
	note(what, &n_io);
	if (setup_counting)
		setup_io++;
}

/* The next definition of `name` (libc's, or a sanitizer's interceptor). */
static void *next(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p)
		abort();
	return p;
}

#define FORWARD(type, name, params)                                                           \
	static type(*real_##name) params;                                                          \
	if (!real_##name) {                                                                        \
		void *sym_ = next(#name);                                                              \
		memcpy(&real_##name, &sym_, sizeof sym_);                                              \
	}

/* ------------------------------------------------------------------------ */
/* Allocation                                                                */
/* ------------------------------------------------------------------------ */

#if defined(STRIDE_SANITIZED)
/* ASan's allocator serves every allocation; its hooks see them all. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void on_malloc(const volatile void *p, size_t size)
{
	(void)p;
	(void)size;
	note_alloc("malloc (ASan hook)");
}

static void on_free(const volatile void *p)
{
	(void)p;
	note_alloc("free (ASan hook)");
}

static void install_alloc_counting(void)
{
	__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
/* glibc's own entry points: no dlsym (which allocates) in the allocator. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);

static void install_alloc_counting(void)
{
}

void *malloc(size_t size)
{
	note_alloc("malloc");
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	note_alloc("calloc");
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	note_alloc("realloc");
	return __libc_realloc(p, size);
}

void free(void *p)
{
	note_alloc("free");
	__libc_free(p);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	note_alloc("posix_memalign");
	void *p = __libc_memalign(align, size);
	if (!p)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t size)
{
	note_alloc("aligned_alloc");
	return __libc_memalign(align, size);
}

void *memalign(size_t align, size_t size);
void *memalign(size_t align, size_t size)
{
	note_alloc("memalign");
	return __libc_memalign(align, size);
}
#endif

/* ------------------------------------------------------------------------ */
/* Locks, threads                                                            */
/* ------------------------------------------------------------------------ */

int pthread_mutex_lock(pthread_mutex_t *m)
{
	FORWARD(int, pthread_mutex_lock, (pthread_mutex_t *))
	note("pthread_mutex_lock", &n_lock);
	return real_pthread_mutex_lock(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
	FORWARD(int, pthread_mutex_trylock, (pthread_mutex_t *))
	note("pthread_mutex_trylock", &n_lock);
	return real_pthread_mutex_trylock(m);
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
	FORWARD(int, pthread_mutex_unlock, (pthread_mutex_t *))
	note("pthread_mutex_unlock", &n_lock);
	return real_pthread_mutex_unlock(m);
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	FORWARD(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))
	note("pthread_cond_wait", &n_lock);
	return real_pthread_cond_wait(c, m);
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
	FORWARD(int, pthread_cond_timedwait,
	        (pthread_cond_t *, pthread_mutex_t *, const struct timespec *))
	note("pthread_cond_timedwait", &n_lock);
	return real_pthread_cond_timedwait(c, m, t);
}

int pthread_cond_signal(pthread_cond_t *c)
{
	FORWARD(int, pthread_cond_signal, (pthread_cond_t *))
	note("pthread_cond_signal", &n_lock);
	return real_pthread_cond_signal(c);
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
	FORWARD(int, pthread_cond_broadcast, (pthread_cond_t *))
	note("pthread_cond_broadcast", &n_lock);
	return real_pthread_cond_broadcast(c);
}

int sem_wait(sem_t *s)
{
	FORWARD(int, sem_wait, (sem_t *))
	note("sem_wait", &n_lock);
	return real_sem_wait(s);
}

int sem_timedwait(sem_t *s, const struct timespec *t)
{
	FORWARD(int, sem_timedwait, (sem_t *, const struct timespec *))
	note("sem_timedwait", &n_lock);
	return real_sem_timedwait(s, t);
}

int sem_trywait(sem_t *s)
{
	FORWARD(int, sem_trywait, (sem_t *))
	note("sem_trywait", &n_lock);
	return real_sem_trywait(s);
}

int sem_post(sem_t *s)
{
	FORWARD(int, sem_post, (sem_t *))
	note("sem_post", &n_lock);
	return real_sem_post(s);
}

int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	FORWARD(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
	note("pthread_create", &n_thread);
	return real_pthread_create(t, a, fn, arg);
}

/* ------------------------------------------------------------------------ */
/* I/O and sleeping                                                          */
/* ------------------------------------------------------------------------ */

ssize_t write(int fd, const void *buf, size_t n)
{
	FORWARD(ssize_t, write, (int, const void *, size_t))
	note_io("write");
	return real_write(fd, buf, n);
}

ssize_t read(int fd, void *buf, size_t n)
{
	FORWARD(ssize_t, read, (int, void *, size_t))
	note_io("read");
	return real_read(fd, buf, n);
}

int close(int fd)
{
	FORWARD(int, close, (int))
	note_io("close");
	return real_close(fd);
}

FILE *fopen(const char *path, const char *mode)
{
	FORWARD(FILE *, fopen, (const char *, const char *))
	note_io("fopen");
	return real_fopen(path, mode);
}

size_t fread(void *p, size_t size, size_t n, FILE *f)
{
	FORWARD(size_t, fread, (void *, size_t, size_t, FILE *))
	note_io("fread");
	return real_fread(p, size, n, f);
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	FORWARD(size_t, fwrite, (const void *, size_t, size_t, FILE *))
	note_io("fwrite");
	return real_fwrite(p, size, n, f);
}

int fputs(const char *s, FILE *f)
{
	FORWARD(int, fputs, (const char *, FILE *))
	note_io("fputs");
	return real_fputs(s, f);
}

int puts(const char *s)
{
	FORWARD(int, puts, (const char *))
	note_io("puts");
	return real_puts(s);
}

int fflush(FILE *f)
{
	FORWARD(int, fflush, (FILE *))
	note_io("fflush");
	return real_fflush(f);
}

__attribute__((format(printf, 2, 0))) int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	FORWARD(int, vfprintf, (FILE *, const char *, va_list))
	note_io("vfprintf");
	return real_vfprintf(f, fmt, ap);
}

__attribute__((format(printf, 2, 3))) int fprintf(FILE *f, const char *fmt, ...)
{
	FORWARD(int, vfprintf, (FILE *, const char *, va_list))
	note_io("fprintf");
	va_list ap;
	va_start(ap, fmt);
	const int r = real_vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

__attribute__((format(printf, 1, 2))) int printf(const char *fmt, ...)
{
	FORWARD(int, vfprintf, (FILE *, const char *, va_list))
	note_io("printf");
	va_list ap;
	va_start(ap, fmt);
	const int r = real_vfprintf(stdout, fmt, ap);
	va_end(ap);
	return r;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	FORWARD(int, nanosleep, (const struct timespec *, struct timespec *))
	note_io("nanosleep");
	return real_nanosleep(req, rem);
}

int usleep(useconds_t us)
{
	FORWARD(int, usleep, (useconds_t))
	note_io("usleep");
	return real_usleep(us);
}

int sched_yield(void)
{
	FORWARD(int, sched_yield, (void))
	note_io("sched_yield");
	return real_sched_yield();
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	FORWARD(void *, mmap, (void *, size_t, int, int, int, off_t))
	note_alloc("mmap");
	return real_mmap(addr, len, prot, flags, fd, off);
}

int munmap(void *addr, size_t len)
{
	FORWARD(int, munmap, (void *, size_t))
	note_alloc("munmap");
	return real_munmap(addr, len);
}

/* ------------------------------------------------------------------------ */
/* The runs                                                                  */
/* ------------------------------------------------------------------------ */

static LV2Host *host;
static char bundle[4096];
static const double rates[] = {22050, 44100, 48000, 96000, 192000};
static const char *const uris[] = {STRIDE_URI_GATE, STRIDE_URI_GATE_STEREO, STRIDE_URI_GENRE};
static const uint32_t blocks[] = {1,   2,   3,   7,    16,   31,   32,   64,   100,  128,
                                  255, 256, 257, 480,  512,  1000, 1024, 2047, 2048, 4096,
                                  64,  1,   8192, 333, 4095, 17,   8191, 96,   200,  6000};

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Valgrind replaces malloc and friends everywhere, ours included, so under it
 * allocations cannot be counted (the plain and ASan runs count them); the
 * lock, I/O and thread counts still work. Anywhere else, counting must work. */
static bool alloc_counting;

static int setup(void **state)
{
	(void)state;
	install_alloc_counting();
	n_alloc = 0;
	counting = 1;
	void *volatile probe = malloc(8);
	free(probe);
	counting = 0;
	alloc_counting = n_alloc > 0;
	n_alloc = 0;
	offender[0] = '\0';
	if (!alloc_counting && !under_valgrind()) {
		fprintf(stderr, "the malloc interception does not work in this build\n");
		return -1;
	}
	if (!alloc_counting)
		printf("  note: under valgrind, which replaces malloc itself, allocations are not "
		       "counted here (the plain and ASan runs count them); locks, I/O and threads are\n");
	host = lv2host_new_built(bundle, sizeof bundle);
	return host ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	lv2host_free(host);
	return 0;
}

/* One plugin at one rate: instantiate (no new thread), then cycles of every
 * block size with control changes and model messages, counting the audio
 * thread's calls. */
static void exercise(const char *uri, double rate, bool worker, uint64_t seed)
{
	const int threads = count_threads();
	setup_alloc = setup_io = 0;
	setup_counting = 1;
	LV2Instance *inst = lv2inst_new(host, uri, rate, 8192, worker);
	setup_counting = 0;
	if (!inst)
		fail_msg("%s did not instantiate at %g Hz:\n%s", uri, rate, lv2host_log(host));
	const int after = count_threads();
	if (after != threads)
		fail_msg("%s at %g Hz: instantiate went from %d to %d threads", uri, rate, threads, after);
	/* the self-check: the plugin's own calls reach our definitions */
	if ((alloc_counting && setup_alloc == 0) || setup_io == 0)
		fail_msg("%s: saw %d allocations and %d file calls during instantiation; the "
		         "interception does not reach the plugin",
		         uri, setup_alloc, setup_io);

	const bool genre = !strcmp(uri, STRIDE_URI_GENRE);
	char own[4200], other[4200], missing[4200];
	snprintf(own, sizeof own, "%s/%s", bundle, genre ? "genre.safetensors" : "gate.safetensors");
	snprintf(other, sizeof other, "%s/%s", bundle, genre ? "gate.safetensors" : "genre.safetensors");
	snprintf(missing, sizeof missing, "%s/no-such-model.safetensors", bundle);

	unsigned long long rng = seed;
	const size_t n_blocks = sizeof blocks / sizeof blocks[0];
	const size_t cycles = under_valgrind() ? n_blocks / 2 : 3 * n_blocks;
	n_alloc = n_lock = n_io = n_thread = 0;
	offender[0] = '\0';
	int swaps = 0, responses = 0;
	for (size_t k = 0; k < cycles; k++) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		const uint32_t b = blocks[(k + (rng >> 33)) % n_blocks];
		for (int c = 0; c < inst->n_in; c++)
			for (uint32_t i = 0; i < b; i++) {
				const double t = (double)(k * 8192 + i) / rate;
				float v = (float)(0.3 * sin(2 * 3.14159265358979 * 220.0 * t));
				if ((k / 8) % 2)
					v *= 0.001f;
				inst->in[c][i] = v;
			}
		if (k % 11 == 5)
			inst->in[0][0] = NAN;
		if (k % 13 == 6)
			inst->in[0][b - 1] = -INFINITY;
		/* controls: random, sometimes far out of their ranges */
		for (uint32_t p = 0; p < inst->n_ports; p++) {
			const int sel = (int)((rng >> (p % 32)) % 16);
			if (p == GATE_LATENCY || (genre && p >= GENRE_CLASS))
				continue;
			if (sel == 0)
				inst->controls[p] = 1e9f;
			else if (sel == 1)
				inst->controls[p] = -1e9f;
			else if (sel == 2)
				inst->controls[p] = NAN;
		}
		if (k % 17 == 3) {
			lv2inst_send_model(inst, k % 3 == 0 ? own : k % 3 == 1 ? other : missing);
			swaps++;
		}
		if (k % 7 == 2)
			lv2inst_send_get(inst);
		lv2inst_prepare(inst);
		counting = 1;
		lv2inst_run_only(inst, b);
		responses += lv2inst_respond(inst); /* work_response runs in the audio thread */
		counting = 0;
		lv2inst_read_notify(inst);
		lv2inst_work(inst); /* the worker thread: allowed to allocate */
		for (int c = 0; c < inst->n_out; c++)
			for (uint32_t i = 0; i < b; i++)
				if (!isfinite(inst->out[c][i]))
					fail_msg("%s at %g Hz: output %d frame %u is %g", uri, rate, c, i,
					         inst->out[c][i]);
	}
	if (n_alloc || n_lock || n_io || n_thread)
		fail_msg("%s at %g Hz%s: during run()/work_response: %d allocation, %d lock, %d I/O "
		         "and %d thread calls; the first was %s",
		         uri, rate, worker ? "" : " (no worker)", n_alloc, n_lock, n_io, n_thread,
		         offender);
	assert_true(swaps > 0);
	if (worker && responses == 0) /* the shipped model reloaded: real swaps happened */
		fail_msg("%s at %g Hz: no model was swapped in", uri, rate);
	assert_true(inst->notify_sets > 0);
	/* the host offered Ardour's inline display: run() recorded frames and
	 * asked for redraws, all inside the counted window */
	if (inst->queue_draws == 0)
		fail_msg("%s at %g Hz: run() never asked for an inline display redraw", uri, rate);
	lv2inst_free(inst);
	if (count_threads() != threads)
		fail_msg("%s at %g Hz: a thread outlived the instance", uri, rate);
}

static void test_every_plugin_every_rate(void **state)
{
	(void)state;
	const int n_rates = (int)(sizeof rates / sizeof rates[0]);
	for (size_t u = 0; u < sizeof uris / sizeof uris[0]; u++)
		for (int r = 0; r < n_rates; r += under_valgrind() ? 2 : 1)
			exercise(uris[u], rates[r], true, 1000 * u + (uint64_t)r);
}

static void test_without_worker(void **state)
{
	(void)state;
	for (size_t u = 0; u < sizeof uris / sizeof uris[0]; u++)
		exercise(uris[u], 48000, false, 77 + u);
}

/* The counters do count: an allocation and a lock under the flag are seen. */
static void test_interception_counts(void **state)
{
	(void)state;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	n_alloc = n_lock = 0;
	counting = 1;
	void *volatile p = malloc(16);
	free(p);
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	counting = 0;
	if (alloc_counting)
		assert_true(n_alloc >= 2);
	assert_int_equal(n_lock, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interception_counts),
		cmocka_unit_test(test_every_plugin_every_rate),
		cmocka_unit_test(test_without_worker),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
