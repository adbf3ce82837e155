# `archex run --precision`: a beam decode and a teacher-forced score at
# int8 and bf16 exit 0 (so executed MACs equal the analytic count) and name
# their precision in the JSON record; fp32 records stay as they were (no
# precision field).
foreach(prec int8 bf16)
  add_test(NAME run_precision_${prec}
           COMMAND /bin/sh -c "out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --max-len 6 --beam 2 --precision $2 --format json) && echo \"$out\" | grep -q \"\\\"precision\\\":\\\"$2\\\"\""
                   $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/oracle/lite-dynamic-glu.yaml ${prec})
  add_test(NAME run_precision_${prec}_score
           COMMAND /bin/sh -c "out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --tgt '9 8 7 6 5 4 3' --precision $2 --format json) && echo \"$out\" | grep -q \"\\\"precision\\\":\\\"$2\\\"\""
                   $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/oracle/transformer-post.yaml ${prec})
endforeach()
# --activations int8 (int8 weights and activations) decodes, exits 0 and
# names its activations in the record
add_test(NAME run_precision_int8_activations
         COMMAND /bin/sh -c "out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --max-len 6 --beam 2 --precision int8 --activations int8 --format json) && echo \"$out\" | grep -q \"\\\"activations\\\":\\\"int8\\\"\""
                 $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/oracle/lite-dynamic-glu.yaml)
# int8 without --activations runs 16-bit activations and says so; an
# explicit --activations fp32 is named too
add_test(NAME run_precision_int8_default_activations
         COMMAND /bin/sh -c "out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --max-len 6 --precision int8 --format json) && echo \"$out\" | grep -q \"\\\"activations\\\":\\\"int16\\\"\" && out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --max-len 6 --precision int8 --activations fp32 --format json) && echo \"$out\" | grep -q \"\\\"activations\\\":\\\"fp32\\\"\""
                 $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/oracle/lite-dynamic-glu.yaml)
add_test(NAME run_precision_fp32_default
         COMMAND /bin/sh -c "out=$(\"$0\" run \"$1\" --src '5 6 7 8 9' --max-len 6 --precision fp32 --format json) && ! echo \"$out\" | grep -q precision"
                 $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/oracle/lite-dynamic-glu.yaml)
# `archex count --precision P` sizes the memory `run --precision P` holds:
# at int8 and bf16 the weights are the model bytes at P (plus 64-byte
# alignment of each tensor), the fp32 arena only what is not quantized,
# and the total is below fp32's.
foreach(prec int8 bf16)
  add_test(NAME count_memory_${prec}
           COMMAND python3 -c "
import json, subprocess, sys
exe, cfg, p = sys.argv[1:4]
def mem(q):
    out = subprocess.run([exe, 'count', '--mode', 'incremental', '--src-len', '1024', '--tgt-len', '200',
                          '--precision', q, '--format', 'json', cfg], check=True, capture_output=True).stdout
    return json.loads(out)[0]
f, r = mem('fp32'), mem(p)
m = r['memory']
assert m['precision'] == p and f['memory']['precision'] == 'fp32', m
assert 0 <= m['weights'] - r['model_bytes'][p] <= 64 * 200, (m['weights'], r['model_bytes'][p])
assert m['weights_fp32'] < m['weights'] < f['memory']['weights'], m
assert f['memory']['weights_fp32'] == f['memory']['weights']
assert m['total'] < f['memory']['total'] and m['activations'] == f['memory']['activations']
" $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/configs/paper/wmt-transformer-128.yaml ${prec})
endforeach()
# The adaptive input and softmax at a reduced precision (an adaptive LM
# whose weights are mostly adaptive tables, tests/configs/adaptive-lm-mid.yaml):
# `count --precision P` sizes the weights as the model bytes at P, and
# `run --precision P` on a full 200-token block holds (VmHWM) at most
# 1.2 x that prediction + 8 MiB (the binary, libraries, OpenBLAS), and
# int8 and bf16 hold less than fp32 by at least 80% of the predicted
# saving (weights saved less the dequantization tile: so no adaptive
# table is kept in fp32 too).
# (not under the sanitizers, whose shadow memory is in the RSS)
if(NOT AX_SANITIZE)
add_test(NAME run_memory_adaptive
         COMMAND python3 -c "
import json, subprocess, sys
exe, cfg = sys.argv[1:3]
src = ' '.join(str(4 + (i * 7919) % 59990) for i in range(199))
def js(args):
    d = json.loads(subprocess.run([exe] + args, check=True, capture_output=True).stdout)
    return d[0] if isinstance(d, list) else d
pred, rss = {}, {}
for p in ('fp32', 'bf16', 'int8'):
    c = js(['count', '--tgt-len', '200', '--precision', p, '--format', 'json', cfg])
    m = c['memory']
    assert m['precision'] == p and 0 <= m['weights'] - c['model_bytes'][p] <= 64 * 100, (p, m)
    pred[p] = m
    r = js(['run', cfg, '--src', src, '--precision', p, '--format', 'json'])
    rss[p] = r['peak_rss_bytes']
    print(p, 'predicted', m['total'] >> 20, 'MiB, peak RSS', rss[p] >> 20, 'MiB')
    assert rss[p] <= 1.2 * m['total'] + (8 << 20), (p, rss[p], m['total'])
for p in ('bf16', 'int8'):
    saved = pred['fp32']['total'] - pred[p]['total']
    assert rss['fp32'] - rss[p] >= 0.8 * saved, (p, rss, saved)
" $<TARGET_FILE:archex> ${CMAKE_SOURCE_DIR}/tests/configs/adaptive-lm-mid.yaml)
endif()
