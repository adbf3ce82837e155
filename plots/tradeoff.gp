# tradeoff.gp - accuracy vs Mult-Adds, one line+points series per model
# family, with the 100M/500M budgets and the mobile region (<= 500M) shaded,
# as the Lite Transformer paper draws its trade-off curves.
#
# The terminal and output are set by the caller (src/plot.c); this file
# only draws. Variables (pass with -e "name='value'"):
#   data          required  data file (format below)
#   title_text    'Accuracy vs. computation'
#   ylabel_text   'BLEU'    the metric and its direction, e.g.
#                           'Test perplexity (lower is better)'
#   xlabel_text   'Mult-Adds per sentence (M)'
#   logx          1         1: log-scale x axis, 0: linear
#   budget_lo     100       first budget line, in M
#   budget_hi     500       second budget line and right edge of the
#                           shaded mobile region, in M
#   show_labels   0         1: write each point's config name beside it
#
# Data: comma-separated, one block per family, blocks separated by two
# blank lines (gnuplot's "index"). The first line of each block is its
# header and its first field names the family (the legend entry):
#   Lite Transformer,value,config,approx
#   90.1,35.3,wmt-lite-200,0
#   360.4,39.1,wmt-lite-408,0
#   <blank>
#   <blank>
#   Transformer,value,config
#   ...
# Columns: 1 MACs in millions (its header cell is the family name),
# 2 accuracy, 3 config name (for labels), 4 approx: 1 for a value read
# off a figure, drawn as a hollow marker (legend: "approx."), else 0.
# Family names must not contain commas.
# Lines starting with '#' are comments.

if (!exists("data")) { print "tradeoff.gp: set data='FILE'"; exit status 2 }
if (!exists("title_text")) title_text = 'Accuracy vs. computation'
if (!exists("ylabel_text")) ylabel_text = 'BLEU'
if (!exists("xlabel_text")) xlabel_text = 'Mult-Adds per sentence (M)'
if (!exists("logx")) logx = 1
if (!exists("budget_lo")) budget_lo = 100
if (!exists("budget_hi")) budget_hi = 500
if (!exists("show_labels")) show_labels = 0

# Values arrive as strings from the driver; make the switches numbers.
logx = logx + 0
budget_lo = budget_lo + 0
budget_hi = budget_hi + 0
show_labels = show_labels + 0

set datafile separator comma
set datafile commentschars '#'

# Colour-blind-safe palette (Okabe-Ito), one linetype per family.
set linetype 1 lc rgb '#0072B2' lw 2.5 pt 7 ps 1.4
set linetype 2 lc rgb '#D55E00' lw 2.5 pt 5 ps 1.3
set linetype 3 lc rgb '#009E73' lw 2.5 pt 9 ps 1.6
set linetype 4 lc rgb '#CC79A7' lw 2.5 pt 11 ps 1.6
set linetype 5 lc rgb '#E69F00' lw 2.5 pt 13 ps 1.6
set linetype 6 lc rgb '#56B4E9' lw 2.5 pt 15 ps 1.5
set linetype 7 lc rgb '#000000' lw 2.5 pt 3 ps 1.3
set linetype 8 lc rgb '#999999' lw 2.5 pt 1 ps 1.3
set linetype cycle 8
# each linetype's point type and size, for the hollow approx. markers
# (a filled type minus one is its open twin)
array PT[8] = [7, 5, 9, 11, 13, 15, 3, 1]
array PS[8] = [1.4, 1.3, 1.6, 1.6, 1.6, 1.5, 1.3, 1.3]

set title title_text font ',14' offset 0, 0.8
set xlabel xlabel_text
set ylabel ylabel_text
set border 3 lw 1.2
set tics nomirror out
set grid xtics ytics lc rgb '#d4d4d4' lw 1 dt 3
set key bottom right Left reverse box opaque width 1 spacing 1.3 samplen 3
set offsets graph 0.03, graph 0.03, graph 0.08, graph 0.05

if (logx) {
	set logscale x 10
	set mxtics 10
	set format x '%g'
	set xtics add (20, 50, 200, 500, 2000, 5000)
}

# Find the data range so the shaded region and budget lines fit it.
stats data using 1 nooutput
xmin = STATS_min
xmax = STATS_max
n_blocks = STATS_blocks   # families; 'for [i=0:*]' would stop at a block
			  # whose approx. overlay is empty
if (logx) {
	lo = (xmin < budget_lo ? xmin : budget_lo) / 1.4
	hi = (xmax > budget_hi ? xmax : budget_hi) * (show_labels ? 2.2 : 1.4)
} else {
	lo = 0
	hi = (xmax > budget_hi ? xmax : budget_hi) * (show_labels ? 1.25 : 1.1)
}
set xrange [lo:hi]

# Mobile region: everything at or under the larger budget.
set object 1 rect from graph 0, graph 0 to first budget_hi, graph 1 \
	fc rgb '#fdf3dc' fs solid 1.0 noborder behind
set label 1 sprintf('mobile setting (<= %gM Mult-Adds)', budget_hi) \
	at graph 0.015, graph 0.965 left textcolor rgb '#8a6200' font ',10'
set arrow 1 from first budget_lo, graph 0 to first budget_lo, graph 1 \
	nohead dt 2 lw 1.5 lc rgb '#555555' front
set arrow 2 from first budget_hi, graph 0 to first budget_hi, graph 1 \
	nohead dt 2 lw 1.5 lc rgb '#555555' front
set label 2 sprintf('%gM', budget_lo) at first budget_lo, graph 1 \
	offset 0, 0.7 center textcolor rgb '#555555' front
set label 3 sprintf('%gM', budget_hi) at first budget_hi, graph 1 \
	offset 0, 0.7 center textcolor rgb '#555555' front

# Approximate values: the filled marker is covered in white, then
# outlined (a hollow marker), and one legend entry says what it means.
# (a file without column 4 leaves STATS_sum undefined: nothing is approx.)
n_approx = 0
stats data using 4 nooutput
if (exists("STATS_sum")) { n_approx = STATS_sum }
approx(c) = (column(4) > 0 ? column(c) : NaN)
if (n_approx > 0) {
	keyentry_title = 'approx. (read off a figure)'
} else {
	keyentry_title = ''
}

plot for [i=0:*] data index i using 1:2 with linespoints lt (i+1) \
		title columnheader(1), \
     for [i=0:n_blocks-1] data index i using 1:(approx(2)) with points \
		pt PT[i % 8 + 1] ps PS[i % 8 + 1] lc rgb 'white' notitle, \
     for [i=0:n_blocks-1] data index i using 1:(approx(2)) with points \
		pt (PT[i % 8 + 1] - 1) ps PS[i % 8 + 1] lt (i+1) lw 1.5 notitle, \
     for [k=1:(n_approx > 0)] keyentry with points pt 6 ps 1.4 lc rgb '#444444' \
		title keyentry_title, \
     for [i=0:(show_labels ? n_blocks-1 : -1)] data index i using 1:2:3 with labels \
		offset 0.8, -0.9 left font ',9' textcolor rgb '#444444' notitle
