/* seqa — clinical indications of the Plan France Médecine Génomique 2025, sex parsing.
 *
 * The 14 launch pre-indications (9 rare diseases, 5 cancers) keep ids 1..14 and their codes
 * forever: batches, reports, manifests and QC gate profiles refer to them.  "Atypical diabetes"
 * (rare and atypical forms of diabetes, id 15) was added to the rare-disease list shortly after
 * the launch; it is accepted, flagged launch = 0, so the launch set stays exactly 14.
 * New indications get new ids and codes at the end; none is ever renumbered.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "seqa/ingest.h"

static const sq_indication_t sq_indications[] = {
	{  1, "RD-BONE",  "Constitutional bone diseases", "Maladies osseuses constitutionnelles", "rare-disease", 1 },
	{  2, "RD-MITO",  "Mitochondrial diseases", "Maladies mitochondriales", "rare-disease", 1 },
	{  3, "RD-DSD",   "Disorders of sex development", "Anomalies du développement génital", "rare-disease", 1 },
	{  4, "RD-POI",   "Primary ovarian insufficiency", "Insuffisance ovarienne primaire", "rare-disease", 1 },
	{  5, "RD-IEM",   "Atypical inherited metabolic diseases", "Maladies héréditaires du métabolisme atypiques", "rare-disease", 1 },
	{  6, "RD-CKD",   "Chronic kidney disease of unknown cause", "Maladie rénale chronique de cause indéterminée", "rare-disease", 1 },
	{  7, "RD-AIAD",  "Monogenic auto-inflammatory and auto-immune diseases", "Maladies auto-inflammatoires et auto-immunes monogéniques", "rare-disease", 1 },
	{  8, "RD-DCM",   "Familial dilated cardiomyopathy", "Cardiomyopathie dilatée familiale", "rare-disease", 1 },
	{  9, "RD-LEUKO", "Leukodystrophies", "Leucodystrophies", "rare-disease", 1 },
	{ 10, "CA-PED",   "Paediatric refractory or relapsed tumours", "Tumeurs pédiatriques en rechute ou réfractaires", "cancer", 1 },
	{ 11, "CA-PRED",  "Severe familial cancer predisposition", "Prédisposition héréditaire sévère aux cancers", "cancer", 1 },
	{ 12, "CA-EXTR",  "Extreme familial tumour phenotypes", "Phénotypes tumoraux familiaux extrêmes", "cancer", 1 },
	{ 13, "CA-LAREL", "Relapsed acute leukaemia", "Leucémies aiguës en rechute", "cancer", 1 },
	{ 14, "CA-AYA",   "Refractory solid tumours of young adults", "Tumeurs solides réfractaires des jeunes adultes", "cancer", 1 },
	{ 15, "RD-DIAB",  "Atypical diabetes", "Diabètes atypiques", "rare-disease", 0 },
	{  0, 0, 0, 0, 0, 0 }
};

const sq_indication_t *sq_indication_table(int *n)
{
	if (n) *n = (int)(sizeof sq_indications / sizeof sq_indications[0]) - 1;
	return sq_indications;
}

const sq_indication_t *sq_indication_find(const char *code)
{
	size_t len;
	if (!code) return 0;
	while (isspace((unsigned char)*code)) ++code;
	len = strlen(code);
	while (len > 0 && isspace((unsigned char)code[len - 1])) --len;
	if (len == 0) return 0;
	for (const sq_indication_t *t = sq_indications; t->code; ++t)
		if (strlen(t->code) == len && strncasecmp(t->code, code, len) == 0) return t;
	return 0;
}

const sq_indication_t *sq_indication_by_id(int id)
{
	for (const sq_indication_t *t = sq_indications; t->code; ++t)
		if (t->id == id) return t;
	return 0;
}

int sq_sex_parse(const char *s)
{
	if (!s) return SQ_SEX_INVALID;
	if (strcasecmp(s, "unknown") == 0 || strcasecmp(s, "u") == 0) return SQ_SEX_UNKNOWN;
	if (strcasecmp(s, "female") == 0 || strcasecmp(s, "f") == 0) return SQ_SEX_FEMALE;
	if (strcasecmp(s, "male") == 0 || strcasecmp(s, "m") == 0) return SQ_SEX_MALE;
	return SQ_SEX_INVALID;
}

const char *sq_sex_name(int sex)
{
	switch (sex) {
	case SQ_SEX_UNKNOWN: return "unknown";
	case SQ_SEX_FEMALE: return "female";
	case SQ_SEX_MALE: return "male";
	default: return "invalid";
	}
}
