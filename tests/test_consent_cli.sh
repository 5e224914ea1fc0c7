#!/usr/bin/env bash
# Consent ordering, the model's consent snapshot, audit verification (missing stores, tamper
# inside the DB, truncation against a head kept elsewhere), PII scans of what cannot be read,
# key files and flag checks, end to end with the test build ($HYPERP) (issue 8, the privacy
# part). Ends with "test_consent_cli.sh: N passed, M failed".
set -u
. "$(dirname "$0")/cli_lib.sh"
export HYPERP_DB="$tmp/state/hyperp.db"
unset HYPERP_PSEUDONYM_KEY_FILE HYPERP_PRIVACY_CONFIG
export HYPERP_PSEUDONYM_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
in_secs() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }

# ---------------------------------------------------------------- defect 7: ordering
expect give_future 0 "recorded: give" -- "$H" privacy consent give X --purpose personalisation --notice v1 --source web --at "$(in_secs 290)"
expect withdraw_after 0 "recorded: withdraw" -- "$H" privacy consent withdraw X --purpose personalisation
expect withdrawal_wins 0 "personalisation +denied +consent withdrawn" -- "$H" privacy consent show X
"$H" synth --customers 300 --seed 7 --out "$tmp/syn" > /dev/null 2>&1
"$H" train --data "$tmp/syn" --out "$tmp/model" --epochs 1 --quiet --no-consent-check > /dev/null 2>&1
printf 'customer_id,industry,employees,revenue,financial_needs,preferences\nX,Retail,10-50,1M-5M,"Loans","Cards"\n' > "$tmp/x.csv"
out=$("$H" recommend --model "$tmp/model" --customers "$tmp/x.csv" --consent-db "$HYPERP_DB" 2>&1)
if grep -q '"customer_id":"X","personalised":false' <<<"$out"; then ok recommend_after_withdrawal; else fail "recommend_after_withdrawal: $out"; fi

# ---------------------------------------------------------------- defect 8: erasure while training
# Training runs until interrupted; the erasure commits after its consent gate, then Ctrl-C makes
# it save and register the model: it was trained on the erased customer, so it must be due.
db8="$tmp/train.db"
for i in $(seq 1 30); do
    "$H" privacy consent give "$(printf "ORG_US_%06d" "$i")" --purpose personalisation --notice v1 --source web --db "$db8" > /dev/null 2>&1
done
sed 's/"epochs": 20/"epochs": 100000/; s/"batch": 256/"batch": 16/; s/"train": {/"train": { "patience": 1000,/' \
    examples/synthetic.json > "$tmp/syn/long.json"
"$H" train --config "$tmp/syn/long.json" --out "$tmp/racing" --quiet --consent-db "$db8" > "$tmp/race.out" 2>&1 &
pid=$!
for _ in $(seq 1 150); do grep -q "^consent: " "$tmp/race.out" && [ -s "$tmp/racing/model.json" ] && break; sleep 0.2; done
expect erase_while_training 0 "erased ORG_US_000003" -- "$H" privacy erase ORG_US_000003 --db "$db8"
if kill -0 "$pid" 2>/dev/null; then ok erase_landed_during_training; else fail "erase_landed_during_training: $(cat "$tmp/race.out")"; fi
kill -INT "$pid"
wait "$pid"
if grep -q "registered in" "$tmp/race.out"; then ok race_model_registered; else fail "race_model_registered: $(cat "$tmp/race.out")"; fi
expect race_model_due 0 "models due for retraining: 1$" -- "$H" privacy report --db "$db8"
# a model trained after the erasure is not due
expect train_after_erase 0 "registered in" -- "$H" train --data "$tmp/syn" --out "$tmp/after" --epochs 1 --quiet --consent-db "$db8"
expect after_model_not_due 0 "models due for retraining: 1$" -- "$H" privacy report --db "$db8"

cli_summary test_consent_cli.sh
