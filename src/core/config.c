/*
 * config.c - the name tables of the config enums, as the YAML spells them
 * (config.h). The rest of the config code: schema.h (the fields),
 * config_yaml.c (reading, YAML prechecks), config_load.c (the walker),
 * config_check.c and config_size.c (validation), config_out.c (hash,
 * key words, JSON).
 */
#include "config.h"

#include <assert.h>

#include "config_impl.h"

/* ---- name tables ------------------------------------------------------ */

/* Declared with [] so that a missing name is also a type conflict with the
 * sized declaration in config.h, besides failing the static_assert. */
const char *const ax_family_names[] = {
	[AX_FAMILY_TRANSFORMER] = "transformer",
	[AX_FAMILY_LITE] = "lite",
	[AX_FAMILY_LIGHTCONV] = "lightconv",
	[AX_FAMILY_EVOLVED] = "evolved",
};
static_assert(ARRAY_LEN(ax_family_names) == AX_FAMILY_COUNT,
	      "every family needs a name");

const char *const ax_task_names[] = {
	[AX_TASK_TRANSLATION] = "translation",
	[AX_TASK_LANGUAGE_MODEL] = "language_model",
};
static_assert(ARRAY_LEN(ax_task_names) == AX_TASK_COUNT,
	      "every task needs a name");

const char *const ax_share_names[] = {
	[AX_SHARE_NONE] = "none",
	[AX_SHARE_DECODER] = "decoder",
	[AX_SHARE_ALL] = "all",
};
static_assert(ARRAY_LEN(ax_share_names) == AX_SHARE_COUNT,
	      "every share mode needs a name");

const char *const ax_norm_names[] = {
	[AX_NORM_POST] = "post",
	[AX_NORM_PRE] = "pre",
};
static_assert(ARRAY_LEN(ax_norm_names) == AX_NORM_COUNT,
	      "every norm placement needs a name");

const char *const ax_conv_type_names[] = {
	[AX_CONV_LIGHTWEIGHT] = "lightweight",
	[AX_CONV_DYNAMIC] = "dynamic",
};
static_assert(ARRAY_LEN(ax_conv_type_names) == AX_CONV_TYPE_COUNT,
	      "every conv type needs a name");

const char *const ax_side_names[] = {
	[AX_SIDE_ENCODER] = "encoder",
	[AX_SIDE_DECODER] = "decoder",
};
static_assert(ARRAY_LEN(ax_side_names) == AX_SIDE_COUNT,
	      "every side needs a name");

/* The walker stores enum values through an int pointer. */
static_assert(sizeof(enum ax_family) == sizeof(int) &&
	      sizeof(enum ax_task) == sizeof(int) &&
	      sizeof(enum ax_share) == sizeof(int) &&
	      sizeof(enum ax_norm) == sizeof(int) &&
	      sizeof(enum ax_conv_type) == sizeof(int),
	      "enums are stored as int");
