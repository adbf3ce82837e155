/*
 * schema.c - the schema rows (schema.h) as a table at run time, for
 * tests/test_schema.c (every struct byte is a row's; docs/config.md
 * describes every row) and for tools that list the fields.
 */
#include "config.h"
#include "schema.h"

#define MEMBER_SIZE(base, m) sizeof(((base *)0)->m)

#define ROW(list_base, kind_, key_, member, ctype, min_, max_, aux, flags_,   \
	    rule_, tag_, doc_)                                                 \
	{ .list = ROW_LIST_##list_base, .kind = AX_SK_##kind_, .key = key_,    \
	  .offset = offsetof(ROW_BASE_##list_base, member),                    \
	  .size = MEMBER_SIZE(ROW_BASE_##list_base, member),                   \
	  ROW_##kind_(ROW_BASE_##list_base, member, aux)                       \
	  AX_SCHEMA_RANGE(kind_, min_, max_)                                   \
	  .min_text = #min_, .max_text = #max_,                                \
	  .flags = (flags_), .rule = (rule_), .tag = tag_, .doc = doc_ },
#define ROW_I64(base, member, aux) .def = (aux),
#define ROW_F64(base, member, aux) .fdef = (aux),
#define ROW_BOOL(base, member, aux)
#define ROW_STR(base, member, aux)
#define ROW_ENUM(base, member, aux) .names = (aux),
#define ROW_LIST(base, member, aux) .count_offset = offsetof(base, n_##member##s),

/* The list argument names the list and its struct. */
#define ROW_LIST_IDENTITY AX_SL_IDENTITY
#define ROW_LIST_ROOT AX_SL_ROOT
#define ROW_LIST_VOCAB AX_SL_VOCAB
#define ROW_LIST_ADAPTIVE AX_SL_ADAPTIVE
#define ROW_LIST_STACK AX_SL_STACK
#define ROW_LIST_LAYER AX_SL_LAYER
#define ROW_LIST_ATT_BRANCH AX_SL_ATT_BRANCH
#define ROW_LIST_CONV AX_SL_CONV
#define ROW_LIST_TRAIN AX_SL_TRAIN
#define ROW_BASE_IDENTITY struct ax_config
#define ROW_BASE_ROOT struct ax_config
#define ROW_BASE_VOCAB struct ax_config
#define ROW_BASE_ADAPTIVE struct ax_adaptive_config
#define ROW_BASE_STACK struct ax_stack_config
#define ROW_BASE_LAYER struct ax_layer_config
#define ROW_BASE_ATT_BRANCH struct ax_layer_config
#define ROW_BASE_CONV struct ax_layer_config
#define ROW_BASE_TRAIN struct ax_train_config

const struct ax_schema_row ax_schema[] = {
	AX_SCHEMA_IDENTITY(ROW, IDENTITY)
	AX_SCHEMA_ROOT(ROW, ROOT)
	AX_SCHEMA_VOCAB(ROW, VOCAB)
	AX_SCHEMA_ADAPTIVE(ROW, ADAPTIVE)
	AX_SCHEMA_STACK(ROW, STACK)
	AX_SCHEMA_LAYER(ROW, LAYER)
	AX_SCHEMA_ATT_BRANCH(ROW, ATT_BRANCH)
	AX_SCHEMA_CONV(ROW, CONV)
	AX_SCHEMA_TRAIN(ROW, TRAIN)
};
const int ax_schema_n = (int)(sizeof ax_schema / sizeof ax_schema[0]);
