# loss.gp - validation loss against updates of `archex train` runs, one
# curve per run (archex plot loss RUN...).
#
# The terminal and output are set by the caller (src/plot.c); this file
# only draws. Variables (pass with -e "name='value'"):
#   data          required  data file (format below)
#   names         required  the runs' legend names, separated by spaces
#   n_runs        required  number of data blocks
#   title_text    'Validation loss during training'
#   xlabel_text   'Updates'
#   ylabel_text   'Validation loss (nats per target token)'
#
# Data: one block per run, in the order of `names`, blocks separated by
# two empty lines; each block has a comment line, a header line and rows
#   step,tokens,valid_loss,valid_ppl
#   50,97421,6.213,499.6
# Lines starting with '#' are comments.

if (!exists("data")) { print "loss.gp: set data='FILE'"; exit status 2 }
if (!exists("names")) { print "loss.gp: set names='A B ...'"; exit status 2 }
if (!exists("n_runs")) { print "loss.gp: set n_runs='N'"; exit status 2 }
if (!exists("title_text")) title_text = 'Validation loss during training'
if (!exists("xlabel_text")) xlabel_text = 'Updates'
if (!exists("ylabel_text")) ylabel_text = 'Validation loss (nats per target token)'
n_runs = n_runs + 0

set datafile separator comma
set datafile commentschars '#'

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
# top right: above the curves, which fall to the right
set key top right Left reverse box opaque width 1 spacing 1.3 samplen 3
set xrange [0:*]
set offsets 0, graph 0.02, graph 0.05, graph 0.05

plot for [i=0:n_runs-1] data index i using 1:3 skip 1 with linespoints \
	lt (i+1) title word(names, i+1)
