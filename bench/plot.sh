#!/bin/bash
# Turns the benchmarks' CSV files (acpstore_bench --csv) into PNG plots with
# gnuplot (Debian package gnuplot-nox). Each value plotted is the median of
# every numbered run in the files given (rows with run = "median" are
# ignored, so several processes' CSVs can be concatenated).
#
#   bench/plot.sh --append append.csv [--suffix " payload=2500 sync=always"] \
#                 [--rss rss.csv] [--queue queue.csv] [--out docs/img]
#
# Writes, for each CSV given:
#   append-throughput.png  events/s against writers: acpstore, the raw
#                          fdatasync limit (batch = writers), SQLite, PostgreSQL
#   rss-events.png         RSS and peak RSS (MiB) against events
#   queue-throughput.png   queue cycles/s against workers
# --suffix picks one point of an append sweep (the text after "writers=W" in
# its config); default: configs with no suffix.
set -euo pipefail

append_csv="" rss_csv="" queue_csv="" out="docs/img" suffix=""
while [ $# -gt 0 ]; do
  case "$1" in
    --append) append_csv="$2"; shift 2 ;;
    --rss) rss_csv="$2"; shift 2 ;;
    --queue) queue_csv="$2"; shift 2 ;;
    --suffix) suffix="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "plot.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v gnuplot >/dev/null || {
  echo "plot.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# medians CSV...: "subject<TAB>config<TAB>metric<TAB>median" over numbered runs.
medians() {
  awk -F, 'FNR > 1 && $4 != "median" { print $2 "\t" $3 "\t" $5 "\t" $6 }' "$@" |
    sort -t $'\t' -k1,1 -k2,2 -k3,3 -k4,4g |
    awk -F'\t' '
      function flush() {
        if (n == 0) return
        m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
        print key "\t" m
        n = 0
      }
      { k = $1 "\t" $2 "\t" $3; if (k != key) { flush(); key = k } v[++n] = $4 }
      END { flush() }'
}

# series MEDIANS SUBJECT PREFIX METRIC [SUFFIX]: "x y" rows, x the number
# after PREFIX= in configs "PREFIX=x<SUFFIX>", sorted by x.
series() {
  awk -F'\t' -v s="$2" -v p="$3=" -v m="$4" -v suf="${5:-}" '
    $1 == s && $3 == m && index($2, p) == 1 {
      rest = substr($2, length(p) + 1)
      x = rest + 0
      if (rest == x suf) print x, $4
    }' "$1" | sort -n
}

# plot PNG TITLE XLABEL YLABEL LOGY then "file<TAB>title" lines on stdin.
plot() {
  local png="$1" title="$2" xlabel="$3" ylabel="$4" logy="$5" cmd="" sep=""
  while IFS=$'\t' read -r file name; do
    [ -s "$file" ] || continue
    cmd+="$sep'$file' using 1:2 with linespoints lw 2 title '$name'"
    sep=", "
  done
  [ -n "$cmd" ] || { echo "plot.sh: no data for $png" >&2; return 0; }
  gnuplot <<EOF
set terminal pngcairo size 900,600 font ",11" noenhanced
set output '$png'
set title '$title'
set xlabel '$xlabel'
set ylabel '$ylabel'
set grid
set key below
$( [ "$logy" = 1 ] && echo "set logscale y" )
$( [ "$xlabel" != "events" ] && echo "set logscale x 2" || echo "set logscale x 10" )
plot $cmd
EOF
  echo "plot.sh: wrote $png"
}

if [ -n "$append_csv" ]; then
  medians "$append_csv" > "$tmp/append"
  series "$tmp/append" acpstore-file writers events_per_s "$suffix" > "$tmp/a-file"
  series "$tmp/append" raw-fdatasync batch events_per_s "$suffix" > "$tmp/a-raw"
  series "$tmp/append" sqlite-wal-full writers events_per_s "$suffix" > "$tmp/a-full"
  series "$tmp/append" sqlite-wal-full-batched writers events_per_s "$suffix" > "$tmp/a-batched"
  series "$tmp/append" sqlite-wal-normal writers events_per_s "$suffix" > "$tmp/a-normal"
  series "$tmp/append" postgres-sync-on writers events_per_s "$suffix" > "$tmp/a-pg"
  printf '%s\t%s\n' \
    "$tmp/a-raw" "raw write+fdatasync, batch = writers" \
    "$tmp/a-file" "acpstore file, sync always" \
    "$tmp/a-batched" "SQLite WAL FULL, app-batched" \
    "$tmp/a-full" "SQLite WAL FULL, txn per append" \
    "$tmp/a-normal" "SQLite WAL NORMAL (not durable)" \
    "$tmp/a-pg" "PostgreSQL, synchronous_commit=on" |
    plot "$out/append-throughput.png" "Durable appends:${suffix:- 2.5 KB payloads} (medians)" \
      writers "events/s" 1
fi

if [ -n "$rss_csv" ]; then
  medians "$rss_csv" > "$tmp/rss"
  series "$tmp/rss" acpstore events rss_mib > "$tmp/r-rss"
  series "$tmp/rss" acpstore events peak_rss_mib > "$tmp/r-peak"
  series "$tmp/rss" acpstore events index_mib > "$tmp/r-index"
  series "$tmp/rss" acpstore events cache_mib > "$tmp/r-cache"
  printf '%s\t%s\n' \
    "$tmp/r-peak" "peak RSS (VmHWM)" \
    "$tmp/r-rss" "RSS (VmRSS)" \
    "$tmp/r-cache" "payload cache" \
    "$tmp/r-index" "event index" |
    plot "$out/rss-events.png" "Memory against history, 64 MiB budget (medians)" \
      events "MiB" 0
fi

if [ -n "$queue_csv" ]; then
  medians "$queue_csv" > "$tmp/queue"
  series "$tmp/queue" acpstore-file workers cycles_per_s > "$tmp/q-file"
  series "$tmp/queue" acpstore-memory workers cycles_per_s > "$tmp/q-memory"
  series "$tmp/queue" sqlite-wal-full workers cycles_per_s > "$tmp/q-full"
  series "$tmp/queue" sqlite-wal-normal workers cycles_per_s > "$tmp/q-normal"
  printf '%s\t%s\n' \
    "$tmp/q-memory" "acpstore memory (no I/O)" \
    "$tmp/q-file" "acpstore file, sync always" \
    "$tmp/q-normal" "SQLite WAL NORMAL (not durable)" \
    "$tmp/q-full" "SQLite WAL FULL" |
    plot "$out/queue-throughput.png" "Action queue: enqueue+lease+complete cycles (medians)" \
      workers "cycles/s" 1
fi
