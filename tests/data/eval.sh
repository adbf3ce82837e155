#!/bin/sh
# eval.sh - `archex eval` on a real corpus: the Bible subset of
# corpus.sh (Philemon train, Ruth valid, Jonah test, 300-piece BPE) built
# from the installed packages, a tiny Transformer with random weights
# (`archex init --seed`), beam search on valid: the BLEU and chrF that
# eval reports equal `archex bleu` over the hypotheses it wrote, the
# hypothesis file has one line per reference and no temporary is left;
# then the CLI's bad inputs on real data: a model vocabulary smaller than
# the dataset's, a dataset without its sentencepiece model. Exits 77
# (skipped) when the Debian packages are missing.
# usage: eval.sh ARCHEX WORKDIR
set -eu
archex=$1 work=$2
for p in bible diatheke spm_train spm_encode spm_decode; do
	command -v $p >/dev/null 2>&1 || { echo "no $p: skipped"; exit 77; }
done
diatheke -b system -k modulelist 2>/dev/null | grep -q spaRV1909eb || { echo "no sword-text-sparv: skipped"; exit 77; }
rm -rf "$work"; mkdir -p "$work"; cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

"$archex" data bible-en-es --out ds --books Philemon,Ruth,Jonah --vocab 300 2>log
model() {  # model NAME VOCAB
	printf 'name: %s\nfamily: transformer\ntask: translation\nembed_dim: 32\nnorm: pre\nfinal_norm: true\nvocab: {source: %s, target: %s, share: all}\nencoder: {layers: 1, ffn_dim: 64, attention_heads: 4}\ndecoder: {layers: 1, ffn_dim: 64, attention_heads: 4}\n' "$1" "$2" "$2" > "$1.yaml"
}
model tiny 300
"$archex" init tiny.yaml --out tiny.w --seed 5
"$archex" eval tiny.yaml --weights tiny.w --data ds --split valid --beam 2 \
	--max-len-a 1 --max-len-b 2 --hyp-out hyp.txt --format json > eval.json 2>err || fail "eval: $(cat err)"
[ "$(wc -l < hyp.txt)" -eq "$(wc -l < ds/valid.tgt.txt)" ] || fail "hypothesis line count"
ls | grep -q 'hyp.txt.tmp' && fail "temporary hypothesis file left"
"$archex" bleu --ref ds/valid.tgt.txt hyp.txt > bleu.json || fail "archex bleu"
/usr/bin/python3 - <<'PY' || fail "eval and bleu disagree"
import json, math
e = json.load(open("eval.json")); b = json.load(open("bleu.json"))
assert e["sentences"] == 85 and e["split"] == "valid" and e["dataset"] == "bible-en-es", e
assert abs(e["bleu"] - b["score"]) < 1e-9 and abs(e["chrf"] - b["chrf"]) < 1e-9, (e, b)
assert e["bleu_sys_len"] == b["sys_len"] and e["bleu_ref_len"] == b["ref_len"], (e, b)
assert e["bleu_precisions"] == b["precisions"], (e, b)
assert e["chrf"] > 0 and e["hyp_tokens"] > 0, e
m = json.load(open("ds/manifest.json"))
assert e["tokens"] == m["splits"]["valid"]["target_tokens"] + 85, e
assert abs(e["perplexity"] - math.exp(e["loss"])) < 1e-6 * e["perplexity"], e
assert len(e["weights_sha256"]) == 64 and e["blas_core"], e
PY

# bad inputs on real data
model small 200
"$archex" eval small.yaml --seed 1 --data ds --split valid 2>err && fail "small vocabulary accepted"
grep -q "(source 300, target 300) does not fit the model 'small' (vocab.source 200, vocab.target 200)" err || fail "vocabulary message: $(cat err)"
cp -r ds nospm && rm nospm/spm.model
/usr/bin/python3 - <<'PY'
import json
m = json.load(open("nospm/manifest.json")); del m["files"]["spm.model"]
json.dump(m, open("nospm/manifest.json", "w"))
PY
"$archex" eval tiny.yaml --seed 1 --data nospm --split valid 2>err && fail "missing spm model accepted"
grep -q "nospm/spm.model: error: cannot read .*spm.model is needed to detokenize" err || fail "spm message: $(cat err)"
"$archex" eval tiny.yaml --seed 1 --data nospm --split valid --no-decode > /dev/null || fail "--no-decode needs no spm model"
echo "eval on the corpus subset: ok"
