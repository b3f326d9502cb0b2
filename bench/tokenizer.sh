#!/usr/bin/env bash
# bench/tokenizer.sh: dokja's BPE tokenizer against SentencePiece, side by side.
#
# Both are trained on the same Korean + English text from ../shared/data (90 % of
# the lines of every file; the other 10 %, every tenth line, is held out), at the
# same vocabulary sizes, and measured on the held-out text:
#   training wall time and peak memory (GNU time), encoding throughput on one
#   thread, tokens per Hangul syllable, tokens per English word, and the share of
#   byte-level tokens (SentencePiece's <0xNN> byte fallback; dokja's tokens that
#   are fragments of a UTF-8 character).
# Both encode line by line, newlines excluded (spm_encode's unit), so counts compare.
#
# usage: bench/tokenizer.sh [VOCAB...]     (default: 8000 32000)
# env:   DATA (default ../shared/data), WORK (scratch dir, default a temp dir),
#        THREADS (dokja training threads, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
THREADS=${THREADS:-2}
VOCABS=("$@")
[ ${#VOCABS[@]} -gt 0 ] || VOCABS=(8000 32000)

need=()
command -v spm_train >/dev/null || need+=(sentencepiece)
[ -x /usr/bin/time ] || need+=(time)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
make -s -j2 build/dokja
DOKJA=$PWD/build/dokja

WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
echo "scratch: $WORK" >&2
: > "$WORK/ko_train.txt"; : > "$WORK/ko_test.txt"; : > "$WORK/en_train.txt"; : > "$WORK/en_test.txt"
for f in "$DATA"/ko_*/*; do
  awk 'NR % 10 == 0' "$f" >> "$WORK/ko_test.txt"; awk 'NR % 10 != 0' "$f" >> "$WORK/ko_train.txt"
done
for f in "$DATA"/en_*/*; do
  awk 'NR % 10 == 0' "$f" >> "$WORK/en_test.txt"; awk 'NR % 10 != 0' "$f" >> "$WORK/en_train.txt"
done
cat "$WORK/ko_train.txt" "$WORK/en_train.txt" > "$WORK/train.txt"
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
echo "train: $(mb "$WORK/train.txt") MB (Korean $(mb "$WORK/ko_train.txt"), English $(mb "$WORK/en_train.txt")); held out: Korean $(mb "$WORK/ko_test.txt") MB, English $(mb "$WORK/en_test.txt") MB"

# Per held-out file: syllables and words, from dokja's counter (same definition for both).
"$DOKJA" tokenizer train -q --vocab-size 300 -o "$WORK/tiny.json" "$WORK/en_test.txt" >/dev/null
SYL=$("$DOKJA" tokenizer stats --json --lines -t "$WORK/tiny.json" "$WORK/ko_test.txt" | jq .total.hangul_syllables)
WORDS=$("$DOKJA" tokenizer stats --json --lines -t "$WORK/tiny.json" "$WORK/en_test.txt" | jq .total.words)
KO_BYTES=$(stat -c %s "$WORK/ko_test.txt"); EN_BYTES=$(stat -c %s "$WORK/en_test.txt")

timed() { # timed OUTFILE cmd...: wall seconds and peak KiB into OUTFILE
  local out=$1; shift
  /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>"$out.err" || { cat "$out.err" >&2; exit 1; }
}
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

declare -A R
for V in "${VOCABS[@]}"; do
  # --- training
  timed "$WORK/dk$V.time" "$DOKJA" tokenizer train -q --threads "$THREADS" --vocab-size "$V" -o "$WORK/dk$V.json" "$WORK/train.txt"
  timed "$WORK/spm$V.time" spm_train --input="$WORK/train.txt" --model_prefix="$WORK/spm$V" --vocab_size="$V" \
      --model_type=bpe --byte_fallback=true --character_coverage=0.9995 --input_sentence_size=0 \
      --max_sentence_length=16384 --num_threads="$THREADS" --minloglevel=2
  read -r R[dk_t$V] R[dk_m$V] < "$WORK/dk$V.time"; read -r R[spm_t$V] R[spm_m$V] < "$WORK/spm$V.time"
  # --- held-out efficiency, dokja
  for L in ko en; do
    "$DOKJA" tokenizer stats --json --lines --threads 1 -t "$WORK/dk$V.json" "$WORK/${L}_test.txt" > "$WORK/dk$V.$L.json"
    R[dk_tok_$L$V]=$(jq .total.tokens "$WORK/dk$V.$L.json")
    R[dk_part_$L$V]=$(jq .total.partial_tokens "$WORK/dk$V.$L.json")
    R[dk_enc_$L$V]=$(jq .total.encode_mb_per_s "$WORK/dk$V.$L.json")
    timed "$WORK/dk$V.$L.enc" "$DOKJA" tokenizer encode -t "$WORK/dk$V.json" "$WORK/${L}_test.txt"
    # --- SentencePiece
    spm_encode --model="$WORK/spm$V.model" --output_format=piece < "$WORK/${L}_test.txt" > "$WORK/spm$V.$L.pieces"
    R[spm_tok_$L$V]=$(wc -w < "$WORK/spm$V.$L.pieces")
    R[spm_part_$L$V]=$(tr ' ' '\n' < "$WORK/spm$V.$L.pieces" | grep -c '^<0x[0-9A-F][0-9A-F]>$' || true)
    timed "$WORK/spm$V.$L.enc" sh -c "spm_encode --model='$WORK/spm$V.model' --output_format=id < '$WORK/${L}_test.txt'"
  done
done

printf '\n%-44s %12s %12s %8s\n' "figure" "dokja" "sentencepiece" "ratio"
row() { printf '%-44s %12s %12s %8s\n' "$1" "$2" "$3" "$4"; }
for V in "${VOCABS[@]}"; do
  row "vocab $V: training wall time (s)" "${R[dk_t$V]}" "${R[spm_t$V]}" "$(div "${R[spm_t$V]}" "${R[dk_t$V]}")x"
  row "vocab $V: training peak memory (MiB)" "$((R[dk_m$V] / 1024))" "$((R[spm_m$V] / 1024))" "$(div "${R[dk_m$V]}" "${R[spm_m$V]}")"
  for L in ko en; do
    B=$([ $L = ko ] && echo "$KO_BYTES" || echo "$EN_BYTES")
    read -r dk_s _ < "$WORK/dk$V.$L.enc"; read -r spm_s _ < "$WORK/spm$V.$L.enc"
    row "vocab $V: $L encode, CLI end to end (MB/s)" "$(rate "$B" "$dk_s")" "$(rate "$B" "$spm_s")" "$(div "$spm_s" "$dk_s")x"
    row "vocab $V: $L encode, dokja encoder only (MB/s)" "${R[dk_enc_$L$V]}" "" ""
  done
  row "vocab $V: tokens per Hangul syllable (ko)" "$(div "${R[dk_tok_ko$V]}" "$SYL")" "$(div "${R[spm_tok_ko$V]}" "$SYL")" "$(div "${R[dk_tok_ko$V]}" "${R[spm_tok_ko$V]}")"
  row "vocab $V: tokens per English word (en)" "$(div "${R[dk_tok_en$V]}" "$WORDS")" "$(div "${R[spm_tok_en$V]}" "$WORDS")" "$(div "${R[dk_tok_en$V]}" "${R[spm_tok_en$V]}")"
  for L in ko en; do
    row "vocab $V: byte-level token share, $L (%)" "$(awk -v a="${R[dk_part_$L$V]}" -v b="${R[dk_tok_$L$V]}" 'BEGIN{printf "%.2f", 100*a/b}')" \
        "$(awk -v a="${R[spm_part_$L$V]}" -v b="${R[spm_tok_$L$V]}" 'BEGIN{printf "%.2f", 100*a/b}')" ""
  done
done
echo
echo "ratios: time ratios are sentencepiece / dokja (higher = dokja faster); memory and token ratios are dokja / sentencepiece (lower = dokja better)."
echo "held out: $SYL Hangul syllables, $WORDS English words"
