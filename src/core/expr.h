/*
 * expr.h - small arithmetic expressions over named variables, compiled
 * once to a postfix program and evaluated per design point.
 *
 * Grammar (usual precedence, left associative):
 *   cond    := sum [ ("<=" | "<" | ">=" | ">" | "==" | "!=") sum ]
 *   sum     := product { ("+" | "-") product }
 *   product := unary { ("*" | "/" | "%") unary }
 *   unary   := "-" unary | primary
 *   primary := NUMBER | NAME | NAME "(" cond { "," cond } ")" | "(" cond ")"
 * NUMBER is a decimal with optional fraction and exponent (100e6, 0.5);
 * NAME is [A-Za-z_][A-Za-z0-9_.]* (dotted config paths included), which a
 * caller-supplied resolver maps to a variable id. Functions: min, max.
 * A comparison gives 1 or 0.
 *
 * ax_expr_eval_i64 is integer arithmetic (derived config fields such as
 * `embed_dim / 2`: / truncates, % is the C remainder, a fraction in a
 * literal is an error at compile time when integer is requested);
 * ax_expr_eval_f64 is double (constraints such as `macs <= 100e6`).
 */
#ifndef AX_EXPR_H
#define AX_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AX_EXPR_MAX_INS 64

enum ax_expr_opcode {
	AX_EXPR_CONST,
	AX_EXPR_VAR,
	AX_EXPR_NEG,
	AX_EXPR_ADD,
	AX_EXPR_SUB,
	AX_EXPR_MUL,
	AX_EXPR_DIV,
	AX_EXPR_MOD,
	AX_EXPR_MIN,
	AX_EXPR_MAX,
	AX_EXPR_LE,
	AX_EXPR_LT,
	AX_EXPR_GE,
	AX_EXPR_GT,
	AX_EXPR_EQ,
	AX_EXPR_NE,
	AX_EXPR_OPCODE_COUNT
};

struct ax_expr_ins {
	enum ax_expr_opcode op;
	int32_t var;             /* AX_EXPR_VAR */
	double num;              /* AX_EXPR_CONST */
};

struct ax_expr {
	int n;
	struct ax_expr_ins ins[AX_EXPR_MAX_INS];
	bool is_cond;            /* top level is a comparison */
};

/* Maps a name to a variable id >= 0, or -1 if unknown. */
typedef int (*ax_expr_resolve_fn)(void *ctx, const char *name);
/* The value of variable id for one evaluation. */
typedef double (*ax_expr_var_fn)(const void *ctx, int32_t id);

/* Compiles text. On failure returns false, *err_col is the 0-based byte
 * offset of the problem in text and err (size bytes) says what it is. */
bool ax_expr_compile(struct ax_expr *e, const char *text, bool integer,
		     ax_expr_resolve_fn resolve, void *rctx,
		     int *err_col, char *err, size_t size);

double ax_expr_eval_f64(const struct ax_expr *e, ax_expr_var_fn var,
			const void *ctx);
/* false on division by zero, or a value (a constant, a variable or a
 * result) outside int64. */
bool ax_expr_eval_i64(const struct ax_expr *e, ax_expr_var_fn var,
		      const void *ctx, int64_t *out);

#endif
