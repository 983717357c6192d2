/* seqa — replays fuzz inputs through a harness without libFuzzer (any compiler, any build):
 *   build/fuzz-replay/fuzz_NAME FILE|DIR...
 * Every file (directories: every file in them) is given once to LLVMFuzzerTestOneInput.  Used by
 * tests/cli/fuzz_replay.sh on the committed corpora and crash regressions, so that `make test`
 * (and `make check`, under ASan+UBSan) re-checks every input the fuzzers ever kept. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static long n_inputs;

static int one(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, r;
	if (!f) { perror(path); return 1; }
	do {
		if (n + 65536 > cap) {
			uint8_t *t = realloc(buf, cap = 2 * cap + 65536);
			if (!t) { fclose(f); free(buf); return 1; }
			buf = t;
		}
		r = fread(buf + n, 1, 65536, f);
		n += r;
	} while (r > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf ? buf : (const uint8_t *)"", n);
	free(buf);
	++n_inputs;
	return 0;
}

static int walk(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) { perror(path); return 1; }
	if (!S_ISDIR(st.st_mode)) return one(path);
	DIR *d = opendir(path);
	struct dirent *e;
	int bad = 0;
	if (!d) { perror(path); return 1; }
	while ((e = readdir(d))) {
		char p[4096];
		if (e->d_name[0] == '.') continue;
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		bad |= walk(p);
	}
	closedir(d);
	return bad;
}

int main(int argc, char **argv)
{
	int bad = 0;
	if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; ++i) bad |= walk(argv[i]);
	printf("%ld inputs replayed\n", n_inputs);
	return bad;
}
