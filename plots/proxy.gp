# proxy.gp - the proxy study's trust plot: each published config's
# published BLEU against the valid loss its proxy reached (docs/study.md),
# one marker per family, one colour per published dataset; each point is
# labelled with its config. A proxy that ranks like the paper falls from
# the top left to the bottom right.
#
# The terminal and output are set by the caller (src/explore/plot.c);
# this file only draws. Variables (pass with -e "name='value'"):
#   proxy         required  the joined points (format below)
#   fams          required  per block, the family's number (1-based), space-separated
#   sets          required  per block, the dataset's number (1-based)
#   title_text    'Published BLEU vs. proxy valid loss'
#   xlabel_text   'Proxy valid loss (nats per target token, lower is better)'
#   ylabel_text   'Published BLEU'
#
# proxy: comma-separated, one block per (dataset, family), blocks
# separated by two blank lines (gnuplot's "index"); the first cell of a
# block's header is its legend entry:
#   Lite Transformer / wmt14-en-fr,published,config
#   5.812,35.3,wmt-lite-200
# Names must not contain commas.

if (!exists("proxy") || !exists("fams") || !exists("sets")) {
	print "proxy.gp: set proxy='FILE', fams='...' and sets='...'"; exit status 2
}
if (!exists("title_text")) title_text = 'Published BLEU vs. proxy valid loss'
if (!exists("xlabel_text")) xlabel_text = 'Proxy valid loss (nats per target token, lower is better)'
if (!exists("ylabel_text")) ylabel_text = 'Published BLEU'

set datafile separator comma

# markers per family (filled circle, square, diamond, pentagon, ...),
# colours per dataset (the Okabe-Ito palette of the other templates)
markers = '7 5 13 15 9 11 3 1'
colours = '#0072B2 #D55E00 #009E73 #CC79A7 #E69F00 #56B4E9 #000000 #999999'
pt_of(i) = word(markers, (int(word(fams, i + 1)) - 1) % 8 + 1) + 0
lc_of(i) = word(colours, (int(word(sets, i + 1)) - 1) % 8 + 1)
nblocks = words(fams)

set title title_text font ',12' offset 0, 0.8
set xlabel xlabel_text
set ylabel ylabel_text
set border 3 lw 1.2
set tics nomirror out
set grid xtics ytics lc rgb '#dcdcdc' lw 1 dt 3
set key outside below center horizontal Left reverse box opaque width 1 spacing 1.3 samplen 2 maxrows 3
set bmargin 7.5
set offsets graph 0.08, graph 0.08, graph 0.08, graph 0.08

plot for [i=0:nblocks-1] proxy index i using 1:2 with points pt pt_of(i) ps 1.6 \
	lc rgb lc_of(i) title columnheader(1), \
     for [i=0:nblocks-1] proxy index i using 1:2:3 with labels offset char 0.8, 0.7 \
	left font ',8' tc rgb lc_of(i) notitle
