#!/usr/bin/env bash
# tests/hostile.sh: every command of `dokja --help` against a table of hostile inputs
# (issue 17). Run from the repository root on the normal build (build/dokja; DOKJA_BIN
# overrides it; an ASan build needs far more than the 1 GB of address space allowed here).
#
# The commands are discovered from the help texts: `dokja --help` lists the commands,
# `dokja CMD --help` either lists subcommands (a "commands:" block) or shows usage lines,
# where `dokja CMD WORD ...` names a subcommand too (`eval convert`). CASES below says,
# for each command, where its input files go; a command found in --help that CASES does
# not know, or a CASES entry --help no longer shows, fails the sweep, so a new command
# cannot escape it.
#
# Every input-file position of every command gets each hostile object:
#   fifo      a FIFO with no writer            zero      a symlink to /dev/zero
#   empty     an empty file                    dir       a directory
#   bigline   a 100 MiB single line (real bytes, no holes, made once)
#   badutf8   invalid UTF-8                    nul       NUL bytes
#   missing   a path that does not exist
#   evilname  a FIFO whose NAME holds a newline and the escape sequence ESC[31m
# A position that takes a directory (a model, a dataset, a run, a package tree, a round
# directory) also gets a copy of a valid fixture with one file in it replaced by each
# object (the "in" kinds: FIXTURE:FILE).
# Every numeric option shown in a --help (an option followed by a numeric placeholder:
# N, B, M, T, LR, W, C, S, K, P, J, F, REL) gets "", "abc", "-1", "1e999", "nan", "0x10"
# and "99999999999999999999999" on top of the command's valid invocation.
# A command that prints to standard output gets its valid invocation with stdout on
# /dev/full (exit 1, one line naming standard output). The valid invocation itself must
# exit 0: it checks the fixtures and the table.
#
# A case passes when:
#   - the exit code is 1 (failure) or 2 (usage; numeric options must give 2): never 0,
#     never a signal or a timeout (timeout 10 s; address space `ulimit -v` 1 GB; no core:
#     `ulimit -c 0`, and a signal is a failure anyway);
#   - stderr is one line starting with "dokja", with no raw control character (the file
#     name's newline and ESC must arrive escaped as \n and \x1b). A usage error (exit 2)
#     may add the fixed hint line "Try '... --help'." after it; nothing else may come
#     (no progress line before an error);
#   - that line names the file (its escaped basename, or for the "in" kinds the file
#     replaced or the copied directory) or the option (--long, or for a short option the
#     long name dokja reports: "for --tokens");
#   - it does not say it ran out of memory (the 1 GB limit is a failure, not an answer);
#   - no file appeared or vanished anywhere in the scratch tree (the output directory,
#     next to the inputs, the fixtures: *.tmp.* and *.partial.* included); the numeric
#     options' cases are checked once per command (they fail before any file is touched).
# A command whose answer is a verdict report (VERDICT: `ledger verify`) reports a bad
# input as a FAIL line on stdout with exit 1: there that line is the error line, stderr
# must be empty, and stdout must hold no raw control character either.
# ALLOW below lists the cases where a hostile object is legitimately valid input, each
# with its reason: there exit 0 is accepted too (with the outputs it wrote; "writes:"
# when the input is the output too, as --resume RUN), but not a signal, a timeout, the
# memory limit, a raw control character in stderr or debris (*.tmp.*, *.partial.*);
# "skip:" entries are not run (the reason says why they cannot finish in 10 s).
# Cases are named "COMMAND POSITION|KIND|OBJECT": POSITION is the option before the
# input, or argN (the Nth word of the CASES template) for a positional argument.
# One line per failing case, then "N passed, N failed"; exit 1 if any failed.
# HOSTILE_VERBOSE=1 prints every file case with its exit code, time and first line.
set -uo pipefail

BIN=${DOKJA_BIN:-build/dokja}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
[ -x "$BIN" ] || { echo "hostile.sh: $BIN not found: run make first (from the repository root)" >&2; exit 2; }
TIME_LIMIT=10
MEM_KB=1048576 # ulimit -v: 1 GB of address space

T=$(mktemp -d "${TMPDIR:-/tmp}/dokja-hostile-XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
export DOKJA_CACHE=$T/cache XDG_CACHE_HOME=$T/xdg HOME=$T/home # select's cache, history: inside the scratch tree
mkdir -p "$T/fx" "$T/home"
FX=$T/fx

pass=0
fail=0
failed() { # failed CASE-NAME REASON
    fail=$((fail + 1))
    printf 'FAIL %s: %s\n' "$1" "$2"
}
show() { printf '%q ' "$@"; }

# ---- the table -------------------------------------------------------------------------
# CASES: COMMAND | KIND | TEMPLATE, one input-file position per line. KIND is "path" (the
# hostile object is @IN@ itself) or FIXTURE:FILE (@IN@ is a copy of the fixture directory
# FIXTURE with FILE replaced by the object). The object gets the extension of the first
# word ending in .EXT after "|ext=" when a format is chosen by it. Every COMMAND also
# needs a BASE: its valid invocation (must exit 0; numeric options are tried on it).
# @OUT@ is an empty output directory; the other @NAME@s are the fixtures made below.
CASES='
corpus debian      | root:usr/share/libreoffice/help/ko/text/a.html | corpus debian -o @OUT@/c --ko-only --root @IN@
corpus debian      | path                 | corpus debian -o @OUT@/c --ko-only --root @IN@
tokenizer train    | path                 | tokenizer train -q --vocab-size 300 -o @OUT@/t.json @IN@
tokenizer encode   | path                 | tokenizer encode -t @IN@ @CORPUS@
tokenizer encode   | path                 | tokenizer encode -t @TOK@ @IN@
tokenizer decode   | path                 | tokenizer decode -t @IN@ @IDS@
tokenizer decode   | path                 | tokenizer decode -t @TOK@ @IN@
tokenizer stats    | path                 | tokenizer stats -t @IN@ @CORPUS@
tokenizer stats    | path                 | tokenizer stats -t @TOK@ @IN@
tokenizer info     | path                 | tokenizer info -t @IN@
data build         | path                 | data build -q -t @IN@ -o @OUT@/d @CORPUS@
data build         | path                 | data build -q -t @TOK@ -o @OUT@/d @IN@
data build         | path |ext=.jsonl     | data build -q -t @TOK@ -o @OUT@/d @IN@
data build         | path |ext=.json      | data build -q -t @TOK@ -o @OUT@/d --sources @IN@
data build         | path |ext=.jsonl     | data build -q -t @TOK@ -o @OUT@/d --decontaminate @IN@ @CORPUS@
data build         | path                 | data build -q -t @TOK@ -o @OUT@/d --signatures @IN@ @CORPUS@
data sign          | path                 | data sign -q -o @OUT@/s.sig @IN@
data sign          | path |ext=.json      | data sign -q -o @OUT@/s.sig --sources @IN@
data info          | path                 | data info @IN@
data info          | data:manifest.json   | data info @IN@
data info          | data:corpus.train.0000.tok | data info @IN@
data contamination | path                 | data contamination @IN@ --task @TASK@
data contamination | data:manifest.json   | data contamination @IN@ --task @TASK@
data contamination | path |ext=.jsonl     | data contamination @DATA@ --task @IN@
train              | path                 | train -q --data @IN@ --model @CFG@ -o @OUT@/r --steps 2 --batch-size 2 --seq-len 16 --threads 1
train              | data:manifest.json   | train -q --data @IN@ --model @CFG@ -o @OUT@/r --steps 2 --batch-size 2 --seq-len 16 --threads 1
train              | path                 | train -q --data @DATA@ --model @IN@ -o @OUT@/r --steps 2 --batch-size 2 --seq-len 16 --threads 1
train              | path                 | train -q --data @DATA@ --model @CFG@ --init-from @IN@ -o @OUT@/r --steps 2 --batch-size 2 --seq-len 16 --threads 1
train              | path                 | train -q --resume @IN@ --data @DATA@ --model @CFG@ --steps 6 --batch-size 2 --seq-len 16 --threads 1
train              | run:run.json         | train -q --resume @IN@ --data @DATA@ --model @CFG@ --steps 6 --batch-size 2 --seq-len 16 --threads 1
train              | run:ledger.jsonl     | train -q --resume @IN@ --data @DATA@ --model @CFG@ --steps 6 --batch-size 2 --seq-len 16 --threads 1
ledger verify      | path                 | ledger verify @IN@ --data @DATA@
ledger verify      | run:ledger.jsonl     | ledger verify @IN@ --data @DATA@
ledger verify      | path                 | ledger verify @RUN@ --data @IN@
ledger verify      | path                 | ledger verify @RUN@ --model @IN@
ledger audit-order | path                 | ledger audit-order -q -m @IN@ --data @DATA@ --ledger @RUN@ --sequences 8
ledger audit-order | path                 | ledger audit-order -q -m @MODEL@ --data @IN@ --ledger @RUN@ --sequences 8
ledger audit-order | path                 | ledger audit-order -q -m @MODEL@ --data @DATA@ --ledger @IN@ --sequences 8
ledger audit-order | run:ledger.jsonl     | ledger audit-order -q -m @MODEL@ --data @DATA@ --ledger @IN@ --sequences 8
ledger replay      | path                 | ledger replay -q @IN@ --data @DATA@ --challenge 00ff
ledger replay      | run:ledger.jsonl     | ledger replay -q @IN@ --data @DATA@ --challenge 00ff
ledger replay      | path                 | ledger replay -q @RUN@ --data @IN@ --challenge 00ff
generate           | path                 | generate -m @IN@ -p hello -n 4
generate           | model:config.json    | generate -m @IN@ -p hello -n 4
generate           | model:model.safetensors | generate -m @IN@ -p hello -n 4
generate           | model:dokja_tokenizer.json | generate -m @IN@ -p hello -n 4
generate           | path                 | generate -m @MODEL@ -f @IN@ -n 4
eval               | path                 | eval -q -m @IN@ --task @TASK@
eval               | path |ext=.jsonl     | eval -q -m @MODEL@ --task @IN@
eval               | path |ext=.txt       | eval -q -m @MODEL@ --task @IN@
eval               | path                 | eval -q -m @MODEL@ --task @TASK@ --ref @IN@
eval               | path                 | eval -q -m @MODEL@ --task @TASK@ --exclude-contaminated @IN@
eval convert       | path |ext=.tsv       | eval convert kobest_copa @IN@ -o @OUT@/copa.jsonl
lineage            | path                 | lineage -q @MODEL@ @IN@
lineage            | model:model.safetensors | lineage -q @IN@ @MODEL@
select             | path |ext=.json      | select -q @IN@ -o @OUT@/s
select             | round:mc.jsonl       | select -q @IN@/round.json -o @OUT@/s
model edit         | path                 | model edit @IN@ @OUT@/e --noise 0.1
model info         | path                 | model info @IN@
model info         | model:config.json    | model info @IN@
model info         | model:model.safetensors | model info @IN@
export gguf        | path                 | export gguf @IN@ -o @OUT@/m.gguf
export gguf        | model:dokja_tokenizer.json | export gguf @IN@ -o @OUT@/m.gguf
export hf          | path                 | export hf @IN@ -o @OUT@/hf
import gguf        | path |ext=.gguf      | import gguf @IN@ -o @OUT@/m
import hf          | path                 | import hf @IN@ -o @OUT@/m
import hf          | hf:config.json       | import hf @IN@ -o @OUT@/m
import hf          | hf:tokenizer.json    | import hf @IN@ -o @OUT@/m
import hf          | hf:model.safetensors | import hf @IN@ -o @OUT@/m
bench step         | path                 | bench step --model @IN@ --batch 1 --seq 8 --steps 1 --threads 1
bench generate     | path                 | bench generate --model @IN@ --prompt-len 4 --gen 2 --threads 1
version            | none                 | version
'
# The valid invocation of each command: it must exit 0 (it checks the fixtures and the
# table); numeric options are appended to it; if it prints, it is run with stdout on
# /dev/full too.
declare -A BASE=(
    ["corpus debian"]="corpus debian -o @OUT@/c --ko-only --root @ROOT@"
    ["tokenizer train"]="tokenizer train -q --vocab-size 300 -o @OUT@/t.json @CORPUS@"
    ["tokenizer encode"]="tokenizer encode -t @TOK@ @CORPUS@"
    ["tokenizer decode"]="tokenizer decode -t @TOK@ @IDS@"
    ["tokenizer stats"]="tokenizer stats -t @TOK@ @CORPUS@"
    ["tokenizer info"]="tokenizer info -t @TOK@"
    ["data build"]="data build -q -t @TOK@ -o @OUT@/d @CORPUS@"
    ["data sign"]="data sign -q -o @OUT@/s.sig @CORPUS@"
    ["data info"]="data info @DATA@"
    ["data contamination"]="data contamination @DATA@ --task @TASK@"
    ["train"]="train -q --data @DATA@ --model @CFG@ -o @OUT@/r --steps 2 --batch-size 2 --seq-len 16 --threads 1"
    ["ledger verify"]="ledger verify @RUN@ --data @DATA@"
    ["ledger audit-order"]="ledger audit-order -q -m @MODEL@ --data @DATA@ --ledger @RUN@ --sequences 8 --alpha 1"
    ["ledger replay"]="ledger replay -q @RUN@ --data @DATA@ --challenge 00ff"
    ["generate"]="generate -m @MODEL@ -p hello -n 4"
    ["eval"]="eval -q -m @MODEL@ --task @TASK@"
    ["eval convert"]="eval convert kobest_copa @TSV@ -o @OUT@/copa.jsonl"
    ["lineage"]="lineage -q @MODEL@ @MODEL@"
    ["select"]="select -q @ROUND@/round.json -o @OUT@/s"
    ["model edit"]="model edit @MODEL@ @OUT@/e --noise 0.1"
    ["model info"]="model info @MODEL@"
    ["export gguf"]="export gguf @MODEL@ -o @OUT@/m.gguf"
    ["export hf"]="export hf @MODEL@ -o @OUT@/hf"
    ["import gguf"]="import gguf @GGUF@ -o @OUT@/m"
    ["import hf"]="import hf @HF@ -o @OUT@/m"
    ["bench step"]="bench step --model @CFG@ --batch 1 --seq 8 --steps 1 --threads 1"
    ["bench generate"]="bench generate --model @CFG@ --prompt-len 4 --gen 2 --threads 1"
    ["version"]="version"
)

# Placeholders of numeric values in the help texts. Any other upper-case placeholder
# must be in NONNUMERIC (else the sweep fails: classify it).
NUMERIC=" N B M T LR W C S K P J F REL "
NONNUMERIC=" DIR CONFIG RUN MODEL FILE TOKENIZER TEXT NAME SPEC PREFIX HEX LIST PROMPT REPORT DATA IN OUT INPUT FORMAT "
# (command option): a numeric-looking placeholder that is not a number.
declare -A NOT_NUMERIC=(
    ["export gguf --type"]="T is the tensor type here: f32|f16|bf16|q8_0"
    ["train -n"]="'mpirun -n R dokja train' in the help's prose: mpirun's option, not dokja's"
)
# Commands whose answer is a verdict report on stdout: a bad input is a FAIL line of the
# report (exit 1, nothing on stderr), so the report's one FAIL line is the error line.
declare -A VERDICT=(
    ["ledger verify"]="docs/ledger.md: every check is a PASS/FAIL line; exit 0 only if all pass"
)
HOSTILE_NUMBERS=("" "abc" "-1" "1e999" "nan" "0x10" "99999999999999999999999")
# (command option value): a hostile number that is a valid value of that option.
declare -A NUMBER_OK=(
)

# "COMMAND POSITION|KIND|OBJECT" (POSITION: the option before @IN@, or argN: the Nth word
# of the template): a hostile object that is legitimately valid input there. The value
# says why; "skip: ..." does not run the case at all (say why it cannot finish in time).
declare -A ALLOW=(
    # a page is one of many: an empty one, or one without LibreOffice's DisplayArea
    # element (the NUL file is not HTML), contributes no text; the corpus is built from
    # the other pages
    ["corpus debian --root|root:usr/share/libreoffice/help/ko/text/a.html|empty"]="an empty page has no text"
    ["corpus debian --root|root:usr/share/libreoffice/help/ko/text/a.html|nul"]="no DisplayArea element: no text"
    # byte-level BPE takes any bytes (docs/tokenizer.md, "Invalid UTF-8": the byte is kept,
    # decode(encode(x)) = x); a 100 MiB line is text
    ["tokenizer train arg8|path|bigline"]="a long line is text"
    ["tokenizer train arg8|path|badutf8"]="byte-level: any bytes"
    ["tokenizer train arg8|path|nul"]="byte-level: any bytes (U+0000 is UTF-8)"
    ["tokenizer encode arg5|path|empty"]="no lines: no output"
    ["tokenizer encode arg5|path|bigline"]="a long line is text"
    ["tokenizer encode arg5|path|badutf8"]="byte-level: any bytes"
    ["tokenizer encode arg5|path|nul"]="byte-level: any bytes"
    ["tokenizer decode arg5|path|empty"]="no ids: no output"
    ["tokenizer stats arg5|path|empty"]="an empty text has zero counts"
    ["tokenizer stats arg5|path|dir"]="INPUT may be a directory; an empty one has zero counts"
    ["tokenizer stats arg5|path|bigline"]="a long line is text"
    ["tokenizer stats arg5|path|badutf8"]="byte-level: any bytes"
    ["tokenizer stats arg5|path|nul"]="byte-level: any bytes"
    # a text source: one document per line; U+0000 is valid UTF-8 (invalid UTF-8 is refused)
    ["data build arg8|path|bigline"]="one 100 MiB document is a document"
    ["data build arg8|path|nul"]="NUL is a character of a document"
    ["data sign arg6|path|bigline"]="one 100 MiB document is a document"
    ["data sign arg6|path|empty"]="no documents: an empty section (as a build takes an empty file among other sources)"
    ["data sign arg6|path|nul"]="NUL is a character of a document"
    # --resume of a run whose run.json is missing: runs from before run.json resume on the
    # checkpoint's own checks (src/train/train.c, check_resumed_options); a run without
    # ledger.jsonl is a run from before the ledger: it resumes with a warning and writes none
    # ("writes:": RUN is the output too, so the run's new checkpoint in it is no debris)
    ["train --resume|run:run.json|missing"]="writes: a run from before run.json"
    ["train --resume|run:ledger.jsonl|missing"]="writes: a run from before the ledger"
    # -f: the prompt; empty is "a new document" (as no -p), a 100 MiB prompt keeps its
    # last context's worth of tokens, U+0000 is valid UTF-8
    ["generate -f|path|empty"]="an empty prompt starts a new document"
    ["generate -f|path|bigline"]="a long prompt keeps its end"
    ["generate -f|path|nul"]="NUL is a character"
    # a text task: each non-empty line a document scored whole in rolling windows, so its
    # time is linear in its bytes: 100 MiB is ~25 M tokens of forward passes, minutes even
    # for the fixture's tiny model (time bounded by the input, not a hang)
    ["eval --task|path|ext=.txt|bigline"]="skip: scoring 100 MiB of text takes minutes by design"
    ["eval --task|path|ext=.txt|nul"]="NUL is a character of a document"
)

# ---- fixtures --------------------------------------------------------------------------
fixtures() {
    local B=$BIN
    cd "$FX" || return 1
    for i in $(seq 600); do echo "hostile 문장 $i 은 짧다. sentence $((i * 7)) is short."; done > corpus.txt
    "$B" tokenizer train -q --vocab-size 300 -o tok.json corpus.txt > /dev/null &&
        "$B" tokenizer encode -t tok.json corpus.txt > ids.txt &&
        "$B" data build -q -t tok.json -o data corpus.txt > /dev/null || return 1
    printf '%s' '{"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
 "intermediate_size": 64, "vocab_size": 300, "max_position_embeddings": 64}' > cfg.json
    "$B" train -q --data data --model cfg.json -o run --steps 4 --batch-size 2 --seq-len 16 --checkpoint-every 2 \
        --eval-every 2 --threads 1 > /dev/null || return 1
    mkdir model && cp run/config.json run/model.safetensors run/dokja_tokenizer.json model/ || return 1
    for i in 1 2 3; do
        echo '{"context": "hostile 문장 '$i' 은", "choices": [" 짧다.", " 길다."], "gold": 0}'
    done > task.jsonl
    printf 'ID\tsentence\tquestion\t1\t2\tAnswer\n1\t비가 왔다.\t결과\t땅이 젖었다.\t해가 떴다.\t1\n' > copa.tsv
    "$B" export gguf model -o model.gguf > /dev/null && "$B" export hf model -o hf > /dev/null 2>&1 || return 1
    rm hf/dokja_tokenizer.json # a Hugging Face directory as others write it: tokenizer.json is what is read
    local lo=root/usr/share/libreoffice/help
    mkdir -p $lo/ko/text $lo/en-US/text root/usr/share/doc/debian/FAQ/ko || return 1
    local head='<html><body><div id="DisplayArea">' tail='</div></body></html>'
    echo "$head<p>한국어 문장입니다.</p>$tail" > $lo/ko/text/a.html
    echo "$head<p>English sentence.</p>$tail" > $lo/en-US/text/a.html
    echo '<html><body><div class="chapter"><p>데비안은 자유 운영 체제입니다.</p></div></body></html>' \
        > root/usr/share/doc/debian/FAQ/ko/basic.ko.html
    mkdir round && cp task.jsonl round/mc.jsonl && cp -r model round/team && cp -r model round/ref || return 1
    cat > round/round.json << 'EOF'
{"evaluation_date": "2026-12-01",
 "teams": [{"name": "alpha", "model": "team"}],
 "references": [{"name": "ref", "model": "ref", "released": "2026-09-15"}],
 "scheme": {"groups": [{"name": "g", "points": 10, "tasks": ["mc.jsonl"]}]},
 "stages": [{"keep": 1}]}
EOF
    cd - > /dev/null
}

# The hostile objects: masters made once; each case links or copies them in.
masters() {
    local H=$T/h
    mkdir -p "$H" || return 1
    (set +o pipefail; yes 'hostile line ' | tr -d '\n' | head -c $((100 * 1024 * 1024))) > "$H/bigline"
    printf 'hostile \xff\xfe text \xc3\x28 and \xed\xa0\x80 surrogate \xc0\xaf overlong\n' > "$H/badutf8"
    printf 'hostile\0text\0with\0NUL bytes\n\0\0\0\0' > "$H/nul"
    [ "$(stat -c %s "$H/bigline")" -eq $((100 * 1024 * 1024)) ]
}
OBJECTS="fifo zero empty dir bigline badutf8 nul missing evilname"
EVIL=$'evil\n\e[31mname'
EVIL_ESCAPED='evil\n\x1b[31mname'

# make_object KIND PATH: the hostile object KIND at PATH.
make_object() {
    case $1 in
        fifo | evilname) mkfifo "$2" ;;
        zero) ln -s /dev/zero "$2" ;;
        empty) : > "$2" ;;
        dir) mkdir "$2" ;;
        bigline) ln "$T/h/bigline" "$2" 2> /dev/null || cp "$T/h/bigline" "$2" ;;
        badutf8 | nul) cp "$T/h/$1" "$2" ;;
        missing) : ;;
    esac
}

# ---- running one case ------------------------------------------------------------------
# The names below the scratch tree, in directory order (no sort: a tree that did not
# change lists the same); select's cache and this script's own files are left out.
snapshot() { find "$T" -path "$T/cache" -prune -o -path "$T/xdg" -prune -o -path "$T/last" -prune -o -printf '%P\n'; }

# run_dokja ARGS...: the command under the limits; rc in $rc, outputs in $T/last/{out,err}.
run_dokja() {
    (
        ulimit -v $MEM_KB
        ulimit -c 0
        exec timeout -k 2 $TIME_LIMIT "$BIN" "$@"
    ) > "$T/last/out" 2> "$T/last/err" < /dev/null
    rc=$?
}

# expand TEMPLATE IN: the words of TEMPLATE with the fixtures and IN put in, into ARGS.
expand() {
    local w
    ARGS=()
    for w in $1; do
        w=${w//@IN@/$2}
        w=${w//@OUT@/$T/out}
        w=${w//@TOK@/$FX/tok.json}
        w=${w//@CORPUS@/$FX/corpus.txt}
        w=${w//@IDS@/$FX/ids.txt}
        w=${w//@DATA@/$FX/data}
        w=${w//@CFG@/$FX/cfg.json}
        w=${w//@RUN@/$FX/run}
        w=${w//@MODEL@/$FX/model}
        w=${w//@TASK@/$FX/task.jsonl}
        w=${w//@TSV@/$FX/copa.tsv}
        w=${w//@GGUF@/$FX/model.gguf}
        w=${w//@HF@/$FX/hf}
        w=${w//@ROOT@/$FX/root}
        w=${w//@ROUND@/$FX/round}
        ARGS+=("$w")
    done
}

CTRL=$'[\x01-\x08\x0b-\x1f\x7f]'
# check NAME ACCEPT WANT_RC NEEDLE...: judge the last run (no process started: this runs
# a thousand times). ACCEPT=1: exit 0 is allowed. WANT_RC: "12" (1 or 2), "2" or "1". The
# error line must contain one of the NEEDLEs. For a command in VERDICT the error line is
# the one "  FAIL " line of its report on stdout, and stderr must be empty.
check() {
    local name=$1 accept=$2 want=$3
    shift 3
    local all='' out='' lines=() line first='' n
    IFS= read -r -d '' all < "$T/last/err"
    IFS= read -r -d '' out < "$T/last/out"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then failed "$name" "timed out after ${TIME_LIMIT}s"; return; fi
    if [ "$rc" -gt 128 ]; then failed "$name" "killed by signal $((rc - 128))"; return; fi
    if [[ $all == *$CTRL* ]]; then failed "$name" "raw control character in stderr: $(printf '%q' "${all:0:300}")"; return; fi
    local verdict=${VERDICT[$leaf]:-}
    [ -z "${VERDICT_OFF:-}" ] || verdict=
    if [ -n "$verdict" ] && [[ $out == *$CTRL* ]]; then failed "$name" "raw control character in its report on stdout: $(printf '%q' "${out:0:300}")"; return; fi
    shopt -s nocasematch
    if [[ $all == *"out of memory"* || $all == *"cannot allocate"* ]]; then
        shopt -u nocasematch
        failed "$name" "hit the 1 GB memory limit: ${all%%$'\n'*}"
        return
    fi
    shopt -u nocasematch
    if [ "$rc" -eq 0 ]; then
        [ "$accept" = 1 ] || failed "$name" "exit 0 (accepted a hostile input)"
        return
    fi
    case $want in
        12) [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || { failed "$name" "exit $rc: ${all:0:300}"; return; } ;;
        *) [ "$rc" -eq "$want" ] || { failed "$name" "exit $rc, expected $want: ${all:0:300}"; return; } ;;
    esac
    if [ -n "$verdict" ] && [ "$rc" -eq 1 ]; then
        [ -z "$all" ] || { failed "$name" "stderr beside the report: ${all:0:300}"; return; }
        while IFS= read -r line; do
            case $line in "  FAIL "*) lines+=("$line") ;; esac
        done <<< "$out"
    else
        while IFS= read -r line; do
            # a usage error (exit 2) may add the fixed hint line
            [ "$rc" -eq 2 ] && [[ $line =~ ^Try\ \'dokja[a-z\ -]*\ --help\'\.$ ]] && continue
            lines+=("$line")
        done < "$T/last/err"
    fi
    if [ "${#lines[@]}" -ne 1 ]; then failed "$name" "${#lines[@]} error lines, not one: $(printf '%s|' "${lines[@]}" | head -c 400)"; return; fi
    first=${lines[0]}
    case $first in dokja* | "  FAIL "*) ;; *) failed "$name" "error line does not start with dokja: $first"; return ;; esac
    for n in "$@"; do
        case $first in *"$n"*) return 0 ;; esac
    done
    failed "$name" "error line names neither of: $* : $first"
}

# ---- discovery -------------------------------------------------------------------------
commands_in() { # the "commands:" block of a help text
    awk '/^commands:/ { f = 1; next } f && /^  [a-z]/ { print $1; next } f && /^$/ { f = 0 }'
}
discover() {
    local top c sub help
    top=$("$BIN" --help | commands_in) || return 1
    [ -n "$top" ] || return 1
    for c in $top; do
        help=$("$BIN" "$c" --help 2>&1) || { echo "!$c"; continue; }
        sub=$(printf '%s\n' "$help" | commands_in)
        if [ -n "$sub" ]; then
            for s in $sub; do echo "$c $s"; done
        else
            echo "$c"
            printf '%s\n' "$help" | sed -nE "s/^(usage:)? *dokja $c ([a-z][a-z-]*)( .*)?\$/$c \\2/p"
        fi
    done
}

# numeric_options LEAF: "OPTION PLACEHOLDER" pairs from its help text
options_of() {
    "$BIN" $1 --help 2>&1 | grep -oE '(^|[][ (|])--?[a-zA-Z][a-z0-9-]*[ =][A-Z][A-Za-z0-9_./]*' |
        sed -E 's/^[][ (|]//; s/=/ /' | LC_ALL=C sort -u
}

# ---- main ------------------------------------------------------------------------------
start=$SECONDS
fixtures || { echo "hostile.sh: could not make the fixtures"; echo "0 passed, 1 failed"; exit 1; }
masters || { echo "hostile.sh: could not make the hostile files in $T"; echo "0 passed, 1 failed"; exit 1; }

mapfile -t LEAVES < <(discover)
declare -A KNOWN=() FOUND=()
while IFS='|' read -r cmd _; do
    cmd=$(echo $cmd)
    [ -n "$cmd" ] && KNOWN[$cmd]=1
done <<< "$CASES"
for leaf in "${LEAVES[@]}"; do
    case $leaf in
        !*) failed "${leaf#!}" "'dokja ${leaf#!} --help' failed"; continue ;;
    esac
    FOUND[$leaf]=1
    if [ -z "${KNOWN[$leaf]:-}" ] || [ -z "${BASE[$leaf]:-}" ]; then
        failed "$leaf" "a command in --help that tests/hostile.sh does not know: add it to CASES and BASE"
    fi
done
for leaf in "${!KNOWN[@]}" "${!BASE[@]}"; do
    [ -n "${FOUND[$leaf]:-}" ] || failed "$leaf" "in the table of tests/hostile.sh but not in --help: remove it"
done

# the valid invocations, and stdout on /dev/full
mkdir -p "$T/last"
for leaf in "${LEAVES[@]}"; do
    [ -n "${BASE[$leaf]:-}" ] || continue
    rm -rf "$T/out" && mkdir "$T/out"
    expand "${BASE[$leaf]}" ""
    run_dokja "${ARGS[@]}"
    if [ "$rc" -ne 0 ]; then
        failed "$leaf [valid invocation]" "exit $rc: $(head -c 300 "$T/last/err" | tr '\n' '|') (cmd: $(show "${ARGS[@]}"))"
        continue
    fi
    pass=$((pass + 1))
    if [ -s "$T/last/out" ]; then
        rm -rf "$T/out" && mkdir "$T/out"
        (
            ulimit -v $MEM_KB
            ulimit -c 0
            exec timeout -k 2 $TIME_LIMIT "$BIN" "${ARGS[@]}"
        ) > /dev/full 2> "$T/last/err" < /dev/null
        rc=$?
        : > "$T/last/out"
        f0=$fail
        VERDICT_OFF=1 check "$leaf [stdout on /dev/full]" 0 1 "standard output" "<stdout>"
        # files it wrote before failing on stdout are its complete outputs; debris is not
        if [ "$fail" -eq "$f0" ] && [ -n "$(find "$T" -name '*.tmp.*' -o -name '*.partial.*')" ]; then
            failed "$leaf [stdout on /dev/full]" "left debris: $(find "$T" -name '*.tmp.*' -o -name '*.partial.*' | head -3 | tr '\n' ' ')"
        fi
        [ "$fail" -eq "$f0" ] && pass=$((pass + 1))
    fi
done

# numeric options (parsed before any file is touched: one snapshot per command)
rm -rf "$T/out" && mkdir "$T/out"
for leaf in "${LEAVES[@]}"; do
    [ -n "${BASE[$leaf]:-}" ] || continue
    before=$(snapshot)
    while read -r opt ph; do
        [ -n "$opt" ] || continue
        [ -z "${NOT_NUMERIC[$leaf $opt]:-}" ] || continue
        ph=${ph%%[./]*}
        case $NONNUMERIC in *" $ph "*) continue ;; esac
        case $NUMERIC in
            *" $ph "*) ;;
            *) failed "$leaf $opt $ph" "unknown placeholder in --help: add it to NUMERIC or NONNUMERIC"; continue ;;
        esac
        expand "${BASE[$leaf]}" ""
        for v in "${HOSTILE_NUMBERS[@]}"; do
            [ -z "${NUMBER_OK[$leaf $opt $v]:-}" ] || continue
            run_dokja "${ARGS[@]}" "$opt" "$v"
            f0=$fail
            case $opt in
                --*) check "$leaf $opt '$v'" 0 2 "$opt" ;;
                *) check "$leaf $opt '$v'" 0 2 "$opt " "for --" ;;
            esac
            [ "$fail" -eq "$f0" ] && pass=$((pass + 1))
        done
    done < <(options_of "$leaf")
    after=$(snapshot)
    [ "$before" = "$after" ] || failed "$leaf [numeric options]" "files changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -3 | tr '\n' ' ')"
done

# hostile files: each case in its own directory $T/c/N (inputs in w/, outputs in out/)
i=0
while IFS='|' read -r leaf kind rest; do
    read -r leaf <<< "$leaf"
    [ -n "$leaf" ] || continue
    read -r kind <<< "$kind"
    [ "$kind" != none ] || continue
    ext=
    case $rest in
        ext=*) ext=${rest%%|*}; read -r ext <<< "$ext"; ext=${ext#ext=}; rest=${rest#*|} ;;
    esac
    template=$rest
    # the position: the option before @IN@, or the index of the argument
    pos= prev= k=0
    for w in $template; do
        k=$((k + 1))
        case $w in *@IN@*) case $prev in -*) pos=$prev ;; *) pos="arg$k" ;; esac; break ;; esac
        prev=$w
    done
    for obj in $OBJECTS; do
        case $kind in
            path) ;;
            *) [ "$obj" != evilname ] || continue ;; # the file name is the fixture's there
        esac
        key="$leaf $pos|$kind${ext:+|ext=$ext}|$obj"
        allow=${ALLOW[$key]:-}
        case $allow in skip:*) continue ;; esac
        i=$((i + 1))
        C=$T/c/$i
        mkdir -p "$C/w" "$C/out"
        if [ "$kind" = path ]; then
            if [ "$obj" = evilname ]; then
                in=$C/w/$EVIL$ext
                needles=("$EVIL_ESCAPED")
            else
                in=$C/w/hostile-$obj$ext
                needles=("hostile-$obj")
            fi
            make_object "$obj" "$in"
        else
            fx=${kind%%:*} file=${kind#*:}
            in=$C/w/hostile-$fx-copy
            cp -a "$FX/$fx" "$in" && rm -rf "${in:?}/$file" && make_object "$obj" "$in/$file"
            needles=("hostile-$fx-copy" "${file##*/}")
        fi
        expand "${template//@OUT@/$C/out}" "$in"
        before=$(snapshot)
        t0=$EPOCHREALTIME
        run_dokja "${ARGS[@]}"
        f0=$fail
        check "$key" "$([ -n "$allow" ] && echo 1 || echo 0)" 12 "${needles[@]}"
        if [ "$fail" -eq "$f0" ]; then
            if [ "$rc" -eq 0 ]; then rm -rf "$C/out" && mkdir "$C/out"; fi # an accepted case's outputs
            after=$(snapshot)
            if [ "$rc" -eq 0 ] && [[ $allow == writes:* ]]; then # its input is its output: only debris counts
                [[ $after != *.tmp.* && $after != *.partial.* ]] || failed "$key" "left debris: $(grep -E '\.(tmp|partial)\.' <<< "$after" | head -3 | tr '\n' ' ')"
                before=$(grep -v "^c/$i/w/hostile-" <<< "$before")
                after=$(grep -v "^c/$i/w/hostile-" <<< "$after")
            fi
            if [ "$before" != "$after" ] && [ "$(sort <<< "$before")" != "$(sort <<< "$after")" ]; then
                failed "$key" "files changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -3 | tr '\n' ' ')"
            fi
        fi
        [ "$fail" -eq "$f0" ] && pass=$((pass + 1))
        [ -z "${HOSTILE_VERBOSE:-}" ] || printf '%-60s rc %d %.2fs %s\n' "$key" "$rc" "$(echo "$EPOCHREALTIME - $t0" | bc)" "$(head -1 "$T/last/err" | head -c 150)"
        rm -rf "$C"
    done
done <<< "$CASES"

echo "hostile.sh: $((SECONDS - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
