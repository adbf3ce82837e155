/*
 * trainsweep.h - trained sweep points (docs/sweeps.md, "Trained
 * sweeps"): the layer that joins sweeps (src/explore) and training
 * (src/train). A sweep with a `train:` section has each point whose
 * static constraints hold trained in-process through ax_train_run, once
 * per seed, and its valid loss measured.
 *
 * Results live in the sweep directory, keyed by point id, recipe hash
 * and seed:
 *   DIR/trained/<id>-<recipe>-s<seed>/run/          the run directory
 *                                                  (checkpoint, weights,
 *                                                  train.jsonl)
 *   DIR/trained/<id>-<recipe>-s<seed>/result.json   written atomically
 *                                                  when the run ends
 * so a killed sweep resumes without retraining finished points, and a
 * point cut short resumes from its checkpoint.
 */
#ifndef AX_TRAINSWEEP_H
#define AX_TRAINSWEEP_H

#include "diag.h"
#include "sweep.h"
#include "train_run.h"

/* Before any training: the dataset of sw's train: section opens, and
 * its task and vocabularies fit every family's base model. Errors carry
 * the sweep file's line:col of `data:`. */
enum ax_status ax_trainsweep_check(const struct ax_sweep *sw, struct ax_diag *d);

/* Where results go, and who hears of progress (both optional). */
struct ax_trainsweep {
	const char *dir;          /* the sweep directory */
	/* once per update of a run: the point, the seed, the run's state */
	void (*progress)(void *ctx, const struct ax_sweep_point *pt, int64_t seed,
			 const struct ax_train_progress *p);
	void *progress_ctx;
	int64_t trained, reused;  /* runs trained now, results read back */
};

/* An ax_sweep_train_fn; ctx is a struct ax_trainsweep. */
enum ax_status ax_trainsweep_point(void *ctx, const struct ax_sweep *sw,
				   struct ax_sweep_point *pt, struct ax_diag *d);

#endif
