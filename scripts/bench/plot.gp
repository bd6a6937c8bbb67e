# Keep-alive requests/s by concurrency, for scripts/bench.sh. Called by
# measure.py:
#   gnuplot -e "abfile='a.dat'; probefile='p.dat'; outfile='x.png'; \
#               titles='A|B|C'; columns=3; xmin=0.8; xmax=80" plot.gp
# Each data file: one line per concurrency, "C rps(server 1) rps(server 2) ...";
# an empty file name leaves its panel out.
set terminal pngcairo size 1200,520 enhanced font "sans,10"
set output outfile
set datafile missing "NaN"
set logscale x 2
set xtics (1, 2, 4, 8, 16, 32, 64, 128, 256)
set xrange [xmin:xmax]
set xlabel "concurrent connections"
set ylabel "requests/s"
set yrange [0:*]
set grid ytics
set key inside right center opaque box
n = columns
array T[n]
do for [i=1:n] {
    T[i] = system(sprintf("echo '%s' | cut -d'|' -f%d", titles, i))
}
panels = (abfile ne "" ? 1 : 0) + (probefile ne "" ? 1 : 0)
if (panels > 1) { set multiplot layout 1,2 title "Keep-alive mTLS requests (joe's certificate), same machine, same load generator per panel" }
if (abfile ne "") {
    set title "ab -k (single-threaded, HTTP/1.0)"
    plot for [i=1:n] abfile using 1:(column(i+1)) with linespoints lw 2 pt 7 title T[i]
}
if (probefile ne "") {
    set title "certauth probe --load (one thread per core, HTTP/1.1)"
    plot for [i=1:n] probefile using 1:(column(i+1)) with linespoints lw 2 pt 7 title T[i]
}
if (panels > 1) { unset multiplot }
