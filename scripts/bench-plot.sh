#!/usr/bin/env bash
# Plots claims/s against the pending backlog from the claim-backlog-scaling rows of a
# jobrouter-bench CSV (--format csv or --csv FILE): one line per strategy x store found in the
# file, so a new store (redis) or strategy shows up without changing this script. Installs
# gnuplot (gnuplot-nox; a bench-only dependency, not in REQUIRED_PACKAGES) when missing.
# Memory rows run one claim at a time on one thread; redis rows say how many were in flight
# (in_flight in the CSV's metrics).
#
#   scripts/bench-plot.sh [CSV [OUT.svg|OUT.png]]
#       default CSV: bench/results/bench.csv; default OUT: claims-vs-backlog.svg beside the CSV
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

csv="${1:-$REPO_ROOT/bench/results/bench.csv}"
out="${2:-$(dirname "$csv")/claims-vs-backlog.svg}"
[ -r "$csv" ] || { log "bench-plot: cannot read $csv"; exit 1; }
head -1 "$csv" | grep -q '^scenario,strategy,store,ops_per_s,' ||
  { log "bench-plot: $csv: line 1 is not jobrouter-bench's CSV header (scenario,strategy,store,ops_per_s,...)"; exit 1; }
ensure_packages gnuplot-nox

data="$(mktemp)"
trap 'rm -f "$data"' EXIT
# One block per "strategy/store" (sorted, blocks separated by two blank lines, as gnuplot's
# `index` wants): backlog (from the metrics column's backlog=N), ops/s, claims per CPU-second.
# Solid lines are claims per wall-clock second; dashed ones, in the same colour, claims per
# CPU-second, which a busy machine disturbs far less: of the bench thread for a store in the
# bench's process (ops_per_cpu_s), of the server for a store with one (ops_per_server_cpu_s:
# Redis's main thread). The y axis is logarithmic: the stores are orders of magnitude apart.
awk -F, 'NR > 1 && $1 ~ /^claim-backlog-scaling\// && match($8, /backlog=[0-9]+/) {
           backlog = substr($8, RSTART + 8, RLENGTH - 8)
           cpu = "NaN"; who = "bench-CPU"
           if (match($8, /ops_per_server_cpu_s=[0-9.]+/)) { cpu = substr($8, RSTART + 21, RLENGTH - 21); who = "server-CPU" }
           else if (match($8, /ops_per_cpu_s=[0-9.]+/)) cpu = substr($8, RSTART + 14, RLENGTH - 14)
           print $2 "/" $3 "\t" backlog "\t" $4 "\t" cpu "\t" who }' "$csv" |
  sort -t "$(printf '\t')" -k1,1 -k2,2n |
  awk -F '\t' '$1 != key { if (NR > 1) printf "\n\n"; key = $1; print "# " key " " $5 } { print $2 "\t" $3 "\t" $4 }' >"$data"
series="$(sed -n 's/^# \([^ ]*\) .*/\1/p' "$data")"
kinds="$(sed -n 's/^# [^ ]* //p' "$data")"
[ -n "$series" ] || { log "bench-plot: $csv has no claim-backlog-scaling rows (run the bench with --scenarios claim-backlog-scaling)"; exit 1; }

case "$out" in
  *.svg) terminal="svg size 900,600 dynamic enhanced font 'sans,12' background rgb 'white'" ;;
  *.png) terminal="pngcairo size 900,600 enhanced font 'sans,10' background rgb 'white'" ;;
  *) log "bench-plot: $out: the output must end in .svg or .png"; exit 2 ;;
esac
plots=""
i=0
set -- $kinds
for s in $series; do
  plots="$plots${plots:+, }'$data' index $i using 1:2 with linespoints lw 2 pt 7 lc $((i + 1)) title '$s claims/s'"
  plots="$plots, '$data' index $i using 1:3 with linespoints lw 1 pt 6 dt 2 lc $((i + 1)) title '$s per ${1:-bench-CPU} second'"
  shift || true
  i=$((i + 1))
done
gnuplot <<GNUPLOT
set terminal $terminal
set output '$out'
set title 'claim-backlog-scaling: claims/s against pending backlog ($(basename "$csv"))' noenhanced
set xlabel 'pending jobs (backlog)'
set ylabel 'claims/s (claim + complete)'
set logscale x 10
set logscale y 10
set autoscale xfix
set offsets graph 0.05, graph 0.05, 0, 0
set format x '%.0s%c'
set format y '%.0s%c'
set yrange [*:*]
set grid
set key below noenhanced spacing 1.2
set bmargin 9
plot $plots
GNUPLOT
log "wrote $out ($i series: $(echo $series | tr ' ' ','))"
