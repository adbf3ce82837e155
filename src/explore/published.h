/*
 * published.h - accuracy figures from the literature (results/published/),
 * read strictly from CSV.
 *
 * Format (results/published/README.md): '#' comment lines and blank lines
 * are ignored; the first other line must be exactly
 *     config,dataset,task,metric,value,higher_is_better,source
 * and each further line is one record with RFC 4180 quoting (a quoted
 * field cannot span lines). Names are [a-z0-9][a-z0-9._-]*; value is a
 * finite decimal number with '.'; higher_is_better is true or false; a
 * (config, dataset, metric) triple appears at most once per file.
 *
 * The loader reads numbers with strtod, so it expects the C LC_NUMERIC
 * locale, which archex never changes. Errors come back as
 * FILE:LINE:COL diagnostics (the column of the offending field, 1-based
 * bytes); nothing is added to the set from a file that has an error.
 */
#ifndef AX_PUBLISHED_H
#define AX_PUBLISHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct ax_published {
	char config[64];        /* archex config name, e.g. "wmt-lite-200" */
	char dataset[32];       /* e.g. "wmt14-en-fr" */
	char task[32];          /* e.g. "translation" */
	char metric[32];        /* e.g. "bleu" */
	double value;
	bool higher_is_better;
	char source[256];       /* citation: paper table/figure or README */
	int line;               /* where the record was read, 1-based */
};

/* Whether a figure is approximate: its source says "approx." (a value
 * read off a plot, as results/published/README.md asks to mark it). */
bool ax_published_approx(const struct ax_published *p);

/* A growable array of records; zero-initialise, then load, then free. */
struct ax_published_set {
	struct ax_published *rec;   /* (n) */
	int64_t n, cap;
};

/* Appends the records of the CSV file at path. */
enum ax_status ax_published_load(struct ax_published_set *set,
				 const char *path, struct ax_diag *d);

/* The same, from len bytes in memory; name is used in diagnostics. */
enum ax_status ax_published_parse(struct ax_published_set *set,
				  const char *name, const char *buf,
				  size_t len, struct ax_diag *d);

/* The first record with this config, dataset and metric, or NULL;
 * dataset NULL matches any dataset. */
const struct ax_published *
ax_published_find(const struct ax_published_set *set, const char *config,
		  const char *dataset, const char *metric);

void ax_published_free(struct ax_published_set *set);

#endif
