# Requests/s by concurrency for scripts/bench.sh. Called by measure.py:
#   gnuplot -e "datafile='...'; outfile='...'; titles='a|b|c'; columns=3" plot.gp
# datafile: one line per concurrency: C rps(server 1) rps(server 2) ...
set terminal pngcairo size 900,540 enhanced font "sans,11"
set output outfile
set title "Keep-alive mTLS requests/s by concurrency (ab -k, joe's certificate)"
set xlabel "concurrent connections"
set ylabel "requests/s"
set logscale x 2
set xtics (1, 2, 4, 8, 16, 32, 64, 128, 256)
set yrange [0:*]
set grid ytics
set key top left
set datafile missing "NaN"
n = columns
array T[n]
do for [i=1:n] {
    T[i] = system(sprintf("echo '%s' | cut -d'|' -f%d", titles, i))
}
plot for [i=1:n] datafile using 1:(column(i+1)) with linespoints lw 2 pt 7 title T[i]
