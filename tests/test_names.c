/*
 * test_names.c - every public name table is complete: each entry of an
 * enum's table is a non-empty string and no two entries of one table are
 * equal. The tables use designated initializers ([AX_OP_LINEAR] =
 * "linear") and a static_assert on their length, which catches only a
 * missing *last* name; a name missing in the middle leaves a NULL hole
 * that only this walk finds. Tables built at run time (the macs_<kind>
 * metric names) and tables behind accessors (status, plot format) are
 * walked through their public functions.
 *
 * To add a table: one line in test_public_tables (or a loop over its
 * accessor in a test of its own).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "cost.h"
#include "device.h"
#include "diag.h"
#include "graph.h"
#include "plot.h"
#include "result.h"
#include "sweep.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Fails naming the table and the index of a NULL or empty entry, or of
 * the second of two equal entries. */
static void check_names(const char *table, const char *const *names, int n)
{
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		if (!names[i] || !names[i][0])
			fail_msg("%s[%d] is %s", table, i, names[i] ? "empty" : "NULL");
		for (int j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				fail_msg("%s[%d] and %s[%d] are both \"%s\"", table, j,
					 table, i, names[i]);
	}
}

#define CHECK_TABLE(t) check_names(#t, (t), ARRAY_LEN(t))

/* The extern tables, each declared with its enum's COUNT as its size, so
 * ARRAY_LEN walks every enumerator. */
static void test_public_tables(void **state)
{
	(void)state;
	/* graph.h */
	CHECK_TABLE(ax_mode_names);
	CHECK_TABLE(ax_op_kind_names);
	CHECK_TABLE(ax_cost_kind_names);
	CHECK_TABLE(ax_param_kind_names);
	CHECK_TABLE(ax_scope_names);
	/* cost.h */
	CHECK_TABLE(ax_convention_names);
	CHECK_TABLE(ax_mono_names);
	/* config.h */
	CHECK_TABLE(ax_family_names);
	CHECK_TABLE(ax_task_names);
	CHECK_TABLE(ax_share_names);
	CHECK_TABLE(ax_norm_names);
	CHECK_TABLE(ax_conv_type_names);
	CHECK_TABLE(ax_side_names);
	/* sweep.h */
	CHECK_TABLE(ax_sweep_strategy_names);
}

/* Metric names: a static table for the base metrics, then "macs_<kind>"
 * built at run time; each must round-trip through ax_metric_find. */
static void test_metric_names(void **state)
{
	(void)state;
	const char *names[AX_METRIC_COUNT];
	for (int m = 0; m < AX_METRIC_COUNT; m++) {
		names[m] = ax_metric_name(m);
		assert_string_not_equal(names[m], "?");
		assert_int_equal(ax_metric_find(names[m]), m);
	}
	check_names("ax_metric_name", names, AX_METRIC_COUNT);
	for (int k = 0; k < AX_KIND_COUNT; k++) {
		char want[64];
		snprintf(want, sizeof want, "macs_%s", ax_cost_kind_names[k]);
		assert_string_equal(ax_metric_name(AX_METRIC_KIND_BASE + k), want);
	}
	assert_string_equal(ax_metric_name(-1), "?");
	assert_string_equal(ax_metric_name(AX_METRIC_COUNT), "?");
}

/* Tables behind accessors: an out-of-range value has its own fallback,
 * which no real entry may equal. */
static void test_accessor_tables(void **state)
{
	(void)state;
	const char *status[AX_STATUS_COUNT];
	for (int s = 0; s < AX_STATUS_COUNT; s++) {
		status[s] = ax_status_name((enum ax_status)s);
		assert_string_not_equal(status[s], "unknown status");
	}
	check_names("ax_status_name", status, AX_STATUS_COUNT);

	const char *format[AX_PLOT_FORMAT_COUNT];
	for (int f = 0; f < AX_PLOT_FORMAT_COUNT; f++) {
		format[f] = ax_plot_format_name((enum ax_plot_format)f);
		assert_string_not_equal(format[f], "unknown");
	}
	check_names("ax_plot_format_name", format, AX_PLOT_FORMAT_COUNT);
}

/* Row tables whose names are keys: device names in sweep files, result
 * fields as JSON keys and CSV columns (the CSV adds macs_<kind>). */
static void test_row_tables(void **state)
{
	(void)state;
	const char *dev[16];
	assert_true(ax_n_devices > 0 && ax_n_devices <= ARRAY_LEN(dev));
	for (int i = 0; i < ax_n_devices; i++)
		dev[i] = ax_devices[i].name;
	check_names("ax_devices", dev, ax_n_devices);

	enum { MAX_COLS = 64 };
	const char *col[MAX_COLS];
	char kind[AX_KIND_COUNT][64];
	int n = 0;
	assert_true(ax_result_n_fields + AX_KIND_COUNT <= MAX_COLS);
	for (int i = 0; i < ax_result_n_fields; i++)
		col[n++] = ax_result_fields[i].name;
	for (int k = 0; k < AX_KIND_COUNT; k++) {
		snprintf(kind[k], sizeof kind[k], "macs_%s", ax_cost_kind_names[k]);
		col[n++] = kind[k];
	}
	check_names("result CSV columns", col, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_tables),
		cmocka_unit_test(test_metric_names),
		cmocka_unit_test(test_accessor_tables),
		cmocka_unit_test(test_row_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
