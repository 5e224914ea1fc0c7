#!/usr/bin/env bash
# The model commands at the CLI: numeric flags refused with the flag, the reason and the
# allowed range on stderr (exit 2, never silent); hand-edited model.json refused naming the
# file and JSON path; versioned model directories (train over a model, older layouts, the
# privacy store's registry keeps the directory the user named).
# Ends with "test_model_cli.sh: N passed, M failed" like the C test binaries.
set -u
. "$(dirname "$0")/cli_lib.sh"

# refused NAME FLAG WANT -- command...: exit 2, nothing on stdout, and stderr names FLAG and
# matches WANT (the reason and the allowed range)
refused() {
    local name=$1 flag=$2 want=$3
    shift 4
    local err rc out
    out=$("$@" 2>"$tmp/stderr")
    rc=$?
    err=$(cat "$tmp/stderr")
    if [ "$rc" -ne 2 ]; then fail "$name (exit $rc, wanted 2): $err"; return; fi
    if [ -n "$out" ]; then fail "$name (printed on stdout: $out)"; return; fi
    if ! grep -qF -- "hyperp: $flag: " <<<"$err"; then fail "$name (stderr does not name $flag: '$err')"; return; fi
    if ! grep -qE -- "$want" <<<"$err"; then fail "$name (no '$want' in: '$err')"; return; fi
    ok "$name"
}

"$H" synth --customers 300 --seed 5 --out "$tmp/syn" > /dev/null || fail synth
C="$tmp/syn/customers.csv"
expect train_first 0 "best validation" -- "$H" train --data "$tmp/syn" --out "$tmp/m" --epochs 2 --quiet --no-consent-check

# ------------------------------------------------------------------ numeric flags
rec() { "$H" recommend --model "$tmp/m" --customers "$C" --no-consent-check "$@"; }
refused topk_zero --top-k "0 is outside 1\.\.100000" -- rec --top-k 0
refused topk_huge --top-k "99999999999 is outside 1\.\.100000" -- rec --top-k 99999999999
refused topk_overflow --top-k "is outside 1\.\.100000" -- rec --top-k 999999999999999999999999
refused topk_negative --top-k "-3 is outside 1\.\.100000" -- rec --top-k -3
refused topk_above --top-k "100001 is outside" -- rec --top-k 100001
refused topk_word --top-k "'ten' is not a non-negative integer \(allowed: 1\.\.100000\)" -- rec --top-k ten
refused topk_float --top-k "'2\.5' is not" -- rec --top-k 2.5
refused topk_exp --top-k "'1e3' is not" -- rec --top-k 1e3
refused topk_space --top-k "' 5' is not" -- rec --top-k " 5"
refused topk_plus --top-k "'\+5' is not" -- rec --top-k +5
refused topk_empty --top-k "'' is not" -- rec --top-k ""
tr() { "$H" train --data "$tmp/syn" --out "$tmp/never" --quiet --no-consent-check "$@"; }
refused epochs_zero --epochs "0 is outside 1\.\.100000" -- tr --epochs 0
refused epochs_overflow --epochs "is outside 1\.\.100000" -- tr --epochs 99999999999999999999
refused epochs_word --epochs "'many' is not a non-negative integer" -- tr --epochs many
refused threads_zero --threads "0 is outside 1\.\.256" -- tr --threads 0
refused threads_above --threads "257 is outside 1\.\.256" -- tr --threads 257
refused seed_negative --seed "-1 is outside 0\.\.2147483647" -- tr --seed -1
refused seed_above --seed "2147483648 is outside 0\.\.2147483647" -- tr --seed 2147483648
refused test_fold_above --test-fold "1001 is outside 0\.\.1000" -- tr --test-fold 1001
if [ ! -e "$tmp/never" ]; then ok refused_train_writes_nothing; else fail refused_train_writes_nothing; fi
ev() { "$H" evaluate --model "$tmp/m" --data "$tmp/syn" --out "$tmp/res" --no-consent-check "$@"; }
refused k_zero --k "0 is outside 1\.\.1000" -- ev --k 0
refused k_above --k "5000 is outside 1\.\.1000" -- ev --k 5000
refused k_word --k "'x' is not" -- ev --k x
sy() { "$H" synth --out "$tmp/never2" "$@"; }
refused synth_customers_huge --customers "99999999999 is outside 100\.\.1000000" -- sy --customers 99999999999
refused synth_customers_negative --customers "-5 is outside 100\.\.1000000" -- sy --customers -5
refused synth_products_zero --products "0 is outside 30\.\." -- sy --products 0
refused synth_tx_huge --tx-per-year "9999999 is outside 0\.\.365" -- sy --tx-per-year 9999999
refused synth_bias_nan --bias "'nan' is not a number in 0\.\.20" -- sy --bias nan
refused synth_bias_inf --bias "'1e999' is not a number in 0\.\.20" -- sy --bias 1e999
refused synth_bias_negative --bias "'-1' is not a number in 0\.\.20" -- sy --bias -1
refused synth_seed_negative --seed "'-1' is not a non-negative integer" -- sy --seed -1
refused synth_seed_overflow --seed "is too large" -- sy --seed 99999999999999999999999
refused privacy_level --level "7 is outside 0\.\.2" -- "$H" privacy report --level 7 --db "$tmp/p.db"
refused privacy_level_word --level "'x' is not a non-negative integer" -- "$H" privacy report --level x --db "$tmp/p.db"
# the edges of the ranges are accepted, and mean what they say
n=$(rec --top-k 1 2>/dev/null | grep -o '"product_id"' | wc -l)
if [ "$n" -eq 300 ]; then ok topk_one_gives_one_each; else fail "topk_one_gives_one_each ($n)"; fi
n=$(rec --top-k 100000 2>/dev/null | head -1 | grep -o '"product_id"' | wc -l)
if [ "$n" -ge 30 ]; then ok topk_max_gives_whole_catalogue; else fail "topk_max_gives_whole_catalogue ($n)"; fi
expect k_max_accepted 0 "@1000" -- ev --k 1000
# a value flag given twice is refused (exit 2, both values named), not read as the last one
expect epochs_twice 2 "^hyperp: flag --epochs given twice \('3', then '5'\): it takes one value" -- tr --epochs 3 --epochs 5
if [ ! -e "$tmp/never" ]; then ok epochs_twice_trains_nothing; else fail epochs_twice_trains_nothing; fi
expect topk_twice 2 "^hyperp: flag --top-k given twice \('5', then '10'\)" -- rec --top-k 5 --top-k=10
expect k_twice 2 "^hyperp: flag --k given twice \('5', then '10'\)" -- ev --k 5 --k 10
expect synth_seed_twice 2 "^hyperp: flag --seed given twice \('1', then '2'\)" -- sy --seed 1 --seed 2
expect ingest_rejects_twice 2 "^hyperp: flag --rejects given twice" -- "$H" ingest --data "$tmp/syn" --rejects "$tmp/r1.csv" --rejects "$tmp/r2.csv"
expect audit_db_twice 2 "^hyperp: flag --db given twice \('a.db', then 'b.db'\)" -- "$H" audit verify --db a.db --db b.db
expect quiet_twice_is_fine 0 "best validation" -- "$H" train --data "$tmp/syn" --out "$tmp/m2" --epochs 1 --quiet --quiet --no-consent-check

# ------------------------------------------------------------------ kinds the config names
# a kind that is not in the interactions matched nothing: training ran on NaN validation and
# exited 0. Now refused before training (exit 2), naming the config path and the kinds there are.
kinds() { sed "s/$1/$2/" examples/synthetic.json > "$tmp/syn/$3.json" && grep -qF "$2" "$tmp/syn/$3.json" || fail "$3_config_made"; }
kinds '"target_kinds": \["adopted"\]' '"target_kinds": ["purchse"]' typo
expect target_kind_misspelt 2 "^hyperp: $tmp/syn/typo.json: split.target_kinds\[0\]: 'purchse' is not a kind in the interactions \(their kinds: clicked, adopted, rated, held\)\$" -- \
    "$H" train --config "$tmp/syn/typo.json" --out "$tmp/never3" --epochs 1 --quiet --no-consent-check
if [ ! -e "$tmp/never3" ]; then ok misspelt_kind_trains_nothing; else fail misspelt_kind_trains_nothing; fi
kinds '"positive_kinds": \["held", "adopted"\]' '"positive_kinds": ["NA"]' na
expect positive_kind_na 2 "^hyperp: $tmp/syn/na.json: train.positive_kinds\[0\]: 'NA' is not a kind in the interactions" -- \
    "$H" train --config "$tmp/syn/na.json" --out "$tmp/never3" --epochs 1 --quiet --no-consent-check
kinds '"target_kinds": \["adopted"\]' '"target_kinds": [""]' empty_kind
expect target_kind_empty 2 "^hyperp: $tmp/syn/empty_kind.json: split.target_kinds: \[0\] is not a non-empty string" -- \
    "$H" train --config "$tmp/syn/empty_kind.json" --out "$tmp/never3" --epochs 1 --quiet --no-consent-check
# a kind that is in the data but only for a training customer leaves the validation set without
# targets: refused (exit 1) rather than trained with a NaN metric
mkdir -p "$tmp/special" && cp "$tmp/syn"/*.csv "$tmp/special/"
echo "ORG_US_000001,P007,special,1,2023-04-19T21:06:26Z" >> "$tmp/special/interactions.csv"
sed 's/"target_kinds": \["adopted"\]/"target_kinds": ["special"]/' examples/synthetic.json > "$tmp/special/special.json"
expect validation_without_targets 1 "^hyperp: no validation customer has a target to validate on \([0-9]+ validation customers; split.valid_fraction 0.1\)" -- \
    "$H" train --config "$tmp/special/special.json" --out "$tmp/never3" --epochs 1 --quiet --no-consent-check
out=$("$H" train --config "$tmp/special/special.json" --out "$tmp/never3" --epochs 1 --no-consent-check 2>&1)
if ! grep -qi "nan" <<<"$out"; then ok no_nan_reported; else fail "no_nan_reported: $out"; fi

# ------------------------------------------------------------------ hand-edited model.json
# an unversioned copy (the layout earlier builds wrote), edited
cp -rL "$tmp/m" "$tmp/plain" && rm -rf "$tmp/plain/current" "$tmp/plain"/v-*
expect plain_layout_loads 0 '"recommendations"' -- "$H" recommend --model "$tmp/plain" --customers "$C" --top-k 2 --no-consent-check
sed -E '0,/"mean": [-0-9.e+]+/s//"mean": 1e308/' "$tmp/plain/model.json" > "$tmp/edited.json" && mv "$tmp/edited.json" "$tmp/plain/model.json"
if grep -q '"mean": 1e308' "$tmp/plain/model.json"; then ok edit_applied; else fail edit_applied; fi
expect recommend_refuses_edit 2 "plain/model.json: features.customers: numeric\[0\]\.mean: 1e\+308 is out of range" -- \
    "$H" recommend --model "$tmp/plain" --customers "$C" --no-consent-check
expect evaluate_refuses_edit 2 "plain/model.json: features.customers: numeric\[0\]\.mean" -- \
    "$H" evaluate --model "$tmp/plain" --data "$tmp/syn" --out "$tmp/res2" --no-consent-check

# ------------------------------------------------------------------ versioned directories
versions() { ls -d "$1"/v-* 2>/dev/null | wc -l; }
if [ -L "$tmp/m/current" ] && [ "$(versions "$tmp/m")" -eq 1 ] && [ "$(readlink "$tmp/m/model.json")" = current/model.json ] \
   && [ "$(readlink "$tmp/m/model.safetensors")" = current/model.safetensors ]; then ok versioned_layout; else fail "versioned_layout: $(ls -la "$tmp/m")"; fi
before=$(readlink "$tmp/m/current")
expect train_over_model 0 "best validation" -- "$H" train --data "$tmp/syn" --out "$tmp/m" --epochs 1 --seed 3 --quiet --no-consent-check
after=$(readlink "$tmp/m/current")
if [ "$before" != "$after" ] && [ "$(versions "$tmp/m")" -eq 1 ] && [ ! -e "$tmp/m/$before" ]; then ok old_version_removed; else fail "old_version_removed ($before -> $after)"; fi
expect recommend_after_retrain 0 '"recommendations"' -- "$H" recommend --model "$tmp/m" --customers "$C" --top-k 2 --no-consent-check
# an unversioned directory trained over becomes versioned, and its loose files become links
cp -rL "$tmp/m" "$tmp/old" && rm -rf "$tmp/old/current" "$tmp/old"/v-*
expect train_over_plain 0 "best validation" -- "$H" train --data "$tmp/syn" --out "$tmp/old" --epochs 1 --quiet --no-consent-check
if [ -L "$tmp/old/current" ] && [ -L "$tmp/old/model.safetensors" ] && [ "$(versions "$tmp/old")" -eq 1 ]; then ok plain_converted; else fail "plain_converted: $(ls -la "$tmp/old")"; fi

# the privacy store registers the directory the user named, with the weights now current
export HYPERP_PSEUDONYM_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
for i in $(seq 1 30); do
    "$H" privacy consent give "$(printf "ORG_US_%06d" "$i")" --purpose personalisation --notice v1 --db "$tmp/c.db" > /dev/null 2>&1
done
expect train_registered 0 "registered in" -- "$H" train --data "$tmp/syn" --out "$tmp/reg" --epochs 1 --quiet --consent-db "$tmp/c.db"
expect train_registered_again 0 "registered in" -- "$H" train --data "$tmp/syn" --out "$tmp/reg" --epochs 1 --seed 9 --quiet --consent-db "$tmp/c.db"
row=$(sqlite3 "$tmp/c.db" "SELECT count(*), count(DISTINCT version), min(path), max(path) FROM models" 2>&1)
if [ "$row" = "2|2|$tmp/reg|$tmp/reg" ]; then ok registry_path_is_the_dir; else fail "registry_path_is_the_dir ($row)"; fi
expect erase_after_versioned 0 "" -- "$H" privacy erase ORG_US_000002 --db "$tmp/c.db"
due=$(sqlite3 "$tmp/c.db" "SELECT count(*) FROM models WHERE retrain_due = 1 AND path = '$tmp/reg'" 2>&1)
if [ "$due" = "2" ]; then ok erase_marks_the_dir_due; else fail "erase_marks_the_dir_due ($due)"; fi
unset HYPERP_PSEUDONYM_KEY

cli_summary test_model_cli.sh
