#!/bin/sh
# corpus.sh - `archex data bible-en-es` on three small books (Philemon for
# train, Ruth for valid, Jonah for test) from the installed packages:
# alignment counts, disjoint splits, manifest checksums, a BPE
# encode/decode round trip, determinism, and the bad inputs (a missing
# program, an empty split, an existing --out). Exits 77 (skipped) when
# the Debian packages are missing.
# usage: corpus.sh ARCHEX WORKDIR
set -eu
archex=$1 work=$2
for p in bible diatheke spm_train spm_encode spm_decode; do
	command -v $p >/dev/null 2>&1 || { echo "no $p: skipped"; exit 77; }
done
diatheke -b system -k modulelist 2>/dev/null | grep -q spaRV1909eb || { echo "no sword-text-sparv: skipped"; exit 77; }
rm -rf "$work"; mkdir -p "$work"; cd "$work"
fail() { echo "FAIL: $*"; exit 1; }

"$archex" data bible-en-es --out a --books Philemon,Ruth,Jonah --vocab 300 2>log
"$archex" data bible-en-es --out b --books Philemon,Ruth,Jonah --vocab 300 2>>log
diff -r a b >/dev/null || fail "two builds differ"
# KJV: Philemon 25, Ruth 85, Jonah 48 verses; one Jonah key (1:17/2:1
# versification) is empty on one side.
/usr/bin/python3 - <<'PY' || fail "manifest"
import json, hashlib, os
m = json.load(open("a/manifest.json"))
s = m["splits"]
assert (s["train"]["sentences"], s["valid"]["sentences"], s["test"]["sentences"]) == (25, 85, 47), s
st = m["statistics"]
assert st["pairs"] == 157 and st["dropped_empty"] == 1 and st["verses_en"] == 158, st
assert m["vocab"]["source"] == m["vocab"]["target"] == 300
for name, f in m["files"].items():
    data = open(os.path.join("a", name), "rb").read()
    assert len(data) == f["bytes"] and hashlib.sha256(data).hexdigest() == f["sha256"], name
lines = {sp: set(open(f"a/{sp}.src.txt").read().splitlines()) for sp in ("train", "valid", "test")}
assert not (lines["train"] & lines["valid"]) and not (lines["train"] & lines["test"]) and not (lines["valid"] & lines["test"])
PY
for f in train.src valid.tgt test.tgt; do
	spm_encode --model=a/spm.model < a/$f.txt | spm_decode --model=a/spm.model > rt.txt
	cmp -s rt.txt a/$f.txt || fail "BPE round trip of $f"
done
grep -q 'Booz' a/valid.tgt.txt || fail "Ruth's Spanish text"
grep -q 'Tesalonicensesque\|<G' a/*.txt && fail "glued words or Strong's numbers"

# bad inputs
PATH=/nonexistent "$archex" data bible-en-es --out c --books Philemon,Ruth,Jonah 2>err && fail "missing program accepted"
grep -q "apt-get install bible-kjv" err || fail "missing program message: $(cat err)"
[ ! -e c ] || fail "half-written output after a failure"
"$archex" data bible-en-es --out c --books Ruth,Jonah 2>err && fail "empty split accepted"
grep -q "train split is empty" err || fail "empty split message: $(cat err)"
"$archex" data bible-en-es --out a --books Philemon,Ruth,Jonah 2>err && fail "existing --out overwritten"
grep -q "already exists" err || fail "existing --out message"
ls | grep -q tmp- && fail "temporary directory left behind"
printf 'a\nb\n' > r2; printf 'a\n' > h1
rc=0; "$archex" bleu --ref r2 h1 2>err || rc=$?
[ $rc -eq 1 ] || fail "line-count mismatch exit code"
grep -q "1 lines, but the reference r2 has 2" err || fail "line-count message"
echo "corpus subset: ok"
