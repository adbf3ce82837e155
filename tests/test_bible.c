/*
 * test_bible.c - the Bible text helpers of src/data/corpus.h on hand
 * cases taken from diatheke's OSIS output of the Reina-Valera 1909:
 *   - ax_osis_text: markup and Strong's numbers dropped, a space where an
 *     element boundary glues two words ("Tesalonicenses</w>que es<w>en"),
 *     none before punctuation, entities decoded, whitespace collapsed;
 *   - ax_bible_dropcap: a first word in capitals in title case, accents
 *     and leading ¿ ¡ ( included, other words untouched;
 *   - ax_bible_heading: Psalm 119's Hebrew letter headings removed, with
 *     or without their dot, and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "corpus.h"

static void expect_osis(const char *osis, const char *want)
{
	char *got = ax_osis_text(osis, strlen(osis));
	assert_non_null(got);
	if (strcmp(got, want))
		fail_msg("ax_osis_text(%s)\n  got  \"%s\"\n  want \"%s\"", osis, got, want);
	free(got);
}

static void test_osis_text(void **state)
{
	(void)state;
	/* 2 Thessalonians 1:1, whose plain form reads "Tesalonicensesque esen" */
	expect_osis("<w lemma=\"strong:G2331\">de los Tesalonicenses</w>que es"
		    "<w lemma=\"strong:G1722\">en</w> <w lemma=\"strong:G2316\">Dios</w>",
		    "de los Tesalonicenses que es en Dios");
	/* Strong's numbers live in attributes; punctuation stays glued */
	expect_osis("<w lemma=\"strong:G2962\">el Señor</w> "
		    "<w lemma=\"strong:G2424 G5547\">Jesucristo</w>:<milestone type=\"line\"/>",
		    "el Señor Jesucristo:");
	expect_osis("<w>y la tierra</w>.<milestone type=\"line\"/>", "y la tierra.");
	/* accented letters on either side of a boundary */
	expect_osis("<w>á la</w>ciudad<w>él</w>", "á la ciudad él");
	/* ¿ and ¡ are not letters: no space is invented before them */
	expect_osis("<w>dijo</w> ¿<w>Quién</w>?", "dijo ¿Quién?");
	/* digits count as word characters too */
	expect_osis("<w>capítulo</w>12", "capítulo 12");
	/* entities, whitespace at the ends and inside */
	expect_osis("  a &amp; b\n\t&lt;c&gt;  &quot;d&quot; &apos;e&apos;  ",
		    "a & b <c> \"d\" 'e'");
	/* markup alone, an unterminated tag, the empty string */
	expect_osis("<milestone type=\"line\"/>", "");
	expect_osis("fin <w lemma=", "fin");
	expect_osis("", "");
	/* len bounds the input: a tag cut by len is dropped */
	char *got = ax_osis_text("<w>uno</w> dos", 10);
	assert_non_null(got);
	assert_string_equal(got, "uno");
	free(got);
}

static void expect_dropcap(const char *in, bool changed, const char *want)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", in);
	bool got = ax_bible_dropcap(buf);
	if (got != changed || strcmp(buf, want))
		fail_msg("ax_bible_dropcap(%s) = %d \"%s\", want %d \"%s\"", in, got,
			 buf, changed, want);
}

static void test_dropcap(void **state)
{
	(void)state;
	expect_dropcap("EN el principio crió Dios", true, "En el principio crió Dios");
	expect_dropcap("BIENAVENTURADOS los perfectos", true, "Bienaventurados los perfectos");
	expect_dropcap("PABLO, y Silvano", true, "Pablo, y Silvano");
	expect_dropcap("¿QUIÉN es éste?", true, "¿Quién es éste?");
	expect_dropcap("¡OH Jehová", true, "¡Oh Jehová");
	expect_dropcap("(ÁNGEL de Jehová", true, "(Ángel de Jehová");
	/* one capital is an ordinary word; mixed case is not a drop cap */
	expect_dropcap("Y dijo Dios", false, "Y dijo Dios");
	expect_dropcap("En el principio", false, "En el principio");
	expect_dropcap("ENel", false, "ENel");
	expect_dropcap("Dios dijo: LUZ", false, "Dios dijo: LUZ");
	expect_dropcap("", false, "");
}

static void expect_heading(const char *in, bool changed, const char *want)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", in);
	bool got = ax_bible_heading(buf);
	if (got != changed || strcmp(buf, want))
		fail_msg("ax_bible_heading(%s) = %d \"%s\", want %d \"%s\"", in, got,
			 buf, changed, want);
}

static void test_heading(void **state)
{
	(void)state;
	expect_heading("ALEPH. BIENAVENTURADOS los perfectos", true,
		       "BIENAVENTURADOS los perfectos");
	expect_heading("BETH ¿Con qué limpiará el joven", true, "¿Con qué limpiará el joven");
	expect_heading("TAU. Venga mi clamor", true, "Venga mi clamor");
	expect_heading("SCHIN. Príncipes", true, "Príncipes");
	/* not headings: another word, lower case, no separating space */
	expect_heading("HEBREOS", false, "HEBREOS");
	expect_heading("Aleph. x", false, "Aleph. x");
	expect_heading("ALEPHx y", false, "ALEPHx y");
	expect_heading("ALEPH.", false, "ALEPH.");
	expect_heading("", false, "");
	/* the heading and the drop cap together, as bible.c applies them */
	char v[] = "ALEPH. BIENAVENTURADOS los perfectos";
	assert_true(ax_bible_heading(v));
	assert_true(ax_bible_dropcap(v));
	assert_string_equal(v, "Bienaventurados los perfectos");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_osis_text),
		cmocka_unit_test(test_dropcap),
		cmocka_unit_test(test_heading),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
