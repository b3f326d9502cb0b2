#!/usr/bin/env bash
# scripts/demo-select.sh [OUT]: a selection round (docs/select.md) on models trained here
# from ../shared/data, end to end, in a few minutes on 2 cores.
#
# Eight teams apply. Four trained honestly from scratch, each with its own tokenizer, data
# mixture, size and seed (hanbit and gaon hand in their ledgers and datasets, so their
# runs are verified and replayed). Three are not what they claim:
#   doyak   depth-upscaled copy of hanbit's model (layers 0-3 twice, then trained on);
#   haneul  fine-tuned from the "foreign" reference globe-a;
#   bitna   trained honestly, but its ledger was edited to claim ten times more data on
#           one source, and re-chained so that the hash chain still holds;
#   jiu     reused part of a foreign model: layers 0-1 of globe-b kept, layers 2-3 new,
#           then trained on (the case of the programme's first round: a "partial" reuse).
# Three references ("global models") trained on more data: globe-a and globe-b released
# within the six months before the evaluation date (they count), globe-old too early
# (it does not count, but it is a known model for the independence check), and open-x,
# one more known open model. The round: national tasks (KoBEST COPA and HellaSwag, Korean
# text the models never saw), common tasks (HellaSwag pairs, an English book none was
# trained on), expert review and user evaluation from CSV files; stages 7 -> 5 -> 3 -> 2.
#
# Expected: doyak, haneul and bitna cut at the gate (with their evidence); hanbit
# cleared of the pair it forms with doyak by its replayed ledger; the rest ranked by
# score and cut by the stages; a second run gives a byte-identical report.json. The
# script checks these outcomes and fails if the round decides otherwise.
# Output: OUT (out/select-demo) with round/round.json, report/report.json and .html.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/select-demo}
S=$(realpath ../shared/data)
D=$(realpath -m build/dokja)
make -s -j"$(nproc 2>/dev/null || echo 2)" build/dokja
t0=$(date +%s)
rm -rf "$OUT"
R="$OUT/round"
mkdir -p "$R"
ln -s "$S" "$R/shared" # the round names files by relative paths: the report does not depend on where it ran

# config NAME DIM LAYERS FFN VOCAB
config() {
  cat > "$R/$1.config.json" <<EOF
{"hidden_size": $2, "num_hidden_layers": $3, "num_attention_heads": 4, "num_key_value_heads": 2,
 "intermediate_size": $4, "vocab_size": $5, "max_position_embeddings": 128, "tie_word_embeddings": true}
EOF
}
# mixture NAME VOCAB SOURCE...: a tokenizer of its own and a dataset
mixture() {
  local name=$1 vocab=$2
  shift 2
  $D tokenizer train --vocab-size "$vocab" -o "$R/$name.tok.json" "${@%:*}" > /dev/null
  $D data build -q -t "$R/$name.tok.json" -o "$R/$name.data" "$@" > /dev/null
}
# train NAME DATA CONFIG STEPS SEED [extra options]
train() {
  local name=$1 data=$2 cfg=$3 steps=$4 seed=$5
  shift 5
  $D train -q --data "$R/$data.data" --model "$R/$cfg.config.json" -o "$R/$name" --steps "$steps" \
    --batch-size 16 --seq-len 64 --lr 3e-3 --eval-every 0 --checkpoint-every 50 --seed "$seed" "$@" > /dev/null
  echo "  $name: $(tail -1 "$R/$name/metrics.jsonl" | grep -o '"loss":[0-9.]*')"
}

echo "== data mixtures, each with its own tokenizer"
mixture m_hanbit 3000 "$S/ko_laws/laws_dev_00.txt" "$S/ko_nsmc/nsmc_dev_00.txt" "$S/en_tinyshakespeare/input.txt"
mixture m_saebyeok 4000 "$S/ko_boddari/wikinews.txt" "$S/ko_boddari/book_review01.txt" "$S/en_devils_dictionary/devil.dict.txt"
mixture m_gaon 3000 "$S/ko_libreoffice_help/lo_help_ko_00.txt" "$S/ko_chatbot/ChatbotData.csv" \
  "$S/en_gutenberg/Carroll_Lewis_Alice_s_Adventures_in_Wonderland.txt"
mixture m_nuri 3000 "$S/ko_nsmc/nsmc_dev_01.txt:3" "$S/ko_hatespeech/unlabeled_comments_5.txt" \
  "$S/en_gutenberg/Doyle_Arthur_Conan_A_Study_in_Scarlet.txt"
mixture m_bitna 3000 "$S/ko_laws/laws_dev_01.txt" "$S/ko_boddari/fairytale01.txt" \
  "$S/en_gutenberg/Dickens_Charles_A_Christmas_Carol.txt"
mixture m_globe 6000 "$S/ko_laws/laws_dev_00.txt" "$S/ko_nsmc/nsmc_dev_02.txt" "$S/ko_boddari/wikinews.txt" \
  "$S/ko_boddari/book_review01.txt" "$S/ko_libreoffice_help/lo_help_ko_00.txt" "$S/ko_chatbot/ChatbotData.csv" \
  "$S/en_gutenberg/Austen_Jane_Emma.txt" "$S/en_tinyshakespeare/input.txt"
config c128 128 4 384 8000
config c96 96 4 256 8000
config c128x3 128 3 384 8000
config c128x8 128 8 384 8000
config c160 160 4 448 8000

echo "== references (the \"global models\"), trained on more data"
train globe-a m_globe c160 400 101
train globe-b m_globe c128 300 102
train globe-old m_globe c128 100 103
train open-x m_globe c96 150 104

echo "== teams"
train hanbit m_hanbit c128 200 11
train saebyeok m_saebyeok c96 200 12
train gaon m_gaon c128x3 200 13
train nuri m_nuri c128 200 14
train bitna m_bitna c128 150 15
# doyak: hanbit's layers 0-3 twice (8 layers), then trained on hanbit's data
$D model edit "$R/hanbit" "$R/doyak.init" --depth 0-3,0-3 > /dev/null
train doyak m_hanbit c128x8 40 16 --init-from "$R/doyak.init"
# haneul: globe-a fine-tuned on a mixture tokenized with globe-a's tokenizer
$D data build -q -t "$R/globe-a/dokja_tokenizer.json" -o "$R/m_haneul.data" \
  "$S/ko_nsmc/nsmc_dev_01.txt" "$S/ko_boddari/unesco_report.txt" > /dev/null
train haneul m_haneul c160 60 17 --init-from "$R/globe-a" --lr 1e-3
# jiu: globe-b's layers 0-1 kept, 2-3 re-initialised, trained on globe-b's tokenization
$D model edit "$R/globe-b" "$R/jiu.init" --reinit 2,3 --seed 18 > /dev/null
train jiu m_globe c128 60 18 --init-from "$R/jiu.init" --lr 1e-3

echo "== bitna's ledger: the first source's training tokens times ten, the chain recomputed"
L="$R/bitna/ledger.jsonl"
sed -i '1s/"train_tokens":\([0-9]*\)/"train_tokens":\10/' "$L"
prev=0000000000000000000000000000000000000000000000000000000000000000
while IFS= read -r line; do
  line=$(printf '%s' "$line" | sed "s/\"prev\":\"[0-9a-f]*\"/\"prev\":\"$prev\"/")
  printf '%s\n' "$line"
  prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
done < "$L" > "$L.new"
mv "$L.new" "$L"
$D ledger verify "$R/bitna" > /dev/null 2>&1 && { echo "the forged ledger verified: the demo is broken" >&2; exit 1; }
echo "  the chain holds; the batches do not: $($D ledger verify "$R/bitna" 2>&1 | grep -m1 -i fail || true)"

printf 'team,score\nhanbit,0.80\nsaebyeok,0.70\ngaon,0.65\nnuri,0.75\nbitna,0.85\ndoyak,0.90\nhaneul,0.85\njiu,0.80\n' \
  > "$R/expert.csv"
printf 'team,score\nhanbit,0.70\nsaebyeok,0.80\ngaon,0.60\nnuri,0.70\nbitna,0.75\ndoyak,0.85\nhaneul,0.90\njiu,0.75\n' \
  > "$R/users.csv"
cat > "$R/round.json" <<'EOF'
{
 "evaluation_date": "2026-12-01",
 "reference_window_months": 6,
 "teams": [
  {"name": "hanbit", "model": "hanbit", "ledger": "hanbit", "data": "m_hanbit.data"},
  {"name": "saebyeok", "model": "saebyeok"},
  {"name": "gaon", "model": "gaon", "ledger": "gaon", "data": "m_gaon.data"},
  {"name": "nuri", "model": "nuri"},
  {"name": "bitna", "model": "bitna", "ledger": "bitna", "data": "m_bitna.data"},
  {"name": "doyak", "model": "doyak"},
  {"name": "haneul", "model": "haneul"},
  {"name": "jiu", "model": "jiu"}
 ],
 "references": [
  {"name": "globe-a", "model": "globe-a", "released": "2026-10-01"},
  {"name": "globe-b", "model": "globe-b", "released": "2026-07-20"},
  {"name": "globe-old", "model": "globe-old", "released": "2025-02-01"}
 ],
 "known_models": [{"name": "open-x", "model": "open-x"}],
 "scheme": {
  "groups": [
   {"name": "national", "points": 40, "tasks": ["kobest_copa:shared/eval_kobest/COPA_dev.tsv",
     "kobest_hellaswag:shared/eval_kobest/HellaSwag_dev.tsv", "text:shared/ko_boddari/unesco_report.txt"]},
   {"name": "common", "points": 30, "tasks": ["hellaswag_pairs:shared/eval_hellaswag_en_200/hellaswag_val_correct_200.txt",
     "text:shared/en_gutenberg/Carroll_Lewis_Through_the_Looking_Glass.txt"]}
  ],
  "external": [{"name": "expert review", "points": 20, "csv": "expert.csv"},
               {"name": "user evaluation", "points": 10, "csv": "users.csv"}]
 },
 "stages": [{"keep": 5}, {"keep": 3}, {"keep": 2}],
 "replay": {"segments": 2, "challenge": "0123456789abcdef0123456789abcdef"},
 "thresholds": {"lineage_alpha": 1e-6}
}
EOF
t1=$(date +%s)
echo "== models ready in $((t1 - t0)) s; the round"
$D select "$R/round.json" -o "$OUT/report" --limit 200 --cache "$OUT/cache"
t2=$(date +%s)
echo "== what the round decided, checked"
J="$OUT/report/report.json"
status() { grep -A12 "\"name\": \"$1\"," "$J" | grep -m1 '"status"' | sed 's/.*: "\(.*\)",*/\1/'; }
for t in doyak haneul bitna jiu; do
  [ "$(status $t)" = cut_at_gate ] || { echo "expected $t cut at the gate, got $(status $t)" >&2; exit 1; }
done
for t in hanbit saebyeok gaon nuri; do
  case "$(status $t)" in advanced|cut_by_score) ;; *) echo "expected $t ranked, got $(status $t)" >&2; exit 1 ;; esac
done
for k in descendant depth-upscaled partial; do
  grep -q "\"kind\": \"$k\"" "$J" || { echo "expected a lineage test to find '$k'" >&2; exit 1; }
done
echo "  cut at the gate: doyak, haneul, bitna, jiu; ranked: $(tr -d '\n ' < "$J" | grep -o '"ranking":\[[^]]*\]')"
echo "== the round again without the cache (a re-run must give the same bytes)"
$D select -q "$R/round.json" -o "$OUT/report2" --limit 200 --no-cache
cmp "$OUT/report/report.json" "$OUT/report2/report.json"
echo "  report.json identical: $(sha256sum < "$OUT/report/report.json" | cut -c1-16)"
echo "== done in $(($(date +%s) - t0)) s (models $((t1 - t0)) s, round $((t2 - t1)) s): $OUT/report/report.html"
