#!/usr/bin/env bash
# Dataset configs and data files a hostile or careless user hands to the CLI: a config value
# of the wrong JSON type (once a segfault in ingest, train and recommend), a config saved
# with a UTF-8 BOM (once refused), a CSV header naming a column twice (once read silently).
set -u
. "$(dirname "$0")/cli_lib.sh"

"$H" synth --customers 100 --seed 3 --out "$tmp/syn" > /dev/null
"$H" train --data "$tmp/syn" --out "$tmp/model" --epochs 1 --quiet --no-consent-check > /dev/null 2>&1 \
    || fail "train_setup"

# the built-in config with customers.missing as a string (with a data folder beside it)
sed 's/"file": "customers.csv",/"file": "customers.csv", "missing": "NA",/' examples/synthetic.json > "$tmp/syn/bad.json"
grep -q '"missing": "NA"' "$tmp/syn/bad.json" || fail "bad_config_made"
want='bad.json: customers.missing: expected an array of strings'
expect ingest_missing_as_string 2 "$want" -- "$H" ingest --config "$tmp/syn/bad.json" --rejects "$tmp/r1.csv"
expect train_missing_as_string 2 "$want" -- \
    "$H" train --config "$tmp/syn/bad.json" --out "$tmp/model2" --epochs 1 --quiet --no-consent-check
expect recommend_missing_as_string 2 "$want" -- \
    "$H" recommend --model "$tmp/model" --config "$tmp/syn/bad.json" --customers "$tmp/syn/customers.csv" \
    --no-consent-check

# a wrong type deeper down names its full path
sed 's/"region": { "role": "categorical", "optional": true }/"region": { "role": "categorical", "optional": "yes" }/' \
    examples/synthetic.json > "$tmp/syn/bad2.json"
expect column_option_path 2 "bad2.json: customers.columns.region.optional: expected true or false" -- \
    "$H" ingest --config "$tmp/syn/bad2.json" --rejects "$tmp/r2.csv"

# a config saved with a BOM loads like the same config without one
{ printf '\xEF\xBB\xBF'; cat examples/synthetic.json; } > "$tmp/syn/bom.json"
expect config_with_bom 0 "rejected 0" -- "$H" ingest --config "$tmp/syn/bom.json" --rejects "$tmp/r3.csv"

# a header with two columns named industry: which one is meant cannot be known
awk -F, -v OFS=, 'NR == 1 { $NF = "industry" } { print }' "$tmp/syn/customers.csv" > "$tmp/dup.csv"
n=$(head -1 "$tmp/dup.csv" | tr ',' '\n' | wc -l)
expect duplicate_header 2 "dup.csv:1: columns 2 and $n are both named 'industry'" -- \
    "$H" ingest --customers "$tmp/dup.csv" --rejects "$tmp/r4.csv"

# an optional products file that is not there is reported once, as skipped: no "products: 0 rows
# from products.csv" on stdout after the note, as if it had been read
mkdir -p "$tmp/noprod" && cp "$tmp/syn/customers.csv" "$tmp/noprod/"
out=$("$H" ingest --data "$tmp/noprod" --rejects "$tmp/r5.csv" 2>"$tmp/noprod.err")
rc=$?
if [ "$rc" -eq 0 ] && grep -qF "note: products: $tmp/noprod/products.csv not found, skipped (optional)" "$tmp/noprod.err" \
   && ! grep -q "^products" <<<"$out" && grep -q "^customers: 100 rows from" <<<"$out"; then ok skipped_products_not_summarised
else fail "skipped_products_not_summarised (exit $rc): $out $(cat "$tmp/noprod.err")"; fi
# without its file, the catalogue is the product ids the interactions name, and says so
cp "$tmp/syn/interactions.csv" "$tmp/noprod/"
expect implied_products_named 0 "^products: [0-9]+ product ids seen in the data \($tmp/noprod/products.csv not found\)\$" -- \
    "$H" ingest --data "$tmp/noprod" --rejects "$tmp/r6.csv"

# a full disk is the environment's failure (exit 1, naming the file), not bad input (exit 2)
if [ -w /dev/full ]; then
    mkdir -p "$tmp/full" && ln -s /dev/full "$tmp/full/customers.csv"
    expect synth_disk_full 1 "^hyperp: $tmp/full/customers.csv: write failed: No space left on device\$" -- \
        "$H" synth --customers 2000 --out "$tmp/full"
fi

# ingest checks the whole config as train reads it: a bad train section, or a split kind the
# interactions do not have, is refused here (exit 2, naming the JSON path), not first by train
sed 's/"epochs": 20/"epochs": 0/' examples/synthetic.json > "$tmp/syn/badtrain.json"
grep -q '"epochs": 0' "$tmp/syn/badtrain.json" || fail "badtrain_config_made"
expect ingest_bad_train_section 2 "^hyperp: $tmp/syn/badtrain.json: train.epochs: expected an integer in 1\.\.100000\$" -- \
    "$H" ingest --config "$tmp/syn/badtrain.json" --rejects "$tmp/r7.csv"
sed 's/"target_kinds": \["adopted"\]/"target_kinds": ["purchse"]/' examples/synthetic.json > "$tmp/syn/typo.json"
expect ingest_unknown_target_kind 2 "^hyperp: $tmp/syn/typo.json: split.target_kinds\[0\]: 'purchse' is not a kind in the interactions \(their kinds: [a-z, ]*adopted" -- \
    "$H" ingest --config "$tmp/syn/typo.json" --rejects "$tmp/r8.csv"

# a JSON array written on one line: each reject is named by its element's index (a JSON path),
# not all as customers.json:1
mkdir -p "$tmp/js"
printf '[{"customer_id":"C1","industry":"A"},{"customer_id":"","industry":"B"},{"customer_id":"C3","industry":{"x":1}},{"customer_id":"C1","industry":"A"}]' \
    > "$tmp/js/customers.json"
printf '{"hyperp_dataset":1,"customers":{"file":"customers.json","columns":{"customer_id":"id","industry":"categorical"}}}' \
    > "$tmp/js/c.json"
"$H" ingest --config "$tmp/js/c.json" --rejects "$tmp/js/r.csv" > /dev/null 2> "$tmp/js/err"
want="rejected: $tmp/js/customers.json[1] (line 1): column 'customer_id': missing value (required)
rejected: $tmp/js/customers.json[2] (line 1): column 'industry': key 'industry' holds a nested object; only strings, numbers, booleans, null and lists of them can be read
rejected: $tmp/js/customers.json[3] (line 1): column 'customer_id': duplicate id 'C1' (first at [0], line 1)"
if [ "$(grep '^rejected: ' "$tmp/js/err")" = "$want" ]; then ok json_array_rejects_by_index
else fail "json_array_rejects_by_index: $(cat "$tmp/js/err")"; fi

# a file without a header line, dates in several written forms: the names say which column is
# which, line 1 is data, and a slash date the format does not fit is a rejected row at its line
mkdir -p "$tmp/nh"
awk 'BEGIN { srand(5); for (i = 1; i <= 80; i++) { a = 20 + int(rand() * 50);
      printf "C%d,%d,%02d-Jan-1995,%02d/28/1995,%s\n", i, a, 1 + i % 28, 1 + i % 12, (a > 45) ? "yes" : "no" } }' \
    > "$tmp/nh/people.csv"
echo 'C81,30,01-Jan-1995,28/01/1995,no' >> "$tmp/nh/people.csv"
cat > "$tmp/nh/c.json" <<'JSON'
{"hyperp_dataset": 1,
 "customers": {"file": "people.csv", "header": false,
               "names": ["customer_id", "age", "joined", "renewed", "bought"],
               "columns": {"customer_id": "id", "age": "numeric", "joined": "timestamp",
                           "renewed": {"role": "timestamp", "format": "%m/%d/%Y"},
                           "bought": {"role": "label", "positive": ["yes"]}}},
 "train": {"epochs": 2, "batch": 16},
 "split": {"valid_fraction": 0.2}}
JSON
expect no_header_ingest 0 "people.csv:81: column 'renewed': '28/01/1995' is not a valid calendar date" -- \
    "$H" ingest --config "$tmp/nh/c.json" --rejects "$tmp/nh/r.csv"
expect no_header_ingest_rows 0 "customers: 80 rows" -- "$H" ingest --config "$tmp/nh/c.json" --rejects "$tmp/nh/r.csv"
# the only target is the label and no train.loss is given: BCE, not "no training examples"
expect label_only_trains 0 "" -- "$H" train --config "$tmp/nh/c.json" --out "$tmp/nh/model" --quiet --no-consent-check
loss=$(tr -d ' \n' < "$tmp/nh/model/model.json" | grep -o '"loss":"[a-z]*"')
if [ "$loss" = '"loss":"bce"' ]; then ok label_only_model_says_bce; else fail "label_only_model_says_bce: $loss"; fi
# a loss given stays as given (and the label data has no positive interaction to rank)
sed 's/"epochs": 2,/"epochs": 2, "loss": "softmax",/' "$tmp/nh/c.json" > "$tmp/nh/c2.json"
expect explicit_loss_stays 1 'for label data set train.loss to "bce"' -- \
    "$H" train --config "$tmp/nh/c2.json" --out "$tmp/nh/model2" --quiet --no-consent-check
# names beside a header line, and an unknown section naming the known ones
sed 's/"header": false,//' "$tmp/nh/c.json" > "$tmp/nh/c3.json"
expect names_with_header 2 'c3.json: customers.names: applies only with "header": false' -- \
    "$H" ingest --config "$tmp/nh/c3.json" --rejects "$tmp/nh/r3.csv"
sed 's/"train":/"trian":/' "$tmp/nh/c.json" > "$tmp/nh/c4.json"
expect unknown_section_lists_known 2 "c4.json: trian: unknown key 'trian' \(known: hyperp_dataset, name, customers, products, interactions, transactions, model, train, split, evaluate\)" -- \
    "$H" ingest --config "$tmp/nh/c4.json" --rejects "$tmp/nh/r4.csv"

cli_summary test_data_cli.sh
