/*
 * expr.c - recursive-descent compiler of ax_expr to postfix, and its two
 * stack evaluators (see expr.h). Evaluation allocates nothing.
 */
#include "expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const char *s;
	size_t pos;
	struct ax_expr *e;
	bool integer;
	ax_expr_resolve_fn resolve;
	void *rctx;
	bool failed;
	int err_col;
	char *err;
	size_t err_size;
};

static void fail(struct parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct parser *p, size_t at, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	p->err_col = (int)at;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->err_size, fmt, ap);
	va_end(ap);
}

static void skip(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
		p->pos++;
}

static void emit(struct parser *p, enum ax_expr_opcode op, int32_t var, double num)
{
	if (p->failed)
		return;
	if (p->e->n >= AX_EXPR_MAX_INS) {
		fail(p, p->pos, "expression too long (over %d terms)", AX_EXPR_MAX_INS);
		return;
	}
	p->e->ins[p->e->n++] = (struct ax_expr_ins){ .op = op, .var = var, .num = num };
}

static void cond(struct parser *p);
static void sum(struct parser *p);

static void primary(struct parser *p)
{
	skip(p);
	size_t at = p->pos;
	char c = p->s[at];
	if (c == '(') {
		p->pos++;
		cond(p);
		skip(p);
		if (p->failed)
			return;
		if (p->s[p->pos] != ')')
			return fail(p, p->pos, "expected ')'");
		p->pos++;
		return;
	}
	if (isdigit((unsigned char)c) || c == '.') {
		char *end;
		errno = 0;
		double v = strtod(p->s + at, &end);
		if (end == p->s + at || errno || !isfinite(v))
			return fail(p, at, "bad number");
		if (p->integer && v != floor(v))
			return fail(p, at, "integer expression has a fraction");
		p->pos = (size_t)(end - p->s);
		emit(p, AX_EXPR_CONST, 0, v);
		return;
	}
	if (isalpha((unsigned char)c) || c == '_') {
		char name[96];
		size_t n = 0;
		while (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_' ||
		       p->s[p->pos] == '.') {
			if (n + 1 < sizeof name)
				name[n++] = p->s[p->pos];
			p->pos++;
		}
		name[n] = '\0';
		skip(p);
		if (p->s[p->pos] == '(') {
			enum ax_expr_opcode op;
			if (!strcmp(name, "min"))
				op = AX_EXPR_MIN;
			else if (!strcmp(name, "max"))
				op = AX_EXPR_MAX;
			else
				return fail(p, at, "unknown function '%s' (min, max)", name);
			p->pos++;
			int args = 0;
			for (;;) {
				sum(p);
				if (p->failed)
					return;
				if (++args > 1)
					emit(p, op, 0, 0);
				skip(p);
				if (p->s[p->pos] == ',') {
					p->pos++;
					continue;
				}
				if (p->s[p->pos] != ')')
					return fail(p, p->pos, "expected ',' or ')'");
				p->pos++;
				break;
			}
			if (args < 2)
				return fail(p, at, "%s() needs at least two arguments", name);
			return;
		}
		int id = p->resolve(p->rctx, name);
		if (id < 0)
			return fail(p, at, "unknown name '%s'", name);
		emit(p, AX_EXPR_VAR, id, 0);
		return;
	}
	if (!c)
		return fail(p, at, "expression ends early");
	fail(p, at, "unexpected '%c'", c);
}

static void unary(struct parser *p)
{
	skip(p);
	if (p->s[p->pos] == '-') {
		p->pos++;
		unary(p);
		emit(p, AX_EXPR_NEG, 0, 0);
		return;
	}
	primary(p);
}

static void product(struct parser *p)
{
	unary(p);
	for (;;) {
		skip(p);
		char c = p->s[p->pos];
		enum ax_expr_opcode op = c == '*' ? AX_EXPR_MUL : c == '/' ? AX_EXPR_DIV :
					 c == '%' ? AX_EXPR_MOD : AX_EXPR_OPCODE_COUNT;
		if (op == AX_EXPR_OPCODE_COUNT || p->failed)
			return;
		p->pos++;
		unary(p);
		emit(p, op, 0, 0);
	}
}

static void sum(struct parser *p)
{
	product(p);
	for (;;) {
		skip(p);
		char c = p->s[p->pos];
		if ((c != '+' && c != '-') || p->failed)
			return;
		p->pos++;
		product(p);
		emit(p, c == '+' ? AX_EXPR_ADD : AX_EXPR_SUB, 0, 0);
	}
}

static void cond(struct parser *p)
{
	static const struct { const char *tok; enum ax_expr_opcode op; } cmp[] = {
		{ "<=", AX_EXPR_LE }, { ">=", AX_EXPR_GE }, { "==", AX_EXPR_EQ },
		{ "!=", AX_EXPR_NE }, { "<", AX_EXPR_LT }, { ">", AX_EXPR_GT },
	};
	sum(p);
	skip(p);
	for (size_t i = 0; i < sizeof cmp / sizeof cmp[0] && !p->failed; i++) {
		size_t n = strlen(cmp[i].tok);
		if (strncmp(p->s + p->pos, cmp[i].tok, n))
			continue;
		p->pos += n;
		sum(p);
		emit(p, cmp[i].op, 0, 0);
		p->e->is_cond = true;
		return;
	}
}

bool ax_expr_compile(struct ax_expr *e, const char *text, bool integer,
		     ax_expr_resolve_fn resolve, void *rctx,
		     int *err_col, char *err, size_t size)
{
	memset(e, 0, sizeof *e);
	struct parser p = { .s = text, .e = e, .integer = integer,
			    .resolve = resolve, .rctx = rctx, .err = err,
			    .err_size = size };
	cond(&p);
	skip(&p);
	if (!p.failed && p.s[p.pos])
		fail(&p, p.pos, "unexpected '%c'", p.s[p.pos]);
	if (p.failed) {
		*err_col = p.err_col;
		return false;
	}
	return true;
}

/* One stack slot: .i in integer mode, .f otherwise. */
union slot {
	double f;
	int64_t i;
};

/* Applies OP to the two top slots in the mode of the walk. */
#define BINARY(OP)                                                     \
	do {                                                           \
		if (integer)                                           \
			a.i = a.i OP b.i;                              \
		else                                                   \
			a.f = a.f OP b.f;                              \
	} while (0)
/* a OP b, or (integers) false from eval when it leaves int64. */
#define CHECKED(NAME, OP)                                              \
	do {                                                           \
		if (!integer)                                          \
			a.f = a.f OP b.f;                              \
		else if (__builtin_##NAME##_overflow(a.i, b.i, &a.i))  \
			return false;                                  \
	} while (0)
/* Keeps a if a CMP b holds, else b (min with <, max with >). */
#define SELECT(CMP)                                                    \
	do {                                                           \
		if (integer)                                           \
			a.i = a.i CMP b.i ? a.i : b.i;                 \
		else                                                   \
			a.f = a.f CMP b.f ? a.f : b.f;                 \
	} while (0)

/* The one walk of the postfix program. integer selects int64 slots (/
 * truncates, % is the C remainder, a zero divisor fails) or double slots
 * (IEEE division, fmod); constants and variables are converted on push.
 * Both entry points pass a constant and the walk is forced inline, so
 * each gets its own copy with the mode tests folded away. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool eval(const struct ax_expr *e, bool integer,
			ax_expr_var_fn var, const void *ctx, union slot *out)
{
	union slot st[AX_EXPR_MAX_INS];
	int sp = 0;
	for (int i = 0; i < e->n; i++) {
		const struct ax_expr_ins *in = &e->ins[i];
		union slot b = sp > 0 ? st[sp - 1] : (union slot){ 0 };
		union slot a = sp > 1 ? st[sp - 2] : (union slot){ 0 };
		double pushed;
		switch (in->op) {
		case AX_EXPR_CONST:
		case AX_EXPR_VAR:
			pushed = in->op == AX_EXPR_CONST ? in->num : var(ctx, in->var);
			if (integer && !(pushed >= -0x1p63 && pushed < 0x1p63))
				return false;   /* no int64 value (or NaN) */
			if (integer)
				st[sp++].i = (int64_t)pushed;
			else
				st[sp++].f = pushed;
			continue;
		case AX_EXPR_NEG:
			if (integer && b.i == INT64_MIN)
				return false;
			if (integer)
				st[sp - 1].i = -b.i;
			else
				st[sp - 1].f = -b.f;
			continue;
		case AX_EXPR_ADD: CHECKED(add, +); break;
		case AX_EXPR_SUB: CHECKED(sub, -); break;
		case AX_EXPR_MUL: CHECKED(mul, *); break;
		case AX_EXPR_DIV:
			if (integer && (b.i == 0 || (b.i == -1 && a.i == INT64_MIN)))
				return false;
			BINARY(/);
			break;
		case AX_EXPR_MOD:
			if (!integer)
				a.f = fmod(a.f, b.f);
			else if (b.i == 0 || (b.i == -1 && a.i == INT64_MIN))
				return false;
			else
				a.i %= b.i;
			break;
		case AX_EXPR_MIN: SELECT(<); break;
		case AX_EXPR_MAX: SELECT(>); break;
		case AX_EXPR_LE: BINARY(<=); break;
		case AX_EXPR_LT: BINARY(<); break;
		case AX_EXPR_GE: BINARY(>=); break;
		case AX_EXPR_GT: BINARY(>); break;
		case AX_EXPR_EQ: BINARY(==); break;
		case AX_EXPR_NE: BINARY(!=); break;
		case AX_EXPR_OPCODE_COUNT: break;
		}
		st[sp - 2] = a;
		sp--;
	}
	*out = sp ? st[0] : (union slot){ 0 };
	return true;
}

#undef BINARY
#undef SELECT

double ax_expr_eval_f64(const struct ax_expr *e, ax_expr_var_fn var, const void *ctx)
{
	union slot v;
	eval(e, false, var, ctx, &v);
	return v.f;
}

bool ax_expr_eval_i64(const struct ax_expr *e, ax_expr_var_fn var,
		      const void *ctx, int64_t *out)
{
	union slot v;
	if (!eval(e, true, var, ctx, &v))
		return false;
	*out = v.i;
	return true;
}
