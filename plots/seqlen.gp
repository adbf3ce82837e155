# seqlen.gp - Mult-Adds per sentence vs sequence length, one line per
# family (or per config), with the 100M/500M budgets as horizontal lines.
#
# The terminal and output are set by the caller (src/plot.c); this file
# only draws. Variables (pass with -e "name='value'"):
#   data          required  data file (format below)
#   title_text    'Computation vs. sequence length'
#   xlabel_text   'Sequence length (tokens, source = target)'
#   ylabel_text   'Mult-Adds per sentence (M)'
#   logy          0         1: log-scale y axis
#   budget_lo     100       budget lines, in M; 0 hides one
#   budget_hi     500
#   n_series      0         number of series columns; when given, the y
#                           range hugs the data (a log axis otherwise
#                           rounds out to whole decades far above it)
#
# Data: comma-separated table with one header line; column 1 is the
# sequence length, every other column one series (family or config
# name, the legend entry) in millions of Mult-Adds:
#   seq_len,Transformer,Lite Transformer,LightConv,Evolved Transformer
#   10,31.5,30.2,29.0,33.4
#   30,98.0,90.1,87.5,99.1
# Lines starting with '#' are comments; an empty cell leaves a gap.
# Series names must not contain commas.

if (!exists("data")) { print "seqlen.gp: set data='FILE'"; exit status 2 }
if (!exists("title_text")) title_text = 'Computation vs. sequence length'
if (!exists("xlabel_text")) xlabel_text = 'Sequence length (tokens, source = target)'
if (!exists("ylabel_text")) ylabel_text = 'Mult-Adds per sentence (M)'
if (!exists("logy")) logy = 0
if (!exists("budget_lo")) budget_lo = 100
if (!exists("budget_hi")) budget_hi = 500
if (!exists("n_series")) n_series = 0

# Values arrive as strings from the driver; make the switches numbers.
logy = logy + 0
budget_lo = budget_lo + 0
budget_hi = budget_hi + 0
n_series = n_series + 0

set datafile separator comma
set datafile commentschars '#'
set datafile missing ''

set linetype 1 lc rgb '#0072B2' lw 2.5 pt 7 ps 1.1
set linetype 2 lc rgb '#D55E00' lw 2.5 pt 5 ps 1.0
set linetype 3 lc rgb '#009E73' lw 2.5 pt 9 ps 1.3
set linetype 4 lc rgb '#CC79A7' lw 2.5 pt 11 ps 1.3
set linetype 5 lc rgb '#E69F00' lw 2.5 pt 13 ps 1.3
set linetype 6 lc rgb '#56B4E9' lw 2.5 pt 15 ps 1.2
set linetype 7 lc rgb '#000000' lw 2.5 pt 3 ps 1.1
set linetype 8 lc rgb '#999999' lw 2.5 pt 1 ps 1.1
set linetype cycle 8

set title title_text font ',14' offset 0, 0.8
set xlabel xlabel_text
set ylabel ylabel_text
set border 3 lw 1.2
set tics nomirror out
set grid xtics ytics lc rgb '#dcdcdc' lw 1 dt 3
# bottom right: under the curves, which rise to the right
set key bottom right Left reverse box opaque width 1 spacing 1.3 samplen 3
set xrange [0:*]
set autoscale xfixmax
set offsets 0, 0, graph 0.05, 0
# The data's range over every series column.
ymin = 0; ymax = 0
if (n_series > 0) {
	ymin = 1e300; ymax = -1e300
	do for [c=2:n_series+1] {
		stats data using c nooutput
		if (STATS_min < ymin) { ymin = STATS_min }
		if (STATS_max > ymax) { ymax = STATS_max }
	}
}
if (logy) {
	set logscale y 10
	set format y '%g'
	if (n_series > 0 && ymin > 0) { set yrange [ymin / 1.6 : ymax * 1.6] }
} else {
	if (n_series > 0) { set yrange [0 : ymax * 1.08] } else { set yrange [0:*] }
}

if (budget_lo > 0) {
	set arrow 1 from graph 0, first budget_lo to graph 1, first budget_lo \
		nohead dt 2 lw 1.5 lc rgb '#555555' back
	set label 2 sprintf('%gM budget', budget_lo) at graph 1, first budget_lo \
		offset -0.5, 0.6 right textcolor rgb '#555555' front
}
if (budget_hi > 0) {
	set arrow 2 from graph 0, first budget_hi to graph 1, first budget_hi \
		nohead dt 2 lw 1.5 lc rgb '#555555' back
	set label 3 sprintf('%gM budget', budget_hi) at graph 1, first budget_hi \
		offset -0.5, 0.6 right textcolor rgb '#555555' front
}

plot for [c=2:*] data using 1:c with linespoints lt (c-1) \
	title columnheader(c)
