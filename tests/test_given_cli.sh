#!/usr/bin/env bash
# split.method "given" at the CLI: synthetic data whose interactions awk splits into a training
# file and a test file (half the adoptions, plus one row each of an unknown customer, an
# unknown product and a product the customer holds in training), train + evaluate, and the
# reported figures checked against an independent recount: the customers evaluated and the
# test file's counts recounted by awk, and the model's HR, NDCG, precision and recall @10
# recomputed by awk from `hyperp recommend`'s top 10 per customer (held products left out),
# which must equal what evaluate reports. Bad configs are refused naming split.test_file.
# Ends with "test_given_cli.sh: N passed, M failed" like the C test binaries.
set -u
. "$(dirname "$0")/cli_lib.sh"

"$H" synth --customers 400 --seed 3 --out "$tmp/syn" > /dev/null || fail synth
d=$tmp/syn
# test: every second adoption; train: the rest
awk -F, -v tr="$d/train.csv" -v te="$d/test.csv" '
NR == 1 { print > tr; print > te; next }
$3 == "adopted" && NR % 2 == 0 { print > te; next }
{ print > tr }' "$d/interactions.csv"
held=$(awk -F, '$3 == "held" { print $1 "," $2; exit }' "$d/train.csv")
{ echo "NOBODY_AT_ALL,P001,adopted,1,2023-01-01"     # unknown customer
  echo "${held%%,*},NO_SUCH_PRODUCT,adopted,1,2023-01-01"  # unknown product
  echo "$held,adopted,1,2023-01-01"; } >> "$d/test.csv"    # already a training item
sed -e 's/"file": "interactions.csv"/"file": "train.csv"/' -e 's/"epochs": 20/"epochs": 3/' \
    -e 's/"split": {[^}]*}/"split": { "method": "given", "test_file": "test.csv", "valid_fraction": 0.2, "target_kinds": ["adopted"] }/' \
    examples/synthetic.json > "$d/given.json"
grep -q '"method": "given"' "$d/given.json" || fail "config_made (no given split in $d/given.json)"

expect given_train 0 "best validation ndcg" -- "$H" train --config "$d/given.json" --out "$tmp/m" --quiet --no-consent-check
"$H" evaluate --config "$d/given.json" --model "$tmp/m" --out "$tmp/res" --no-consent-check > "$tmp/eval.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok given_evaluate; else fail "given_evaluate (exit $rc): $(cat "$tmp/eval.out")"; fi

# ---- the independent recount (awk knows nothing of hyperp's split code)
# products.csv train.csv test.csv: known test targets not held in training, as "customer,product"
awk -F, 'FNR == 1 { f++; next }
f == 1 { prod[$1] = 1; next }
f == 2 { cust[$1] = 1; next }
f == 3 { if ($3 == "held" || $3 == "adopted") tr[$1 "," $2] = 1; next }
f == 4 { rows++
         if (!($1 in cust)) { uc++; next }
         if (!($2 in prod)) { up++; next }
         if ($3 != "adopted") { ok_kind++; next }
         k = $1 "," $2
         if (k in seen) { rep++; next }
         seen[k] = 1
         if (k in tr) { intr++; next }
         print k > "/dev/stderr"; tg++; who[$1] = 1 }
END { n = 0; for (c in who) n++
      printf "%d %d %d %d %d %d %d\n", rows, tg, intr + 0, uc + 0, up + 0, rep + 0, n }' \
    "$d/products.csv" "$d/customers.csv" "$d/train.csv" "$d/test.csv" > "$tmp/recount" 2> "$tmp/targets"
read -r rows targets intrain ucust uprod repeated ncust < "$tmp/recount"
want="test file: $rows interactions: $targets targets, $intrain already in training (not candidates), $ucust unknown customers, $uprod unknown products, 0 of other kinds, $repeated repeated"
if grep -qF "$want" "$tmp/eval.out"; then ok counts_match_recount; else fail "counts_match_recount (want '$want' in: $(cat "$tmp/eval.out"))"; fi
if [ "$ucust" -eq 1 ] && [ "$uprod" -eq 1 ] && [ "$intrain" -ge 1 ]; then ok injected_rows_counted; else fail "injected_rows_counted ($ucust $uprod $intrain)"; fi
if grep -qF "ranking on $ncust test customers, k = 10" "$tmp/eval.out"; then ok customers_evaluated_are_those_with_a_known_target
else fail "customers_evaluated_are_those_with_a_known_target (want $ncust: $(head -1 "$tmp/eval.out"))"; fi
grep -q '"test_file": {' "$tmp/res/metrics.json" && grep -q "\"targets\": $targets," "$tmp/res/metrics.json" \
    && ok metrics_json_has_test_file_counts || fail metrics_json_has_test_file_counts

# every rate of the model in [0, 1]
model_line=$(grep -E '^  model +[0-9]' "$tmp/eval.out")
if awk '{ for (i = 2; i <= 9; i++) if ($i < 0 || $i > 1) exit 1 }' <<<"$model_line"; then ok model_metrics_in_unit_interval
else fail "model_metrics_in_unit_interval ($model_line)"; fi
grep -qE '^  oracle +[0-9]' "$tmp/eval.out" && ok oracle_scored_too || fail oracle_scored_too

# HR, NDCG, precision and recall @10 from recommend's lists: held (training) products are
# left out, as evaluate leaves them; NDCG = DCG / IDCG with binary gains, IDCG over min(10, R)
"$H" recommend --config "$d/given.json" --model "$tmp/m" --customers "$d/customers.csv" \
    --interactions "$d/train.csv" --top-k 10 --no-consent-check > "$tmp/recs.jsonl" 2> "$tmp/recs.err" || fail "recommend: $(cat "$tmp/recs.err")"
mine=$(awk 'FNR == 1 { f++ }
f == 1 { t[$0] = 1; split($0, a, ","); nrel[a[1]]++; next }
{ match($0, /"customer_id":"[^"]*"/); c = substr($0, RSTART + 15, RLENGTH - 16)
  if (!(c in nrel)) next
  n++; line = $0; hits = 0; dcg = 0; i = 0
  while (match(line, /"product_id":"[^"]*"/)) {
      i++
      if ((c "," substr(line, RSTART + 14, RLENGTH - 15)) in t) { hits++; dcg += log(2) / log(i + 1) }
      line = substr(line, RSTART + RLENGTH) }
  idcg = 0
  for (j = 1; j <= (nrel[c] < 10 ? nrel[c] : 10); j++) idcg += log(2) / log(j + 1)
  hr += hits > 0; ndcg += dcg / idcg; prec += hits / 10; rec += hits / nrel[c] }
END { printf "%d %.4f %.4f %.4f %.4f\n", n, hr / n, ndcg / n, prec / n, rec / n }' "$tmp/targets" "$tmp/recs.jsonl")
reported=$(awk -v n="$ncust" '{ print n, $6, $2, $3, $4 }' <<<"$model_line")
if [ "$mine" = "$reported" ]; then ok metrics_at_10_recomputed_from_recommend_equal_evaluate
else fail "metrics_at_10_recomputed_from_recommend_equal_evaluate (awk: customers hr ndcg prec recall $mine, evaluate: $reported)"; fi

# ---- bad configs name split.test_file (exit 2, nothing trained)
sed 's/"test_file": "test.csv", //' "$d/given.json" > "$d/no_test.json"
expect given_without_test_file 2 'no_test.json: split.test_file: required by method "given"' -- \
    "$H" train --config "$d/no_test.json" --out "$tmp/never" --quiet --no-consent-check
sed 's/"test_file": "test.csv"/"test_file": ["test.csv"]/' "$d/given.json" > "$d/list_test.json"
expect given_test_file_not_a_path 2 'list_test.json: split.test_file: expected a path' -- \
    "$H" train --config "$d/list_test.json" --out "$tmp/never" --quiet --no-consent-check
sed 's/"test_file": "test.csv"/"test_file": "gone.csv"/' "$d/given.json" > "$d/gone.json"
expect given_test_file_missing 2 'gone.json: split.test_file: .*gone.csv: cannot open' -- \
    "$H" train --config "$d/gone.json" --out "$tmp/never" --quiet --no-consent-check
sed 's/"test_file": "test.csv"/"test_file": "test.csv", "folds_file": "folds.txt"/' "$d/given.json" > "$d/folds.json"
expect given_with_folds_file 2 'folds.json: split.folds_file: not used by method "given"' -- \
    "$H" train --config "$d/folds.json" --out "$tmp/never" --quiet --no-consent-check
expect given_with_test_fold_flag 2 'split.test_fold: not used by method "given"' -- \
    "$H" train --config "$d/given.json" --out "$tmp/never" --test-fold 2 --quiet --no-consent-check
# the training file given as the test file: every row is a training item, nothing to test
sed 's/"test_file": "test.csv"/"test_file": "train.csv"/' "$d/given.json" > "$d/self.json"
expect given_test_file_is_the_training_file 2 \
    'split.test_file .*/train.csv: no customer has a test target \([0-9]+ interactions: 0 targets, [1-9][0-9]* already in training.*is it the interactions file itself\?' -- \
    "$H" train --config "$d/self.json" --out "$tmp/never" --quiet --no-consent-check
# (train makes its --out folder before it reads the split: it stays empty)
if [ -z "$(ls -A "$tmp/never" 2>/dev/null)" ]; then ok refused_configs_train_nothing; else fail "refused_configs_train_nothing: $(ls -A "$tmp/never")"; fi

cli_summary test_given_cli.sh
