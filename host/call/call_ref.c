/* seqa — reference loading for the caller: every contig in memory, upper case, with MD5. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <htslib/kseq.h>

#include "call_internal.h"
#include "seqa/hash.h"
#include "seqa/log.h"
#include "seqa/util.h"

KSEQ_INIT(gzFile, gzread)

sq_call_ref_t *sq_call_ref_load(const char *path, int *err)
{
	sq_call_ref_t *r = NULL;
	kseq_t *ks = NULL;
	gzFile fp = NULL;
	int m = 0, l;
	*err = 0;
	if (!sq_file_readable(path)) {
		sq_log_error("cannot read reference '%s'", path);
		*err = SQ_EIO;
		return NULL;
	}
	fp = gzopen(path, "r");
	if (!fp) { sq_log_error("cannot open reference '%s'", path); *err = SQ_EIO; return NULL; }
	if (!(r = sq_calloc(1, sizeof *r)) || !(ks = kseq_init(fp))) { *err = SQ_ENOMEM; goto fail; }
	while ((l = kseq_read(ks)) >= 0) {
		if (r->n == m) {
			m = m ? m * 2 : 16;
			sq_call_contig_t *c = sq_realloc(r->c, (size_t)m * sizeof *c);
			if (!c) { *err = SQ_ENOMEM; goto fail; }
			r->c = c;
		}
		sq_call_contig_t *c = &r->c[r->n];
		memset(c, 0, sizeof *c);
		c->name = sq_strdup(ks->name.s);
		c->seq = sq_malloc((size_t)l + 1);
		if (!c->name || !c->seq) { free(c->name); free(c->seq); *err = SQ_ENOMEM; goto fail; }
		for (int i = 0; i < l; ++i) c->seq[i] = (char)toupper((unsigned char)ks->seq.s[i]);
		c->seq[l] = 0;
		c->len = l;
		sq_md5_buf(c->seq, (size_t)l, c->md5);
		r->n++;
		if (!c->md5[0]) { sq_log_error("cannot compute the MD5 of contig '%s' (out of memory)", c->name); *err = SQ_ENOMEM; goto fail; }
	}
	if (l < -1) { sq_log_error("reference '%s': truncated or malformed FASTA", path); *err = SQ_EINPUT; goto fail; }
	if (r->n == 0) { sq_log_error("reference '%s' has no sequences", path); *err = SQ_EINPUT; goto fail; }
	kseq_destroy(ks);
	gzclose(fp);
	return r;
fail:
	if (ks) kseq_destroy(ks);
	if (fp) gzclose(fp);
	sq_call_ref_free(r);
	return NULL;
}

void sq_call_ref_free(sq_call_ref_t *r)
{
	if (!r) return;
	for (int i = 0; i < r->n; ++i) free(r->c[i].name), free(r->c[i].seq);
	free(r->c);
	free(r);
}

int sq_call_ref_find(const sq_call_ref_t *r, const char *name)
{
	for (int i = 0; i < r->n; ++i)
		if (strcmp(r->c[i].name, name) == 0) return i;
	return -1;
}
