# pareto.gp - a sweep's design points as parameters vs Mult-Adds (small
# grey dots), each family's Pareto front highlighted as a line, and the
# 100M/500M budgets marked.
#
# The terminal and output are set by the caller (src/plot.c); this file
# only draws. Variables (pass with -e "name='value'"):
#   points        required  every evaluated point (format below)
#   fronts        required  the Pareto-optimal points per family
#   title_text    'Design space: parameters vs. computation'
#   xlabel_text   'Mult-Adds per sentence (M)'
#   ylabel_text   'Parameters (M)'
#   logx, logy    1, 1      1: log-scale axis, 0: linear
#   budget_lo     100       budget lines, in M Mult-Adds
#   budget_hi     500
#   key_bottom_right 0      1: legend at the bottom right, where a params
#                           vs MACs cloud (a rising band) leaves room
#
# points: comma-separated with one header line, one row per point:
#   family,macs_m,params_m,config
#   Lite Transformer,88.2,2.9,lite-d200-k31
# (columns 2 and 3 are plotted; family and config are for readers).
#
# fronts: comma-separated, one block per family, blocks separated by two
# blank lines (gnuplot's "index"), each sorted by MACs. The first line of
# a block is its header; its first cell (above the MACs column) is the
# family name, used as the legend entry:
#   Lite Transformer,params_m,config
#   88.2,2.9,lite-d200-k31
#   ...
# Which objectives define the front is the caller's choice (for a sweep
# without accuracy, e.g. fewest Mult-Adds and most parameters, i.e. the
# most capacity per Mult-Add); this file only draws the given points.
# Lines starting with '#' are comments. Names must not contain commas.

if (!exists("points") || !exists("fronts")) {
	print "pareto.gp: set points='FILE' and fronts='FILE'"; exit status 2
}
if (!exists("title_text")) title_text = 'Design space: parameters vs. computation'
if (!exists("xlabel_text")) xlabel_text = 'Mult-Adds per sentence (M)'
if (!exists("ylabel_text")) ylabel_text = 'Parameters (M)'
if (!exists("logx")) logx = 1
if (!exists("logy")) logy = 1
if (!exists("budget_lo")) budget_lo = 100
if (!exists("budget_hi")) budget_hi = 500
if (!exists("key_bottom_right")) key_bottom_right = 0

# Values arrive as strings from the driver; make the switches numbers.
logx = logx + 0
logy = logy + 0
budget_lo = budget_lo + 0
budget_hi = budget_hi + 0

set datafile separator comma
set datafile commentschars '#'

set linetype 1 lc rgb '#0072B2' lw 2.5 pt 7 ps 1.2
set linetype 2 lc rgb '#D55E00' lw 2.5 pt 5 ps 1.1
set linetype 3 lc rgb '#009E73' lw 2.5 pt 9 ps 1.4
set linetype 4 lc rgb '#CC79A7' lw 2.5 pt 11 ps 1.4
set linetype 5 lc rgb '#E69F00' lw 2.5 pt 13 ps 1.4
set linetype 6 lc rgb '#56B4E9' lw 2.5 pt 15 ps 1.3
set linetype 7 lc rgb '#000000' lw 2.5 pt 3 ps 1.2
set linetype 8 lc rgb '#999999' lw 2.5 pt 1 ps 1.2
set linetype cycle 8

set title title_text font ',14' offset 0, 0.8
set xlabel xlabel_text
set ylabel ylabel_text
set border 3 lw 1.2
set tics nomirror out
set grid xtics ytics lc rgb '#dcdcdc' lw 1 dt 3
if (key_bottom_right + 0) {
	set key bottom right Left reverse box opaque width 1 spacing 1.3 samplen 3
} else {
	set key top left Left reverse box opaque width 1 spacing 1.3 samplen 3
}

if (logx) {
	set logscale x 10
	set format x '%g'
	set xtics add (20, 50, 200, 500, 2000, 5000)
}
if (logy) {
	set logscale y 10
	set format y '%g'
	set ytics add (0.2, 0.5, 2, 5, 20, 50, 200)
}

stats points using 2 nooutput
xmin = STATS_min
xmax = STATS_max
if (logx) {
	set xrange [(xmin < budget_lo ? xmin : budget_lo) / 1.3 : \
		    (xmax > budget_hi ? xmax : budget_hi) * 1.3]
} else {
	set xrange [0 : (xmax > budget_hi ? xmax : budget_hi) * 1.08]
}
set autoscale yfix
set offsets 0, 0, graph 0.06, graph 0.06

set arrow 1 from first budget_lo, graph 0 to first budget_lo, graph 1 \
	nohead dt 2 lw 1.5 lc rgb '#555555' front
set arrow 2 from first budget_hi, graph 0 to first budget_hi, graph 1 \
	nohead dt 2 lw 1.5 lc rgb '#555555' front
set label 2 sprintf('%gM', budget_lo) at first budget_lo, graph 1 \
	offset 0, 0.7 center textcolor rgb '#555555' front
set label 3 sprintf('%gM', budget_hi) at first budget_hi, graph 1 \
	offset 0, 0.7 center textcolor rgb '#555555' front

plot points using 2:3 skip 1 with points pt 7 ps 0.45 lc rgb '#b8b8b8' \
	title 'all design points', \
     for [i=0:*] fronts index i using 1:2 with linespoints lt (i+1) \
	title columnheader(1).' (Pareto front)'
