# The PyTorch oracle (tests/oracle.py): archex's C inference against an
# independent float64 PyTorch model, one ctest entry per family (small
# configs in tests/configs/oracle/), plus the oracle's self-test of its
# building blocks. Needs Debian's python3-torch, python3-numpy and
# python3-yaml (scripts/test.sh installs them); without them the script
# exits 77 and ctest reports the tests as skipped, not failed.
set(AX_ORACLE_FAMILIES
  "transformer:transformer-post,transformer-pre"
  "lite:lite-dynamic-glu,lite-lightweight,lite-lm"
  "lite_lm_adaptive:lite-lm-adaptive"
  "lightconv:lightconv-dynamic-glu,lightconv-mixed"
  "evolved:evolved")
foreach(entry ${AX_ORACLE_FAMILIES})
  string(REPLACE ":" ";" parts "${entry}")
  list(GET parts 0 family)
  list(GET parts 1 configs)
  string(REPLACE "," ";" configs "${configs}")
  set(paths "")
  foreach(c ${configs})
    list(APPEND paths ${CMAKE_SOURCE_DIR}/tests/configs/oracle/${c}.yaml)
  endforeach()
  add_test(NAME oracle_${family}
           COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/oracle.py
                   --archex $<TARGET_FILE:archex> ${paths}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(oracle_${family} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()
# The oracle's own building blocks against docs/models.md loops, no archex.
add_test(NAME oracle_self_test
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/oracle.py --self-test
                 ${CMAKE_SOURCE_DIR}/tests/configs/oracle/transformer-post.yaml
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(oracle_self_test PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120)
# `archex import` (tools/fairseq_import.py) against fairseq-format
# checkpoints built here with torch, decoded against the oracle, and the
# upstream-key config files of tests/configs/lite-yaml/ against the paper
# configs (tests/fairseq_import_test.py; skipped without torch or yaml).
foreach(what checkpoints lite-yaml)
  add_test(NAME import_fairseq_${what}
           COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/fairseq_import_test.py
                   --archex $<TARGET_FILE:archex> ${what}
           WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
  set_tests_properties(import_fairseq_${what} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()
# Training: archex train's gradients against autograd through the same
# oracle model, and one AdamW step against torch.optim.AdamW (--grad):
# one config of each family (the Lite ones: lightweight, dynamic + GLU,
# the adaptive LM).
set(paths "")
foreach(c transformer-post transformer-pre lite-lightweight lite-dynamic-glu
          lite-lm-adaptive lightconv-mixed evolved)
  list(APPEND paths ${CMAKE_SOURCE_DIR}/tests/configs/oracle/${c}.yaml)
endforeach()
add_test(NAME oracle_train_grad
         COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/oracle.py --grad
                 --archex $<TARGET_FILE:archex> ${paths}
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(oracle_train_grad PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
