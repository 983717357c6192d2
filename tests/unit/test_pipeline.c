/* Stage records: skip when complete, redo when params/inputs/outputs change or are corrupted. */
#include "harness.h"
#include "seqa/pipeline.h"

static void mk(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	SQ_REQUIRE(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_stage_resume(void)
{
	const char *d = sq_test_tmpdir();
	char in[600], out[600];
	snprintf(in, sizeof in, "%s/in.txt", d);
	snprintf(out, sizeof out, "%s/out.txt", d);
	mk(in, "input\n");
	sq_stage_t st = { .outdir = d, .name = "demo" };
	snprintf(st.params, sizeof st.params, "k=1");
	sq_stage_add_in(&st, in);
	sq_stage_add_out(&st, out);
	SQ_CHECK(!sq_stage_is_done(&st));           /* never ran */
	sq_stage_begin(&st);
	mk(out, "output\n");
	SQ_CHECK(sq_stage_done(&st, NULL) == 0);
	SQ_CHECK(sq_stage_is_done(&st));            /* complete: skip */
	snprintf(st.params, sizeof st.params, "k=2");
	SQ_CHECK(!sq_stage_is_done(&st));           /* parameters changed */
	snprintf(st.params, sizeof st.params, "k=1");
	mk(out, "OUTPUT\n");                        /* same size, different content */
	SQ_CHECK(!sq_stage_is_done(&st));
	mk(out, "output\n");
	SQ_CHECK(sq_stage_is_done(&st));
	usleep(20000);
	mk(in, "input\n");                          /* touched input (new mtime) */
	SQ_CHECK(!sq_stage_is_done(&st));
	sq_stage_begin(&st);
	SQ_CHECK(sq_stage_done(&st, NULL) == 0);
	unlink(out);
	SQ_CHECK(!sq_stage_is_done(&st));           /* output vanished */
	sq_stage_invalidate(&st);
	SQ_CHECK(sq_stage_record(d, "demo") == NULL);
}

static void test_stage_done_requires_outputs(void)
{
	const char *d = sq_test_tmpdir();
	char out[600];
	snprintf(out, sizeof out, "%s/never-written", d);
	sq_stage_t st = { .outdir = d, .name = "x" };
	sq_stage_add_out(&st, out);
	sq_stage_begin(&st);
	SQ_CHECK(sq_stage_done(&st, NULL) < -1);    /* a missing output is never recorded as done */
	SQ_CHECK(sq_stage_record(d, "x") == NULL);
}

SQ_TESTS = {
	{ "stage_resume", test_stage_resume },
	{ "stage_done_requires_outputs", test_stage_done_requires_outputs },
	{ 0, 0 }
};
