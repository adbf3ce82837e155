# breakdown.gp - Mult-Adds per op kind as stacked bars: one bar per config
# (or per layer), one colour per kind.
#
# The terminal and output are set by the caller (src/plot.c); this file
# only draws. Variables (pass with -e "name='value'"):
#   data          required  data file (format below)
#   title_text    'Mult-Adds by operation kind'
#   xlabel_text   ''        e.g. 'Layer' for a per-layer breakdown
#   ylabel_text   'Mult-Adds per sentence (M)'
#   budget_lo     100       horizontal budget lines, in M; 0 hides one
#   budget_hi     500
#
# Data: comma-separated table with one header line; the first column is
# the bar label (config name or layer name), every other column one kind,
# in millions of Mult-Adds (0 for kinds a model does not have). The
# header names the kinds (the legend); any number of kind columns works:
#   config,attention_proj,attention_matmul,conv,conv_proj,conv_kernelgen,ffn,glu,embed_proj,output_proj,norm,elementwise
#   wmt-lite-200,12.1,3.0,1.1,14.2,2.0,20.4,0,0,33.1,0,0
# Lines starting with '#' are comments. Labels must not contain commas.

if (!exists("data")) { print "breakdown.gp: set data='FILE'"; exit status 2 }
if (!exists("title_text")) title_text = 'Mult-Adds by operation kind'
if (!exists("xlabel_text")) xlabel_text = ''
if (!exists("ylabel_text")) ylabel_text = 'Mult-Adds per sentence (M)'
if (!exists("budget_lo")) budget_lo = 100
if (!exists("budget_hi")) budget_hi = 500

# Values arrive as strings from the driver; make the switches numbers.
budget_lo = budget_lo + 0
budget_hi = budget_hi + 0

set datafile separator comma
set datafile commentschars '#'

# Eleven distinguishable fills, one per kind in the column order above:
# attention in blues, convolution in greens, FFN/GLU in oranges,
# embeddings/output in purples, norm and elementwise in greys.
array fill[12] = ['#1f4e9c', '#6aa2e8', '#1b7a3a', '#58b368', '#a6dba0', \
		  '#e3760f', '#f7b267', '#7b4fa0', '#c29fdc', '#6e6e6e', \
		  '#bdbdbd', '#b2182b']

set title title_text font ',14' offset 0, 0.8
set xlabel xlabel_text
set ylabel ylabel_text
set border 3 lw 1.2
set tics nomirror out
set xtics rotate by -25 left
set grid ytics lc rgb '#dcdcdc' lw 1 dt 3
set key outside right top Left reverse box opaque width 1 spacing 1.2 \
	samplen 2 title 'op kind'

set style data histograms
set style histogram rowstacked gap 1
set style fill solid 0.95 border lc rgb '#ffffff'
set boxwidth 0.7 relative
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0

if (budget_lo > 0) {
	set arrow 1 from graph 0, first budget_lo to graph 1, first budget_lo \
		nohead dt 2 lw 1.5 lc rgb '#555555' front
	set label 2 sprintf('%gM', budget_lo) at graph 1, first budget_lo \
		offset -0.5, 0.6 right textcolor rgb '#555555' front
}
if (budget_hi > 0) {
	set arrow 2 from graph 0, first budget_hi to graph 1, first budget_hi \
		nohead dt 2 lw 1.5 lc rgb '#555555' front
	set label 3 sprintf('%gM', budget_hi) at graph 1, first budget_hi \
		offset -0.5, 0.6 right textcolor rgb '#555555' front
}

# Budget lines above the tallest bar fall outside the y range and are
# not drawn, so a small model's bars are not squashed by a 500M line.
stats data using 2 skip 1 nooutput
set xrange [-0.6 : STATS_records - 0.4]
plot for [c=2:*] data using c:xtic(1) title columnheader(c) \
	lc rgb fill[((c-2) % 12) + 1]
