# accuracy.gp - a trained sweep's measured accuracy against computation:
# each point's valid loss (mean over seeds, error bars one std across
# seeds) against its Mult-Adds, one colour per family, lower is better.
#
# The terminal and output are set by the caller (src/explore/plot.c);
# this file only draws. Variables (pass with -e "name='value'"):
#   trained       required  the trained points per family (format below)
#   title_text    'Measured accuracy vs. computation'
#   xlabel_text   'Mult-Adds per sentence (M)'
#   ylabel_text   'Valid loss (nats per target token)'
#   logx          1         1: log-scale MACs axis, 0: linear
#
# trained: comma-separated, one block per family, blocks separated by two
# blank lines (gnuplot's "index"), each sorted by MACs; the first cell of
# a block's header line is the family name (the legend entry):
#   Transformer,valid_loss,std,config
#   0.68,2.564,0.012,t-f32-eL1
# Names must not contain commas.

if (!exists("trained")) {
	print "accuracy.gp: set trained='FILE'"; exit status 2
}
if (!exists("title_text")) title_text = 'Measured accuracy vs. computation'
if (!exists("xlabel_text")) xlabel_text = 'Mult-Adds per sentence (M)'
if (!exists("ylabel_text")) ylabel_text = 'Valid loss (nats per target token)'
if (!exists("logx")) logx = 1
logx = logx + 0

set datafile separator comma

set linetype 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.2
set linetype 2 lc rgb '#D55E00' lw 2 pt 5 ps 1.1
set linetype 3 lc rgb '#009E73' lw 2 pt 9 ps 1.4
set linetype 4 lc rgb '#CC79A7' lw 2 pt 11 ps 1.4
set linetype 5 lc rgb '#E69F00' lw 2 pt 13 ps 1.4
set linetype 6 lc rgb '#56B4E9' lw 2 pt 15 ps 1.3
set linetype 7 lc rgb '#000000' lw 2 pt 3 ps 1.2
set linetype 8 lc rgb '#999999' lw 2 pt 1 ps 1.2
set linetype cycle 8

set title title_text font ',14' offset 0, 0.8
set xlabel xlabel_text
set ylabel ylabel_text
set border 3 lw 1.2
set tics nomirror out
set grid xtics ytics lc rgb '#dcdcdc' lw 1 dt 3
set key outside below center horizontal Left reverse box opaque width 1 spacing 1.3 samplen 3 maxrows 2
set bmargin 7.5
if (logx) {
	set logscale x 10
	set format x '%g'
}
set offsets graph 0.05, graph 0.05, graph 0.08, graph 0.08

plot for [i=0:*] trained index i using 1:2:3 with yerrorbars lt (i+1) \
	title columnheader(1).' (mean ± std over seeds)'
