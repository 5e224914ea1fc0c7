#!/usr/bin/env bash
# The Makefile's dependency check and help, and the scripts under scripts/: usage, argument
# checks (exit 2, usage on stderr) and crossval's aggregation over folds (mean and sample sd).
set -u
. "$(dirname "$0")/cli_lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)

# run CMD...: stdout to $tmp/out, stderr to $tmp/err, exit status to $rc
run() { "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?; }
# same NAME WANT GOT: exact comparison (multi-line values too)
same() {
    if [ "$2" == "$3" ]; then ok "$1"; else fail "$1: wanted [$2], got [$3]"; fi
}
line() { sed -n "$1p" "$2"; }
# make in the repository, as a user would type it (not as a sub-make of the running `make test`)
umake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$root" --no-print-directory "$@"; }

# ------------------------------------------------------------ Makefile: missing packages
deps_hint='run `make deps` (as root: installs the Debian packages with apt-get), then make again'
run umake PKGS=hyperp-no-such-pkg all
same make_missing_pkg_status 2 "$rc"
same make_missing_pkg_message "cannot build hyperp, missing:
  pkg-config module hyperp-no-such-pkg
$deps_hint" "$(grep -v '^make: \*\*\*' "$tmp/err")"
# the check stops the build before any compiler runs
same make_missing_pkg_no_compile "" "$(cat "$tmp/out")"

run umake REQUIRED_HEADERS="jansson.h hyperp_no_such.h" lib/libhyperp.a
same make_missing_header_status 2 "$rc"
same make_missing_header_line "  header hyperp_no_such.h" "$(line 2 "$tmp/err")"
same make_missing_header_only_it 3 "$(grep -vc '^make: \*\*\*' "$tmp/err")"

run umake CC=hyperp-no-cc bin/hyperp
same make_missing_cc_status 2 "$rc"
same make_missing_cc_names_package "  compiler hyperp-no-cc (Debian package build-essential)" "$(line 2 "$tmp/err")"

# deps itself is never blocked by the check (it is what installs the packages)
run umake PKGS=hyperp-no-such-pkg deps
same make_deps_not_blocked "0 deps: all present" "$rc $(cat "$tmp/out")"

# make test runs deps first, and the check only after it, in the same invocation
run umake PKGS=hyperp-no-such-pkg test
same make_test_deps_before_check "2 deps: all present" "$rc $(line 1 "$tmp/out")"
same make_test_check_after_deps "  pkg-config module hyperp-no-such-pkg" "$(line 2 "$tmp/err")"

# ------------------------------------------------------------ Makefile: help
run umake help
readme_demo=$(sed -n 's/^make demo *# //p' "$root/README.md")
same readme_has_demo_line "the main job: deps, build, synthetic data -> ingest -> train -> recommend -> evaluate" "$readme_demo"
same make_help_demo_as_readme "make demo       $readme_demo (writes artifacts/demo/)" "$(grep '^make demo ' "$tmp/out")"
same make_help_status 0 "$rc"

# ------------------------------------------------------------ scripts: usage and arguments
for s in crossval demo embed; do
    for h in --help -h; do
        run "$root/scripts/$s.sh" $h
        same "${s}_${h}_status_stderr" "0 " "$rc $(cat "$tmp/err")"
        same "${s}_${h}_usage_on_stdout" "usage: scripts/$s.sh" "$(line 1 "$tmp/out" | cut -d' ' -f1-2)"
    done
    run "$root/scripts/$s.sh" --bogus
    same "${s}_unknown_flag" "2 $s.sh: unknown option '--bogus'" "$rc $(line 1 "$tmp/err")"
    same "${s}_unknown_flag_usage_on_stderr" "usage: scripts/$s.sh|" "$(line 2 "$tmp/err" | cut -d' ' -f1-2)|$(cat "$tmp/out")"
done
# usage_error NAME MESSAGE SCRIPT ARGS...: exit 2, MESSAGE then the usage on stderr, nothing on stdout
usage_error() {
    local name=$1 msg=$2 s=$3
    shift 3
    run "$root/scripts/$s.sh" "$@"
    same "$name" "2 $msg|usage: scripts/$s.sh|" "$rc $(line 1 "$tmp/err")|$(line 2 "$tmp/err" | cut -d' ' -f1-2)|$(cat "$tmp/out")"
}
echo '{}' > "$tmp/cfg.json"
usage_error crossval_no_args "crossval.sh: expected CONFIG [FOLDS] [K], got 0 arguments" crossval
usage_error crossval_four_args "crossval.sh: expected CONFIG [FOLDS] [K], got 4 arguments" crossval "$tmp/cfg.json" 5 7 9
usage_error crossval_missing_config "crossval.sh: config '$tmp/none.json': no such file" crossval "$tmp/none.json"
usage_error crossval_bad_folds "crossval.sh: FOLDS 'x' is not a positive integer" crossval "$tmp/cfg.json" x
usage_error crossval_bad_k "crossval.sh: K '0' is not a positive integer" crossval "$tmp/cfg.json" 5 0
usage_error crossval_out_without_dir "crossval.sh: --out needs a directory" crossval "$tmp/cfg.json" --out
usage_error demo_one_arg "demo.sh: takes no arguments, got 1" demo 100
usage_error embed_one_arg "embed.sh: expected NAME FILE, got 1 arguments" embed name
usage_error embed_three_args "embed.sh: expected NAME FILE, got 3 arguments" embed name "$tmp/cfg.json" x
usage_error embed_missing_file "embed.sh: FILE '$tmp/none.json': no such readable file" embed name "$tmp/none.json"
usage_error embed_bad_name "embed.sh: NAME '1x' is not a C identifier" embed 1x "$tmp/cfg.json"
run env HYPERP="$tmp/no-hyperp" "$root/scripts/demo.sh"
same demo_missing_binary "2 demo.sh: $tmp/no-hyperp not found or not executable (run \`make\` first)" "$rc $(cat "$tmp/err")"
# the checks did not change what embed writes: the committed built-in config is its output
run "$root/scripts/embed.sh" data_default_config examples/synthetic.json
if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$root/src/data/default_config.c"; then ok embed_output_unchanged
else fail "embed_output_unchanged (exit $rc)"; fi

# ------------------------------------------------------------ crossval: aggregation of known numbers
# fold metrics files as evaluate writes them (columns found by name, so any order will do)
metrics() { # DIR FOLD K LINE...
    local d=$1/fold$2/k$3
    shift 3
    mkdir -p "$d"
    printf '%s\n' "label,rank_users_relevant,binary_brier,binary_roc_auc,binary_log_loss,rank_hit_rate,rank_ndcg,rank_mrr" "$@" > "$d/metrics.csv"
}
# propensity: AUC .7 .8 .9, Brier .1 .2 .3, log loss .3 .5 .7 -> means .8 .2 .5, sample sd .1 .1 .2
# (the population sd would be .0816 .0816 .1633)
for f in 0 1 2; do
    metrics "$tmp/bin" $f 7 "model,,0.$((f + 1)),0.$((f + 7)),0.$((2 * f + 3)),,,"
    metrics "$tmp/bin" $f 1 "model,,0.$((f + 1)),0.$((f + 7)),0.$((2 * f + 3)),,,"
done
run "$root/scripts/crossval.sh" --summary-only --out "$tmp/bin" "$tmp/cfg.json" 3
same crossval_binary_summary "model       fold 0  AUC 0.7000  Brier 0.1000  log loss 0.3000
model       fold 1  AUC 0.8000  Brier 0.2000  log loss 0.5000
model       fold 2  AUC 0.9000  Brier 0.3000  log loss 0.7000
model       AUC 0.8000 +- 0.1000  Brier 0.2000 +- 0.1000  log loss 0.5000 +- 0.2000  (mean +- sample sd over 3 folds)" "$(cat "$tmp/out")"
same crossval_binary_status 0 "$rc"
same crossval_summary_file "$(cat "$tmp/out")" "$(cat "$tmp/bin/summary.txt")"
# one fold: no sample sd
run "$root/scripts/crossval.sh" --summary-only --out "$tmp/bin" "$tmp/cfg.json" 1
same crossval_one_fold_no_sd "model       AUC 0.7000 +- -  Brier 0.1000 +- -  log loss 0.3000 +- -  (mean +- sample sd over 1 folds)" "$(line 2 "$tmp/out")"
# a fold that was not evaluated is an error naming its file, not a silent gap
run "$root/scripts/crossval.sh" --summary-only --out "$tmp/bin" "$tmp/cfg.json" 4
same crossval_missing_fold "1 crossval.sh: $tmp/bin/fold3/k7/metrics.csv: no such file (fold 3 was not evaluated at k 7)" "$rc $(cat "$tmp/err")"

# ranking: customer-weighted over folds. k 7: 10 customers HR .9 NDCG .5 MRR .6, 30 customers
# HR .5 NDCG .3 MRR .2; k 1: HR .4 and .2 -> HR@1 10/40, HR@7 24/40, NDCG 14/40, MRR 12/40
metrics "$tmp/rank" 0 7 "popularity,10,,,,0.9,0.5,0.6"
metrics "$tmp/rank" 0 1 "popularity,10,,,,0.4,0.3,0.6"
metrics "$tmp/rank" 1 7 "popularity,30,,,,0.5,0.3,0.2"
metrics "$tmp/rank" 1 1 "popularity,30,,,,0.2,0.1,0.2"
run "$root/scripts/crossval.sh" --summary-only --out "$tmp/rank" "$tmp/cfg.json" 2
same crossval_rank_summary "0 popularity  HR@1 0.2500  HR@7 0.6000  NDCG@7 0.3500  MRR 0.3000  (40 customers)" "$rc $(cat "$tmp/out")"

# ------------------------------------------------------------ crossval: a tiny real run
# 300 customers, 3 folds, a BCE model for 3 epochs: the summary reads what evaluate wrote
mkdir -p "$tmp/tiny"
awk 'BEGIN { srand(7); print "x,c,y"; for (i = 0; i < 300; i++) { x = rand(); c = rand() < 0.5 ? "a" : "b"
      printf "%.3f,%s,%s\n", x, c, rand() < (x > 0.5 ? 0.8 : 0.2) ? "yes" : "no" } }' > "$tmp/tiny/d.csv"
awk 'BEGIN { for (i = 0; i < 300; i++) print i % 3 }' > "$tmp/tiny/folds.txt"
cat > "$tmp/tiny/cfg.json" <<'EOF'
{
  "hyperp_dataset": 1,
  "name": "tiny propensity",
  "customers": { "file": "d.csv",
    "columns": { "@row": "id", "x": "numeric", "c": "categorical", "y": { "role": "label", "positive": ["yes"] } } },
  "model": { "dim": 4, "hidden": 8 },
  "train": { "loss": "bce", "epochs": 3, "batch": 32, "lr": 0.01, "patience": 2, "id_dropout": 0.0 },
  "split": { "method": "folds", "folds_file": "folds.txt", "test_fold": 0, "valid_fraction": 0.1 }
}
EOF
run env HYPERP="$H" "$root/scripts/crossval.sh" --out "$tmp/tiny/out" "$tmp/tiny/cfg.json" 3
same crossval_tiny_status "0 " "$rc $(cat "$tmp/err")"
# each fold line carries that fold's metrics.csv values
want=$(for f in 0 1 2; do
    awk -F, -v f=$f 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        { printf "model       fold %d  AUC %.4f  Brier %.4f  log loss %.4f\n", f, $c["binary_roc_auc"], $c["binary_brier"], $c["binary_log_loss"] }' \
        "$tmp/tiny/out/fold$f/k7/metrics.csv"; done)
same crossval_tiny_fold_lines "$want" "$(grep '^model  *fold' "$tmp/out")"
same crossval_tiny_mean_line 1 "$(grep -cE '^model +AUC 0\.[0-9]{4} \+- 0\.[0-9]{4}  Brier 0\.[0-9]{4} \+- 0\.[0-9]{4}  log loss 0\.[0-9]{4} \+- 0\.[0-9]{4}  \(mean \+- sample sd over 3 folds\)$' "$tmp/out")"

cli_summary test_scripts_cli.sh
