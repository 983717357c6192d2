/* seqa — local de Bruijn assembly of an active region, and haplotype -> reference events.
 *
 * Assembly (GATK ReadThreadingAssembler, simplified): for k in the list (seqa call uses 10, 25,
 * 31; k-mers are packed in 64 bits, so k <= 31), skip a k whose reference window repeats a
 * k-mer (cycles in the reference path); thread
 * the reference and the reads through the k-mer graph (read k-mers containing an N or a base
 * below Q10 break the thread), prune non-reference edges seen in fewer than min_edge reads,
 * then enumerate source -> sink paths (first -> last reference k-mer) in order of score, the
 * sum over edges of log(edge count / node out-count), keeping the best max_haps.  The smallest
 * k whose reference path has no repeated k-mer decides (its paths, possibly none, are the
 * answer).
 *
 * Haplotype events: global alignment of the haplotype to the reference window with affine
 * gaps (GATK's haplotype-to-reference weights: match 200, mismatch -150, gap open -260, gap
 * extend -11), events read off the traceback and left-aligned on the contig.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "call_internal.h"
#include "seqa/log.h"
#include "seqa/util.h"

/* ---- k-mer graph ------------------------------------------------------------------------ */

typedef struct { uint64_t key; int id; } slot_t;

typedef struct {
	int      to;
	int      count;
	int      is_ref;
} edge_t;

typedef struct {
	uint64_t kmer;
	int      e0, ne;       /* edges in the edge array (filled at the end) */
	int      out_count;
} node_t;

typedef struct {
	int k;
	slot_t *tab; int tab_cap;
	node_t *nodes; int n_nodes, m_nodes;
	/* edges kept in a hash too: key (from << 32 | to) */
	slot_t *etab; int etab_cap;
	edge_t *edges; int *efrom; int n_edges, m_edges;
} graph_t;

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
	return x;
}

static int tab_find(slot_t *tab, int cap, uint64_t key)
{
	uint64_t h = mix64(key) & (uint64_t)(cap - 1);
	while (tab[h].id >= 0) {
		if (tab[h].key == key) return tab[h].id;
		h = (h + 1) & (uint64_t)(cap - 1);
	}
	return -1;
}

static void tab_put(slot_t *tab, int cap, uint64_t key, int id)
{
	uint64_t h = mix64(key) & (uint64_t)(cap - 1);
	while (tab[h].id >= 0) h = (h + 1) & (uint64_t)(cap - 1);
	tab[h].key = key, tab[h].id = id;
}

static int node_get(graph_t *g, uint64_t kmer)
{
	int id = tab_find(g->tab, g->tab_cap, kmer);
	if (id >= 0) return id;
	if (g->n_nodes * 2 >= g->tab_cap || g->n_nodes == g->m_nodes) return -2;   /* full */
	id = g->n_nodes++;
	g->nodes[id].kmer = kmer, g->nodes[id].ne = 0, g->nodes[id].out_count = 0;
	tab_put(g->tab, g->tab_cap, kmer, id);
	return id;
}

static int edge_add(graph_t *g, int from, int to, int is_ref)
{
	uint64_t key = (uint64_t)from << 32 | (uint32_t)to;
	int id = tab_find(g->etab, g->etab_cap, key);
	if (id < 0) {
		if (g->n_edges * 2 >= g->etab_cap || g->n_edges == g->m_edges) return -2;
		id = g->n_edges++;
		g->edges[id].to = to, g->edges[id].count = 0, g->edges[id].is_ref = 0;
		g->efrom[id] = from;
		tab_put(g->etab, g->etab_cap, key, id);
	}
	if (is_ref) g->edges[id].is_ref = 1;
	else g->edges[id].count++;
	return 0;
}

static int code_of(char c)
{
	switch (c) { case 'A': case 'a': return 0; case 'C': case 'c': return 1;
	case 'G': case 'g': return 2; case 'T': case 't': return 3; default: return -1; }
}

/* Thread a sequence through the graph; quals may be NULL (reference). */
static int thread_seq(graph_t *g, const char *s, int len, const uint8_t *q, int is_ref, int *first, int *last)
{
	int k = g->k, valid = 0, prev = -1;
	uint64_t mask = k >= 32 ? ~0ULL : ((1ULL << (2 * k)) - 1), x = 0;
	/* edges between distinct reads are counted once per read: a read may repeat an edge in a
	 * tandem repeat, which is fine (it is evidence of the repeat) */
	for (int i = 0; i < len; ++i) {
		int c = code_of(s[i]);
		if (c < 0 || (q && q[i] < 10)) { valid = 0, prev = -1; continue; }
		x = ((x << 2) | (uint64_t)c) & mask;
		if (++valid < k) continue;
		int id = node_get(g, x);
		if (id < 0) return id;
		if (is_ref && first && *first < 0) *first = id;
		if (is_ref && last) *last = id;
		if (prev >= 0 && edge_add(g, prev, id, is_ref) < 0) return -2;
		prev = id;
	}
	return 0;
}

/* ---- path enumeration ---------------------------------------------------------------------- */

typedef struct {
	graph_t *g;
	int sink;
	int *path; int depth;
	char *onpath;
	double *best_score; int **best_path; int *best_len; int n_best, max_best;
	long steps;
	int max_depth;
} dfs_t;

static void dfs(dfs_t *d, int node, double score)
{
	if (++d->steps > 200000) return;
	if (node == d->sink) {
		/* keep the best max_best paths by score */
		int slot = -1;
		if (d->n_best < d->max_best) slot = d->n_best++;
		else {
			int worst = 0;
			for (int i = 1; i < d->n_best; ++i) if (d->best_score[i] < d->best_score[worst]) worst = i;
			if (d->best_score[worst] < score) slot = worst;
		}
		if (slot >= 0) {
			free(d->best_path[slot]);
			d->best_path[slot] = malloc((size_t)d->depth * sizeof(int));
			if (d->best_path[slot]) memcpy(d->best_path[slot], d->path, (size_t)d->depth * sizeof(int));
			d->best_len[slot] = d->best_path[slot] ? d->depth : 0;
			d->best_score[slot] = score;
		}
		return;
	}
	if (d->depth >= d->max_depth) return;
	node_t *nd = &d->g->nodes[node];
	for (int i = 0; i < nd->ne; ++i) {
		edge_t *e = &d->g->edges[nd->e0 + i];
		if (d->onpath[e->to]) continue;   /* no cycles */
		double w = log((double)(e->count + (e->is_ref ? 1 : 0)) / (double)(nd->out_count > 0 ? nd->out_count : 1));
		d->onpath[e->to] = 1;
		d->path[d->depth++] = e->to;
		dfs(d, e->to, score + w);
		d->depth--;
		d->onpath[e->to] = 0;
	}
}

static int edge_from_cmp(const void *a, const void *b, void *arg)
{
	const int *ef = arg;
	int x = *(const int *)a, y = *(const int *)b;
	if (ef[x] != ef[y]) return ef[x] < ef[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

static void graph_free(graph_t *g)
{
	free(g->tab), free(g->nodes), free(g->etab), free(g->edges), free(g->efrom);
	memset(g, 0, sizeof *g);
}

static int assemble_k(int k, const char *ref, int ref_len, const char *const *reads, const int *read_len,
                      const uint8_t *const *quals, int n_reads, int min_edge, int max_haps, char ***haps,
                      int *n_out)
{
	graph_t g;
	int ret = SQ_ENOMEM, first = -1, last = -1;
	size_t tot = (size_t)ref_len;
	dfs_t d;
	memset(&g, 0, sizeof g);
	memset(&d, 0, sizeof d);
	*n_out = 0;
	for (int i = 0; i < n_reads; ++i) tot += (size_t)read_len[i];
	g.k = k;
	g.tab_cap = 1;
	while ((size_t)g.tab_cap < 2 * tot + 16) g.tab_cap <<= 1;
	g.etab_cap = g.tab_cap;
	g.m_nodes = g.m_edges = (int)(tot + 8);
	g.tab = sq_malloc((size_t)g.tab_cap * sizeof *g.tab);
	g.etab = sq_malloc((size_t)g.etab_cap * sizeof *g.etab);
	g.nodes = sq_malloc((size_t)g.m_nodes * sizeof *g.nodes);
	g.edges = sq_malloc((size_t)g.m_edges * sizeof *g.edges);
	g.efrom = sq_malloc((size_t)g.m_edges * sizeof *g.efrom);
	if (!g.tab || !g.etab || !g.nodes || !g.edges || !g.efrom) goto done;
	for (int i = 0; i < g.tab_cap; ++i) g.tab[i].id = -1, g.etab[i].id = -1;
	/* the reference path must not repeat a k-mer */
	if (thread_seq(&g, ref, ref_len, NULL, 1, &first, &last) < 0) goto done;
	if (first < 0 || last < 0 || g.n_nodes != ref_len - k + 1 || first == last) { ret = 1; goto done; }
	for (int i = 0; i < n_reads; ++i)
		if (thread_seq(&g, reads[i], read_len[i], quals ? quals[i] : NULL, 0, NULL, NULL) < 0) goto done;
	/* prune, then group edges by source node */
	int *order = sq_malloc((size_t)(g.n_edges + 1) * sizeof(int)), n_keep = 0;
	if (!order) goto done;
	for (int i = 0; i < g.n_edges; ++i)
		if (g.edges[i].is_ref || g.edges[i].count >= min_edge) order[n_keep++] = i;
	qsort_r(order, (size_t)n_keep, sizeof(int), edge_from_cmp, g.efrom);
	edge_t *ne = sq_malloc((size_t)(n_keep + 1) * sizeof *ne);
	if (!ne) { free(order); goto done; }
	for (int i = 0; i < n_keep; ++i) {
		int e = order[i], f = g.efrom[e];
		if (g.nodes[f].ne == 0) g.nodes[f].e0 = i;
		g.nodes[f].ne++;
		g.nodes[f].out_count += g.edges[e].count + (g.edges[e].is_ref ? 1 : 0);
		ne[i] = g.edges[e];
	}
	free(order);
	free(g.edges);
	g.edges = ne;
	/* any non-reference edge left? */
	int alt = 0;
	for (int i = 0; i < n_keep; ++i) if (!g.edges[i].is_ref) alt = 1;
	if (!alt) { ret = 0; goto done; }
	d.g = &g, d.sink = last, d.max_best = max_haps + 1;
	d.max_depth = ref_len * 2 + 64;
	d.path = sq_malloc((size_t)(d.max_depth + 1) * sizeof(int));
	d.onpath = sq_calloc((size_t)g.n_nodes, 1);
	d.best_score = sq_malloc((size_t)d.max_best * sizeof(double));
	d.best_path = sq_calloc((size_t)d.max_best, sizeof(int *));
	d.best_len = sq_calloc((size_t)d.max_best, sizeof(int));
	if (!d.path || !d.onpath || !d.best_score || !d.best_path || !d.best_len) goto done;
	d.path[0] = first, d.depth = 1, d.onpath[first] = 1;
	dfs(&d, first, 0.0);
	/* best first (deterministic: score, then sequence) */
	*haps = sq_calloc((size_t)d.n_best + 1, sizeof(char *));
	if (!*haps) goto done;
	for (int i = 0; i < d.n_best; ++i) {
		int len = d.best_len[i];
		if (len <= 0) continue;
		char *s = sq_malloc((size_t)(k + len) + 1);
		if (!s) goto done;
		uint64_t x = g.nodes[d.best_path[i][0]].kmer;
		for (int j = 0; j < k; ++j) s[j] = "ACGT"[(x >> (2 * (k - 1 - j))) & 3];
		for (int j = 1; j < len; ++j) s[k + j - 1] = "ACGT"[g.nodes[d.best_path[i][j]].kmer & 3];
		int sl = k + len - 1;
		s[sl] = 0;
		/* the reference path is implied: drop it */
		if (sl == ref_len && memcmp(s, ref, (size_t)sl) == 0) { free(s); continue; }
		(*haps)[(*n_out)++] = s;
	}
	ret = 0;
done:
	if (d.best_path) for (int i = 0; i < d.max_best; ++i) free(d.best_path[i]);
	free(d.path), free(d.onpath), free(d.best_score), free(d.best_path), free(d.best_len);
	graph_free(&g);
	if (ret < 0 && *haps) {
		for (int i = 0; i < *n_out; ++i) free((*haps)[i]);
		free(*haps), *haps = NULL, *n_out = 0;
	}
	return ret;
}

int sq_call_assemble(const char *ref, int ref_len, const char *const *reads, const int *read_len,
                     const uint8_t *const *quals, int n_reads, const int *ks, int n_ks,
                     int min_edge, int max_haps, char ***haps)
{
	*haps = NULL;
	for (int i = 0; i < n_ks; ++i) {
		int n = 0;
		if (ks[i] < 5 || ks[i] > 31 || ks[i] >= ref_len) continue;
		int r = assemble_k(ks[i], ref, ref_len, reads, read_len, quals, n_reads, min_edge, max_haps, haps, &n);
		if (r < 0) return r;
		if (r == 1) continue;   /* reference k-mer repeated: try a larger k */
		return n;               /* the smallest k without reference cycles decides */
	}
	return 0;
}

/* ---- haplotype vs reference ------------------------------------------------------------------ */

#define W_MATCH   200
#define W_MIS    -150
#define W_OPEN   -260
#define W_EXT     -11

int sq_call_hap_events(const char *ref, int ref_len, const char *hap, int hap_len,
                       int32_t ref_pos, const char *contig, int64_t contig_len,
                       sq_call_event_t **ev, int *n_ev, int *m_ev)
{
	int n = ref_len, m = hap_len, added = 0;
	size_t W = (size_t)m + 1;
	/* Gotoh: H (match/mismatch), E (gap in ref = insertion: hap base consumed), F (deletion) */
	int32_t *H = sq_malloc((size_t)(n + 1) * W * sizeof(int32_t));
	int32_t *E = sq_malloc((size_t)(n + 1) * W * sizeof(int32_t));
	int32_t *F = sq_malloc((size_t)(n + 1) * W * sizeof(int32_t));
	const int32_t NEG = INT32_MIN / 4;
	if (!H || !E || !F) { free(H), free(E), free(F); return SQ_ENOMEM; }
	for (int i = 0; i <= n; ++i)
		for (int j = 0; j <= m; ++j) {
			size_t c = (size_t)i * W + j;
			if (i == 0 && j == 0) { H[c] = 0, E[c] = F[c] = NEG; continue; }
			int32_t e = NEG, f = NEG, h = NEG;
			if (j > 0) {   /* insertion: hap[j-1] not in ref */
				int32_t a = H[c - 1] + W_OPEN, b = E[c - 1] + W_EXT;
				e = a > b ? a : b;
			}
			if (i > 0) {   /* deletion: ref[i-1] not in hap */
				int32_t a = H[c - W] + W_OPEN, b = F[c - W] + W_EXT;
				f = a > b ? a : b;
			}
			if (i > 0 && j > 0)
				h = H[c - W - 1] + (ref[i - 1] == hap[j - 1] ? W_MATCH : W_MIS);
			if (e > h) h = e;
			if (f > h) h = f;
			H[c] = h, E[c] = e, F[c] = f;
		}
	/* traceback, collecting events right to left */
	int i = n, j = m, state = 0;   /* 0 H, 1 E, 2 F */
	while (i > 0 || j > 0) {
		size_t c = (size_t)i * W + j;
		if (state == 0) {
			if (i > 0 && j > 0 && H[c] == H[c - W - 1] + (ref[i - 1] == hap[j - 1] ? W_MATCH : W_MIS)) {
				if (ref[i - 1] != hap[j - 1] && ref[i - 1] != 'N' && hap[j - 1] != 'N') {
					if (*n_ev == *m_ev) {
						int mm = *m_ev ? *m_ev * 2 : 16;
						sq_call_event_t *t = sq_realloc(*ev, (size_t)mm * sizeof *t);
						if (!t) goto fail;
						*ev = t, *m_ev = mm;
					}
					sq_call_event_t *e = &(*ev)[(*n_ev)++];
					memset(e, 0, sizeof *e);
					e->pos = ref_pos + i - 1, e->type = SQ_EV_SNP, e->ref_len = 1, e->alt_len = 1;
					e->alt[0] = hap[j - 1];
					added++;
				}
				i--, j--;
				continue;
			}
			state = (j > 0 && H[c] == E[c]) ? 1 : 2;
			continue;
		}
		/* a gap run ends where it was opened from H */
		int gi = i, gj = j;
		if (state == 1) {
			while (j > 0 && !(E[(size_t)i * W + j] == H[(size_t)i * W + j - 1] + W_OPEN)) j--;
			j--;
		} else {
			while (i > 0 && !(F[(size_t)i * W + j] == H[(size_t)(i - 1) * W + j] + W_OPEN)) i--;
			i--;
		}
		if (i < 0 || j < 0) goto fail;
		/* anchor base: ref[i-1] (the base before the gap); a gap at the very start has none */
		if (i >= 1 && (gi - i) <= 200 && (gj - j) <= 62) {
			if (*n_ev == *m_ev) {
				int mm = *m_ev ? *m_ev * 2 : 16;
				sq_call_event_t *t = sq_realloc(*ev, (size_t)mm * sizeof *t);
				if (!t) goto fail;
				*ev = t, *m_ev = mm;
			}
			sq_call_event_t *e = &(*ev)[*n_ev];
			memset(e, 0, sizeof *e);
			e->pos = ref_pos + i - 1;
			if (state == 1) {
				e->type = SQ_EV_INS, e->ref_len = 1, e->alt_len = (int16_t)(1 + gj - j);
				e->alt[0] = ref[i - 1];
				memcpy(e->alt + 1, hap + j, (size_t)(gj - j));
			} else {
				e->type = SQ_EV_DEL, e->ref_len = (int16_t)(1 + gi - i), e->alt_len = 1;
				e->alt[0] = ref[i - 1];
			}
			if (sq_call_event_left_align(e, contig, contig_len) == 0) (*n_ev)++, added++;
		}
		state = 0;
	}
	free(H), free(E), free(F);
	return added;
fail:
	free(H), free(E), free(F);
	return SQ_ENOMEM;
}
