# Figure 1(a) from a bn-repro run folder with gnuplot, from any working folder, no display needed:
#   gnuplot -e "run='results/paper-3seeds'" docs/recipes/figure1a.gp
#   gnuplot -e "run='results/lr-sweep'; nets='baseline bn-x5'" docs/recipes/figure1a.gp
# Writes RUN/figure1a-gnuplot.png: each network's test accuracy, averaged over seeds at each step
# (awk keeps one network's rows, `smooth unique` averages the rows of one step).
if (!exists("nets")) nets = 'baseline bn'
rows(net) = sprintf("< awk -F, 'NR == 1 || $1 == \"%s\"' '%s/accuracy.csv'", net, run)
set terminal pngcairo size 800,500
set output run.'/figure1a-gnuplot.png'
set datafile separator ','
set key autotitle columnheader bottom right
set xlabel 'steps'; set ylabel 'test accuracy'; set xrange [0:*]; set yrange [0.7:1]
plot for [net in nets] rows(net) using 'step':'test_accuracy' smooth unique with lines lw 2 title net
